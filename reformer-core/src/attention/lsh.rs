//! LSH self-attention: shared-QK attention inside hash buckets, O(L log L).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::attend::{AttendOptions, attend};
use super::chunks::{look_adjacent, split_chunks, split_chunks_3d};
use super::full::shared_qk_attention;
use super::hashing::hash_vectors;
use super::heads::{gather_rows, merge_heads, split_heads, unit_norm_keys};
use super::softmax::logsumexp;
use super::sort::{BucketOrder, sorted_on_host};
use crate::config::NumBuckets;
use crate::device::is_host;
use crate::grads::inner_product;
use crate::host::{HostChunkAttention, HostHashing, HostProjections, host_values};
use crate::init::normal_linear;
use crate::random::KeepScales;

/// How an LSH layer gets its buckets.
#[derive(Debug, Clone)]
pub enum Hashing {
    /// Hash with these rotations, `[heads, head_size, num_hashes, rotation_size]`.
    Rotations(Tensor<4>),
    /// Reuse the buckets of an earlier pass, `[batch, heads, num_hashes, length]`, as the
    /// reversible backward's recomputation does.
    Buckets(Tensor<4, Int>),
}

/// Settings of an LSH layer that are not parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LshSettings {
    /// Number of heads.
    pub heads: usize,
    /// Hash rounds.
    pub num_hashes: usize,
    /// Bucket layout.
    pub buckets: NumBuckets,
    /// Chunk length of the sorted sequence.
    pub chunk_length: usize,
    /// Chunks before each chunk its queries see.
    pub chunks_before: usize,
    /// Chunks after each chunk its queries see.
    pub chunks_after: usize,
    /// Causal masking.
    pub causal: bool,
    /// Dropout on the attention probabilities.
    pub dropout: f64,
}

/// LSH self-attention as the Reformer paper and HuggingFace define it.
///
/// Queries and keys share one projection; keys are length-normalised. Each round hashes the
/// vectors with random rotations, sorts positions by (round, bucket, position), and lets each
/// chunk of `chunk_length` sorted positions attend to itself and its neighbouring chunks.
/// Rounds are merged with weights `softmax` over their log-normalisers.
#[derive(Module, Debug)]
pub struct LshSelfAttention {
    /// Shared query/key projection, `hidden -> heads·head_size`, no bias.
    pub query_key: Linear,
    /// Value projection, `hidden -> heads·head_size`, no bias.
    pub value: Linear,
    /// Hashing and chunking settings.
    #[module(skip)]
    pub settings: LshSettings,
}

/// Output of an LSH layer.
#[derive(Debug, Clone)]
pub struct LshOutput {
    /// Attention output before the output projection, `[batch, length, heads·head_size]`.
    pub context: Tensor<3>,
    /// Buckets used, `[batch, heads, num_hashes, length]`; `None` when the sequence fitted in
    /// one chunk and full attention was used.
    pub buckets: Option<Tensor<4, Int>>,
}

impl LshSelfAttention {
    /// Creates the layer with `normal(0, std)` weights.
    pub fn new(
        hidden: usize,
        head_size: usize,
        settings: LshSettings,
        std: f64,
        device: &Device,
    ) -> Self {
        let width = settings.heads * head_size;
        Self {
            query_key: normal_linear(hidden, width, false, std, device),
            value: normal_linear(hidden, width, false, std, device),
            settings,
        }
    }

