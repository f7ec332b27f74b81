//! Choosing the next token from logits: temperature, top-k and nucleus (top-p) sampling.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How the next token is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingSettings {
    /// Divides the logits; 0 picks the most likely token (greedy decoding).
    pub temperature: f32,
    /// Sample among the `k` most likely tokens only.
    pub top_k: Option<usize>,
    /// Sample among the most likely tokens whose probabilities add up to `p`.
    pub top_p: Option<f32>,
}

/// A seeded sampler.
#[derive(Debug, Clone)]
pub struct Sampler {
    settings: SamplingSettings,
    rng: ChaCha8Rng,
}

impl Sampler {
    /// A sampler whose draws derive from `seed`.
    pub fn new(settings: SamplingSettings, seed: u64) -> Self {
        Self {
            settings,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The next token id, from one position's logits `[vocab]`.
    pub fn sample(&mut self, logits: &[f32]) -> usize {
        let SamplingSettings {
            temperature,
            top_k,
            top_p,
        } = self.settings;
        let mut order: Vec<usize> = (0..logits.len()).collect();
        order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
        if temperature <= 0.0 {
            return order[0];
        }
        let max = logits[order[0]];
        let weights: Vec<f64> = order
            .iter()
            .map(|&i| f64::from((logits[i] - max) / temperature).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        let mut keep = top_k.unwrap_or(order.len()).clamp(1, order.len());
        if let Some(p) = top_p {
            let mut mass = 0.0;
            let nucleus = weights
                .iter()
                .position(|w| {
                    mass += w / total;
                    mass >= f64::from(p)
                })
                .map_or(order.len(), |last| last + 1);
            keep = keep.min(nucleus);
        }
        let kept_total: f64 = weights[..keep].iter().sum();
        let mut draw = self.rng.random::<f64>() * kept_total;
        for (rank, weight) in weights[..keep].iter().enumerate() {
            draw -= weight;
            if draw < 0.0 {
                return order[rank];
            }
        }
        order[keep - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(temperature: f32, top_k: Option<usize>, top_p: Option<f32>) -> SamplingSettings {
        SamplingSettings {
            temperature,
            top_k,
            top_p,
        }
    }

    const LOGITS: [f32; 4] = [0.0, 2.0, 1.0, -1.0];

    #[test]
    fn greedy_top_1_and_a_small_nucleus_pick_the_most_likely() {
        for s in [
            settings(0.0, None, None),
            settings(1.0, Some(1), None),
            settings(1.0, None, Some(0.1)),
        ] {
            let mut sampler = Sampler::new(s, 3);
            assert!((0..50).all(|_| sampler.sample(&LOGITS) == 1), "{s:?}");
        }
    }

    #[test]
    fn top_k_keeps_the_k_most_likely_in_proportion() {
        let mut sampler = Sampler::new(settings(1.0, Some(2), None), 5);
        let draws: Vec<usize> = (0..4000).map(|_| sampler.sample(&LOGITS)).collect();
        assert!(draws.iter().all(|&d| d == 1 || d == 2));
        let share = draws.iter().filter(|&&d| d == 1).count() as f64 / 4000.0;
        let expected = 1.0 / (1.0 + (-1.0f64).exp());
        assert!((share - expected).abs() < 0.03, "{share} vs {expected}");
    }

    #[test]
    fn the_seed_fixes_the_draws() {
        let draw = |seed| {
            let mut sampler = Sampler::new(settings(1.0, None, None), seed);
            (0..20).map(|_| sampler.sample(&LOGITS)).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}
