//! What a training run is: the model (HuggingFace's configuration fields), the data and the
//! optimisation settings, read from one JSON file and/or flags, and stored in every
//! checkpoint so that a run can be resumed or evaluated from it alone.

use std::path::{Path, PathBuf};

use reformer_core::{AttentionKind, NumBuckets, ReformerConfig};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::schedule::Schedule;

/// Where the training examples come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum DataSettings {
    /// The paper's duplication task, `0 w 0 w` with `w` of `half_length` symbols out of
    /// `symbols`; scored by accuracy on the second `w`.
    Duplication {
        /// Distinct symbols (token ids `1..=symbols`; the vocabulary is `symbols + 1`).
        symbols: usize,
        /// Length of `w`; sequences have `2 · (half_length + 1)` tokens.
        half_length: usize,
    },
    /// enwik8 (zip or raw), split 90/5/5; scored in bits per character.
    Enwik8 {
        /// `enwik8.zip` or `enwik8`.
        path: PathBuf,
    },
    /// Any file or folder of files as bytes, with the last `valid_fraction` held out.
    Bytes {
        /// The file or folder.
        path: PathBuf,
        /// Share of the corpus held out for validation.
        valid_fraction: f64,
    },
}

/// The optimisation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingSettings {
    /// Optimizer steps in the run.
    pub steps: u64,
    /// Sequences per micro-batch.
    pub batch_size: usize,
    /// Micro-batches whose gradients are averaged into one optimizer step.
    pub accumulation_steps: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Steps of linear warm-up to the peak.
    pub warmup_steps: u64,
    /// Decay after the warm-up.
    pub schedule: Schedule,
    /// Largest global gradient norm; larger gradients are scaled down. `None`: no clipping.
    pub clip_norm: Option<f32>,
    /// Adam's β₁.
    pub adam_beta1: f32,
    /// Adam's β₂.
    pub adam_beta2: f32,
    /// Adam's ε.
    pub adam_epsilon: f32,
    /// Recompute layer activations in the backward pass instead of storing them.
    pub reversible: bool,
    /// Seed of the initial weights, the data order, the hashing and the dropout masks.
    pub seed: u64,
    /// Evaluate on the held-out split every this many steps (0: only at the end).
    pub eval_every: u64,
    /// Batches per evaluation.
    pub eval_batches: usize,
    /// Write a checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
    /// Checkpoints kept; older ones are deleted once a newer one is complete.
    pub keep_checkpoints: usize,
}

impl Default for TrainingSettings {
    fn default() -> Self {
        Self {
            steps: 1000,
            batch_size: 8,
            accumulation_steps: 1,
            learning_rate: 1e-3,
            warmup_steps: 100,
            schedule: Schedule::RsqrtDecay,
            clip_norm: Some(1.0),
            adam_beta1: 0.9,
            adam_beta2: 0.98,
            adam_epsilon: 1e-9,
            reversible: true,
            seed: 0,
            eval_every: 100,
            eval_batches: 4,
            checkpoint_every: 100,
            keep_checkpoints: 3,
        }
    }
}

/// A whole training run's settings, as stored in its checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    /// The model, in HuggingFace's configuration fields.
    pub model: ReformerConfig,
    /// The data.
    pub data: DataSettings,
    /// The optimisation.
    #[serde(default)]
    pub training: TrainingSettings,
}

/// Tokens per sequence of the duplication default: `0 w 0 w` with `w` of 63 symbols.
const DUPLICATION_HALF_LENGTH: usize = 63;
/// Symbols of the duplication default; chance accuracy is 1/16.
const DUPLICATION_SYMBOLS: usize = 16;

/// A small causal Reformer for sequences of `length` tokens over `vocab_size` ids: hidden
/// `hidden`, two heads, LSH layers (2 rounds) after a local one, chunks of `chunk` tokens.
fn small_causal_model(
    vocab_size: usize,
    length: usize,
    hidden: usize,
    chunk: usize,
) -> ReformerConfig {
    let attn_layers = vec![AttentionKind::Local, AttentionKind::Lsh, AttentionKind::Lsh];
    ReformerConfig {
        vocab_size,
        hidden_size: hidden,
        num_attention_heads: 2,
        attention_head_size: hidden / 2,
        feed_forward_size: 4 * hidden,
        hidden_act: reformer_core::Activation::Gelu,
        num_hidden_layers: attn_layers.len(),
        attn_layers,
        num_hashes: 2,
        num_buckets: Some(NumBuckets::Single((2 * length / chunk).max(2))),
        lsh_attn_chunk_length: chunk,
        local_attn_chunk_length: chunk,
        is_decoder: true,
        axial_pos_shape: vec![length / chunk, chunk],
        axial_pos_embds_dim: vec![hidden / 4, hidden - hidden / 4],
        // HuggingFace's default of 1.0 lets position noise swamp the 0.02-scale word
        // embeddings for the first few hundred steps; at the same scale tokens are seen at once.
        axial_norm_std: 0.02,
        max_position_embeddings: length,
        hidden_dropout_prob: 0.0,
        local_attention_probs_dropout_prob: 0.0,
        lsh_attention_probs_dropout_prob: 0.0,
        pad_token_id: None,
        eos_token_id: None,
        ..ReformerConfig::default()
    }
}

