//! A byte range of a corpus cut into non-overlapping windows of the model's length.

use std::ops::Range;
use std::sync::Arc;

use burn::data::dataset::Dataset;

use crate::Split;
use crate::error::{DataError, Result};
use crate::window::TokenWindow;

/// Windows `[start + i·length, start + (i+1)·length)` of a byte range; a tail shorter than
/// one window is not used. Every byte is a token (vocabulary 256) and every position after
/// the first of a window is scored.
#[derive(Debug, Clone)]
pub struct ByteWindows {
    bytes: Arc<Vec<u8>>,
    range: Range<usize>,
    length: usize,
}

impl ByteWindows {
    /// Windows of `length` bytes over `range` of `bytes`, which is split `split`.
    pub fn new(
        bytes: Arc<Vec<u8>>,
        range: Range<usize>,
        length: usize,
        split: Split,
    ) -> Result<Self> {
        assert!(range.end <= bytes.len(), "a range inside the corpus");
        if length == 0 || range.len() < length {
            return Err(DataError::TooShort {
                split,
                bytes: range.len(),
                window: length,
            });
        }
        Ok(Self {
            bytes,
            range,
            length,
        })
    }
}

impl Dataset<TokenWindow, DataError> for ByteWindows {
    fn get(&self, index: usize) -> Result<TokenWindow> {
        if index >= self.len() {
            return Err(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            });
        }
        let start = self.range.start + index * self.length;
        let input_ids: Vec<i64> = self.bytes[start..start + self.length]
            .iter()
            .map(|&b| i64::from(b))
            .collect();
        Ok(TokenWindow {
            labels: input_ids.clone(),
            input_ids,
        })
    }

    fn len(&self) -> usize {
        self.range.len() / self.length
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_tile_the_range() {
        let bytes = Arc::new((0..=255u8).collect::<Vec<_>>());
        let windows = ByteWindows::new(bytes, 10..50, 16, Split::Train).unwrap();
        assert_eq!(windows.len(), 2);
        let second = windows.get(1).unwrap();
        assert_eq!(second.input_ids, (26..42).collect::<Vec<i64>>());
        assert_eq!(second.labels, second.input_ids);
        assert!(windows.get(2).is_err());
    }

    #[test]
    fn a_range_shorter_than_a_window_is_an_error() {
        let bytes = Arc::new(vec![1u8; 100]);
        let error = ByteWindows::new(bytes, 90..100, 16, Split::Valid).unwrap_err();
        assert!(
            error.to_string().contains("valid split has 10 bytes"),
            "{error}"
        );
    }
}
