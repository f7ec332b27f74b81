//! The LM head and the causal-LM loss, over sequence chunks.

use burn::nn::Linear;
use burn::tensor::{Int, Tensor};

use crate::attention::logsumexp;

/// Label value that is not predicted (HuggingFace's convention).
pub const IGNORE_INDEX: i64 = -100;

/// Position ranges of `chunk` positions (the whole length for 0).
fn chunk_ranges(length: usize, chunk: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let chunk = if chunk == 0 {
        length
    } else {
        chunk.min(length)
    };
    (0..length)
        .step_by(chunk.max(1))
        .map(move |start| start..(start + chunk).min(length))
}

/// Logits of every position, computed `chunk` positions at a time.
///
/// # Shapes
/// - hidden: `[batch, length, 2·hidden]`
/// - output: `[batch, length, vocab]`
pub fn chunked_logits(head: &Linear, hidden: Tensor<3>, chunk: usize) -> Tensor<3> {
    let length = hidden.dims()[1];
    let parts = chunk_ranges(length, chunk)
        .map(|range| head.forward(hidden.clone().slice_dim(1, range)))
        .collect();
    Tensor::cat(parts, 1)
}

/// Sums over the scored positions of a causal-LM batch, for losses and accuracies that
/// aggregate over many batches.
#[derive(Debug, Clone)]
pub struct LmScores {
    /// Summed negative log-likelihood (nats), `[1]`.
    pub nll_sum: Tensor<1>,
    /// Positions whose most likely token is the label, `[1]`.
    pub correct: Tensor<1>,
    /// Scored positions, `[1]`.
    pub count: Tensor<1>,
}

/// The causal-LM targets: `labels` shifted left by one, [`IGNORE_INDEX`] at the end.
///
/// # Shapes
/// - labels, output: `[batch, length]`
fn shifted_targets(labels: Tensor<2, Int>) -> Tensor<2, Int> {
    let [batch, length] = labels.dims();
    let device = labels.device();
    Tensor::cat(
        vec![
            labels.slice_dim(1, 1..length),
            Tensor::<2, Int>::full([batch, 1], IGNORE_INDEX, &device),
        ],
        1,
    )
}

/// Summed causal-LM negative log-likelihood, and (with `count_correct`) the number of
/// argmax hits, computed one `[batch, chunk, vocab]` block of logits at a time.
fn chunked_scores(
    head: &Linear,
    hidden: Tensor<3>,
    labels: Tensor<2, Int>,
    chunk: usize,
    count_correct: bool,
) -> LmScores {
    let length = hidden.dims()[1];
    let targets = shifted_targets(labels);
    let counted = targets.clone().not_equal_elem(IGNORE_INDEX);
    let count = counted.clone().int().sum().float();
    let (nll_sum, correct) = chunk_ranges(length, chunk)
        .map(|range| {
            let logits = head.forward(hidden.clone().slice_dim(1, range.clone()));
            let targets = targets.clone().slice_dim(1, range.clone());
            let counted = counted.clone().slice_dim(1, range);
            let safe_targets = targets.mask_fill(counted.clone().bool_not(), 0);
            let correct = count_correct.then(|| {
                let hits = logits
                    .clone()
                    .argmax(2)
                    .squeeze_dim::<2>(2)
                    .equal(safe_targets.clone());
                hits.bool_and(counted.clone()).int().sum().float()
            });
            let picked = logits.clone().gather(2, safe_targets.unsqueeze_dim::<3>(2));
            let nll = (logsumexp(logits, 2) - picked).squeeze_dim::<2>(2);
            (nll.mask_fill(counted.bool_not(), 0.0).sum(), correct)
        })
        .reduce(|(nll_a, hits_a), (nll_b, hits_b)| {
            (nll_a + nll_b, hits_a.zip(hits_b).map(|(a, b)| a + b))
        })
        .expect("a sequence has at least one chunk");
    LmScores {
        nll_sum,
        correct: correct.unwrap_or_else(|| count.zeros_like()),
        count,
    }
}

/// Causal-LM cross-entropy: position `t` predicts `labels[t + 1]`; labels equal to
/// [`IGNORE_INDEX`] are skipped; the mean is over the predicted positions.
///
/// The `[batch, chunk, vocab]` logits exist for one chunk at a time.
///
/// # Shapes
/// - hidden: `[batch, length, 2·hidden]`
/// - labels: `[batch, length]`
/// - output: `[1]`
pub fn causal_lm_loss(
    head: &Linear,
    hidden: Tensor<3>,
    labels: Tensor<2, Int>,
    chunk: usize,
) -> Tensor<1> {
    let scores = chunked_scores(head, hidden, labels, chunk, false);
    scores.nll_sum / scores.count
}

/// Causal-LM scores (summed NLL, argmax hits, scored positions) over the same positions as
/// [`causal_lm_loss`], one chunk of logits at a time.
///
/// # Shapes
/// - hidden: `[batch, length, 2·hidden]`
/// - labels: `[batch, length]`
pub fn causal_lm_scores(
    head: &Linear,
    hidden: Tensor<3>,
    labels: Tensor<2, Int>,
    chunk: usize,
) -> LmScores {
    chunked_scores(head, hidden, labels, chunk, true)
}
