//! Token embeddings plus position embeddings (axial or learned).

use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Initializer};
use burn::tensor::{Device, Int, Tensor};

use crate::config::ReformerConfig;
use crate::dropout::seeded_dropout;
use crate::random::{Site, keep_mask, site_seed};

/// Axial position embeddings: position `p` of an `[a0, a1]` grid is
/// `concat(w0[p / a1], w1[p % a1])`, so `a0 + a1` vectors cover `a0·a1` positions.
#[derive(Module, Debug)]
pub struct AxialPositionEmbeddings {
    /// `[a0, 1, d0]` and `[1, a1, d1]`, HuggingFace's layout.
    pub weights: Vec<Param<Tensor<3>>>,
    /// Dropout of whole axis-1 rows per batch element (HuggingFace's `dropout2d`).
    pub dropout: f64,
}

impl AxialPositionEmbeddings {
    /// # Shapes
    /// - output: `[batch, length, d0 + d1]`
    pub fn forward(&self, batch: usize, length: usize, seed: Option<u64>) -> Tensor<3> {
        let w0 = self.weights[0].val();
        let w1 = self.weights[1].val();
        let [a0, _, d0] = w0.dims();
        let [_, a1, d1] = w1.dims();
        let grid = Tensor::cat(vec![w0.expand([a0, a1, d0]), w1.expand([a0, a1, d1])], 2)
            .unsqueeze_dim::<4>(0);
        let grid = match seed {
            Some(seed) if self.dropout > 0.0 => {
                let device = grid.device();
                let keep = keep_mask(seed, self.dropout, [batch, 1, a1, 1], &device);
                let grid = grid.expand([batch, a0, a1, d0 + d1]);
                grid.mask_fill(keep.bool_not().expand([batch, a0, a1, d0 + d1]), 0.0)
                    * (1.0 / (1.0 - self.dropout))
            }
            _ => grid.expand([batch, a0, a1, d0 + d1]),
        };
        grid.reshape([batch, a0 * a1, d0 + d1])
            .slice_dim(1, 0..length)
    }
}

/// A learned table of `max_position_embeddings` vectors.
#[derive(Module, Debug)]
pub struct LearnedPositionEmbeddings {
    /// `[max_position_embeddings, hidden]`
    pub embedding: Embedding,
    /// Dropout on the looked-up vectors.
    pub dropout: f64,
}

/// Either kind of position embedding.
#[derive(Module, Debug)]
pub enum PositionEmbeddings {
    /// Factorized over a 2-D grid.
    Axial(AxialPositionEmbeddings),
    /// One vector per position.
    Learned(LearnedPositionEmbeddings),
}

/// `dropout(WordEmbedding(ids)) + PositionEmbedding(positions)`.
#[derive(Module, Debug)]
pub struct Embeddings {
    /// `[vocab_size, hidden]`
    pub word_embeddings: Embedding,
    /// Position term.
    pub position_embeddings: PositionEmbeddings,
    /// Dropout on the word embeddings.
    pub dropout: f64,
}

impl Embeddings {
    /// Creates the embeddings as `config` describes them.
    pub fn new(config: &ReformerConfig, device: &Device) -> Self {
        let normal = |std| Initializer::Normal { mean: 0.0, std };
        let std = config.initializer_range;
        let position_embeddings = if config.axial_pos_embds {
            let (shape, dims) = (&config.axial_pos_shape, &config.axial_pos_embds_dim);
            let init = normal(config.axial_norm_std);
            PositionEmbeddings::Axial(AxialPositionEmbeddings {
                weights: vec![
                    init.init([shape[0], 1, dims[0]], device),
                    init.init([1, shape[1], dims[1]], device),
                ],
                dropout: config.hidden_dropout_prob,
            })
        } else {
            PositionEmbeddings::Learned(LearnedPositionEmbeddings {
                embedding: EmbeddingConfig::new(config.max_position_embeddings, config.hidden_size)
                    .with_initializer(normal(std))
                    .init(device),
                dropout: config.hidden_dropout_prob,
            })
        };
        Self {
            word_embeddings: EmbeddingConfig::new(config.vocab_size, config.hidden_size)
                .with_initializer(normal(std))
                .init(device),
            position_embeddings,
            dropout: config.hidden_dropout_prob,
        }
    }

    /// # Shapes
    /// - input_ids: `[batch, length]`, validated ids
    /// - output: `[batch, length, hidden]`
    pub fn forward(&self, input_ids: Tensor<2, Int>, seed: Option<u64>) -> Tensor<3> {
        let [batch, length] = input_ids.dims();
        let device = input_ids.device();
        let site = |site| seed.map(|seed| site_seed(seed, site, 0));
        let words = seeded_dropout(
            self.word_embeddings.forward(input_ids),
            self.dropout,
            site(Site::Embeddings),
        );
        let positions = match &self.position_embeddings {
            PositionEmbeddings::Axial(axial) => {
                axial.forward(batch, length, site(Site::PositionEmbeddings))
            }
            PositionEmbeddings::Learned(learned) => {
                let ids = Tensor::<1, Int>::arange(0..length as i64, &device)
                    .reshape([1, length])
                    .expand([batch, length]);
                seeded_dropout(
                    learned.embedding.forward(ids),
                    learned.dropout,
                    site(Site::PositionEmbeddings),
                )
            }
        };
        words + positions
    }
}
