//! Dropout with an explicit seed, so a recomputation draws the same mask.

use burn::tensor::Tensor;

use crate::random::keep_scale;

/// Zeroes each element with probability `prob` and scales the rest by `1 / (1 - prob)`.
///
/// `seed: None` (evaluation) or `prob == 0` returns the input unchanged. Unlike
/// `burn::nn::Dropout` it acts on tensors with or without autodiff alike, which the
/// graph-free forward and the reversible recomputation rely on.
///
/// # Shapes
/// - input and output: any
pub fn seeded_dropout<const D: usize>(x: Tensor<D>, prob: f64, seed: Option<u64>) -> Tensor<D> {
    match seed {
        Some(seed) if prob > 0.0 => {
            let scale = keep_scale(seed, prob, x.dims(), &x.device());
            x * scale
        }
        _ => x,
    }
}
