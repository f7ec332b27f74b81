//! `memory-depth`: peak memory and time of one training step as the model gets deeper,
//! with reversible layers and with plain autodiff.

use std::time::Instant;

use burn::optim::AdamConfig;
use burn::tensor::{Int, Tensor, TensorData};
use reformer_core::device::{default_device, parse_device};
use reformer_core::{Randomness, ReformerLm};

use crate::process::{peak_rss_mib, run_child};
use crate::reference::reference_config;

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
            "{:>6} {:>11} {:>15} {:>11}",
            "layers", "path", "peak RSS MiB", "step s"
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
                    "{:>6} {:>11} {:>15.0} {:>11.2}",
                    layers,
                    result["path"].as_str().unwrap_or("?"),
                    result["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
                    result["step_s"].as_f64().unwrap_or(f64::NAN),
                );
            }
        }
    }
    Ok(())
}

/// One training step (forward, loss, backward, Adam) of the reference model; prints JSON.
pub fn step(args: &StepArgs) -> anyhow::Result<()> {
    let device = match &args.device {
        Some(name) => parse_device(name)?,
        None => default_device()?,
    };
    let device = device.autodiff();
    let config = reference_config(args.layers, args.seq_len);
    device.seed(0);
    let model = ReformerLm::new(&config, &device)?;
    let mut optimizer = AdamConfig::new().init();
    let tokens: Vec<i64> = (0..args.seq_len as i64)
        .map(|i| (i * 31 + 7) % 256)
        .collect();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(tokens, [1, args.seq_len]), &device);
    let idle_rss = peak_rss_mib();

    let start = Instant::now();
    let step = model.train_step(
        ids.clone(),
        None,
        ids,
        &Randomness::train(1),
        args.reversible,
    )?;
    let loss: f32 = step.loss.into_scalar();
    let model = optimizer.step(1e-3, model, step.grads);
    let _ = device.sync();
    let step_s = start.elapsed().as_secs_f64();
    drop(model);

    println!(
        "{}",
        serde_json::json!({
            "bench": "memory-depth",
            "device": format!("{:?}", device.clone().inner()),
            "seq_len": args.seq_len,
            "layers": args.layers,
            "path": if args.reversible { "reversible" } else { "plain" },
            "peak_rss_mib": peak_rss_mib(),
            "rss_before_step_mib": idle_rss,
            "step_s": step_s,
            "loss": loss,
        })
    );
    Ok(())
}
