//! Autoregressive generation with a trained causal Reformer.

use burn::tensor::{Int, Tensor, TensorData};
use reformer_core::random::derive_seed;
use reformer_core::{Randomness, ReformerConfig, ReformerLm};

use crate::error::{Result, TrainError};
use crate::sampling::Sampler;

/// The shortest length at least `n` that every layer of `config` accepts.
fn padded_length(config: &ReformerConfig, n: usize) -> usize {
    (n..=config.max_length())
        .find(|&length| config.validate_length(length).is_ok())
        .unwrap_or(config.max_length())
}

/// Extends `prompt` by up to `max_new` tokens, calling `emit` with each as it is chosen.
///
/// Each token is predicted from the last `max_length - 1` tokens at most, right-padded (and
/// masked) to a length the model accepts; the LSH rotations of token `i` derive from
/// `(seed, i)`. `model` runs without autodiff.
pub fn generate(
    model: &ReformerLm,
    prompt: &[i64],
    max_new: usize,
    sampler: &mut Sampler,
    seed: u64,
    mut emit: impl FnMut(i64) -> Result<()>,
) -> Result<Vec<i64>> {
    if prompt.is_empty() {
        return Err(TrainError::Settings(
            "the prompt is empty; give at least one token".into(),
        ));
    }
    let config = &model.config;
    let device = model.lm_head.weight.device();
    let window = config.max_length().saturating_sub(1).max(1);
    let mut tokens = prompt.to_vec();
    for index in 0..max_new {
        let context = &tokens[tokens.len().saturating_sub(window)..];
        let length = padded_length(config, context.len());
        let ids: Vec<i64> = context
            .iter()
            .copied()
            .chain(std::iter::repeat(0))
            .take(length)
            .collect();
        let mask: Vec<i64> = (0..length).map(|i| i64::from(i < context.len())).collect();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [1, length]), &device);
        let mask = Tensor::<2, Int>::from_data(TensorData::new(mask, [1, length]), &device);
        let randomness = Randomness::eval(derive_seed(seed, &[index as u64]));
        let hidden = model.forward(ids, Some(&mask), &randomness)?.hidden;
        let last = context.len() - 1;
        let logits = model.logits(hidden.slice_dim(1, last..last + 1));
        let logits: Vec<f32> = logits
            .to_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("float logits");
        let next = sampler.sample(&logits) as i64;
        emit(next)?;
        tokens.push(next);
    }
    Ok(tokens)
}
