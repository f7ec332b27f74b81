//! `attention`: time and peak memory of one attention layer's share of a reversible training
//! step as the sequence grows (its forward pass without a graph, then the backward pass's
//! recomputation and gradients): LSH with 1, 2, 4 and 8 rounds, local and full attention.

use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use reformer_core::AttentionKind;
use reformer_core::attention::{AttentionBlock, Hashing, draw_rotations};
use reformer_core::random::standard_normal;

use crate::chart::{Series, log_log_svg};
use crate::process::{device_pool_cell, device_reserved_mib, peak_rss_mib, run_child};
use crate::reference::reference_config;

/// Arguments of `reformer-bench attention`.
#[derive(Debug, clap::Args)]
pub struct AttentionArgs {
    /// Sequence lengths, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1024,2048,4096,8192,16384,32768,65536"
    )]
    pub lengths: Vec<usize>,
    /// Attention kinds: lsh-N (N rounds), local, full; comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "lsh-1,lsh-2,lsh-4,lsh-8,local,full"
    )]
    pub kinds: Vec<String>,
    /// Memory budget in MiB: a configuration whose attention matrix alone would not fit is
    /// reported as out of memory instead of being run.
    #[arg(long, default_value_t = 16384.0)]
    pub memory_limit_mib: f64,
    /// Device (flex, ndarray, wgpu, wgpu-cpu); default: BURN_DEVICE or flex.
    #[arg(long)]
    pub device: Option<String>,
    /// Where to write the log-log chart (SVG).
    #[arg(long, default_value = "attention.svg")]
    pub chart: PathBuf,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of the hidden `attention-step` command: one measurement, in this process.
#[derive(Debug, clap::Args)]
pub struct StepArgs {
    #[arg(long)]
    kind: String,
    #[arg(long)]
    length: usize,
    #[arg(long)]
    device: Option<String>,
}

/// An attention kind of the benchmark: its layer kind and hash rounds.
fn parse_kind(name: &str) -> anyhow::Result<(AttentionKind, usize)> {
    match name {
        "local" => Ok((AttentionKind::Local, 1)),
        "full" => Ok((AttentionKind::Full, 1)),
        _ => name
            .strip_prefix("lsh-")
            .and_then(|rounds| rounds.parse().ok())
            .filter(|&rounds| rounds > 0)
            .map(|rounds| (AttentionKind::Lsh, rounds))
            .ok_or_else(|| {
                anyhow::anyhow!("unknown attention kind {name:?}: use lsh-N, local or full")
            }),
    }
}

/// Bytes full attention's score matrices need at `length`: scores and probabilities kept
/// for the backward pass, and their gradient, for every head, in f32.
fn full_attention_mib(length: usize, heads: usize) -> f64 {
    3.0 * (length as f64).powi(2) * heads as f64 * 4.0 / (1024.0 * 1024.0)
}

/// Measures every kind and length, each in a fresh process; prints the table and writes
/// the chart.
pub fn run(args: &AttentionArgs) -> anyhow::Result<()> {
    if !args.json {
        println!(
            "{:>8} {:>8} {:>12} {:>15} {:>17}",
            "kind", "length", "fwd+bwd s", "peak RSS MiB", "device pool MiB"
        );
    }
    let heads = reference_config(1, 1024).num_attention_heads;
    let mut series: Vec<Series> = Vec::new();
    for kind in &args.kinds {
        let (layer_kind, _) = parse_kind(kind)?;
        let mut points = Vec::new();
        for &length in &args.lengths {
            let predicted = full_attention_mib(length, heads);
            let result = if layer_kind == AttentionKind::Full && predicted > args.memory_limit_mib {
                serde_json::json!({
                    "bench": "attention", "kind": kind, "length": length,
                    "error": format!("out of memory: the score matrices alone need {predicted:.0} MiB > {} MiB", args.memory_limit_mib),
                })
            } else {
                let mut child = vec![
                    "attention-step".to_string(),
                    format!("--kind={kind}"),
                    format!("--length={length}"),
                ];
                if let Some(device) = &args.device {
                    child.push(format!("--device={device}"));
                }
                run_child(&child).unwrap_or_else(|error| {
                    serde_json::json!({"bench": "attention", "kind": kind, "length": length, "error": format!("{error:#}")})
                })
            };
            if let Some(seconds) = result["seconds"].as_f64() {
                points.push((length as f64, seconds));
            }
            if args.json {
                println!("{result}");
            } else if let Some(error) = result["error"].as_str() {
                println!("{kind:>8} {length:>8} {error}");
            } else {
                println!(
                    "{kind:>8} {length:>8} {:>12.3} {:>15.0} {:>17}",
                    result["seconds"].as_f64().unwrap_or(f64::NAN),
                    result["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
                    device_pool_cell(&result),
                );
            }
        }
        series.push(Series {
            name: kind.clone(),
            points,
        });
    }
    std::fs::write(
        &args.chart,
        log_log_svg("attention forward + backward", "tokens", "seconds", &series),
    )?;
    if !args.json {
        println!("chart: {}", args.chart.display());
    }
    Ok(())
}

/// One attention layer of the reference width (hidden 256, 4 heads of 64, chunk 64, causal)
/// as a reversible training step runs it: the forward pass without a graph, then
/// [`AttentionBlock::forward_with_grads`] with the forward pass's buckets; prints JSON.
pub fn step(args: &StepArgs) -> anyhow::Result<()> {
    let (kind, rounds) = parse_kind(&args.kind)?;
    let device: Device =
        reformer_core::device::named_or_default(args.device.as_deref())?.autodiff();
    let config = reformer_core::ReformerConfig {
        num_hashes: rounds,
        attn_layers: vec![kind],
        num_hidden_layers: 1,
        hidden_dropout_prob: 0.0,
        local_attention_probs_dropout_prob: 0.0,
        ..reference_config(1, args.length)
    };
    config.validate()?;
    config.validate_length(args.length)?;
    let block = AttentionBlock::new(&config, kind, &device);
    let plain = device.clone().inner();
    let input = standard_normal(1, [1, args.length, config.hidden_size], &plain);
    let hashing = (kind == AttentionKind::Lsh).then(|| {
        Hashing::Rotations(draw_rotations(
            2,
            config.num_attention_heads,
            config.attention_head_size,
            rounds,
            &config.resolved_num_buckets(),
            &plain,
        ))
    });
    let idle = peak_rss_mib();
    let start = Instant::now();
    let forward = block
        .valid()
        .forward(input.clone(), None, hashing.clone(), None);
    let replay = forward.buckets.map(Hashing::Buckets).or(hashing);
    let output_grad = forward.hidden.ones_like();
    let grads = block.forward_with_grads(input, output_grad, None, replay, None);
    let _ = grads.input_grad.into_data();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "bench": "attention",
            "device": format!("{:?}", device.clone().inner()),
            "kind": args.kind,
            "length": args.length,
            "seconds": seconds,
            "peak_rss_mib": peak_rss_mib(),
            "rss_before_mib": idle,
            "device_reserved_mib": device_reserved_mib(&device),
        })
    );
    Ok(())
}
