//! `reformer demo`: run a small Reformer on random tokens and report what it did.

use std::time::Instant;

use burn::tensor::{Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reformer_core::device::{default_device, parse_device};
use reformer_core::{AttentionKind, NumBuckets, Randomness, ReformerConfig, ReformerLm};

/// Arguments of `reformer demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Device to run on (flex, ndarray, wgpu, wgpu-cpu); default: BURN_DEVICE or flex.
    #[arg(long)]
    pub device: Option<String>,
    /// Tokens per sequence (a multiple of 64).
    #[arg(long, default_value_t = 1024)]
    pub seq_len: usize,
    /// Seed of the weights, tokens and hashing.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// A small byte-level causal Reformer for a sequence of `seq_len` tokens.
pub fn demo_config(seq_len: usize) -> ReformerConfig {
    ReformerConfig {
        vocab_size: 256,
        hidden_size: 128,
        num_attention_heads: 2,
        attention_head_size: 64,
        feed_forward_size: 512,
        attn_layers: vec![AttentionKind::Local, AttentionKind::Lsh],
        num_hashes: 2,
        num_buckets: Some(NumBuckets::Single((2 * seq_len / 64).max(2))),
        is_decoder: true,
        axial_pos_shape: vec![seq_len / 64, 64],
        axial_pos_embds_dim: vec![32, 96],
        max_position_embeddings: seq_len,
        chunk_size_feed_forward: 256,
        chunk_size_lm_head: 256,
        ..ReformerConfig::default()
    }
}

/// Runs the demo and prints a summary.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let device = match &args.device {
        Some(name) => parse_device(name)?,
        None => default_device()?,
    };
    if args.seq_len == 0 || args.seq_len % 64 != 0 {
        anyhow::bail!(
            "--seq-len must be a positive multiple of 64, got {}",
            args.seq_len
        );
    }
    let config = demo_config(args.seq_len);
    device.seed(args.seed);
    let model = ReformerLm::new(&config, &device)?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let tokens: Vec<i64> = (0..args.seq_len)
        .map(|_| rng.random_range(0..256))
        .collect();
    let input_ids =
        Tensor::<2, Int>::from_data(TensorData::new(tokens, [1, args.seq_len]), &device);

    let start = Instant::now();
    let output = model.forward(input_ids.clone(), None, &Randomness::eval(args.seed))?;
    let loss: f32 = model.loss(output.hidden, input_ids)?.into_scalar();
    let elapsed = start.elapsed();
    println!(
        "ran a {}-layer Reformer ({:?}, {} parameters) on {} random bytes on {device:?}",
        config.num_layers(),
        config.attn_layers,
        burn::module::Module::num_params(&model),
        args.seq_len
    );
    println!(
        "causal-LM loss {loss:.4} (an untrained model should give about ln 256 = {:.4}) in {:.2?}",
        (256f32).ln(),
        elapsed
    );
    Ok(())
}
