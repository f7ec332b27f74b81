//! One reversible Reformer layer.

use burn::module::Module;
use burn::tensor::{Bool, Device, Int, Tensor};

use crate::attention::{AttentionBlock, Hashing};
use crate::config::{AttentionKind, ReformerConfig};
use crate::feed_forward::ChunkedFeedForward;

/// `y1 = x1 + Attn(x2)`, `y2 = x2 + FF(y1)`.
///
/// The inputs can be recovered from the outputs (`x2 = y2 − FF(y1)`, `x1 = y1 − Attn(x2)`),
/// which is what lets training forget them.
#[derive(Module, Debug)]
pub struct ReformerLayer {
    /// `F`: layer norm, self-attention, output projection.
    pub attention: AttentionBlock,
    /// `G`: layer norm and the chunked feed-forward.
    pub feed_forward: ChunkedFeedForward,
}

/// The two streams after a layer, and the LSH buckets it used.
#[derive(Debug, Clone)]
pub struct LayerOutput {
    /// `y1`, `[batch, length, hidden]` (HuggingFace's `attn_output`).
    pub y1: Tensor<3>,
    /// `y2`, `[batch, length, hidden]` (HuggingFace's `hidden_states`).
    pub y2: Tensor<3>,
    /// `[batch, heads, num_hashes, length]` for an LSH layer that hashed.
    pub buckets: Option<Tensor<4, Int>>,
}

impl ReformerLayer {
    /// Creates a layer of attention kind `kind`.
    pub fn new(config: &ReformerConfig, kind: AttentionKind, device: &Device) -> Self {
        Self {
            attention: AttentionBlock::new(config, kind, device),
            feed_forward: ChunkedFeedForward::new(config, device),
        }
    }

    /// # Shapes
    /// - x1, x2: `[batch, length, hidden]`
    /// - keep: `[batch, length]`, false at padding
    pub fn forward(
        &self,
        x1: Tensor<3>,
        x2: Tensor<3>,
        keep: Option<Tensor<2, Bool>>,
        hashing: Option<Hashing>,
        layer_seed: Option<u64>,
    ) -> LayerOutput {
        let attention = self
            .attention
            .forward(x2.clone(), keep, hashing, layer_seed);
        let y1 = x1 + attention.hidden;
        let y2 = x2 + self.feed_forward.forward(y1.clone(), layer_seed);
        LayerOutput {
            y1,
            y2,
            buckets: attention.buckets,
        }
    }
}
