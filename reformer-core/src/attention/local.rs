//! Local self-attention: each chunk of the sequence attends to itself and its neighbours.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Bool, Device, Int, Tensor};

use super::attend::{AttendOptions, attend};
use super::chunks::{look_adjacent, split_chunks, split_chunks_3d};
use super::heads::{merge_heads, split_heads};
use crate::device::is_host;
use crate::grads::inner_product;
use crate::host::{HostChunkAttention, HostProjections, host_values};
use crate::init::normal_linear;
use crate::random::KeepScales;

/// Settings of a local attention layer that are not parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSettings {
    /// Number of heads.
    pub heads: usize,
    /// Chunk length.
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

/// Local attention with separate query, key and value projections and `1/√d` scaled keys.
///
/// Chunks are taken in sequence order; the chunk axis is circular (HuggingFace's
/// `_look_adjacent`), so without the causal mask the first chunk sees the last one.
#[derive(Module, Debug)]
pub struct LocalSelfAttention {
    /// Query projection, `hidden -> heads·head_size`, no bias.
    pub query: Linear,
    /// Key projection, `hidden -> heads·head_size`, no bias.
    pub key: Linear,
    /// Value projection, `hidden -> heads·head_size`, no bias.
    pub value: Linear,
    /// Chunking settings.
    #[module(skip)]
    pub settings: LocalSettings,
}

impl LocalSelfAttention {
    /// Creates the layer with `normal(0, std)` weights.
    pub fn new(
        hidden: usize,
        head_size: usize,
        settings: LocalSettings,
        std: f64,
        device: &Device,
    ) -> Self {
        let width = settings.heads * head_size;
        Self {
            query: normal_linear(hidden, width, false, std, device),
            key: normal_linear(hidden, width, false, std, device),
            value: normal_linear(hidden, width, false, std, device),
            settings,
        }
    }

    /// On a CPU backend and without autodiff, the attention runs in the host kernel
    /// ([`HostChunkAttention`]); otherwise as tensor operations.
    ///
    /// # Shapes
    /// - input: `[batch, length, hidden]`, `length` a multiple of the chunk length or at most it
    /// - keep: `[batch, length]`, false at padding
    /// - output: `[batch, length, heads·head_size]`
    pub fn forward(
        &self,
        input: Tensor<3>,
        keep: Option<Tensor<2, Bool>>,
        dropout_seed: Option<u64>,
    ) -> Tensor<3> {
        let s = &self.settings;
        let [batch, length, _] = input.dims();
        let [query, key, value] = self.project(input);
        if is_host(&query.device()) && !query.is_tracked() {
            let host = HostProjections::new(query, Some(key), value, keep);
            return host.upload(self.host_kernel(&host, dropout_seed).forward(host.inputs()));
        }
        let query = split_heads(query, s.heads);
        let head_size = query.dims()[3];
        let key = split_heads(key, s.heads) * (head_size as f32).sqrt().recip();
        let value = split_heads(value, s.heads);

        let (chunk_length, before, after) = self.chunking(length);
        let positions =
            Tensor::<1, Int>::arange(0..length as i64, &query.device()).reshape([1, 1, length]);
        let query_positions = split_chunks_3d(positions, chunk_length);
        let key_positions = look_adjacent(query_positions.clone(), before, after);
        let key_keep = keep.map(|keep| {
            look_adjacent(
                split_chunks_3d(keep.reshape([batch, 1, length]), chunk_length),
                before,
                after,
            )
        });
        let (out, _) = attend(
            split_chunks(query, chunk_length),
            look_adjacent(split_chunks(key, chunk_length), before, after),
            look_adjacent(split_chunks(value, chunk_length), before, after),
            query_positions,
            key_positions,
            key_keep,
            AttendOptions {
                causal: s.causal,
                self_mask: false,
                dropout: s.dropout,
                dropout_seed,
            },
        );
        merge_heads(out.reshape([batch, s.heads, length, head_size]))
    }

    /// The context as [`forward`](Self::forward) computes it, and a scalar whose gradient is
    /// that of `Σ context · context_grad`, for the input and the parameters: the reversible
    /// backward's step through this layer on a CPU backend, done by the host kernel without an
    /// autodiff graph of the attention itself.
    ///
    /// # Shapes
    /// - input: `[batch, length, hidden]` on an autodiff device
    /// - context_grad: `[batch, length, heads·head_size]`
    /// - output: (context `[batch, length, heads·head_size]` without autodiff, `[1]`)
    pub fn forward_with_grads(
        &self,
        input: Tensor<3>,
        context_grad: Tensor<3>,
        keep: Option<Tensor<2, Bool>>,
        dropout_seed: Option<u64>,
    ) -> (Tensor<3>, Tensor<1>) {
        let [query, key, value] = self.project(input);
        let detached = |x: &Tensor<3>| x.clone().detach().inner();
        let host = HostProjections::new(
            detached(&query),
            Some(detached(&key)),
            detached(&value),
            keep,
        );
        let grads = self
            .host_kernel(&host, dropout_seed)
            .forward_backward(host.inputs(), &host_values(context_grad));
        let key_grad = grads.keys.expect("local attention has its own keys");
        let objective = inner_product(query, host.upload(grads.queries))
            + inner_product(key, host.upload(key_grad))
            + inner_product(value, host.upload(grads.values));
        (host.upload(grads.context), objective)
    }

    /// The query, key and value projections, each `[batch, length, heads·head_size]`.
    fn project(&self, input: Tensor<3>) -> [Tensor<3>; 3] {
        [&self.query, &self.key, &self.value].map(|linear| linear.forward(input.clone()))
    }

    /// Chunk length and chunks before and after for a sequence of `length`: a sequence that
    /// fits in one chunk is attended to as a whole.
    fn chunking(&self, length: usize) -> (usize, usize, usize) {
        let s = &self.settings;
        if length <= s.chunk_length {
            (length, 0, 0)
        } else {
            (s.chunk_length, s.chunks_before, s.chunks_after)
        }
    }

    fn host_kernel(&self, host: &HostProjections, dropout_seed: Option<u64>) -> HostChunkAttention {
        let s = &self.settings;
        let [batch, length, width] = host.shape;
        let (chunk_length, chunks_before, chunks_after) = self.chunking(length);
        HostChunkAttention {
            batch,
            heads: s.heads,
            length,
            head_size: width / s.heads,
            num_hashes: 1,
            chunk_length,
            chunks_before,
            chunks_after,
            causal: s.causal,
            shared_query_key: false,
            dropout: KeepScales::for_dropout(dropout_seed, s.dropout),
        }
    }
}
