//! The model's configuration, in HuggingFace's `config.json` field names.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ReformerError, Result};

/// Kind of self-attention used by one layer (`attn_layers` in HuggingFace's config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttentionKind {
    /// Shared-QK attention inside LSH buckets (the Reformer's attention).
    Lsh,
    /// Attention inside fixed-length chunks of the sequence, plus neighbouring chunks.
    Local,
    /// Shared-QK attention over the whole sequence: O(L²), the baseline LSH approximates.
    Full,
}

/// `num_buckets`: one count, a factorized list, or unset (`null`, chosen from the length).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NumBuckets {
    /// One rotation of `n/2` columns, `n` buckets.
    Single(usize),
    /// Several rotations; the bucket is `b1 + f1*b2 + f1*f2*b3 ...`.
    Factorized(Vec<usize>),
}

impl NumBuckets {
    /// The factors (one for [`NumBuckets::Single`]).
    pub fn factors(&self) -> &[usize] {
        match self {
            NumBuckets::Single(n) => std::slice::from_ref(n),
            NumBuckets::Factorized(f) => f,
        }
    }

    /// Total number of buckets: the product of the factors.
    pub fn total(&self) -> usize {
        self.factors().iter().product()
    }

    /// Columns of the random rotation: half the sum of the factors.
    pub fn rotation_size(&self) -> usize {
        self.factors().iter().sum::<usize>() / 2
    }

    /// HuggingFace's rule for an unset `num_buckets`: about two buckets per chunk, as a power
    /// of two, factorized in two when that count is large.
    pub fn for_length(length: usize, chunk_length: usize, max_position_embeddings: usize) -> Self {
        let target = 2 * (length / chunk_length).max(1);
        let p = usize::BITS - 1 - target.leading_zeros();
        let n = 1usize << p;
        let root = ((max_position_embeddings / chunk_length) as f64).sqrt() as usize;
        if n > 2 * root.max(chunk_length) {
            NumBuckets::Factorized(vec![1 << (p / 2), 1 << (p - p / 2)])
        } else {
            NumBuckets::Single(n.max(2))
        }
    }
}

/// Activation of the feed-forward block (`hidden_act`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(0, x)
    Relu,
    /// x·Φ(x), exact (erf).
    Gelu,
    /// The tanh approximation of GELU.
    #[serde(rename = "gelu_new")]
    GeluNew,
    /// x·sigmoid(x).
    #[serde(alias = "swish")]
    Silu,
}

/// The Reformer's hyper-parameters.
///
/// Field names and defaults are HuggingFace's (`configuration_reformer.py`), so a published
/// `config.json` deserializes as is; fields we do not use are ignored. `full` is our addition
/// to the `attn_layers` vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReformerConfig {
    /// Number of tokens.
    pub vocab_size: usize,
    /// Width D of each of the two residual streams.
    pub hidden_size: usize,
    /// Number of attention heads H.
    pub num_attention_heads: usize,
    /// Width of one head dh (need not be D/H).
    pub attention_head_size: usize,
    /// Width of the feed-forward block's inner layer.
    pub feed_forward_size: usize,
    /// Activation of the feed-forward block.
    pub hidden_act: Activation,
    /// One attention kind per layer; its length is the depth.
    pub attn_layers: Vec<AttentionKind>,
    /// Hash rounds of LSH attention.
    pub num_hashes: usize,
    /// Buckets per round; `None` chooses them from the training length as HuggingFace does.
    pub num_buckets: Option<NumBuckets>,
    /// If set, every LSH layer uses rotations drawn from this seed (HuggingFace semantics).
    pub hash_seed: Option<u64>,
    /// Chunk length of LSH attention.
    pub lsh_attn_chunk_length: usize,
    /// Chunks before the current one that LSH queries attend to.
    pub lsh_num_chunks_before: usize,
    /// Chunks after the current one that LSH queries attend to.
    pub lsh_num_chunks_after: usize,
    /// Chunk length of local attention.
    pub local_attn_chunk_length: usize,
    /// Chunks before the current one that local queries attend to.
    pub local_num_chunks_before: usize,
    /// Chunks after the current one that local queries attend to.
    pub local_num_chunks_after: usize,
    /// Causal masking (a language model).
    pub is_decoder: bool,
    /// Axial (factorized) position embeddings instead of a learned table.
    pub axial_pos_embds: bool,
    /// Shape whose product is the number of axial positions.
    pub axial_pos_shape: Vec<usize>,
    /// Width of each axis's embedding; they sum to `hidden_size`.
    pub axial_pos_embds_dim: Vec<usize>,
    /// Standard deviation of the axial embeddings' initialisation.
    pub axial_norm_std: f64,
    /// Positions of the learned table (when `axial_pos_embds` is false).
    pub max_position_embeddings: usize,
    /// Dropout on embeddings, attention output, feed-forward and final norm.
    pub hidden_dropout_prob: f64,
    /// Dropout on LSH attention probabilities.
    pub lsh_attention_probs_dropout_prob: f64,
    /// Dropout on local (and full) attention probabilities.
    pub local_attention_probs_dropout_prob: f64,
    /// Epsilon of every layer norm.
    pub layer_norm_eps: f64,
    /// Sequence chunk of the feed-forward block; 0 processes the sequence at once.
    pub chunk_size_feed_forward: usize,
    /// Sequence chunk of the LM head and its loss; 0 processes the sequence at once.
    pub chunk_size_lm_head: usize,
    /// Standard deviation of the weights' initialisation.
    pub initializer_range: f64,
    /// Padding token id.
    pub pad_token_id: Option<usize>,
    /// End-of-sequence token id.
    pub eos_token_id: Option<usize>,
    /// Tie word embeddings to the LM head; unsupported (the head reads 2·D features).
    pub tie_word_embeddings: bool,
    /// Written for HuggingFace; always `attn_layers.len()`.
    pub num_hidden_layers: usize,
}

