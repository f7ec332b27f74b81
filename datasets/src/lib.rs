//! Data sources for the Reformer, as Burn [`Dataset`](burn::data::dataset::Dataset)s of
//! fixed-length [`TokenWindow`]s, batched by [`WindowBatcher`].
//!
//! - [`duplication`]: the paper's synthetic task, sequences `0 w 0 w` (§2.1).
//! - [`enwik8`]: the Hutter-prize bytes with the standard 90/5/5 split.
//! - [`byte_corpus`]: any file or folder of files as bytes, with a held-out tail.
//! - [`byte_windows`]: a byte range cut into non-overlapping windows.
//! - [`sample_order`]: the seeded, resumable order in which windows are drawn.

pub mod byte_corpus;
pub mod byte_windows;
pub mod duplication;
pub mod enwik8;
pub mod error;
pub mod sample_order;
pub mod window;

pub use byte_corpus::{ByteCorpus, ByteSplits};
pub use byte_windows::ByteWindows;
pub use duplication::DuplicationTask;
pub use error::{DataError, Result};
pub use sample_order::SampleOrder;
pub use window::{IGNORE_LABEL, TokenBatch, TokenWindow, WindowBatcher};

/// Which part of a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// What the model trains on.
    Train,
    /// Held out, evaluated during training.
    Valid,
    /// Held out, for the final report.
    Test,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        })
    }
}
