//! The Reformer language model: embeddings, reversible layers, final norm, LM head.

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::tensor::{Bool, Device, Int, Tensor};

use crate::attention::{Hashing, draw_rotations};
use crate::config::{AttentionKind, ReformerConfig};
use crate::dropout::seeded_dropout;
use crate::embeddings::Embeddings;
use crate::error::{ReformerError, Result};
use crate::init::normal_linear;
use crate::input::validate_inputs;
use crate::layer::ReformerLayer;
use crate::lm_head::{LmScores, causal_lm_loss, causal_lm_scores, chunked_logits};
use crate::random::{Site, derive_seed, site_seed};
use crate::randomness::Randomness;

/// The Reformer with a language-modelling head (HuggingFace's `ReformerModelWithLMHead`).
#[derive(Module, Debug)]
pub struct ReformerLm {
    /// Word and position embeddings.
    pub embeddings: Embeddings,
    /// The reversible layers.
    pub layers: Vec<ReformerLayer>,
    /// Layer norm over the concatenated streams, width `2·hidden`.
    pub layer_norm: LayerNorm,
    /// `2·hidden -> vocab`, with bias.
    pub lm_head: Linear,
    /// The configuration the model was built from.
    #[module(skip)]
    pub config: ReformerConfig,
}

/// The result of running the layers.
#[derive(Debug, Clone)]
pub struct ReformerOutput {
    /// Normalised features `LayerNorm(concat(y1, y2))`, `[batch, length, 2·hidden]`.
    pub hidden: Tensor<3>,
    /// Per layer, the LSH buckets it used, `[batch, heads, num_hashes, length]`.
    pub buckets: Vec<Option<Tensor<4, Int>>>,
}

/// The two streams after the last layer, and every layer's LSH buckets.
#[derive(Debug, Clone)]
pub struct LayerStack {
    /// `[batch, length, hidden]`
    pub y1: Tensor<3>,
    /// `[batch, length, hidden]`
    pub y2: Tensor<3>,
    /// Per layer, `[batch, heads, num_hashes, length]` where the layer hashed.
    pub buckets: Vec<Option<Tensor<4, Int>>>,
}

/// Validated inputs, ready for the layers.
#[derive(Debug, Clone)]
pub struct PreparedInput {
    /// `[batch, length]`
    pub input_ids: Tensor<2, Int>,
    /// `[batch, length]`, false at padding; `None` without padding.
    pub keep: Option<Tensor<2, Bool>>,
}

impl ReformerLm {
    /// Builds a model whose initial weights are a function of `seed` alone (drawn on the
    /// host, so the same on every backend and unaffected by other threads); see
    /// [`ReformerLm::new`] for the distribution.
    pub fn seeded(config: &ReformerConfig, seed: u64, device: &Device) -> Result<Self> {
        Ok(Self::new(config, device)?.map(&mut crate::init::SeededInit::new(seed, config)))
    }

    /// Builds a freshly initialised model after validating `config`.
    pub fn new(config: &ReformerConfig, device: &Device) -> Result<Self> {
        config.validate()?;
        let width = 2 * config.hidden_size;
        Ok(Self {
            embeddings: Embeddings::new(config, device),
            layers: config
                .attn_layers
                .iter()
                .map(|&kind| ReformerLayer::new(config, kind, device))
                .collect(),
            layer_norm: LayerNormConfig::new(width)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            lm_head: normal_linear(
                width,
                config.vocab_size,
                true,
                config.initializer_range,
                device,
            ),
            config: config.clone(),
        })
    }

    /// Checks token ids, mask and length (see [`validate_inputs`]).
    pub fn prepare(
        &self,
        input_ids: Tensor<2, Int>,
        attention_mask: Option<&Tensor<2, Int>>,
    ) -> Result<PreparedInput> {
        let keep = validate_inputs(&self.config, &input_ids, attention_mask)?;
        Ok(PreparedInput { input_ids, keep })
    }

    /// The embeddings both streams start from.
    ///
    /// # Shapes
    /// - output: `[batch, length, hidden]`
    pub fn embed(&self, input: &PreparedInput, randomness: &Randomness) -> Tensor<3> {
        let seed = randomness
            .dropout
            .then(|| derive_seed(randomness.seed, &[u64::MAX]));
        self.embeddings.forward(input.input_ids.clone(), seed)
    }

    /// How LSH layer `layer` gets its buckets in a pass with `randomness`: the supplied
    /// rotations, or rotations drawn from the pass's seed (from `hash_seed`, the same for every
    /// layer and pass, when the configuration sets it). `None` for other kinds.
    pub fn hashing(
        &self,
        layer: usize,
        randomness: &Randomness,
        device: &Device,
    ) -> Option<Hashing> {
        if self.config.attn_layers[layer] != AttentionKind::Lsh {
            return None;
        }
        let rotations = randomness
            .rotations
            .get(&layer)
            .cloned()
            .unwrap_or_else(|| {
                let seed = match self.config.hash_seed {
                    Some(hash_seed) => derive_seed(hash_seed, &[Site::Rotations as u64]),
                    None => site_seed(randomness.layer_seed(layer), Site::Rotations, 0),
                };
                draw_rotations(
                    seed,
                    self.config.num_attention_heads,
                    self.config.attention_head_size,
                    self.config.num_hashes,
                    &self.config.resolved_num_buckets(),
                    device,
                )
            });
        Some(Hashing::Rotations(rotations))
    }

