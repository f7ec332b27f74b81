//! `reformer train`: train a Reformer, or continue a run from its checkpoint.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};

use crate::checkpoint;
use crate::data::Metric;
use crate::progress::metric_text;
use crate::run::{RunSummary, train};
use crate::settings::{DataSettings, TrainSettings};
use crate::trainer::Trainer;

/// Arguments of `reformer train`. With none, the embedded default runs: the duplication
/// task on the CPU.
#[derive(Debug, Default, clap::Args)]
pub struct TrainArgs {
    /// Settings file: `{"model": <HF config fields>, "data": {...}, "training": {...}}`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Train a byte-level LM on this file or folder (enwik8.zip / enwik8: standard split).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Continue the run in this folder (or from this step-N checkpoint) exactly.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Run folder for checkpoints; default: `runs/<task>-<unix time>`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Device (flex, ndarray, wgpu, wgpu-cpu); default: BURN_DEVICE or flex.
    #[arg(long)]
    pub device: Option<String>,
    /// Total optimizer steps (may be raised when resuming).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Sequences per micro-batch.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Micro-batches per optimizer step.
    #[arg(long)]
    pub accumulation_steps: Option<usize>,
    /// Peak learning rate.
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Seed of weights, data order, hashing and dropout.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Evaluate every N steps.
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Write a checkpoint every N steps.
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
}

impl TrainArgs {
    /// Flags that change the run itself, which a resumed run must not change.
    fn run_changing_flags(&self) -> Vec<&'static str> {
        [
            (self.config.is_some(), "--config"),
            (self.data.is_some(), "--data"),
            (self.batch_size.is_some(), "--batch-size"),
            (self.accumulation_steps.is_some(), "--accumulation-steps"),
            (self.learning_rate.is_some(), "--learning-rate"),
            (self.seed.is_some(), "--seed"),
            (self.eval_every.is_some(), "--eval-every"),
            (self.checkpoint_every.is_some(), "--checkpoint-every"),
        ]
        .into_iter()
        .filter_map(|(given, flag)| given.then_some(flag))
        .collect()
    }

    /// The settings of a new run: the file, the data, or the embedded default, then flags.
    fn settings(&self) -> anyhow::Result<TrainSettings> {
        let mut settings = match (&self.config, &self.data) {
            (Some(path), _) => TrainSettings::from_json_file(path)?,
            (None, Some(data)) => TrainSettings::bytes_default(data),
            (None, None) => TrainSettings::duplication_default(),
        };
        if let (Some(_), Some(data)) = (&self.config, &self.data) {
            settings.data = TrainSettings::bytes_default(data).data;
        }
        let t = &mut settings.training;
        t.steps = self.steps.unwrap_or(t.steps);
        t.batch_size = self.batch_size.unwrap_or(t.batch_size);
        t.accumulation_steps = self.accumulation_steps.unwrap_or(t.accumulation_steps);
        t.learning_rate = self.learning_rate.unwrap_or(t.learning_rate);
        t.seed = self.seed.unwrap_or(t.seed);
        t.eval_every = self.eval_every.unwrap_or(t.eval_every);
        t.checkpoint_every = self.checkpoint_every.unwrap_or(t.checkpoint_every);
        settings.validate()?;
        Ok(settings)
    }
}

fn task_name(data: &DataSettings) -> &'static str {
    match data {
        DataSettings::Duplication { .. } => "duplication",
        DataSettings::Enwik8 { .. } => "enwik8",
        DataSettings::Bytes { .. } => "bytes",
    }
}

/// A run folder that does not hold checkpoints yet.
fn fresh_run_dir(out: Option<&Path>, data: &DataSettings) -> anyhow::Result<PathBuf> {
    let dir = match out {
        Some(dir) => dir.to_path_buf(),
        None => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            PathBuf::from("runs").join(format!("{}-{}", task_name(data), now.as_secs()))
        }
    };
    if dir.is_dir() && !checkpoint::list(&dir)?.is_empty() {
        bail!(
            "{} already holds checkpoints; continue that run with --resume {0}, or pass another --out",
            dir.display()
        );
    }
    Ok(dir)
}

