//! The paper's synthetic duplication task (§2.1): sequences `0 w 0 w`, where `w` is a random
//! string of symbols `1..=symbols`. Only the second copy of `w` is scored: a model that has
//! learned to look back half a sequence predicts it perfectly, one that has not is at chance.

use burn::data::dataset::Dataset;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Split;
use crate::error::{DataError, Result};
use crate::window::{IGNORE_LABEL, TokenWindow};

/// The duplication task: `symbols` distinct symbols, strings `w` of `half_length` symbols,
/// so sequences of `2 · (half_length + 1)` tokens over a vocabulary of `symbols + 1`.
///
/// Example `index` of a split is a pure function of `(seed, split, index)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicationTask {
    symbols: usize,
    half_length: usize,
    seed: u64,
    split: Split,
    len: usize,
}

impl DuplicationTask {
    /// `len` examples of split `split`, drawn from `seed`.
    pub fn new(
        symbols: usize,
        half_length: usize,
        seed: u64,
        split: Split,
        len: usize,
    ) -> Result<Self> {
        if symbols < 2 {
            return Err(DataError::Invalid(format!(
                "the duplication task needs at least 2 symbols, got {symbols}"
            )));
        }
        if half_length == 0 {
            return Err(DataError::Invalid(
                "the duplication task needs strings of at least one symbol (half_length ≥ 1)"
                    .into(),
            ));
        }
        if len == 0 {
            return Err(DataError::Invalid(format!(
                "the {split} split of the duplication task is empty"
            )));
        }
        Ok(Self {
            symbols,
            half_length,
            seed,
            split,
            len,
        })
    }

    /// Tokens per sequence, `2 · (half_length + 1)`.
    pub fn sequence_length(&self) -> usize {
        2 * (self.half_length + 1)
    }

    /// The vocabulary the sequences use, `symbols + 1` (0 is the separator).
    pub fn vocab_size(&self) -> usize {
        self.symbols + 1
    }

    /// Example `index`: `[0, w, 0, w]`, labels only on the second `w`.
    pub fn example(&self, index: usize) -> TokenWindow {
        let stream = self.seed ^ (self.split as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut rng = ChaCha8Rng::seed_from_u64(stream);
        rng.set_stream(index as u64);
        let half: Vec<i64> = std::iter::once(0)
            .chain((0..self.half_length).map(|_| rng.random_range(1..=self.symbols as i64)))
            .collect();
        let input_ids = [half.as_slice(), half.as_slice()].concat();
        let second_w = self.half_length + 2..input_ids.len();
        let labels = input_ids
            .iter()
            .enumerate()
            .map(|(position, &id)| {
                if second_w.contains(&position) {
                    id
                } else {
                    IGNORE_LABEL
                }
            })
            .collect();
        TokenWindow { input_ids, labels }
    }
}

impl Dataset<TokenWindow, DataError> for DuplicationTask {
    fn get(&self, index: usize) -> Result<TokenWindow> {
        if index >= self.len {
            return Err(DataError::IndexOutOfRange {
                index,
                len: self.len,
            });
        }
        Ok(self.example(index))
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_0_w_0_w_scored_on_the_second_w() {
        let task = DuplicationTask::new(5, 7, 1, Split::Train, 100).unwrap();
        let window = task.example(3);
        assert_eq!(window.input_ids.len(), task.sequence_length());
        assert_eq!(window.input_ids[..8], window.input_ids[8..]);
        assert_eq!((window.input_ids[0], window.input_ids[8]), (0, 0));
        assert!(
            window
                .input_ids
                .iter()
                .filter(|&&id| id != 0)
                .all(|&id| (1..=5).contains(&id))
        );
        let scored: Vec<usize> = (0..16)
            .filter(|&p| window.labels[p] != IGNORE_LABEL)
            .collect();
        assert_eq!(scored, (9..16).collect::<Vec<_>>());
        assert_eq!(window.labels[9..], window.input_ids[9..]);
    }

    #[test]
    fn examples_are_deterministic_and_splits_differ() {
        let train = DuplicationTask::new(50, 20, 9, Split::Train, 10).unwrap();
        let again = DuplicationTask::new(50, 20, 9, Split::Train, 10).unwrap();
        let valid = DuplicationTask::new(50, 20, 9, Split::Valid, 10).unwrap();
        assert_eq!(train.example(4), again.example(4));
        assert_ne!(train.example(4), train.example(5));
        assert_ne!(train.example(4), valid.example(4));
        assert!(train.get(10).is_err());
    }

    #[test]
    fn impossible_tasks_are_refused() {
        assert!(DuplicationTask::new(1, 5, 0, Split::Train, 1).is_err());
        assert!(DuplicationTask::new(4, 0, 0, Split::Train, 1).is_err());
    }
}
