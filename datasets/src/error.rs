//! Typed errors of the data sources.

use std::path::PathBuf;

/// Everything that can go wrong when opening or cutting a data source.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A data file or folder could not be read.
    #[error("cannot read data at {path}: {source}; check the path (and its permissions)")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// The data holds no bytes at all.
    #[error("{path} holds no data; point --data at a non-empty file or folder")]
    Empty {
        /// The file or folder.
        path: PathBuf,
    },

    /// A zip archive is corrupt or lacks the expected member.
    #[error("cannot read the zip archive {path}: {reason}")]
    Zip {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A split is shorter than one window.
    #[error(
        "the {split} split has {bytes} bytes, fewer than one window of {window}; \
         use more data or a shorter sequence length"
    )]
    TooShort {
        /// Which split.
        split: crate::Split,
        /// Its size in bytes.
        bytes: usize,
        /// The window length.
        window: usize,
    },

    /// An example index past the end of a dataset.
    #[error("example {index} is past the end of a dataset of {len}")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The dataset's length.
        len: usize,
    },

    /// A data source was asked for something it cannot give.
    #[error("invalid data settings: {0}")]
    Invalid(String),
}

/// Result with [`DataError`].
pub type Result<T> = std::result::Result<T, DataError>;