impl Default for ReformerConfig {
    fn default() -> Self {
        let attn_layers = [AttentionKind::Local, AttentionKind::Lsh].repeat(3);
        Self {
            vocab_size: 320,
            hidden_size: 256,
            num_attention_heads: 12,
            attention_head_size: 64,
            feed_forward_size: 512,
            hidden_act: Activation::Relu,
            num_hidden_layers: attn_layers.len(),
            attn_layers,
            num_hashes: 1,
            num_buckets: None,
            hash_seed: None,
            lsh_attn_chunk_length: 64,
            lsh_num_chunks_before: 1,
            lsh_num_chunks_after: 0,
            local_attn_chunk_length: 64,
            local_num_chunks_before: 1,
            local_num_chunks_after: 0,
            is_decoder: false,
            axial_pos_embds: true,
            axial_pos_shape: vec![64, 64],
            axial_pos_embds_dim: vec![64, 192],
            axial_norm_std: 1.0,
            max_position_embeddings: 4096,
            hidden_dropout_prob: 0.05,
            lsh_attention_probs_dropout_prob: 0.0,
            local_attention_probs_dropout_prob: 0.05,
            layer_norm_eps: 1e-12,
            chunk_size_feed_forward: 0,
            chunk_size_lm_head: 0,
            initializer_range: 0.02,
            pad_token_id: Some(0),
            eos_token_id: Some(2),
            tie_word_embeddings: false,
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ReformerError {
    ReformerError::InvalidConfig {
        field,
        reason: reason.into(),
    }
}

impl ReformerConfig {
    /// Reads a HuggingFace `config.json` (unknown fields are ignored) and validates it.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ReformerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config: Self = serde_json::from_str(&text).map_err(|source| ReformerError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Writes the configuration as a HuggingFace-compatible `config.json`.
    pub fn to_json(&self) -> String {
        let mut config = self.clone();
        config.num_hidden_layers = config.attn_layers.len();
        let mut value = serde_json::to_value(&config).expect("config serializes");
        value["model_type"] = "reformer".into();
        serde_json::to_string_pretty(&value).expect("config serializes")
    }

    /// Number of layers.
    pub fn num_layers(&self) -> usize {
        self.attn_layers.len()
    }

    /// Width of all heads together, H·dh.
    pub fn all_head_size(&self) -> usize {
        self.num_attention_heads * self.attention_head_size
    }

    /// Longest sequence the position embeddings cover.
    pub fn max_length(&self) -> usize {
        if self.axial_pos_embds {
            self.axial_pos_shape.iter().product()
        } else {
            self.max_position_embeddings
        }
    }

    /// The bucket layout LSH layers use: `num_buckets`, or HuggingFace's choice for the
    /// longest sequence the model takes ([`ReformerConfig::max_length`]) when it is unset.
    pub fn resolved_num_buckets(&self) -> NumBuckets {
        self.num_buckets.clone().unwrap_or_else(|| {
            NumBuckets::for_length(
                self.max_length(),
                self.lsh_attn_chunk_length,
                self.max_position_embeddings,
            )
        })
    }

    /// Checks that the configuration can build a working model.
    ///
    /// Returns [`ReformerError::InvalidConfig`] naming the first offending field.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_attention_heads", self.num_attention_heads),
            ("attention_head_size", self.attention_head_size),
            ("feed_forward_size", self.feed_forward_size),
            ("num_hashes", self.num_hashes),
            ("lsh_attn_chunk_length", self.lsh_attn_chunk_length),
            ("local_attn_chunk_length", self.local_attn_chunk_length),
            ("max_position_embeddings", self.max_position_embeddings),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(invalid(field, "must be at least 1"));
            }
        }
        if self.attn_layers.is_empty() {
            return Err(invalid(
                "attn_layers",
                "is empty: list one of \"lsh\", \"local\" or \"full\" per layer",
            ));
        }
        if let Some(buckets) = &self.num_buckets {
            let factors = buckets.factors();
            if factors.is_empty() {
                return Err(invalid("num_buckets", "is an empty list"));
            }
            if let Some(f) = factors.iter().find(|&&f| f < 2 || f % 2 != 0) {
                return Err(invalid(
                    "num_buckets",
                    format!("has {f} buckets: each count must be even and at least 2"),
                ));
            }
        }
        let dropouts = [
            ("hidden_dropout_prob", self.hidden_dropout_prob),
            (
                "lsh_attention_probs_dropout_prob",
                self.lsh_attention_probs_dropout_prob,
            ),
            (
                "local_attention_probs_dropout_prob",
                self.local_attention_probs_dropout_prob,
            ),
        ];
        for (field, p) in dropouts {
            if !(0.0..1.0).contains(&p) {
                return Err(invalid(
                    field,
                    format!("is {p}: a dropout must lie in [0, 1)"),
                ));
            }
        }
        if self.layer_norm_eps.is_nan() || self.layer_norm_eps <= 0.0 {
            return Err(invalid("layer_norm_eps", "must be positive"));
        }
        if self.axial_pos_embds {
            if self.axial_pos_shape.is_empty() || self.axial_pos_shape.contains(&0) {
                return Err(invalid(
                    "axial_pos_shape",
                    format!(
                        "is {:?}: give one or more positive axis lengths",
                        self.axial_pos_shape
                    ),
                ));
            }
            if self.axial_pos_shape.len() != 2 {
                return Err(invalid(
                    "axial_pos_shape",
                    format!(
                        "has {} axes; axial position embeddings take exactly 2",
                        self.axial_pos_shape.len()
                    ),
                ));
            }
            if self.axial_pos_shape.len() != self.axial_pos_embds_dim.len() {
                return Err(invalid(
                    "axial_pos_embds_dim",
                    format!(
                        "has {} entries but axial_pos_shape has {}: give one width per axis",
                        self.axial_pos_embds_dim.len(),
                        self.axial_pos_shape.len()
                    ),
                ));
            }
            let sum: usize = self.axial_pos_embds_dim.iter().sum();
            if sum != self.hidden_size {
                return Err(invalid(
                    "axial_pos_embds_dim",
                    format!(
                        "{:?} sums to {sum}, but must sum to hidden_size = {}",
                        self.axial_pos_embds_dim, self.hidden_size
                    ),
                ));
            }
        }
        if self.tie_word_embeddings {
            return Err(invalid(
                "tie_word_embeddings",
                "must be false: the LM head reads 2·hidden_size features, the embedding has hidden_size",
            ));
        }
        Ok(())
    }

