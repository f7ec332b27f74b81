//! Replayable randomness: every random choice of a layer derives from an explicit seed.
//!
//! The reversible backward recomputes each layer, so its rotations and dropout masks must come
//! out the same the second time (`shared/DESIGN.md` §3). They are drawn on the host from
//! seeds derived here, never from a backend's process-wide generator.

use burn::tensor::{Bool, Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

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

/// SplitMix64's increment (2⁶⁴ divided by the golden ratio).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser: a cheap, well-mixed hash of one word.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(GOLDEN_GAMMA);
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

/// The drop threshold of probability `drop`: a 32-bit draw below it drops its element.
fn drop_threshold(drop: f64) -> u64 {
    (drop * 4_294_967_296.0).round() as u64
}

/// SplitMix64's word number `pair` from `seed`: the 32-bit draws of elements `2·pair` (low
/// half) and `2·pair + 1` (high half).
fn draw_pair(seed: u64, pair: u64) -> u64 {
    mix(seed.wrapping_add(pair.wrapping_mul(GOLDEN_GAMMA)))
}

/// `count` values, each `kept` with probability `1 - drop` and else `dropped`, drawn from
/// `seed`.
///
/// The draws are SplitMix64's sequence from `seed`, two 32-bit draws per 64-bit word; an
/// element is kept when its draw is at least `drop · 2³²`. Statistically sound for dropout,
/// and several times cheaper than a cipher-based generator, which matters for the millions
/// of elements a feed-forward layer drops in every pass.
fn keep_values<T: Copy + Send + Sync>(
    seed: u64,
    drop: f64,
    count: usize,
    kept: T,
    dropped: T,
) -> Vec<T> {
    // Elements per parallel task; even, so a task starts at a word boundary.
    const BLOCK: usize = 1 << 15;
    let threshold = drop_threshold(drop);
    let pick = |draw: u64| if draw >= threshold { kept } else { dropped };
    let mut values = vec![dropped; count];
    values
        .par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(block, values)| {
            let first_pair = (block * BLOCK / 2) as u64;
            for (pair, slots) in values.chunks_mut(2).enumerate() {
                let word = draw_pair(seed, first_pair + pair as u64);
                slots[0] = pick(word & 0xFFFF_FFFF);
                if let Some(second) = slots.get_mut(1) {
                    *second = pick(word >> 32);
                }
            }
        });
    values
}

/// Element `index` of [`keep_scale`]'s draws from `seed`, computed on its own: kernels that
/// walk a tensor in their own order use it to drop exactly what [`keep_scale`] would.
pub fn keep_scale_at(seed: u64, drop: f64, index: u64) -> f32 {
    let word = draw_pair(seed, index / 2);
    let draw = if index % 2 == 0 {
        word & 0xFFFF_FFFF
    } else {
        word >> 32
    };
    if draw >= drop_threshold(drop) {
        (1.0 / (1.0 - drop)) as f32
    } else {
        0.0
    }
}

/// A keep-mask with each element kept with probability `1 - drop`, drawn from `seed`.
pub fn keep_mask<const D: usize>(
    seed: u64,
    drop: f64,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D, Bool> {
    let values = keep_values(seed, drop, shape.iter().product(), true, false);
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// The draws of [`keep_mask`] as inverted-dropout factors: `1 / (1 - drop)` where kept, 0
/// where dropped, so dropout is one multiplication.
pub fn keep_scale<const D: usize>(
    seed: u64,
    drop: f64,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D> {
    let scale = (1.0 / (1.0 - drop)) as f32;
    let values = keep_values(seed, drop, shape.iter().product(), scale, 0.0);
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// FNV-1a, 64-bit: a stable hash of bytes (parameter paths, checkpoint files), the same in
/// every build and on every platform.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
