//! The stable sort of LSH attention: by (round, bucket, position).

use burn::tensor::{IndexingUpdateOp, Int, Tensor};

/// The sorting permutation of hashed positions and its inverse.
#[derive(Debug, Clone)]
pub struct BucketOrder {
    /// Flat index `round·length + position` of the i-th element in sorted order.
    pub sorted: Tensor<3, Int>,
    /// Where each flat index lands in sorted order: the inverse of `sorted`.
    pub undo: Tensor<3, Int>,
}

impl BucketOrder {
    /// Sorts every round's positions by bucket, ties by position; rounds stay in order.
    ///
    /// # Shapes
    /// - buckets: `[batch, heads, num_hashes, length]`
    /// - sorted, undo: `[batch, heads, num_hashes·length]`
    pub fn new(buckets: Tensor<4, Int>) -> Self {
        let [batch, heads, num_hashes, length] = buckets.dims();
        let device = buckets.device();
        let positions = Tensor::<1, Int>::arange(0..length as i64, &device)
            .reshape([1, 1, 1, length])
            .expand([batch, heads, num_hashes, length]);
        // Unique keys, so any sort is stable; each round is sorted on its own.
        let dtype = buckets.dtype();
        let keys = buckets * length as i64 + positions;
        let round_offsets =
            Tensor::<1, Int>::arange_step(0..(num_hashes * length) as i64, length, &device)
                .reshape([1, 1, num_hashes, 1]);
        let total = num_hashes * length;
        // Backends return indices in their own integer type.
        let sorted = (keys.argsort(3).cast(dtype) + round_offsets).reshape([batch, heads, total]);
        let flat = Tensor::<1, Int>::arange(0..total as i64, &device)
            .reshape([1, 1, total])
            .expand([batch, heads, total]);
        let undo = Tensor::<3, Int>::zeros([batch, heads, total], &device).scatter(
            2,
            sorted.clone(),
            flat,
            IndexingUpdateOp::Add,
        );
        Self { sorted, undo }
    }
}