/// What a finished (or interrupted) `reformer train` leaves.
pub struct Finished {
    /// How the run ended.
    pub summary: RunSummary,
    /// The run folder.
    pub run_dir: PathBuf,
    /// The run's data.
    pub data: DataSettings,
}

/// Trains (or resumes) as `args` say; stops cleanly when `interrupt` is set.
pub fn run(args: &TrainArgs, interrupt: &Arc<AtomicBool>) -> anyhow::Result<Finished> {
    let device = reformer_core::device::named_or_default(args.device.as_deref())?;
    let (mut trainer, run_dir) = match &args.resume {
        Some(path) => {
            let changed = args.run_changing_flags();
            if !changed.is_empty() {
                bail!(
                    "{} cannot change a resumed run (it continues exactly with the \
                     checkpoint's settings); only --steps, --device and --out may be given",
                    changed.join(", ")
                );
            }
            let checkpoint = checkpoint::resolve(path)?;
            let run_dir = match &args.out {
                Some(out) => out.clone(),
                None => checkpoint
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
            };
            let trainer = Trainer::resume(&checkpoint, &device, args.steps)
                .with_context(|| format!("cannot resume from {}", checkpoint.display()))?;
            eprintln!("resuming {} at step {}", checkpoint.display(), trainer.step);
            (trainer, run_dir)
        }
        None => {
            let settings = args.settings()?;
            let run_dir = fresh_run_dir(args.out.as_deref(), &settings.data)?;
            (Trainer::new(settings, &device)?, run_dir)
        }
    };
    let t = &trainer.settings.training;
    eprintln!(
        "training a {}-layer Reformer ({} parameters) on the {} task: {} steps of {}×{} tokens on {device:?}; run folder {}",
        trainer.settings.model.num_layers(),
        burn::module::Module::num_params(trainer.model()),
        task_name(&trainer.settings.data),
        t.steps,
        t.batch_size * t.accumulation_steps,
        trainer.settings.sequence_length(),
        run_dir.display()
    );
    let summary = train(&mut trainer, &run_dir, interrupt)?;
    Ok(Finished {
        summary,
        run_dir,
        data: trainer.settings.data,
    })
}

/// The closing summary of a run.
pub fn summary_text(finished: &Finished, elapsed: std::time::Duration) -> String {
    let Finished {
        summary,
        run_dir,
        data,
    } = finished;
    let mut lines = vec![format!(
        "{} after {} steps in {:.0?} ({:.0} tokens/s)",
        if summary.interrupted {
            "interrupted"
        } else {
            "done"
        },
        summary.steps,
        elapsed,
        summary.tokens_per_second
    )];
    if let Some(loss) = summary.final_loss {
        lines.push(format!("final training loss {loss:.4}"));
    }
    if let Some(eval) = &summary.eval {
        let chance = match (summary.metric, data) {
            (Metric::Accuracy, DataSettings::Duplication { symbols, .. }) => {
                format!(" (chance: {:.1}%)", 100.0 / *symbols as f64)
            }
            _ => String::new(),
        };
        lines.push(format!(
            "held-out loss {:.4}, {}{chance}",
            eval.loss,
            metric_text(summary.metric, eval)
        ));
    }
    lines.push(format!("checkpoint: {}", summary.checkpoint.display()));
    lines.push(format!(
        "continue with `reformer train --resume {0} --steps N`; evaluate with `reformer eval --checkpoint {0}`",
        run_dir.display()
    ));
    lines.join("\n")
}

/// Runs `reformer train` and prints its summary; `Ok(false)` when it was interrupted.
pub fn main(args: &TrainArgs, interrupt: &Arc<AtomicBool>) -> anyhow::Result<bool> {
    let started = Instant::now();
    let finished = run(args, interrupt)?;
    println!("{}", summary_text(&finished, started.elapsed()));
    Ok(!finished.summary.interrupted)
}
