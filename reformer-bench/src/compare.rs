//! `compare`: our training throughput and memory against HuggingFace transformers' and
//! reformer-pytorch's, on the same machine in the same run, alternating implementations.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

use crate::process::run_child;

/// Arguments of `reformer-bench compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Sequence lengths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "4096,16384")]
    pub lengths: Vec<usize>,
    /// Rounds of (ours, HuggingFace, reformer-pytorch) per length.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Timed steps per measurement, after one warm-up step.
    #[arg(long, default_value_t = 2)]
    pub steps: usize,
    /// LSH layers of the reference model.
    #[arg(long, default_value_t = 6)]
    pub layers: usize,
    /// Our device.
    #[arg(long, default_value = "flex")]
    pub device: String,
    /// The peers' Python (made by reformer-bench/peers/setup.sh).
    #[arg(
        long,
        env = "PEERS_PYTHON",
        default_value = "reformer-bench/peers/.venv/bin/python"
    )]
    pub python: PathBuf,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The implementations compared.
const PEERS: [&str; 2] = ["huggingface", "reformer-pytorch"];

/// One measurement of a peer in its own Python process.
fn run_peer(args: &CompareArgs, peer: &str, length: usize) -> anyhow::Result<serde_json::Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/run_peer.py");
    let output = Command::new(&args.python)
        .arg(&script)
        .args(["--impl", peer, "--length", &length.to_string()])
        .args([
            "--layers",
            &args.layers.to_string(),
            "--steps",
            &args.steps.to_string(),
        ])
        .output()
        .with_context(|| {
            format!(
                "starting {} (run reformer-bench/peers/setup.sh first)",
                args.python.display()
            )
        })?;
    if !output.status.success() {
        bail!(
            "{peer} failed: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().context("the peer printed nothing")?;
    Ok(serde_json::from_str(last)?)
}

/// Median, minimum and maximum.
fn summary(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    (median, values[0], values[n - 1])
}

/// Tokens per second and memory above the idle process of one measurement.
fn figures(result: &serde_json::Value) -> Option<(f64, f64)> {
    let tps = result["tokens_per_second"].as_f64()?;
    let above_idle = result["peak_rss_mib"].as_f64()? - result["rss_before_mib"].as_f64()?;
    Some((tps, above_idle))
}

/// Alternates ours and the peers `repeats` times per length; prints the ratios ours/theirs.
pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    if args.repeats == 0 {
        bail!("--repeats must be at least 1");
    }
    if !args.json {
        println!(
            "{:>17} {:>7} {:>22} {:>26} {:>26}",
            "peer",
            "length",
            "tokens/s theirs (ours)",
            "ratio tok/s (min-max)",
            "ratio memory (min-max)"
        );
    }
    for &length in &args.lengths {
        let mut ours = Vec::new();
        let mut theirs: Vec<Vec<(f64, f64)>> = vec![Vec::new(); PEERS.len()];
        for _ in 0..args.repeats {
            let child = vec![
                "throughput-step".to_string(),
                format!("--length={length}"),
                format!("--layers={}", args.layers),
                format!("--steps={}", args.steps),
                format!("--device={}", args.device),
            ];
            let result = run_child(&child)?;
            if args.json {
                println!("{}", serde_json::json!({"impl": "ours", "result": result}));
            }
            ours.push(figures(&result).context("our measurement lacks its figures")?);
            for (index, peer) in PEERS.iter().enumerate() {
                let result = run_peer(args, peer, length)?;
                if args.json {
                    println!("{}", serde_json::json!({"impl": peer, "result": result}));
                }
                theirs[index]
                    .push(figures(&result).context("a peer measurement lacks its figures")?);
            }
        }
        for (index, peer) in PEERS.iter().enumerate() {
            let speed: Vec<f64> = ours
                .iter()
                .zip(&theirs[index])
                .map(|(o, t)| o.0 / t.0)
                .collect();
            let memory: Vec<f64> = ours
                .iter()
                .zip(&theirs[index])
                .map(|(o, t)| o.1 / t.1)
                .collect();
            let (speed, speed_low, speed_high) = summary(speed);
            let (memory, memory_low, memory_high) = summary(memory);
            let their_tps = summary(theirs[index].iter().map(|t| t.0).collect()).0;
            let our_tps = summary(ours.iter().map(|o| o.0).collect()).0;
            let line = serde_json::json!({
                "bench": "compare", "peer": peer, "length": length, "repeats": args.repeats,
                "ours_tokens_per_second": our_tps, "theirs_tokens_per_second": their_tps,
                "tokens_per_second_ratio": speed, "tokens_per_second_ratio_min": speed_low,
                "tokens_per_second_ratio_max": speed_high,
                "memory_above_idle_ratio": memory, "memory_above_idle_ratio_min": memory_low,
                "memory_above_idle_ratio_max": memory_high,
            });
            if args.json {
                println!("{line}");
            } else {
                println!(
                    "{peer:>17} {length:>7} {:>22} {:>26} {:>26}",
                    format!("{their_tps:.0} ({our_tps:.0})"),
                    format!("{speed:.2} ({speed_low:.2}-{speed_high:.2})"),
                    format!("{memory:.2} ({memory_low:.2}-{memory_high:.2})"),
                );
            }
        }
    }
    Ok(())
}
