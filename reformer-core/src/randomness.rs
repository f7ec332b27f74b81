//! The random choices of one forward pass, fixed by a seed so they can be replayed.

use std::collections::BTreeMap;

use burn::tensor::Tensor;

use crate::random::derive_seed;

/// What is random in a forward pass: LSH rotations and (in training) dropout masks.
///
/// Each layer's draws derive from `seed` and the layer's index, so a pass with the same value
/// replays exactly. HuggingFace's recorded rotations can be supplied per layer instead.
#[derive(Debug, Clone, Default)]
pub struct Randomness {
    /// Seed of this pass.
    pub seed: u64,
    /// Apply dropout (training). Off, the pass is deterministic given the rotations.
    pub dropout: bool,
    /// Rotations to use instead of drawing them, by layer index,
    /// each `[heads, head_size, num_hashes, rotation_size]`.
    pub rotations: BTreeMap<usize, Tensor<4>>,
}

impl Randomness {
    /// An evaluation pass: rotations drawn from `seed`, no dropout.
    pub fn eval(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }

    /// A training pass: rotations and dropout masks drawn from `seed`.
    pub fn train(seed: u64) -> Self {
        Self {
            seed,
            dropout: true,
            ..Self::default()
        }
    }

    /// Uses `rotations` in layer `layer` instead of drawing them.
    pub fn with_rotations(mut self, layer: usize, rotations: Tensor<4>) -> Self {
        self.rotations.insert(layer, rotations);
        self
    }

    /// The seed every draw of layer `layer` derives from.
    pub fn layer_seed(&self, layer: usize) -> u64 {
        derive_seed(self.seed, &[layer as u64])
    }

    /// The seed of layer `layer`'s dropout masks, `None` when dropout is off.
    pub fn dropout_seed(&self, layer: usize) -> Option<u64> {
        self.dropout.then(|| self.layer_seed(layer))
    }
}
