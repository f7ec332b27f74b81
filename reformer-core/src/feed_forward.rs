//! The chunked feed-forward half of a Reformer layer.

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::tensor::activation::{gelu, relu, silu};
use burn::tensor::{Device, Tensor};

use crate::config::{Activation, ReformerConfig};
use crate::dropout::seeded_dropout;
use crate::init::normal_linear;
use crate::random::{Site, site_seed};

/// `FF(x) = dropout(W2 · act(dropout(W1 · LayerNorm(x) + b1)) + b2)`, the function `G` of the
/// reversible layer `y2 = x2 + G(y1)`.
///
/// The sequence is processed `chunk_size` positions at a time, so the `feed_forward_size`-wide
/// activations exist for one chunk only. Each chunk draws its dropout masks from its own seed.
#[derive(Module, Debug)]
pub struct ChunkedFeedForward {
    /// Layer norm of the input.
    pub layer_norm: LayerNorm,
    /// `hidden -> feed_forward_size`, with bias.
    pub dense: Linear,
    /// `feed_forward_size -> hidden`, with bias.
    pub output: Linear,
    /// Activation between the projections.
    #[module(skip)]
    pub activation: Activation,
    /// Dropout after each projection.
    pub dropout: f64,
    /// Positions per chunk; 0 processes the whole sequence at once.
    pub chunk_size: usize,
}

impl ChunkedFeedForward {
    /// Creates the block as `config` describes it.
    pub fn new(config: &ReformerConfig, device: &Device) -> Self {
        let (hidden, inner, std) = (
            config.hidden_size,
            config.feed_forward_size,
            config.initializer_range,
        );
        Self {
            layer_norm: LayerNormConfig::new(hidden)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            dense: normal_linear(hidden, inner, true, std, device),
            output: normal_linear(inner, hidden, true, std, device),
            activation: config.hidden_act,
            dropout: config.hidden_dropout_prob,
            chunk_size: config.chunk_size_feed_forward,
        }
    }

    /// # Shapes
    /// - input and output: `[batch, length, hidden]`
    pub fn forward(&self, input: Tensor<3>, layer_seed: Option<u64>) -> Tensor<3> {
        let length = input.dims()[1];
        let chunk = if self.chunk_size == 0 {
            length
        } else {
            self.chunk_size
        };
        if chunk >= length {
            return self.forward_chunk(input, layer_seed, 0);
        }
        let chunks = (0..length)
            .step_by(chunk)
            .enumerate()
            .map(|(index, start)| {
                let end = (start + chunk).min(length);
                self.forward_chunk(input.clone().slice_dim(1, start..end), layer_seed, index)
            })
            .collect();
        Tensor::cat(chunks, 1)
    }

    fn forward_chunk(&self, input: Tensor<3>, layer_seed: Option<u64>, chunk: usize) -> Tensor<3> {
        let seed = |site| layer_seed.map(|seed| site_seed(seed, site, chunk));
        let x = self.dense.forward(self.layer_norm.forward(input));
        let x = seeded_dropout(x, self.dropout, seed(Site::FeedForwardInner));
        let x = self.output.forward(activate(x, self.activation));
        seeded_dropout(x, self.dropout, seed(Site::FeedForwardOutput))
    }
}

fn activate(x: Tensor<3>, activation: Activation) -> Tensor<3> {
    match activation {
        Activation::Relu => relu(x),
        Activation::Gelu => gelu(x),
        Activation::GeluNew => {
            // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
            let inner = (x.clone() + x.clone().powi_scalar(3) * 0.044715)
                * (2.0 / std::f32::consts::PI).sqrt();
            x * (inner.tanh() + 1.0) * 0.5
        }
        Activation::Silu => silu(x),
    }
}
