//! Softmax as PyTorch computes it, which parity with HuggingFace depends on.
//!
//! HuggingFace's attention normalises with `exp(s - logsumexp(s))`, not with a renormalising
//! softmax. For rows whose scores are all the same large negative mask value the two differ by
//! about 2e-3 in float32, enough to flip a bucket in a later layer
//! (`shared/reference/hf-reformer.md`, numerical detail 1).

use burn::tensor::Tensor;

/// `max + ln(Σ exp(x − max))` along `dim`, kept as a size-1 axis.
///
/// The maximum is detached: the gradient of the result is exactly `softmax(x)`.
pub fn logsumexp<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    let max = x.clone().detach().max_dim(dim);
    (x - max.clone()).exp().sum_dim(dim).log() + max
}

/// Attention probabilities `exp(s − logsumexp(s))` and the log-normaliser, along the last axis.
///
/// Computed as `exp(s − max) · exp(max − lse)`: one exponential of the whole score tensor
/// instead of two, and the same float32 numbers as HuggingFace's `exp(s − lse)` where the
/// parity note above matters (a row of equal mask values gets `exp(0) · exp(0)`).
///
/// # Shapes
/// - scores: `[..., keys]`
/// - output: (`[..., keys]`, `[..., 1]`)
pub fn softmax_with_lse<const D: usize>(scores: Tensor<D>) -> (Tensor<D>, Tensor<D>) {
    let max = scores.clone().detach().max_dim(D - 1);
    let shifted = (scores - max.clone()).exp();
    let lse = shifted.clone().sum_dim(D - 1).log() + max.clone();
    let probs = shifted * (max - lse.clone()).exp();
    (probs, lse)
}
