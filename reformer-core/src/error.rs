//! Typed errors of the model crate.

use std::path::PathBuf;

/// Everything that can go wrong when building, loading or running a Reformer.
///
/// Each variant names the offending field, tensor or input and, where there is one,
/// the fix.
#[derive(Debug, thiserror::Error)]
pub enum ReformerError {
    /// A configuration field has a value the model cannot work with.
    #[error("invalid config: `{field}` {reason}")]
    InvalidConfig {
        /// The HuggingFace field name.
        field: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// A token id is not below the vocabulary size.
    #[error(
        "token id {id} at batch {batch}, position {position} is outside the vocabulary \
         (vocab_size = {vocab_size}); ids must lie in 0..{vocab_size}"
    )]
    TokenOutOfVocabulary {
        /// The offending id.
        id: i64,
        /// Batch row of the offending id.
        batch: usize,
        /// Position of the offending id.
        position: usize,
        /// The model's vocabulary size.
        vocab_size: usize,
    },

    /// An input tensor has the wrong shape.
    #[error("`{name}` has shape {got:?} but must have shape {expected:?}")]
    InputShape {
        /// Which input.
        name: &'static str,
        /// The shape required.
        expected: Vec<usize>,
        /// The shape given.
        got: Vec<usize>,
    },

    /// The attention mask holds a value other than 0 and 1.
    #[error("attention_mask holds {value}; use 1 for tokens and 0 for padding")]
    InvalidMask {
        /// The offending value.
        value: i64,
    },

    /// The sequence length cannot be processed by this configuration.
    #[error("sequence length {length} cannot be used: {reason}")]
    InvalidLength {
        /// The length given.
        length: usize,
        /// Why, and which length would work.
        reason: String,
    },

    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A JSON file could not be parsed.
    #[error("cannot parse {path} as JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },

    /// A weights file does not match the model.
    #[error("weights in {path} do not fit the model: {reason}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// Which tensors are missing or mis-shaped.
        reason: String,
    },

    /// A tensor needed from a safetensors file is absent.
    #[error("tensor `{name}` is missing from {path}")]
    MissingTensor {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
    },

    /// A tensor in a file has an unexpected shape or type.
    #[error("tensor `{name}` in {path}: {reason}")]
    BadTensor {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// What was expected.
        reason: String,
    },

    /// The device name is unknown or not compiled in.
    #[error("unknown device `{name}`: {reason}")]
    Device {
        /// The name given.
        name: String,
        /// The devices this build provides.
        reason: String,
    },
}

/// Result alias for the model crate.
pub type Result<T, E = ReformerError> = std::result::Result<T, E>;
