//! HuggingFace's initialisation: `normal(0, initializer_range)` weights, zero biases.

use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::Device;

/// A linear layer `d_input -> d_output` with `normal(0, std)` weights and, if any, zero bias.
pub fn normal_linear(
    d_input: usize,
    d_output: usize,
    bias: bool,
    std: f64,
    device: &Device,
) -> Linear {
    let mut linear = LinearConfig::new(d_input, d_output)
        .with_bias(false)
        .with_initializer(Initializer::Normal { mean: 0.0, std })
        .init(device);
    if bias {
        linear.bias = Some(Initializer::Zeros.init([d_output], device));
    }
    linear
}
