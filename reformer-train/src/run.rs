//! The training loop: steps, periodic evaluation and checkpoints, and a clean stop on
//! interrupt. Our own loop rather than burn-train's `Learner`: checkpoints are per step (not
//! per epoch), hold the data position, and must resume bit for bit.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reformer_datasets::Split;

use crate::data::Metric;
use crate::error::Result;
use crate::evaluation::EvalReport;
use crate::progress::Progress;
use crate::trainer::Trainer;

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Steps completed.
    pub steps: u64,
    /// Training loss of the last step run in this process, if any.
    pub final_loss: Option<f32>,
    /// The last held-out evaluation.
    pub eval: Option<EvalReport>,
    /// How `eval` is to be read.
    pub metric: Metric,
    /// The checkpoint written last.
    pub checkpoint: PathBuf,
    /// Whether the run stopped early on an interrupt.
    pub interrupted: bool,
    /// Training tokens per second in this process.
    pub tokens_per_second: f64,
}

/// Trains until the run's last step or until `interrupt` is set, evaluating and writing
/// checkpoints into `run_dir` as the settings say, and always writing one when it stops.
///
/// On an error (a non-finite loss, say) nothing more is written: the last checkpoint stays
/// the last good state.
pub fn train(
    trainer: &mut Trainer,
    run_dir: &Path,
    interrupt: &Arc<AtomicBool>,
) -> Result<RunSummary> {
    let t = trainer.settings.training.clone();
    let mut progress = Progress::new(trainer.step, t.steps, trainer.metric());
    let (mut final_loss, mut eval, mut checkpoint) = (None, None, None);
    let every = |n: u64, step: u64| n > 0 && step.is_multiple_of(n);
    let mut interrupted = false;
    while !trainer.is_done() {
        if interrupt.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        let report = trainer.train_step()?;
        final_loss = Some(report.loss);
        progress.step(&report);
        if every(t.eval_every, report.step) || trainer.is_done() {
            let report_eval = trainer.evaluate(Split::Valid)?;
            progress.eval(report.step, &report_eval);
            eval = Some(report_eval);
        }
        if every(t.checkpoint_every, report.step) || trainer.is_done() {
            checkpoint = Some(save(trainer, run_dir, &progress)?);
        }
    }
    let current = checkpoint
        .as_ref()
        .is_some_and(|(step, _)| *step == trainer.step);
    if !current {
        let existing = crate::checkpoint::list(run_dir)
            .ok()
            .and_then(|all| all.into_iter().find(|(step, _)| *step == trainer.step));
        checkpoint = Some(match existing {
            Some(found) => found,
            None => save(trainer, run_dir, &progress)?,
        });
    }
    progress.finish();
    Ok(RunSummary {
        steps: trainer.step,
        final_loss,
        eval,
        metric: trainer.metric(),
        checkpoint: checkpoint.expect("written above").1,
        interrupted,
        tokens_per_second: progress.tokens_per_second(),
    })
}

/// Writes a checkpoint and says so; returns its step and folder.
fn save(trainer: &Trainer, run_dir: &Path, progress: &Progress) -> Result<(u64, PathBuf)> {
    let path = trainer.save(run_dir)?;
    progress.line(&format!(
        "step {}: checkpoint {}",
        trainer.step,
        path.display()
    ));
    Ok((trainer.step, path))
}