    /// # Shapes
    /// - input: `[batch, length, hidden]`, `length` a multiple of the chunk length or at most it
    /// - keep: `[batch, length]`, false at padding
    /// - output context: `[batch, length, heads·head_size]`
    pub fn forward(
        &self,
        input: Tensor<3>,
        keep: Option<Tensor<2, Bool>>,
        hashing: Hashing,
        dropout_seed: Option<u64>,
    ) -> LshOutput {
        let s = &self.settings;
        let length = input.dims()[1];
        let (query_key, value) = self.project(input);
        if length > s.chunk_length && is_host(&query_key.device()) && !query_key.is_tracked() {
            return self.forward_on_host(query_key, value, keep, hashing, dropout_seed);
        }
        let options = self.options(dropout_seed);
        let split = |x: Tensor<3>| split_heads(x, s.heads);
        if length <= s.chunk_length {
            let context = shared_qk_attention(split(query_key), split(value), keep, options);
            return LshOutput {
                context: merge_heads(context),
                buckets: None,
            };
        }

        let query_key = split(query_key);
        let buckets = match hashing {
            Hashing::Rotations(rotations) => hash_vectors(
                query_key.clone(),
                rotations,
                &s.buckets,
                keep.clone().map(Tensor::bool_not),
            ),
            Hashing::Buckets(buckets) => buckets,
        };
        // Buckets lie in 0..=total: the extra one holds padding.
        let order = BucketOrder::new(buckets.clone(), s.buckets.total() + 1);
        let keys = unit_norm_keys(query_key.clone());
        let context = self.attend_in_chunks(query_key, keys, split(value), order, keep, options);
        LshOutput {
            context: merge_heads(context),
            buckets: Some(buckets),
        }
    }

    /// [`forward`](Self::forward) on a CPU backend without autodiff: hashing, sorting and
    /// attention in host memory ([`HostHashing`], [`sorted_on_host`], [`HostChunkAttention`]).
    fn forward_on_host(
        &self,
        query_key: Tensor<3>,
        value: Tensor<3>,
        keep: Option<Tensor<2, Bool>>,
        hashing: Hashing,
        dropout_seed: Option<u64>,
    ) -> LshOutput {
        let s = &self.settings;
        let mut host = HostProjections::new(query_key, None, value, keep);
        let [batch, length, width] = host.shape;
        let buckets: Vec<i64> = match hashing {
            Hashing::Rotations(rotations) => {
                let hashing = HostHashing {
                    batch,
                    length,
                    heads: s.heads,
                    head_size: width / s.heads,
                    num_hashes: s.num_hashes,
                    factors: s.buckets.factors(),
                };
                hashing.buckets(&host.queries, &host_values(rotations), host.keep.as_deref())
            }
            Hashing::Buckets(buckets) => buckets.into_data().iter::<i64>().collect(),
        };
        host.sorted = Some(self.sorted(&buckets, length));
        let context = host.upload(self.host_kernel(&host, dropout_seed).forward(host.inputs()));
        let shape = [batch, s.heads, s.num_hashes, length];
        LshOutput {
            context,
            buckets: Some(Tensor::from_data(
                TensorData::new(buckets, shape),
                &host.device,
            )),
        }
    }

    /// The host sort of `buckets` (`[batch, heads, num_hashes, length]`); bucket
    /// `buckets.total()` holds padding.
    fn sorted(&self, buckets: &[i64], length: usize) -> Vec<usize> {
        let s = &self.settings;
        sorted_on_host(buckets, s.num_hashes, length, s.buckets.total() + 1)
    }

    /// The context as [`forward`](Self::forward) computes it from LSH buckets, and a scalar
    /// whose gradient is that of `Σ context · context_grad`, for the input and the
    /// parameters: the reversible backward's step through this layer on a CPU backend, done
    /// by the host kernel without an autodiff graph of the attention itself.
    ///
    /// # Shapes
    /// - input: `[batch, length, hidden]` on an autodiff device, `length` a multiple of the
    ///   chunk length and more than it
    /// - context_grad: `[batch, length, heads·head_size]`
    /// - buckets: `[batch, heads, num_hashes, length]`
    /// - output: (context `[batch, length, heads·head_size]` without autodiff, `[1]`)
    pub fn forward_with_grads(
        &self,
        input: Tensor<3>,
        context_grad: Tensor<3>,
        keep: Option<Tensor<2, Bool>>,
        buckets: Tensor<4, Int>,
        dropout_seed: Option<u64>,
    ) -> (Tensor<3>, Tensor<1>) {
        let (query_key, value) = self.project(input);
        let length = query_key.dims()[1];
        let buckets: Vec<i64> = buckets.into_data().iter::<i64>().collect();
        let detached = |x: &Tensor<3>| x.clone().detach().inner();
        let mut host = HostProjections::new(detached(&query_key), None, detached(&value), keep);
        host.sorted = Some(self.sorted(&buckets, length));
        let grads = self
            .host_kernel(&host, dropout_seed)
            .forward_backward(host.inputs(), &host_values(context_grad));
        let objective = inner_product(query_key, host.upload(grads.queries))
            + inner_product(value, host.upload(grads.values));
        (host.upload(grads.context), objective)
    }

