//! Scores, masks, softmax and weighted values: the part every attention kind shares.

use burn::tensor::{Bool, Int, Tensor};

use super::softmax::softmax_with_lse;
use crate::dropout::seeded_dropout;

/// Score of a query/key pair the causal or padding mask forbids (HuggingFace's float32 value).
pub const MASK_VALUE: f32 = -1e9;
/// Score of a query with a key at its own position, when the self mask is on.
pub const SELF_MASK_VALUE: f32 = -1e5;

/// Which masks to apply and what dropout to use.
#[derive(Debug, Clone, Copy)]
pub struct AttendOptions {
    /// Forbid keys at later positions than the query.
    pub causal: bool,
    /// Replace the score of a key at the query's own position (shared-QK attention).
    pub self_mask: bool,
    /// Dropout probability on the attention probabilities.
    pub dropout: f64,
    /// Seed of the dropout mask; `None` disables dropout.
    pub dropout_seed: Option<u64>,
}

/// Attention of each chunk of queries over its window of keys.
///
/// Forbidden pairs (causal, padded key) get [`MASK_VALUE`]; then, with `self_mask`, pairs at
/// the same position get [`SELF_MASK_VALUE`], replacing whatever was there (as HuggingFace
/// does). Probabilities are `exp(s − logsumexp(s))`.
///
/// # Shapes
/// - queries: `[batch, heads, chunks, c, d]`
/// - keys, values: `[batch, heads, chunks, w, d]`
/// - query_positions: `[batch or 1, heads or 1, chunks, c]`
/// - key_positions: `[batch or 1, heads or 1, chunks, w]`
/// - key_keep: `[batch, heads or 1, chunks, w]`, false for padded keys
/// - output: (`[batch, heads, chunks, c, d]`, log-normaliser `[batch, heads, chunks, c, 1]`)
pub fn attend(
    queries: Tensor<5>,
    keys: Tensor<5>,
    values: Tensor<5>,
    query_positions: Tensor<4, Int>,
    key_positions: Tensor<4, Int>,
    key_keep: Option<Tensor<4, Bool>>,
    options: AttendOptions,
) -> (Tensor<5>, Tensor<5>) {
    let [batch, heads, chunks, c, _] = queries.dims();
    let w = keys.dims()[3];
    let scores_shape = [batch, heads, chunks, c, w];
    let mut scores = queries.matmul(keys.swap_dims(3, 4));

    let query_positions = query_positions.unsqueeze_dim::<5>(4).expand(scores_shape);
    let key_positions = key_positions.unsqueeze_dim::<5>(3).expand(scores_shape);
    let mut forbidden: Option<Tensor<5, Bool>> = None;
    if options.causal {
        forbidden = Some(query_positions.clone().lower(key_positions.clone()));
    }
    if let Some(keep) = key_keep {
        let padded = keep.bool_not().unsqueeze_dim::<5>(3).expand(scores_shape);
        forbidden = Some(match forbidden {
            Some(f) => f.bool_or(padded),
            None => padded,
        });
    }
    if let Some(forbidden) = forbidden {
        scores = scores.mask_fill(forbidden, MASK_VALUE);
    }
    if options.self_mask {
        scores = scores.mask_fill(query_positions.equal(key_positions), SELF_MASK_VALUE);
    }

    let (probs, lse) = softmax_with_lse(scores);
    let probs = seeded_dropout(probs, options.dropout, options.dropout_seed);
    (probs.matmul(values), lse)
}
