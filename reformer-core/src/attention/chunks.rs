//! Splitting a sequence into chunks and letting each chunk see its neighbours.

use burn::tensor::{Tensor, kind::Basic};

/// Splits axis 2 into chunks of `chunk_length`.
///
/// # Shapes
/// - input: `[batch, heads, length, d]` with `length % chunk_length == 0`
/// - output: `[batch, heads, length / chunk_length, chunk_length, d]`
pub fn split_chunks<K: Basic>(x: Tensor<4, K>, chunk_length: usize) -> Tensor<5, K> {
    let [b, h, n, d] = x.dims();
    x.reshape([b, h, n / chunk_length, chunk_length, d])
}

/// Splits the last axis of a position (or mask) tensor into chunks.
///
/// # Shapes
/// - input: `[batch, heads, length]`
/// - output: `[batch, heads, length / chunk_length, chunk_length]`
pub fn split_chunks_3d<K: Basic>(x: Tensor<3, K>, chunk_length: usize) -> Tensor<4, K> {
    let [b, h, n] = x.dims();
    x.reshape([b, h, n / chunk_length, chunk_length])
}

/// Concatenates each chunk with the `before` chunks preceding it and the `after` chunks
/// following it, in that order, along axis 3. The chunk axis (2) is circular: the first chunk's
/// predecessor is the last chunk.
///
/// # Shapes
/// - input: `[batch, heads, chunks, c, ...]` (rank `D` of 4 or 5)
/// - output: `[batch, heads, chunks, c·(1 + before + after), ...]`
pub fn look_adjacent<const D: usize, K: Basic>(
    x: Tensor<D, K>,
    before: usize,
    after: usize,
) -> Tensor<D, K> {
    if before == 0 && after == 0 {
        return x;
    }
    let chunks = x.dims()[2] as isize;
    let shifted = (-(before as isize)..=after as isize)
        .map(|offset| {
            // Chunk j of the result holds chunk j + offset of the input.
            let start = offset.rem_euclid(chunks) as usize;
            if start == 0 {
                x.clone()
            } else {
                Tensor::cat(
                    vec![
                        x.clone().slice_dim(2, start..),
                        x.clone().slice_dim(2, ..start),
                    ],
                    2,
                )
            }
        })
        .collect();
    Tensor::cat(shifted, 3)
}
