//! LSH bucket assignment over host memory: the buckets of
//! [`hash_vectors`](crate::attention::hash_vectors), from the projection as it is.

use rayon::prelude::*;

use super::matmul::{Parallelism, View, matmul};

/// Shapes and bucket layout of one hashing call.
#[derive(Debug, Clone, Copy)]
pub struct HostHashing<'a> {
    /// Batch size.
    pub batch: usize,
    /// Positions per sequence.
    pub length: usize,
    /// Heads.
    pub heads: usize,
    /// Size of a query/key vector.
    pub head_size: usize,
    /// Hash rounds.
    pub num_hashes: usize,
    /// The bucket counts whose product is the number of buckets (one for a plain count).
    pub factors: &'a [usize],
}

impl HostHashing<'_> {
    /// Each position's bucket per round, `[batch, heads, num_hashes, length]`: the argmax
    /// over `[xR; −xR]` (the first of equal maxima, as the tensor formulation's), combined
    /// over the factors as `b1 + f1·b2 + f1·f2·b3 …`; padded positions get the extra bucket
    /// `Π factors`.
    ///
    /// # Shapes
    /// - query_key: `[batch, length, heads·head_size]`
    /// - rotations: `[heads, head_size, num_hashes, rotation_size]`, `rotation_size` the sum
    ///   of the factors' halves
    /// - keep: `[batch, length]`, false at padding
    pub fn buckets(&self, query_key: &[f32], rotations: &[f32], keep: Option<&[bool]>) -> Vec<i64> {
        let (l, h, d, n) = (self.length, self.heads, self.head_size, self.num_hashes);
        let rotation_size: usize = self.factors.iter().map(|f| f / 2).sum();
        let width = n * rotation_size;
        let padded_bucket = self.factors.iter().product::<usize>() as i64;
        let mut buckets = vec![0i64; self.batch * h * n * l];
        buckets
            .par_chunks_mut(n * l)
            .enumerate()
            .for_each(|(head, buckets)| {
                let (b, head_index) = (head / h, head % h);
                let rows = &query_key[(b * l * h + head_index) * d..];
                let rows = View::strided(rows, l, d, h * d);
                let rotation = &rotations[head_index * d * width..(head_index + 1) * d * width];
                let mut rotated = vec![0.0; l * width];
                matmul(
                    &mut rotated,
                    rows,
                    View::rows(rotation, d, width),
                    Parallelism::None,
                );
                for (position, rotated) in rotated.chunks_exact(width).enumerate() {
                    let padded = keep.is_some_and(|keep| !keep[b * l + position]);
                    for (round, rotated) in rotated.chunks_exact(rotation_size).enumerate() {
                        buckets[round * l + position] = if padded {
                            padded_bucket
                        } else {
                            self.bucket(rotated)
                        };
                    }
                }
            });
        buckets
    }

    /// The bucket of one rotated vector, `[rotation_size]`.
    fn bucket(&self, rotated: &[f32]) -> i64 {
        let (mut offset, mut stride, mut bucket) = (0, 1, 0);
        for &factor in self.factors {
            let half = factor / 2;
            let part = &rotated[offset..offset + half];
            let (mut up, mut down) = (0, 0);
            for (i, &x) in part.iter().enumerate() {
                if x > part[up] {
                    up = i;
                }
                if x < part[down] {
                    down = i;
                }
            }
            // max(x) wins over −min(x) on a tie: the first half comes first.
            let index = if part[up] < -part[down] {
                down + half
            } else {
                up
            };
            bucket += (index * stride) as i64;
            offset += half;
            stride *= factor;
        }
        bucket
    }
}
