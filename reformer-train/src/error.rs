//! Typed errors of the training library.

use std::path::PathBuf;

use reformer_core::ReformerError;
use reformer_datasets::DataError;

/// Everything that can stop training, evaluation or generation.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The model refused a configuration or an input.
    #[error(transparent)]
    Model(#[from] ReformerError),

    /// A data source could not be opened or cut.
    #[error(transparent)]
    Data(#[from] DataError),

    /// A settings file or flag cannot work.
    #[error("invalid training settings: {0}")]
    Settings(String),

    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("cannot write", ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A checkpoint is unreadable, corrupt or does not belong to this run.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint folder or file.
        path: PathBuf,
        /// What is wrong, and what to do about it.
        reason: String,
    },

    /// The loss stopped being a finite number.
    #[error(
        "the loss is {loss} at step {step}; training stopped (the last checkpoint is intact). \
         Lower the learning rate or enable gradient clipping and resume or restart"
    )]
    NonFiniteLoss {
        /// The step whose loss was not finite.
        step: u64,
        /// The loss.
        loss: f32,
    },
}

impl TrainError {
    /// An I/O error while `action`ing `path`.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TrainError::Io {
            action,
            path,
            source,
        }
    }

    /// A problem with the checkpoint at `path`.
    pub fn checkpoint(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        TrainError::Checkpoint {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Result with [`TrainError`].
pub type Result<T> = std::result::Result<T, TrainError>;
