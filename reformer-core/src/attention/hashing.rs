//! Angular locality-sensitive hashing: random rotations, argmax over `[xR; −xR]`.

use burn::tensor::{Bool, Device, Int, Tensor};

use crate::config::NumBuckets;
use crate::random::standard_normal;

/// Draws the random rotations of one LSH layer from `seed`.
///
/// # Shapes
/// - output: `[heads, head_size, num_hashes, rotation_size]`, HuggingFace's layout
pub fn draw_rotations(
    seed: u64,
    heads: usize,
    head_size: usize,
    num_hashes: usize,
    buckets: &NumBuckets,
    device: &Device,
) -> Tensor<4> {
    standard_normal(
        seed,
        [heads, head_size, num_hashes, buckets.rotation_size()],
        device,
    )
}

/// Hashes each vector into a bucket per round.
///
/// For a factorized layout `[f1, f2, ...]` consecutive slices of `f_i/2` rotated columns give
/// `b_i`, combined as `b1 + f1·b2 + f1·f2·b3 ...`. With a padding mask, padded positions
/// go to an extra last bucket (index `buckets.total()`).
///
/// # Shapes
/// - vectors: `[batch, heads, length, head_size]` (the shared query/key, detached)
/// - rotations: `[heads, head_size, num_hashes, rotation_size]`
/// - padding: `[batch, length]`, true where the token is padding
/// - output: `[batch, heads, num_hashes, length]`
pub fn hash_vectors(
    vectors: Tensor<4>,
    rotations: Tensor<4>,
    buckets: &NumBuckets,
    padding: Option<Tensor<2, Bool>>,
) -> Tensor<4, Int> {
    let [batch, heads, length, head_size] = vectors.dims();
    let [_, _, num_hashes, rotation_size] = rotations.dims();
    let rotations = rotations.reshape([1, heads, head_size, num_hashes * rotation_size]);
    // [B, H, L, n·r] -> [B, H, n, L, r]
    let rotated = vectors
        .detach()
        .matmul(rotations)
        .reshape([batch, heads, length, num_hashes, rotation_size])
        .swap_dims(2, 3);

    let mut offset = 0;
    let mut stride = 1;
    let mut result: Option<Tensor<5, Int>> = None;
    for &factor in buckets.factors() {
        let half = factor / 2;
        let slice = rotated.clone().slice_dim(4, offset..offset + half);
        // argmax over [x; −x] without building it: max(x) wins over −min(x), ties included,
        // as the first half comes first.
        let (max, up) = slice.clone().max_dim_with_indices(4);
        let (min, down) = slice.min_dim_with_indices(4);
        let bucket = up.mask_where(max.lower(min.neg()), down + half as i64) * stride as i64;
        result = Some(match result {
            Some(sum) => sum + bucket,
            None => bucket,
        });
        offset += half;
        stride *= factor;
    }
    let result: Tensor<4, Int> = result
        .expect("num_buckets has at least one factor")
        .squeeze_dim(4);
    match padding {
        Some(padding) => {
            let padding = padding
                .reshape([batch, 1, 1, length])
                .expand([batch, heads, num_hashes, length]);
            result.mask_fill(padding, buckets.total() as i64)
        }
        None => result,
    }
}
