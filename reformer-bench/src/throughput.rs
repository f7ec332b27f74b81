//! `throughput`: tokens per second and peak memory of full training steps of the reference
//! configuration (6 LSH layers), per length and per device.

use reformer_core::device::available_devices;

use crate::process::{device_pool_cell, device_reserved_mib, peak_rss_mib, run_child};
use crate::reference::{reference_config, timed_train_steps};

/// Arguments of `reformer-bench throughput`.
#[derive(Debug, clap::Args)]
pub struct ThroughputArgs {
    /// Sequence lengths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "4096,16384")]
    pub lengths: Vec<usize>,
    /// Devices, comma-separated; default: every device compiled in.
    #[arg(long, value_delimiter = ',')]
    pub devices: Vec<String>,
    /// LSH layers of the model.
    #[arg(long, default_value_t = 6)]
    pub layers: usize,
    /// Timed steps after one warm-up step.
    #[arg(long, default_value_t = 2)]
    pub steps: usize,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of the hidden `throughput-step` command: one measurement, in this process.
#[derive(Debug, clap::Args)]
pub struct StepArgs {
    #[arg(long)]
    length: usize,
    #[arg(long)]
    layers: usize,
    #[arg(long)]
    steps: usize,
    #[arg(long)]
    device: String,
}

/// Measures every device and length, each in a fresh process, and prints the results.
pub fn run(args: &ThroughputArgs) -> anyhow::Result<()> {
    let devices: Vec<String> = if args.devices.is_empty() {
        available_devices()
            .into_iter()
            .filter(|&d| d != "wgpu-cpu")
            .map(String::from)
            .collect()
    } else {
        args.devices.clone()
    };
    if !args.json {
        println!(
            "{:>8} {:>8} {:>10} {:>10} {:>15} {:>17}",
            "device", "length", "tokens/s", "step s", "peak RSS MiB", "device pool MiB"
        );
    }
    for device in &devices {
        for &length in &args.lengths {
            let child = vec![
                "throughput-step".to_string(),
                format!("--length={length}"),
                format!("--layers={}", args.layers),
                format!("--steps={}", args.steps),
                format!("--device={device}"),
            ];
            let result = run_child(&child).unwrap_or_else(|error| {
                serde_json::json!({"bench": "throughput", "device": device, "length": length, "error": format!("{error:#}")})
            });
            if args.json {
                println!("{result}");
            } else if let Some(error) = result["error"].as_str() {
                println!("{device:>8} {length:>8} {error}");
            } else {
                println!(
                    "{device:>8} {length:>8} {:>10.0} {:>10.2} {:>15.0} {:>17}",
                    result["tokens_per_second"].as_f64().unwrap_or(f64::NAN),
                    result["step_s"].as_f64().unwrap_or(f64::NAN),
                    result["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
                    device_pool_cell(&result),
                );
            }
        }
    }
    Ok(())
}

/// One warm-up and `steps` timed reversible training steps; prints JSON.
pub fn step(args: &StepArgs) -> anyhow::Result<()> {
    let device = reformer_core::device::named_or_default(Some(&args.device))?.autodiff();
    let config = reference_config(args.layers, args.length);
    let idle = peak_rss_mib();
    let (loss, seconds) = timed_train_steps(&config, &device, args.steps + 1, true)?;
    let timed: f64 = seconds[1..].iter().sum::<f64>() / args.steps.max(1) as f64;
    println!(
        "{}",
        serde_json::json!({
            "bench": "throughput",
            "device": args.device,
            "length": args.length,
            "layers": args.layers,
            "step_s": timed,
            "warmup_s": seconds[0],
            "tokens_per_second": args.length as f64 / timed,
            "peak_rss_mib": peak_rss_mib(),
            "rss_before_mib": idle,
            "device_reserved_mib": device_reserved_mib(&device),
            "loss": loss,
        })
    );
    Ok(())
}
