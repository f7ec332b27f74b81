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
    let [batch, length, _] = hidden.dims();
    let device = hidden.device();
    let targets = Tensor::cat(
        vec![
            labels.slice_dim(1, 1..length),
            Tensor::<2, Int>::full([batch, 1], IGNORE_INDEX, &device),
        ],
        1,
    );
    let counted = targets.clone().not_equal_elem(IGNORE_INDEX);
    let count = counted.clone().int().sum().float();
    let total = chunk_ranges(length, chunk)
        .map(|range| {
            let logits = head.forward(hidden.clone().slice_dim(1, range.clone()));
            let targets = targets.clone().slice_dim(1, range.clone());
            let counted = counted.clone().slice_dim(1, range);
            let safe_targets = targets
                .mask_fill(counted.clone().bool_not(), 0)
                .unsqueeze_dim::<3>(2);
            let picked = logits.clone().gather(2, safe_targets);
            let nll = (logsumexp(logits, 2) - picked).squeeze_dim::<2>(2);
            nll.mask_fill(counted.bool_not(), 0.0).sum()
        })
        .reduce(|a, b| a + b)
        .expect("a sequence has at least one chunk");
    total / count
}