    /// How layer `layer` hashes when it is recomputed: with the `buckets` its forward pass
    /// used, or (for a layer that did not hash) as in the forward pass.
    pub fn replay_hashing(
        &self,
        layer: usize,
        buckets: Option<Tensor<4, Int>>,
        randomness: &Randomness,
        device: &Device,
    ) -> Option<Hashing> {
        match buckets {
            Some(buckets) => Some(Hashing::Buckets(buckets)),
            None => self.hashing(layer, randomness, device),
        }
    }

    /// `dropout(LayerNorm(concat(y1, y2)))`.
    ///
    /// # Shapes
    /// - y1, y2: `[batch, length, hidden]`
    /// - output: `[batch, length, 2·hidden]`
    pub fn finish(&self, y1: Tensor<3>, y2: Tensor<3>, randomness: &Randomness) -> Tensor<3> {
        let seed = randomness
            .dropout
            .then(|| derive_seed(randomness.seed, &[u64::MAX, Site::FinalNorm as u64]));
        let normed = self.layer_norm.forward(Tensor::cat(vec![y1, y2], 2));
        seeded_dropout(normed, self.config.hidden_dropout_prob, seed)
    }

    /// Runs embeddings, layers and the final norm.
    ///
    /// # Shapes
    /// - input_ids: `[batch, length]`, ids below `vocab_size`
    /// - attention_mask: `[batch, length]`, 1 for tokens, 0 for padding
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        attention_mask: Option<&Tensor<2, Int>>,
        randomness: &Randomness,
    ) -> Result<ReformerOutput> {
        let input = self.prepare(input_ids, attention_mask)?;
        let layers = self.run_layers(&input, randomness);
        Ok(ReformerOutput {
            hidden: self.finish(layers.y1, layers.y2, randomness),
            buckets: layers.buckets,
        })
    }

    /// Runs embeddings and layers, returning the last two streams and every layer's buckets.
    pub fn run_layers(&self, input: &PreparedInput, randomness: &Randomness) -> LayerStack {
        let device = input.input_ids.device();
        let embedded = self.embed(input, randomness);
        let (mut y1, mut y2) = (embedded.clone(), embedded);
        let mut buckets = Vec::with_capacity(self.layers.len());
        for (index, layer) in self.layers.iter().enumerate() {
            let out = layer.forward(
                y1,
                y2,
                input.keep.clone(),
                self.hashing(index, randomness, &device),
                randomness.dropout_seed(index),
            );
            (y1, y2) = (out.y1, out.y2);
            buckets.push(out.buckets);
        }
        LayerStack { y1, y2, buckets }
    }

    /// Logits of every position, `chunk_size_lm_head` positions at a time.
    ///
    /// # Shapes
    /// - hidden: `[batch, length, 2·hidden]`
    /// - output: `[batch, length, vocab]`
    pub fn logits(&self, hidden: Tensor<3>) -> Tensor<3> {
        chunked_logits(&self.lm_head, hidden, self.config.chunk_size_lm_head)
    }

    /// Causal-LM loss of `labels` (position t predicts `labels[t+1]`, -100 ignored), without
    /// materialising more than `chunk_size_lm_head` positions of logits.
    ///
    /// # Shapes
    /// - hidden: `[batch, length, 2·hidden]`
    /// - labels: `[batch, length]`
    /// - output: `[1]`
    pub fn loss(&self, hidden: Tensor<3>, labels: Tensor<2, Int>) -> Result<Tensor<1>> {
        check_labels(&hidden, &labels)?;
        Ok(causal_lm_loss(
            &self.lm_head,
            hidden,
            labels,
            self.config.chunk_size_lm_head,
        ))
    }

    /// Summed NLL, argmax hits and scored positions of `labels`, over the positions
    /// [`loss`](Self::loss) averages over, for evaluation across batches.
    ///
    /// # Shapes
    /// - hidden: `[batch, length, 2·hidden]`
    /// - labels: `[batch, length]`
    pub fn scores(&self, hidden: Tensor<3>, labels: Tensor<2, Int>) -> Result<LmScores> {
        check_labels(&hidden, &labels)?;
        Ok(causal_lm_scores(
            &self.lm_head,
            hidden,
            labels,
            self.config.chunk_size_lm_head,
        ))
    }
}

/// Labels must match the hidden states' batch and length, and a causal LM needs 2 tokens.
fn check_labels(hidden: &Tensor<3>, labels: &Tensor<2, Int>) -> Result<()> {
    let [batch, length, _] = hidden.dims();
    if labels.dims() != [batch, length] {
        return Err(ReformerError::InputShape {
            name: "labels",
            expected: vec![batch, length],
            got: labels.dims().to_vec(),
        });
    }
    if length < 2 {
        return Err(ReformerError::InvalidLength {
            length,
            reason: "a causal-LM loss needs at least 2 tokens".into(),
        });
    }
    Ok(())
}
