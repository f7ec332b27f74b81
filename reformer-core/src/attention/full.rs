//! Full shared-QK attention: every query against every key, O(L²).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Bool, Device, Int, Tensor};

use super::attend::{AttendOptions, attend};
use super::heads::{merge_heads, split_heads, unit_norm_keys};
use crate::init::normal_linear;

/// Full attention with the Reformer's shared query/key projection.
///
/// It is what LSH attention approximates (and what an LSH layer computes for a sequence that
/// fits in one chunk): keys are the length-normalised queries and a query does not attend to
/// its own position unless nothing else is allowed.
#[derive(Module, Debug)]
pub struct FullSelfAttention {
    /// Shared query/key projection, `hidden -> heads·head_size`, no bias.
    pub query_key: Linear,
    /// Value projection, `hidden -> heads·head_size`, no bias.
    pub value: Linear,
    /// Number of heads.
    pub heads: usize,
    /// Causal masking.
    pub causal: bool,
    /// Dropout on the attention probabilities.
    pub dropout: f64,
}

impl FullSelfAttention {
    /// Creates the layer with `normal(0, std)` weights.
    pub fn new(
        hidden: usize,
        heads: usize,
        head_size: usize,
        causal: bool,
        dropout: f64,
        std: f64,
        device: &Device,
    ) -> Self {
        let width = heads * head_size;
        Self {
            query_key: normal_linear(hidden, width, false, std, device),
            value: normal_linear(hidden, width, false, std, device),
            heads,
            causal,
            dropout,
        }
    }

    /// # Shapes
    /// - input: `[batch, length, hidden]`
    /// - keep: `[batch, length]`, false at padding
    /// - output: `[batch, length, heads·head_size]`
    pub fn forward(
        &self,
        input: Tensor<3>,
        keep: Option<Tensor<2, Bool>>,
        dropout_seed: Option<u64>,
    ) -> Tensor<3> {
        let query_key = split_heads(self.query_key.forward(input.clone()), self.heads);
        let value = split_heads(self.value.forward(input), self.heads);
        merge_heads(shared_qk_attention(
            query_key,
            value,
            keep,
            AttendOptions {
                causal: self.causal,
                self_mask: true,
                dropout: self.dropout,
                dropout_seed,
            },
        ))
    }
}

/// Shared-QK attention over the whole sequence.
///
/// # Shapes
/// - query_key, value: `[batch, heads, length, head_size]`
/// - keep: `[batch, length]`
/// - output: `[batch, heads, length, head_size]`
pub fn shared_qk_attention(
    query_key: Tensor<4>,
    value: Tensor<4>,
    keep: Option<Tensor<2, Bool>>,
    options: AttendOptions,
) -> Tensor<4> {
    let [batch, heads, length, head_size] = query_key.dims();
    let device = query_key.device();
    let keys = unit_norm_keys(query_key.clone());
    let as_one_chunk = |x: Tensor<4>| x.reshape([batch, heads, 1, length, head_size]);
    let positions = Tensor::<1, Int>::arange(0..length as i64, &device).reshape([1, 1, 1, length]);
    let keep = keep.map(|keep| keep.reshape([batch, 1, 1, length]));
    let (out, _) = attend(
        as_one_chunk(query_key),
        as_one_chunk(keys),
        as_one_chunk(value),
        positions.clone(),
        positions,
        keep,
        options,
    );
    out.reshape([batch, heads, length, head_size])
}
