//! Replayable randomness: every random choice of a layer derives from an explicit seed.
//!
//! The reversible backward recomputes each layer, so its rotations and dropout masks must come
//! out the same the second time (`shared/DESIGN.md` §3). They are drawn on the host from
//! seeds derived here, never from a backend's process-wide generator.

use burn::tensor::{Bool, Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Where in a layer a random draw happens; mixed into the layer's seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Site {
    /// LSH random rotations.
    Rotations = 1,
    /// Dropout on attention probabilities.
    AttentionProbs = 2,
    /// Dropout after the attention output projection.
    AttentionOutput = 3,
    /// Dropout after the first feed-forward projection.
    FeedForwardInner = 4,
    /// Dropout after the second feed-forward projection.
    FeedForwardOutput = 5,
    /// Dropout on the word embeddings.
    Embeddings = 6,
    /// Dropout on the position embeddings.
    PositionEmbeddings = 8,
    /// Dropout after the final layer norm.
    FinalNorm = 7,
}

/// SplitMix64's finaliser: a cheap, well-mixed hash of one word.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Derives an independent seed from a parent seed and a sequence of labels.
pub fn derive_seed(seed: u64, labels: &[u64]) -> u64 {
    labels
        .iter()
        .fold(mix(seed), |acc, &label| mix(acc ^ mix(label)))
}

/// The seed of one draw at `site` in one chunk (0 when unchunked) of a layer.
pub fn site_seed(layer_seed: u64, site: Site, chunk: usize) -> u64 {
    derive_seed(layer_seed, &[site as u64, chunk as u64])
}

/// A tensor of standard-normal samples, drawn on the host from `seed` in row-major order.
pub fn standard_normal<const D: usize>(seed: u64, shape: [usize; D], device: &Device) -> Tensor<D> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let count = shape.iter().product();
    let values: Vec<f32> = (0..count).map(|_| rng.sample(StandardNormal)).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// A keep-mask with each element kept with probability `1 - drop`, drawn from `seed`.
pub fn keep_mask<const D: usize>(
    seed: u64,
    drop: f64,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D, Bool> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let count = shape.iter().product();
    let values: Vec<bool> = (0..count).map(|_| rng.random::<f64>() >= drop).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// FNV-1a, 64-bit: a stable hash of bytes (parameter paths, checkpoint files), the same in
/// every build and on every platform.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
