//! The order in which a training run draws examples: seeded, and a pure function of the
//! position in the stream, so a resumed run continues exactly where it stopped.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Maps a position in the stream of examples (0, 1, 2, ...) to a dataset index.
///
/// Shuffled orders visit every index once per epoch, with a fresh permutation drawn from
/// `(seed, epoch)` for each epoch.
#[derive(Debug, Clone)]
pub struct SampleOrder {
    len: usize,
    seed: Option<u64>,
    epoch: Option<(u64, Vec<usize>)>,
}

impl SampleOrder {
    /// Indices `0, 1, 2, ...` wrapping at `len`: for sources whose examples are already random.
    pub fn sequential(len: usize) -> Self {
        Self {
            len,
            seed: None,
            epoch: None,
        }
    }

    /// A new permutation of `0..len` every epoch, drawn from `seed`.
    pub fn shuffled(len: usize, seed: u64) -> Self {
        Self {
            len,
            seed: Some(seed),
            epoch: None,
        }
    }

    /// The dataset index at stream position `position`.
    pub fn index(&mut self, position: u64) -> usize {
        assert!(self.len > 0, "an order over an empty dataset");
        let len = self.len as u64;
        let (epoch, offset) = (position / len, (position % len) as usize);
        let Some(seed) = self.seed else {
            return offset;
        };
        if self
            .epoch
            .as_ref()
            .is_none_or(|(cached, _)| *cached != epoch)
        {
            let mut permutation: Vec<usize> = (0..self.len).collect();
            let epoch_seed = seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            permutation.shuffle(&mut ChaCha8Rng::seed_from_u64(epoch_seed));
            self.epoch = Some((epoch, permutation));
        }
        self.epoch.as_ref().expect("filled above").1[offset]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_epoch_is_a_permutation_and_epochs_differ() {
        let mut order = SampleOrder::shuffled(50, 7);
        let first: Vec<usize> = (0..50).map(|p| order.index(p)).collect();
        let second: Vec<usize> = (50..100).map(|p| order.index(p)).collect();
        for epoch in [&first, &second] {
            let mut sorted = epoch.clone();
            sorted.sort();
            assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        }
        assert_ne!(first, second);
        assert_ne!(first, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn the_order_depends_only_on_seed_and_position() {
        let mut running = SampleOrder::shuffled(30, 3);
        let straight: Vec<usize> = (0..95).map(|p| running.index(p)).collect();
        let mut resumed = SampleOrder::shuffled(30, 3);
        let tail: Vec<usize> = (61..95).map(|p| resumed.index(p)).collect();
        assert_eq!(&straight[61..], &tail[..]);
        assert_ne!(
            straight[..30],
            (0..30)
                .map(|p| SampleOrder::shuffled(30, 4).index(p))
                .collect::<Vec<_>>()[..]
        );
    }
}
