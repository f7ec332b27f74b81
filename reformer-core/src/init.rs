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

/// Redraws the random weights of a freshly built model from a seed, on the host: normal
/// with `initializer_range` (`axial_norm_std` for axial position weights), leaving the
/// constant ones (biases, layer-norm scales and shifts) as they are. The result depends only
/// on the seed and the parameter paths: not on the backend, nor on other threads drawing
/// from the backend's generator at the same time.
pub(crate) struct SeededInit {
    seed: u64,
    initializer_range: f64,
    axial_norm_std: Option<f64>,
    path: Vec<String>,
}

impl SeededInit {
    pub(crate) fn new(seed: u64, config: &crate::ReformerConfig) -> Self {
        Self {
            seed,
            initializer_range: config.initializer_range,
            axial_norm_std: config.axial_pos_embds.then_some(config.axial_norm_std),
            path: Vec::new(),
        }
    }
}

impl burn::module::ModuleMapper for SeededInit {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(
        &mut self,
        param: burn::module::Param<burn::tensor::Tensor<D>>,
    ) -> burn::module::Param<burn::tensor::Tensor<D>> {
        let name = self.path.last().map_or("", String::as_str);
        if matches!(name, "bias" | "beta" | "gamma") {
            return param;
        }
        let std = match self.axial_norm_std {
            Some(std) if self.path.iter().any(|p| p == "position_embeddings") => std,
            _ => self.initializer_range,
        };
        let label = crate::random::fnv1a64(self.path.join(".").as_bytes());
        let seed = crate::random::derive_seed(self.seed, &[label]);
        param.map(|tensor| {
            let fresh = crate::random::standard_normal(seed, tensor.dims(), &tensor.device()) * std;
            if tensor.is_require_grad() {
                fresh.require_grad()
            } else {
                fresh
            }
        })
    }
}