    /// Checks that a sequence of `length` tokens can pass through the model.
    ///
    /// A chunked layer needs the length to be a multiple of its chunk length (unless the
    /// sequence fits in one chunk), and the position embeddings must cover it.
    pub fn validate_length(&self, length: usize) -> Result<()> {
        if length == 0 {
            return Err(ReformerError::InvalidLength {
                length,
                reason: "the sequence is empty".into(),
            });
        }
        if length > self.max_length() {
            return Err(ReformerError::InvalidLength {
                length,
                reason: format!(
                    "the position embeddings cover at most {} positions; shorten the input or \
                     enlarge {}",
                    self.max_length(),
                    if self.axial_pos_embds {
                        "axial_pos_shape"
                    } else {
                        "max_position_embeddings"
                    }
                ),
            });
        }
        let chunked = self.attn_layers.iter().filter_map(|kind| match kind {
            AttentionKind::Lsh => Some(("lsh_attn_chunk_length", self.lsh_attn_chunk_length)),
            AttentionKind::Local => Some(("local_attn_chunk_length", self.local_attn_chunk_length)),
            AttentionKind::Full => None,
        });
        for (field, chunk) in chunked {
            if length > chunk && !length.is_multiple_of(chunk) {
                let multiple = length.div_ceil(chunk) * chunk;
                return Err(ReformerError::InvalidLength {
                    length,
                    reason: format!(
                        "it must be a multiple of {field} = {chunk} (or at most {chunk}); \
                         pad the input to {multiple} tokens"
                    ),
                });
            }
        }
        Ok(())
    }
}
