//! The reference configuration the issues measure: hidden 256, 4 heads of 64, feed-forward
//! 1024, LSH layers with 2 rounds and chunk 64, byte vocabulary, batch 1.

use std::time::Instant;

use burn::optim::AdamConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use reformer_core::{AttentionKind, Randomness, ReformerConfig, ReformerLm};

/// The reference model with `layers` LSH layers for sequences of `seq_len` tokens.
pub fn reference_config(layers: usize, seq_len: usize) -> ReformerConfig {
    let columns = 64.min(seq_len);
    ReformerConfig {
        vocab_size: 256,
        hidden_size: 256,
        num_attention_heads: 4,
        attention_head_size: 64,
        feed_forward_size: 1024,
        attn_layers: vec![AttentionKind::Lsh; layers],
        num_hashes: 2,
        num_buckets: None,
        lsh_attn_chunk_length: 64,
        is_decoder: true,
        axial_pos_shape: vec![seq_len / columns, columns],
        axial_pos_embds_dim: vec![64, 192],
        max_position_embeddings: seq_len,
        chunk_size_feed_forward: 1024,
        chunk_size_lm_head: 1024,
        ..ReformerConfig::default()
    }
}

/// Runs `steps` training steps (forward, causal-LM loss, backward, Adam) of a model of
/// `config` on `device` (an autodiff device) over one fixed byte sequence; returns the last
/// loss and each step's seconds.
pub fn timed_train_steps(
    config: &ReformerConfig,
    device: &Device,
    steps: usize,
    reversible: bool,
) -> anyhow::Result<(f32, Vec<f64>)> {
    let length = config.max_length();
    let mut model = ReformerLm::seeded(config, 0, device)?;
    let mut optimizer = AdamConfig::new().init();
    let tokens: Vec<i64> = (0..length as i64).map(|i| (i * 31 + 7) % 256).collect();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(tokens, [1, length]), device);
    let (mut loss, mut seconds) = (f32::NAN, Vec::with_capacity(steps));
    for step in 0..steps {
        let start = Instant::now();
        let result = model.train_step(
            ids.clone(),
            None,
            ids.clone(),
            &Randomness::train(step as u64),
            reversible,
        )?;
        loss = result.loss.into_scalar();
        model = optimizer.step(1e-3, model, result.grads);
        let _ = device.sync();
        seconds.push(start.elapsed().as_secs_f64());
    }
    Ok((loss, seconds))
}
