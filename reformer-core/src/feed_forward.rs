//! The chunked feed-forward half of a Reformer layer.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::optim::GradientsParams;
use burn::tensor::activation::{gelu, relu, silu};
use burn::tensor::{Device, Tensor};

use crate::config::{Activation, ReformerConfig};
use crate::device::is_host;
use crate::dropout::seeded_dropout;
use crate::grads::{BlockGradients, grad_of, inner_product, leaf};
use crate::host::{HostFeedForward, host_values, upload};
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

    /// On a CPU backend and without autodiff, the layer norm's output goes through the host
    /// kernel ([`HostFeedForward`]); otherwise through tensor operations.
    ///
    /// # Shapes
    /// - input and output: `[batch, length, hidden]`
    pub fn forward(&self, input: Tensor<3>, layer_seed: Option<u64>) -> Tensor<3> {
        if is_host(&input.device()) && !input.is_tracked() {
            let normed = self.layer_norm.forward(input);
            let (shape, device) = (normed.dims(), normed.device());
            let params = HostParams::new(self);
            let output = self
                .host_kernel(shape, &params, layer_seed)
                .forward(&host_values(normed));
            return upload(output, shape, &device);
        }
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

    /// The output at `input` and the gradients of `Σ output · output_grad` for the input and
    /// the parameters: the reversible backward's step through `G`. On a CPU backend the
    /// projections, activation and dropout are differentiated by the host kernel; the layer
    /// norm, and everything on other devices, by autodiff.
    ///
    /// # Shapes
    /// - input, output_grad: `[batch, length, hidden]`, without autodiff
    pub fn forward_with_grads(
        &self,
        input: Tensor<3>,
        output_grad: Tensor<3>,
        layer_seed: Option<u64>,
    ) -> BlockGradients {
        let input = leaf(input);
        let (output, objective) = if is_host(&input.device()) {
            let normed = self.layer_norm.forward(input.clone());
            let (shape, device) = (normed.dims(), output_grad.device());
            let params = HostParams::new(self);
            let grads = self
                .host_kernel(shape, &params, layer_seed)
                .forward_backward(
                    &host_values(normed.clone().detach().inner()),
                    &host_values(output_grad),
                );
            let mut objective = inner_product(normed, upload(grads.input, shape, &device))
                + param_objective(&self.dense.weight, grads.dense_weight)
                + param_objective(&self.output.weight, grads.output_weight);
            if let Some(bias) = &self.dense.bias {
                objective = objective + param_objective(bias, grads.dense_bias);
            }
            if let Some(bias) = &self.output.bias {
                objective = objective + param_objective(bias, grads.output_bias);
            }
            (upload(grads.output, shape, &device), objective)
        } else {
            let output = self.forward(input.clone(), layer_seed);
            let objective = inner_product(output.clone(), output_grad);
            (output.detach().inner(), objective)
        };
        let mut grads = objective.backward();
        BlockGradients {
            output,
            input_grad: grad_of(&input, &grads).inner(),
            params: GradientsParams::from_module(&mut grads, self),
        }
    }

    /// The host kernel over inputs of `shape` (`[batch, length, hidden]`) with `params`.
    fn host_kernel<'a>(
        &self,
        [batch, length, hidden]: [usize; 3],
        params: &'a HostParams,
        layer_seed: Option<u64>,
    ) -> HostFeedForward<'a> {
        HostFeedForward {
            batch,
            length,
            hidden,
            inner: params.inner,
            chunk_size: self.chunk_size,
            dense_weight: &params.dense_weight,
            dense_bias: params.dense_bias.as_deref(),
            output_weight: &params.output_weight,
            output_bias: params.output_bias.as_deref(),
            activation: self.activation,
            dropout: layer_seed
                .filter(|_| self.dropout > 0.0)
                .map(|seed| (self.dropout, seed)),
        }
    }

    fn forward_chunk(&self, input: Tensor<3>, layer_seed: Option<u64>, chunk: usize) -> Tensor<3> {
        let seed = |site| layer_seed.map(|seed| site_seed(seed, site, chunk));
        let x = self.dense.forward(self.layer_norm.forward(input));
        let x = seeded_dropout(x, self.dropout, seed(Site::FeedForwardInner));
        let x = self.output.forward(activate(x, self.activation));
        seeded_dropout(x, self.dropout, seed(Site::FeedForwardOutput))
    }
}

/// The projections' parameters read into host memory.
struct HostParams {
    dense_weight: Vec<f32>,
    dense_bias: Option<Vec<f32>>,
    output_weight: Vec<f32>,
    output_bias: Option<Vec<f32>>,
    inner: usize,
}

impl HostParams {
    fn new(feed_forward: &ChunkedFeedForward) -> Self {
        let bias = |bias: &Option<Param<Tensor<1>>>| bias.as_ref().map(|b| host_values(b.val()));
        Self {
            dense_weight: host_values(feed_forward.dense.weight.val()),
            dense_bias: bias(&feed_forward.dense.bias),
            output_weight: host_values(feed_forward.output.weight.val()),
            output_bias: bias(&feed_forward.output.bias),
            inner: feed_forward.dense.weight.dims()[1],
        }
    }
}

/// `Σ param ⊙ grad`, whose gradient for the parameter is `grad`.
fn param_objective<const D: usize>(param: &Param<Tensor<D>>, grad: Vec<f32>) -> Tensor<1> {
    let value = param.val();
    let (shape, device) = (value.dims(), value.device());
    inner_product(value, upload(grad, shape, &device))
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
