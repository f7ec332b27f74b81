//! The Reformer (Kitaev, Kaiser & Levskaya, ICLR 2020) on Burn.
//!
//! - [`attention`]: LSH attention (shared QK, angular hashing, several rounds, chunked
//!   attention over sorted buckets), local attention and full attention.
//! - [`layer::ReformerLayer`]: the reversible layer `y1 = x1 + Attn(x2)`, `y2 = x2 + FF(y1)`.
//! - [`feed_forward::ChunkedFeedForward`] and [`lm_head`]: chunked along the sequence.
//! - [`host`]: on the CPU backends, LSH and local attention and the feed-forward as kernels
//!   over host memory, with their backward passes derived by hand for the reversible step.
//! - [`model::ReformerLm`]: the language model, HuggingFace-compatible in configuration
//!   ([`config::ReformerConfig`]) and parameters ([`hf`]).
//!
//! The code is written once over Burn 0.22's `Tensor` and runs on every device compiled in
//! (see [`device`]).

pub mod allocator;
pub mod attention;
pub mod config;
pub mod device;
pub mod dropout;
pub mod embeddings;
pub mod error;
pub mod feed_forward;
pub mod grads;
pub mod hf;
pub mod host;
pub mod init;
pub mod input;
pub mod layer;
pub mod lm_head;
pub mod model;
pub mod random;
pub mod randomness;
pub mod training;

pub use config::{Activation, AttentionKind, NumBuckets, ReformerConfig};
pub use error::{ReformerError, Result};
pub use model::{ReformerLm, ReformerOutput};
pub use randomness::Randomness;
pub use training::TrainStep;
