//! Tiny runs for the training tests: small enough to take seconds on 2 cores.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use reformer_core::{AttentionKind, NumBuckets, ReformerConfig};
use reformer_train::settings::{DataSettings, TrainSettings, TrainingSettings};

/// Tokens per sequence of the tiny runs.
pub const LENGTH: usize = 32;

/// A 2-layer (local, LSH with 2 rounds) causal model of width 16 with dropout, over
/// sequences of [`LENGTH`] tokens.
pub fn tiny_model(vocab_size: usize) -> ReformerConfig {
    ReformerConfig {
        vocab_size,
        hidden_size: 16,
        num_attention_heads: 2,
        attention_head_size: 8,
        feed_forward_size: 32,
        attn_layers: vec![AttentionKind::Local, AttentionKind::Lsh],
        num_hidden_layers: 2,
        num_hashes: 2,
        num_buckets: Some(NumBuckets::Single(4)),
        lsh_attn_chunk_length: 8,
        local_attn_chunk_length: 8,
        is_decoder: true,
        axial_pos_shape: vec![4, 8],
        axial_pos_embds_dim: vec![4, 12],
        max_position_embeddings: LENGTH,
        hidden_dropout_prob: 0.1,
        chunk_size_feed_forward: 8,
        ..ReformerConfig::default()
    }
}

/// A tiny run of the duplication task (4 symbols, strings of 15).
pub fn tiny_duplication() -> TrainSettings {
    TrainSettings {
        model: tiny_model(5),
        data: DataSettings::Duplication {
            symbols: 4,
            half_length: LENGTH / 2 - 1,
        },
        training: tiny_training(),
    }
}

/// A tiny byte-level run of the file or folder `path`.
pub fn tiny_bytes(path: &Path) -> TrainSettings {
    TrainSettings {
        model: tiny_model(256),
        data: DataSettings::Bytes {
            path: path.to_path_buf(),
            valid_fraction: 0.1,
        },
        training: tiny_training(),
    }
}

fn tiny_training() -> TrainingSettings {
    TrainingSettings {
        steps: 6,
        batch_size: 2,
        accumulation_steps: 2,
        learning_rate: 3e-3,
        warmup_steps: 2,
        eval_every: 0,
        eval_batches: 2,
        checkpoint_every: 3,
        keep_checkpoints: 2,
        ..TrainingSettings::default()
    }
}

/// A fresh, empty folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reformer-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// English-like text with structure a small model picks up within a few dozen steps.
pub fn write_text_corpus(path: &Path, bytes: usize) {
    let words = [
        "the ",
        "reformer ",
        "attends ",
        "to ",
        "hashed ",
        "buckets ",
        "of ",
        "keys. ",
    ];
    let mut text = String::new();
    for i in 0.. {
        if text.len() >= bytes {
            break;
        }
        text.push_str(words[(i * 7 + i / 3) % words.len()]);
    }
    text.truncate(bytes);
    std::fs::write(path, text).unwrap();
}
