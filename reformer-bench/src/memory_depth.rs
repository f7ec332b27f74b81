//! `memory-depth`: peak memory and time of one training step as the model gets deeper,
//! with reversible layers and with plain autodiff.

use crate::process::{device_pool_cell, device_reserved_mib, peak_rss_mib, run_child};
use crate::reference::{reference_config, timed_train_steps};

/// Arguments of `reformer-bench memory-depth`.
#[derive(Debug, clap::Args)]
pub struct MemoryDepthArgs {
    /// Tokens per sequence.
    #[arg(long, default_value_t = 4096)]
    pub seq_len: usize,
    /// Depths to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "2,6,12,24")]
    pub layers: Vec<usize>,
    /// Device (flex, ndarray, wgpu, wgpu-cpu); default: BURN_DEVICE or flex.
    #[arg(long)]
    pub device: Option<String>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of the hidden `memory-depth-step` command: one measurement, in this process.
#[derive(Debug, clap::Args)]
pub struct StepArgs {
    #[arg(long)]
    seq_len: usize,
    #[arg(long)]
    layers: usize,
    #[arg(long)]
    reversible: bool,
    #[arg(long)]
    device: Option<String>,
}

/// Measures every depth and path, each in a fresh process, and prints the results.
pub fn run(args: &MemoryDepthArgs) -> anyhow::Result<()> {
    if !args.json {
        println!(
            "{:>6} {:>11} {:>15} {:>17} {:>11}",
            "layers", "path", "peak RSS MiB", "device pool MiB", "step s"
        );
    }
    for &layers in &args.layers {
        for reversible in [true, false] {
            let mut child = vec![
                "memory-depth-step".to_string(),
                format!("--seq-len={}", args.seq_len),
                format!("--layers={layers}"),
            ];
            if reversible {
                child.push("--reversible".into());
            }
            if let Some(device) = &args.device {
                child.push(format!("--device={device}"));
            }
            let result = run_child(&child)?;
            if args.json {
                println!("{result}");
            } else {
                println!(
                    "{:>6} {:>11} {:>15.0} {:>17} {:>11.2}",
                    layers,
                    result["path"].as_str().unwrap_or("?"),
                    result["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
                    device_pool_cell(&result),
                    result["step_s"].as_f64().unwrap_or(f64::NAN),
                );
            }
        }
    }
    Ok(())
}

/// One training step (forward, loss, backward, Adam) of the reference model; prints JSON.
pub fn step(args: &StepArgs) -> anyhow::Result<()> {
    let device = reformer_core::device::named_or_default(args.device.as_deref())?.autodiff();
    let config = reference_config(args.layers, args.seq_len);
    let idle_rss = peak_rss_mib();
    let (loss, seconds) = timed_train_steps(&config, &device, 1, args.reversible)?;
    println!(
        "{}",
        serde_json::json!({
            "bench": "memory-depth",
            "device": format!("{:?}", device.clone().inner()),
            "seq_len": args.seq_len,
            "layers": args.layers,
            "path": if args.reversible { "reversible" } else { "plain" },
            "peak_rss_mib": peak_rss_mib(),
            "device_reserved_mib": device_reserved_mib(&device),
            "rss_before_step_mib": idle_rss,
            "step_s": seconds[0],
            "loss": loss,
        })
    );
    Ok(())
}
