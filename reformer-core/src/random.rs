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
#[inline(always)]
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

/// Dropout draws from one seed, as inverted-dropout factors: element `i` keeps the factor
/// `1 / (1 − drop)` with probability `1 − drop`, and else gets 0.
///
/// The draws are SplitMix64's sequence from the seed, two 32-bit draws per 64-bit word (the
/// low half for the even element); an element is kept when its draw is at least `drop · 2³²`.
/// Statistically sound for dropout, and several times cheaper than a cipher-based generator,
/// which matters for the millions of elements a feed-forward layer drops in every pass. Any
/// element can be drawn on its own, so kernels that walk a tensor in their own order drop
/// exactly what the whole-tensor draw ([`keep_scale`]) drops.
#[derive(Debug, Clone, Copy)]
pub struct KeepScales {
    seed: u64,
    threshold: u64,
    scale: f32,
}

impl KeepScales {
    /// The draws from `seed` for dropout probability `drop`.
    pub fn new(seed: u64, drop: f64) -> Self {
        Self {
            seed,
            threshold: (drop * 4_294_967_296.0).round() as u64,
            scale: (1.0 / (1.0 - drop)) as f32,
        }
    }

    /// The draws of a dropout of probability `drop` seeded with `seed`, or `None` where the
    /// dropout does nothing (no seed, as in evaluation, or `drop` = 0), as in
    /// [`seeded_dropout`](crate::dropout::seeded_dropout).
    pub fn for_dropout(seed: Option<u64>, drop: f64) -> Option<Self> {
        seed.filter(|_| drop > 0.0)
            .map(|seed| Self::new(seed, drop))
    }

    #[inline(always)]
    fn pick(&self, draw: u64) -> f32 {
        if draw >= self.threshold {
            self.scale
        } else {
            0.0
        }
    }

    /// SplitMix64's word number `pair`: the draws of elements `2·pair` and `2·pair + 1`.
    #[inline(always)]
    fn word(&self, pair: u64) -> u64 {
        mix(self.seed.wrapping_add(pair.wrapping_mul(GOLDEN_GAMMA)))
    }

    /// The factor of element `index`.
    pub fn at(&self, index: u64) -> f32 {
        let word = self.word(index / 2);
        self.pick(if index.is_multiple_of(2) {
            word & 0xFFFF_FFFF
        } else {
            word >> 32
        })
    }

    /// The factors of elements `first..first + out.len()`, one word per two elements.
    pub fn fill(&self, first: u64, out: &mut [f32]) {
        let (odd_start, rest) = out.split_at_mut(usize::from(first % 2 == 1).min(out.len()));
        if let Some(x) = odd_start.first_mut() {
            *x = self.at(first);
        }
        fill_pairs(self, first.div_ceil(2), rest);
    }

    /// The factors of elements `0..count`, drawn in parallel blocks.
    pub fn all(&self, count: usize) -> Vec<f32> {
        const BLOCK: usize = 1 << 15;
        let mut values = vec![0.0; count];
        values
            .par_chunks_mut(BLOCK)
            .enumerate()
            .for_each(|(block, values)| self.fill((block * BLOCK) as u64, values));
        values
    }
}

/// The factors of consecutive elements from element `2·first_pair` on: the hash words of a
/// block first, in a loop the compiler vectorises (compiled for AVX-512 as well, where 64-bit
/// multiplies are vector instructions, and picked at run time), then the factors.
fn fill_pairs(draws: &KeepScales, first_pair: u64, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512dq") {
        // SAFETY: the CPU has the features the function is compiled for.
        return unsafe { fill_pairs_avx512(draws, first_pair, out) };
    }
    fill_pairs_portable(draws, first_pair, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
fn fill_pairs_avx512(draws: &KeepScales, first_pair: u64, out: &mut [f32]) {
    fill_pairs_portable(draws, first_pair, out);
}

#[inline(always)]
fn fill_pairs_portable(draws: &KeepScales, first_pair: u64, out: &mut [f32]) {
    const PAIRS: usize = 64;
    let mut words = [0u64; PAIRS];
    for (block, out) in out.chunks_mut(2 * PAIRS).enumerate() {
        let base = first_pair.wrapping_add((block * PAIRS) as u64);
        for (k, word) in words.iter_mut().enumerate() {
            *word = draws.word(base.wrapping_add(k as u64));
        }
        let full_pairs = out.len() / 2;
        let mut pairs = out.chunks_exact_mut(2);
        for (slots, &word) in (&mut pairs).zip(&words) {
            slots[0] = draws.pick(word & 0xFFFF_FFFF);
            slots[1] = draws.pick(word >> 32);
        }
        if let Some(last) = pairs.into_remainder().first_mut() {
            *last = draws.pick(words[full_pairs] & 0xFFFF_FFFF);
        }
    }
}

/// A keep-mask with each element kept with probability `1 - drop`, drawn from `seed`: the
/// elements [`keep_scale`] keeps.
pub fn keep_mask<const D: usize>(
    seed: u64,
    drop: f64,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D, Bool> {
    keep_scale(seed, drop, shape, device).not_equal_elem(0.0)
}

/// The draws of [`KeepScales`] from `seed` as a tensor: `1 / (1 - drop)` where kept, 0
/// where dropped, so dropout is one multiplication.
pub fn keep_scale<const D: usize>(
    seed: u64,
    drop: f64,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D> {
    let values = KeepScales::new(seed, drop).all(shape.iter().product());
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// FNV-1a, 64-bit: a stable hash of bytes (parameter paths, checkpoint files), the same in
/// every build and on every platform.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
