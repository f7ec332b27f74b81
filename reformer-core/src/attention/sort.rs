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

/// Bits needed to write every key below `num_keys`.
fn key_bits(num_keys: usize) -> u32 {
    usize::BITS - num_keys.saturating_sub(1).leading_zeros()
}

/// The stable sorting permutation of `keys` along the last axis: a least-significant-digit
/// radix sort, one bit per pass, made of `cumsum`, `gather` and `scatter` so that it never
/// leaves the device (`shared/DESIGN.md` §6; Burn's `argsort` is a host round trip on wgpu).
/// Each pass is a stable partition by one bit, so ties keep their positions' order.
///
/// # Shapes
/// - keys: `[batch, heads, rounds, length]`, values in `0..num_keys`
/// - output: `[batch, heads, rounds, length]`, positions in sorted order
pub fn stable_sort_indices(keys: Tensor<4, Int>, num_keys: usize) -> Tensor<4, Int> {
    let [batch, heads, rounds, length] = keys.dims();
    let device = keys.device();
    let mut order = Tensor::<1, Int>::arange(0..length as i64, &device)
        .reshape([1, 1, 1, length])
        .expand([batch, heads, rounds, length])
        .cast(keys.dtype());
    let mut current = keys;
    for bit in 0..key_bits(num_keys) {
        let ones = current.clone().div_scalar(1i64 << bit).remainder_scalar(2);
        let zeros = ones.clone().neg().add_scalar(1);
        let zero_slots = zeros.clone().cumsum(3) - 1;
        let zero_count = zeros.clone().sum_dim(3);
        let one_slots = ones.clone().cumsum(3) - 1 + zero_count;
        let slot = zero_slots * zeros + one_slots * ones;
        let scatter = |values: Tensor<4, Int>| {
            values
                .zeros_like()
                .scatter(3, slot.clone(), values, IndexingUpdateOp::Add)
        };
        order = scatter(order);
        current = scatter(current);
    }
    order
}

impl BucketOrder {
    /// Sorts every round's positions by bucket, ties by position; rounds stay in order.
    ///
    /// # Shapes
    /// - buckets: `[batch, heads, num_hashes, length]`, values in `0..num_buckets`
    /// - sorted, undo: `[batch, heads, num_hashes·length]`
    pub fn new(buckets: Tensor<4, Int>, num_buckets: usize) -> Self {
        let [batch, heads, num_hashes, length] = buckets.dims();
        let device = buckets.device();
        let dtype = buckets.dtype();
        let round_offsets =
            Tensor::<1, Int>::arange_step(0..(num_hashes * length) as i64, length, &device)
                .reshape([1, 1, num_hashes, 1])
                .cast(dtype);
        let total = num_hashes * length;
        let sorted = (stable_sort_indices(buckets, num_buckets) + round_offsets)
            .reshape([batch, heads, total]);
        let flat = Tensor::<1, Int>::arange(0..total as i64, &device)
            .reshape([1, 1, total])
            .expand([batch, heads, total])
            .cast(dtype);
        let undo = sorted
            .zeros_like()
            .scatter(2, sorted.clone(), flat, IndexingUpdateOp::Add);
        Self { sorted, undo }
    }
}

#[cfg(test)]
mod tests {
    use super::key_bits;

    #[test]
    fn key_bits_cover_every_key() {
        assert_eq!(key_bits(1), 0);
        assert_eq!(key_bits(2), 1);
        assert_eq!(key_bits(5), 3);
        assert_eq!(key_bits(8), 3);
        assert_eq!(key_bits(9), 4);
    }
}
