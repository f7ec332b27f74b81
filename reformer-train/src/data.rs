//! The datasets of a run, built from its [`DataSettings`], and how each is scored.

use burn::data::dataset::Dataset;
use reformer_datasets::{
    ByteCorpus, ByteSplits, ByteWindows, DataError, DuplicationTask, SampleOrder, Split,
    TokenWindow, enwik8,
};

use crate::error::Result;
use crate::settings::DataSettings;

/// A boxed dataset of windows.
pub type Windows = Box<dyn Dataset<TokenWindow, DataError>>;

/// How a task's held-out quality is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Accuracy of the scored tokens (the duplication task).
    Accuracy,
    /// Bits per character (byte-level language modelling).
    BitsPerCharacter,
}

/// Examples in a held-out split of the duplication task.
const DUPLICATION_HELD_OUT: usize = 1024;

/// A data source, opened once: the duplication task's parameters, or a corpus in memory.
enum Source {
    Duplication {
        symbols: usize,
        half_length: usize,
    },
    Bytes {
        corpus: ByteCorpus,
        splits: ByteSplits,
    },
}

impl Source {
    fn open(settings: &DataSettings) -> Result<Self> {
        Ok(match settings {
            &DataSettings::Duplication {
                symbols,
                half_length,
            } => Source::Duplication {
                symbols,
                half_length,
            },
            DataSettings::Enwik8 { path } => {
                let corpus = enwik8::open(path)?;
                let splits = enwik8::splits(&corpus);
                Source::Bytes { corpus, splits }
            }
            DataSettings::Bytes {
                path,
                valid_fraction,
            } => {
                let corpus = ByteCorpus::open(path)?;
                let splits = corpus.held_out_tail(*valid_fraction)?;
                Source::Bytes { corpus, splits }
            }
        })
    }

    /// The windows of one split.
    fn windows(&self, length: usize, seed: u64, split: Split) -> Result<Windows> {
        Ok(match self {
            &Source::Duplication {
                symbols,
                half_length,
            } => {
                let len = match split {
                    Split::Train => usize::MAX >> 1,
                    Split::Valid | Split::Test => DUPLICATION_HELD_OUT,
                };
                Box::new(DuplicationTask::new(
                    symbols,
                    half_length,
                    seed,
                    split,
                    len,
                )?)
            }
            Source::Bytes { corpus, splits } => Box::new(ByteWindows::new(
                corpus.bytes.clone(),
                splits.range(split)?,
                length,
                split,
            )?),
        })
    }
}

/// The splits of a run's data source.
pub struct RunData {
    /// What the model trains on.
    pub train: Windows,
    /// The order training draws `train` in.
    pub order: SampleOrder,
    /// How held-out quality is reported.
    pub metric: Metric,
    source: Source,
    length: usize,
    seed: u64,
}

impl RunData {
    /// Opens the data of `settings`, cut into windows of `length` tokens; `seed` fixes the
    /// duplication task's examples and the training order.
    pub fn open(settings: &DataSettings, length: usize, seed: u64) -> Result<Self> {
        let source = Source::open(settings)?;
        let train = source.windows(length, seed, Split::Train)?;
        let order = match source {
            Source::Duplication { .. } => SampleOrder::sequential(train.len()),
            Source::Bytes { .. } => SampleOrder::shuffled(train.len(), seed),
        };
        // Fail now, not at the first evaluation, when the held-out split is unusable.
        source.windows(length, seed, Split::Valid)?;
        Ok(Self {
            train,
            order,
            metric: metric_of(settings),
            source,
            length,
            seed,
        })
    }

    /// The windows of a held-out split.
    pub fn held_out(&self, split: Split) -> Result<Windows> {
        self.source.windows(self.length, self.seed, split)
    }

    /// The training example at stream position `position`.
    pub fn train_example(&mut self, position: u64) -> Result<TokenWindow> {
        let index = self.order.index(position);
        Ok(self.train.get(index)?)
    }
}

/// How `settings`' task is scored.
pub fn metric_of(settings: &DataSettings) -> Metric {
    match settings {
        DataSettings::Duplication { .. } => Metric::Accuracy,
        _ => Metric::BitsPerCharacter,
    }
}