impl TrainSettings {
    /// The embedded default: the duplication task, sized to learn within minutes on 2 CPU
    /// cores. Two LSH layers with learned (not axial) positions: the copy is found by
    /// matching positions half a sequence apart, which learned positions can express; on 2
    /// cores it jumps from chance to near 100% accuracy after about 150 steps.
    pub fn duplication_default() -> Self {
        let length = 2 * (DUPLICATION_HALF_LENGTH + 1);
        let model = small_causal_model(DUPLICATION_SYMBOLS + 1, length, 64, 32);
        Self {
            model: ReformerConfig {
                attn_layers: vec![AttentionKind::Lsh; 2],
                num_hidden_layers: 2,
                axial_pos_embds: false,
                ..model
            },
            data: DataSettings::Duplication {
                symbols: DUPLICATION_SYMBOLS,
                half_length: DUPLICATION_HALF_LENGTH,
            },
            training: TrainingSettings {
                steps: 400,
                batch_size: 16,
                learning_rate: 3e-3,
                warmup_steps: 50,
                eval_every: 50,
                eval_batches: 4,
                checkpoint_every: 100,
                ..TrainingSettings::default()
            },
        }
    }

    /// A byte-level language model of a file or folder (enwik8 when it is named so), with
    /// windows of 512 bytes.
    pub fn bytes_default(path: &Path) -> Self {
        let data = if reformer_datasets::enwik8::is_enwik8(path) {
            DataSettings::Enwik8 {
                path: path.to_path_buf(),
            }
        } else {
            DataSettings::Bytes {
                path: path.to_path_buf(),
                valid_fraction: 0.05,
            }
        };
        Self {
            model: small_causal_model(256, 512, 128, 64),
            data,
            training: TrainingSettings::default(),
        }
    }

    /// Reads settings from a JSON file.
    pub fn from_json_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(TrainError::io("cannot read", path))?;
        serde_json::from_str(&text)
            .map_err(|e| TrainError::Settings(format!("{}: {e}", path.display())))
    }

    /// Tokens per training sequence.
    pub fn sequence_length(&self) -> usize {
        match self.data {
            DataSettings::Duplication { half_length, .. } => 2 * (half_length + 1),
            _ => self.model.max_length(),
        }
    }

    /// Checks that the model, the data and the optimisation fit together.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.model.validate_length(self.sequence_length())?;
        if !self.model.is_decoder {
            return Err(TrainError::Settings(
                "training is causal language modelling: set the model's `is_decoder` to true"
                    .into(),
            ));
        }
        let vocab_needed = match self.data {
            DataSettings::Duplication { symbols, .. } => symbols + 1,
            _ => 256,
        };
        if self.model.vocab_size < vocab_needed {
            return Err(TrainError::Settings(format!(
                "the data uses token ids up to {} but the model's vocab_size is {}; set \
                 vocab_size to at least {vocab_needed}",
                vocab_needed - 1,
                self.model.vocab_size
            )));
        }
        let t = &self.training;
        let checks = [
            (t.steps == 0, "steps must be at least 1"),
            (t.batch_size == 0, "batch_size must be at least 1"),
            (
                t.accumulation_steps == 0,
                "accumulation_steps must be at least 1",
            ),
            (t.eval_batches == 0, "eval_batches must be at least 1"),
            (
                t.keep_checkpoints == 0,
                "keep_checkpoints must be at least 1",
            ),
            (
                !(t.learning_rate.is_finite() && t.learning_rate > 0.0),
                "learning_rate must be a positive number",
            ),
            (
                t.clip_norm.is_some_and(|c| !(c.is_finite() && c > 0.0)),
                "clip_norm must be positive (or null for no clipping)",
            ),
            (
                !((0.0..1.0).contains(&t.adam_beta1) && (0.0..1.0).contains(&t.adam_beta2)),
                "adam_beta1 and adam_beta2 must lie in [0, 1)",
            ),
        ];
        match checks.into_iter().find(|(bad, _)| *bad) {
            Some((_, reason)) => Err(TrainError::Settings(reason.into())),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_round_trip_through_json() {
        for settings in [
            TrainSettings::duplication_default(),
            TrainSettings::bytes_default(Path::new("corpus.txt")),
            TrainSettings::bytes_default(Path::new("data/enwik8.zip")),
        ] {
            settings.validate().unwrap();
            let json = serde_json::to_string(&settings).unwrap();
            assert_eq!(
                serde_json::from_str::<TrainSettings>(&json).unwrap(),
                settings
            );
        }
    }

    #[test]
    fn settings_that_cannot_work_are_named() {
        let mut settings = TrainSettings::duplication_default();
        settings.model.vocab_size = 5;
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("vocab_size to at least 17"), "{error}");

        let mut settings = TrainSettings::duplication_default();
        settings.training.batch_size = 0;
        assert!(
            settings
                .validate()
                .unwrap_err()
                .to_string()
                .contains("batch_size")
        );

        let mut settings = TrainSettings::duplication_default();
        settings.model.is_decoder = false;
        assert!(
            settings
                .validate()
                .unwrap_err()
                .to_string()
                .contains("is_decoder")
        );

        let unknown = r#"{"model": {}, "data": {"kind": "bytes", "path": "x", "valid_fraction": 0.1},
                          "training": {"stepz": 3}}"#;
        let error = serde_json::from_str::<TrainSettings>(unknown)
            .unwrap_err()
            .to_string();
        assert!(error.contains("stepz"), "{error}");
    }
}
