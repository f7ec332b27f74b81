//! `reformer eval`: a checkpoint's loss and bits per character (or accuracy) on held-out
//! data.

use std::path::PathBuf;

use burn::module::Module;
use reformer_datasets::Split;

use crate::checkpoint;
use crate::data::{RunData, metric_of};
use crate::evaluation::{EvalReport, evaluate};
use crate::progress::metric_text;
use crate::settings::TrainSettings;

/// Arguments of `reformer eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A run folder (its newest checkpoint) or a step-N checkpoint.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Evaluate on this file or folder instead of the run's data (same split rules).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Which held-out split: valid or test (test: enwik8's last 5M bytes, or the duplication
    /// task's test examples).
    #[arg(long, value_enum, default_value = "valid")]
    pub split: SplitArg,
    /// Batches to evaluate (each of the run's batch size); default: the whole split.
    #[arg(long)]
    pub batches: Option<usize>,
    /// Device (flex, ndarray, wgpu, wgpu-cpu); default: BURN_DEVICE or flex.
    #[arg(long)]
    pub device: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A held-out split on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SplitArg {
    /// The validation split.
    Valid,
    /// The test split.
    Test,
}

/// Evaluates the checkpoint and prints the result.
pub fn run(args: &EvalArgs) -> anyhow::Result<EvalReport> {
    let device = reformer_core::device::named_or_default(args.device.as_deref())?;
    let loaded = checkpoint::load(&args.checkpoint, &device)?;
    let mut settings = loaded.state.settings;
    if let Some(data) = &args.data {
        settings.data = TrainSettings::bytes_default(data).data;
        settings.validate()?;
    }
    let split = match args.split {
        SplitArg::Valid => Split::Valid,
        SplitArg::Test => Split::Test,
    };
    let t = &settings.training;
    let data = RunData::open(&settings.data, settings.sequence_length(), t.seed)?;
    let windows = data.held_out(split)?;
    let report = evaluate(
        &loaded.model.valid(),
        windows.as_ref(),
        t.batch_size,
        args.batches.unwrap_or(usize::MAX),
        t.seed,
        &device,
    )?;
    if args.json {
        let mut json = serde_json::to_value(report)?;
        json["checkpoint"] = loaded.path.display().to_string().into();
        json["split"] = split.to_string().into();
        println!("{json}");
    } else {
        println!(
            "{} on the {split} split ({} tokens): loss {:.4}, {}",
            loaded.path.display(),
            report.tokens,
            report.loss,
            metric_text(metric_of(&settings.data), &report)
        );
    }
    Ok(report)
}
