//! The stable sort of LSH attention: by (round, bucket, position).

use burn::tensor::{IndexingUpdateOp, Int, Tensor, TensorData};

use crate::device::is_host;

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
    /// Sorts every round's positions by bucket, ties by position; rounds stay in order. On a
    /// CPU backend ([`is_host`]) by [`on_host`](Self::on_host), elsewhere by
    /// [`on_device`](Self::on_device).
    ///
    /// # Shapes
    /// - buckets: `[batch, heads, num_hashes, length]`, values in `0..num_buckets`
    /// - sorted, undo: `[batch, heads, num_hashes·length]`
    pub fn new(buckets: Tensor<4, Int>, num_buckets: usize) -> Self {
        if is_host(&buckets.device()) {
            Self::on_host(buckets, num_buckets)
        } else {
            Self::on_device(buckets, num_buckets)
        }
    }

    /// The order by a radix sort over the bucket bits, without leaving the device.
    pub fn on_device(buckets: Tensor<4, Int>, num_buckets: usize) -> Self {
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

    /// The order by a counting sort on the host ([`sorted_on_host`]): where tensors live in
    /// host memory, reading the buckets back is a copy, and one pass per row replaces the
    /// radix sort's hundred-odd small tensor operations.
    pub fn on_host(buckets: Tensor<4, Int>, num_buckets: usize) -> Self {
        let [batch, heads, num_hashes, length] = buckets.dims();
        let (device, dtype) = (buckets.device(), buckets.dtype());
        let keys: Vec<i64> = buckets.into_data().iter::<i64>().collect();
        let total = num_hashes * length;
        let sorted = sorted_on_host(&keys, num_hashes, length, num_buckets);
        let mut undo = vec![0i64; sorted.len()];
        for (sorted, undo) in sorted.chunks(total).zip(undo.chunks_mut(total)) {
            for (rank, &flat) in sorted.iter().enumerate() {
                undo[flat] = rank as i64;
            }
        }
        let tensor = |values: Vec<i64>| {
            Tensor::<3, Int>::from_data(TensorData::new(values, [batch, heads, total]), &device)
                .cast(dtype)
        };
        Self {
            sorted: tensor(sorted.into_iter().map(|flat| flat as i64).collect()),
            undo: tensor(undo),
        }
    }
}

/// [`BucketOrder::sorted`] by a counting sort of host values: for each (batch, head), the
/// flat indices `round·length + position` ordered by (round, bucket, position).
///
/// # Shapes
/// - buckets: `[batch, heads, num_hashes, length]`, values in `0..num_buckets`
/// - output: `[batch, heads, num_hashes·length]`
pub fn sorted_on_host(
    buckets: &[i64],
    num_hashes: usize,
    length: usize,
    num_buckets: usize,
) -> Vec<usize> {
    let mut sorted = vec![0usize; buckets.len()];
    let mut next_slot = vec![0usize; num_buckets + 1];
    for (row, (keys, sorted)) in buckets
        .chunks(length)
        .zip(sorted.chunks_mut(length))
        .enumerate()
    {
        let round_offset = (row % num_hashes) * length;
        next_slot.fill(0);
        for &key in keys {
            next_slot[key as usize + 1] += 1;
        }
        for key in 0..num_buckets {
            next_slot[key + 1] += next_slot[key];
        }
        for (position, &key) in keys.iter().enumerate() {
            let slot = &mut next_slot[key as usize];
            sorted[*slot] = round_offset + position;
            *slot += 1;
        }
    }
    sorted
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
