//! Measuring one configuration in a fresh process, so that its peak memory is its own.

use std::process::Command;

use anyhow::{Context, bail};

/// Peak resident set size of this process so far, in MiB (`VmHWM`).
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Runs this executable with `args` and parses the JSON object it prints last.
pub fn run_child(args: &[String]) -> anyhow::Result<serde_json::Value> {
    let exe = std::env::current_exe().context("locating reformer-bench")?;
    let output = Command::new(exe)
        .args(args)
        .output()
        .context("starting a measurement process")?;
    if !output.status.success() {
        bail!(
            "measurement {:?} failed: {}",
            args,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .last()
        .context("the measurement printed nothing")?;
    serde_json::from_str(line).with_context(|| format!("parsing measurement output {line:?}"))
}

/// What a GPU device's allocator holds after the work, in MiB: its pools keep their pages,
/// so this is the high-water mark of device memory. `None` on the CPU backends, which do not
/// report it (see the peak RSS there).
pub fn device_reserved_mib(device: &burn::tensor::Device) -> Option<f64> {
    device
        .memory_pool_usage()
        .map(|usage| usage.bytes_reserved as f64 / (1024.0 * 1024.0))
}

/// The device-pool column of a result row: whole MiB, or `-` where the device reports none.
pub fn device_pool_cell(result: &serde_json::Value) -> String {
    result["device_reserved_mib"]
        .as_f64()
        .map_or("-".to_string(), |mib| format!("{mib:.0}"))
}
