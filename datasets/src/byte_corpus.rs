//! Any file, or folder of files, as one stream of bytes, with held-out tails.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Split;
use crate::error::{DataError, Result};

/// The bytes of a corpus, shared by the windows cut from it.
#[derive(Debug, Clone)]
pub struct ByteCorpus {
    /// Where the bytes came from.
    pub path: PathBuf,
    /// The whole corpus.
    pub bytes: Arc<Vec<u8>>,
}

/// Byte ranges of a corpus's splits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteSplits {
    /// `[0, train_end)`
    pub train: Range<usize>,
    /// The first held-out range.
    pub valid: Range<usize>,
    /// The second held-out range, where the source has one.
    pub test: Option<Range<usize>>,
}

impl ByteSplits {
    /// The range of `split`, or an error where the source has no such split.
    pub fn range(&self, split: Split) -> Result<Range<usize>> {
        match split {
            Split::Train => Ok(self.train.clone()),
            Split::Valid => Ok(self.valid.clone()),
            Split::Test => self.test.clone().ok_or_else(|| {
                DataError::Invalid(
                    "this corpus has no test split (only train and a held-out valid tail); \
                     evaluate on --split valid"
                        .into(),
                )
            }),
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Every regular file under `dir`, recursively, in path order; hidden entries are skipped.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(io_error(dir))?
        .map(|entry| entry.map(|e| e.path()).map_err(io_error(dir)))
        .collect::<Result<Vec<_>>>()?;
    entries.sort();
    let mut files = Vec::new();
    for path in entries {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            files.extend(files_under(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

impl ByteCorpus {
    /// Reads a file, or every file under a folder (concatenated in path order).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let metadata = std::fs::metadata(path).map_err(io_error(path))?;
        let bytes = if metadata.is_dir() {
            let mut bytes = Vec::new();
            for file in files_under(path)? {
                bytes.extend(std::fs::read(&file).map_err(io_error(&file))?);
            }
            bytes
        } else {
            std::fs::read(path).map_err(io_error(path))?
        };
        Self::from_bytes(path, bytes)
    }

    /// A corpus of `bytes` read from `path`.
    pub fn from_bytes(path: impl AsRef<Path>, bytes: Vec<u8>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if bytes.is_empty() {
            return Err(DataError::Empty { path });
        }
        Ok(Self {
            path,
            bytes: Arc::new(bytes),
        })
    }

    /// Training bytes first, then a held-out tail of `valid_fraction` of the corpus.
    pub fn held_out_tail(&self, valid_fraction: f64) -> Result<ByteSplits> {
        if !(valid_fraction > 0.0 && valid_fraction < 1.0) {
            return Err(DataError::Invalid(format!(
                "valid_fraction must lie strictly between 0 and 1, got {valid_fraction}"
            )));
        }
        let len = self.bytes.len();
        let train_end = len - (len as f64 * valid_fraction).round() as usize;
        Ok(ByteSplits {
            train: 0..train_end,
            valid: train_end..len,
            test: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_its_files_in_path_order() {
        let dir = std::env::temp_dir().join(format!("reformer-corpus-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("b")).unwrap();
        std::fs::write(dir.join("b/2.txt"), b"second").unwrap();
        std::fs::write(dir.join("a.txt"), b"first ").unwrap();
        std::fs::write(dir.join(".hidden"), b"skipped").unwrap();
        let corpus = ByteCorpus::open(&dir).unwrap();
        assert_eq!(corpus.bytes.as_slice(), b"first second");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_and_empty_data_are_named() {
        let missing = ByteCorpus::open("/nonexistent/corpus.txt").unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/corpus.txt"),
            "{missing}"
        );
        let empty = ByteCorpus::from_bytes("empty.txt", Vec::new()).unwrap_err();
        assert!(matches!(empty, DataError::Empty { .. }));
    }

    #[test]
    fn the_tail_is_held_out() {
        let corpus = ByteCorpus::from_bytes("x", vec![7; 1000]).unwrap();
        let splits = corpus.held_out_tail(0.05).unwrap();
        assert_eq!(
            (splits.train.clone(), splits.valid.clone()),
            (0..950, 950..1000)
        );
        assert!(splits.range(Split::Test).is_err());
        assert!(corpus.held_out_tail(1.0).is_err());
    }
}
