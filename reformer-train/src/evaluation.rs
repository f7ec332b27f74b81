//! Held-out evaluation: loss, bits per character and accuracy over whole batches.

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::tensor::Device;
use reformer_core::random::derive_seed;
use reformer_core::{Randomness, ReformerLm};
use reformer_datasets::{DataError, TokenWindow, WindowBatcher};
use serde::Serialize;

use crate::error::Result;

/// Label of evaluation seeds, so they never coincide with a training step's.
const EVAL_SEED_LABEL: u64 = 0xE7A1;

/// Scores of a model on held-out windows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EvalReport {
    /// Mean negative log-likelihood per scored token, in nats.
    pub loss: f64,
    /// `loss / ln 2`: bits per character for byte-level data.
    pub bits_per_character: f64,
    /// Share of scored tokens whose most likely prediction is right.
    pub accuracy: f64,
    /// Scored tokens.
    pub tokens: u64,
}

/// Evaluates `model` (on `device`, without autodiff) on the first `max_batches` batches of
/// `batch_size` windows of `windows`. The LSH rotations of batch `i` derive from
/// `(seed, i)`, so repeated evaluations are comparable.
pub fn evaluate(
    model: &ReformerLm,
    windows: &dyn Dataset<TokenWindow, DataError>,
    batch_size: usize,
    max_batches: usize,
    seed: u64,
    device: &Device,
) -> Result<EvalReport> {
    let total = windows.len().min(batch_size.saturating_mul(max_batches));
    let (mut nll, mut correct, mut count) = (0.0f64, 0.0f64, 0.0f64);
    for (index, start) in (0..total).step_by(batch_size).enumerate() {
        let items = (start..(start + batch_size).min(total))
            .map(|i| windows.get(i))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let batch = WindowBatcher.batch(items, device);
        let randomness = Randomness::eval(derive_seed(seed, &[EVAL_SEED_LABEL, index as u64]));
        let output = model.forward(batch.input_ids, None, &randomness)?;
        let scores = model.scores(output.hidden, batch.labels)?;
        let value = |t: burn::tensor::Tensor<1>| f64::from(t.into_scalar::<f32>());
        nll += value(scores.nll_sum);
        correct += value(scores.correct);
        count += value(scores.count);
    }
    let loss = nll / count.max(1.0);
    Ok(EvalReport {
        loss,
        bits_per_character: loss / std::f64::consts::LN_2,
        accuracy: correct / count.max(1.0),
        tokens: count as u64,
    })
}
