//! Local self-attention: each chunk of the sequence attends to itself and its neighbours.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Bool, Device, Int, Tensor};

use super::attend::{AttendOptions, attend};
use super::chunks::{look_adjacent, split_chunks, split_chunks_3d};
use super::heads::{merge_heads, split_heads};
use crate::init::normal_linear;

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
        let query = split_heads(self.query.forward(input.clone()), s.heads);
        let head_size = query.dims()[3];
        let key = split_heads(self.key.forward(input.clone()), s.heads)
            * (head_size as f32).sqrt().recip();
        let value = split_heads(self.value.forward(input), s.heads);

        // A sequence that fits in one chunk is attended to as a whole.
        let (chunk_length, before, after) = if length <= s.chunk_length {
            (length, 0, 0)
        } else {
            (s.chunk_length, s.chunks_before, s.chunks_after)
        };
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
}
