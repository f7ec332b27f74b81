//! `reformer check-hf`: parity of our model with a HuggingFace fixture.

use std::path::PathBuf;

use anyhow::Context;
use reformer_core::hf::{HfFixture, ParityReport};

/// The largest relative error that counts as parity.
pub const TOLERANCE: f64 = 1e-4;

/// Arguments of `reformer check-hf`.
#[derive(Debug, clap::Args)]
pub struct CheckHfArgs {
    /// Fixture directory: config.json, model.safetensors and io.safetensors.
    #[arg(long)]
    pub fixture: PathBuf,
    /// Device to run on (flex, ndarray, wgpu, wgpu-cpu); default: BURN_DEVICE or flex.
    #[arg(long)]
    pub device: Option<String>,
    /// Also compare every parameter's gradient (reversible backward, train mode).
    #[arg(long)]
    pub grads: bool,
}

/// Runs the check and returns the report, as a JSON value, and whether it passed.
pub fn run(args: &CheckHfArgs) -> anyhow::Result<(serde_json::Value, bool)> {
    let device = reformer_core::device::named_or_default(args.device.as_deref())?;
    let fixture = HfFixture::open(&args.fixture)
        .with_context(|| format!("opening fixture {}", args.fixture.display()))?;
    let report: ParityReport = fixture.check(&device)?;
    let mut passed = report.worst() <= TOLERANCE;
    let mut json = serde_json::json!({
        "fixture": args.fixture.display().to_string(),
        "device": format!("{device:?}"),
        "logits_rel_err": report.logits_rel_err,
        "loss_rel_err": report.loss_rel_err,
        "losses": report.losses.iter().map(|(name, ours, hf)| {
            serde_json::json!({"name": name, "ours": ours, "hf": hf})
        }).collect::<Vec<_>>(),
        "tolerance": TOLERANCE,
    });
    if args.grads {
        let errors = fixture.check_grads(&device, true)?;
        let (worst_param, worst) = errors.first().cloned().unwrap_or_default();
        passed &= worst <= TOLERANCE;
        json["grads_rel_err"] = worst.into();
        json["grads_worst_param"] = worst_param.into();
    }
    json["passed"] = passed.into();
    Ok((json, passed))
}