    /// The shared query/key and the value projections, each `[batch, length, heads·head_size]`.
    fn project(&self, input: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        (
            self.query_key.forward(input.clone()),
            self.value.forward(input),
        )
    }

    fn options(&self, dropout_seed: Option<u64>) -> AttendOptions {
        AttendOptions {
            causal: self.settings.causal,
            self_mask: true,
            dropout: self.settings.dropout,
            dropout_seed,
        }
    }

    fn host_kernel(&self, host: &HostProjections, dropout_seed: Option<u64>) -> HostChunkAttention {
        let s = &self.settings;
        let [batch, length, width] = host.shape;
        HostChunkAttention {
            batch,
            heads: s.heads,
            length,
            head_size: width / s.heads,
            num_hashes: s.num_hashes,
            chunk_length: s.chunk_length,
            chunks_before: s.chunks_before,
            chunks_after: s.chunks_after,
            causal: s.causal,
            shared_query_key: true,
            dropout: KeepScales::for_dropout(dropout_seed, s.dropout),
        }
    }

    /// Attention inside the sorted chunks as tensor operations, the rounds merged.
    ///
    /// # Shapes
    /// - query_key, keys, value: `[batch, heads, length, head_size]`
    /// - output: `[batch, heads, length, head_size]`
    fn attend_in_chunks(
        &self,
        query_key: Tensor<4>,
        keys: Tensor<4>,
        value: Tensor<4>,
        order: BucketOrder,
        keep: Option<Tensor<2, Bool>>,
        options: AttendOptions,
    ) -> Tensor<4> {
        let s = &self.settings;
        let [batch, heads, length, head_size] = query_key.dims();
        let total = s.num_hashes * length;

        // Queries in sorted order, chunked; each chunk's keys and values are those of its own
        // and its neighbouring chunks, gathered straight from position order (one row copy,
        // rather than a sort gather and a concatenation per neighbour).
        let positions = order.sorted.clone().remainder_scalar(length as i64);
        let query_positions = split_chunks_3d(positions.clone(), s.chunk_length);
        let key_positions = look_adjacent(query_positions.clone(), s.chunks_before, s.chunks_after);
        let [_, _, chunks, window] = key_positions.dims();
        let window_index = key_positions
            .clone()
            .reshape([batch, heads, chunks * window]);
        let windows = |x: Tensor<4>| {
            gather_rows(x, window_index.clone()).reshape([batch, heads, chunks, window, head_size])
        };
        let keys = windows(keys);
        let value = windows(value);
        let queries = split_chunks(gather_rows(query_key, positions), s.chunk_length);
        let key_keep = keep.map(|keep| {
            keep.int()
                .unsqueeze_dim::<3>(1)
                .expand([batch, heads, length])
                .gather(2, window_index.clone())
                .equal_elem(1)
                .reshape([batch, heads, chunks, window])
        });
        let (out, lse) = attend(
            queries,
            keys,
            value,
            query_positions,
            key_positions,
            key_keep,
            options,
        );

        // Back to position order, then merge the rounds.
        let undo = order.undo;
        let out = gather_rows(out.reshape([batch, heads, total, head_size]), undo.clone());
        let lse = lse.reshape([batch, heads, total]).gather(2, undo);
        if s.num_hashes == 1 {
            return out;
        }
        let out = out.reshape([batch, heads, s.num_hashes, length, head_size]);
        let lse = lse.reshape([batch, heads, s.num_hashes, length, 1]);
        let weights = (lse.clone() - logsumexp(lse, 2)).exp();
        (out * weights)
            .sum_dim(2)
            .reshape([batch, heads, length, head_size])
    }
}
