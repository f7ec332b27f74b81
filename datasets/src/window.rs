//! One training example, and how examples become tensors.

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Device, Int, Tensor, TensorData};

/// Label of a position that is not scored (HuggingFace's `-100`).
pub const IGNORE_LABEL: i64 = -100;

/// A fixed-length sequence of token ids and the labels to score.
///
/// Labels follow the causal-LM convention of the model: `labels[t]` is predicted from the
/// positions before `t`, and [`IGNORE_LABEL`] marks positions that are not scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenWindow {
    /// `[length]`
    pub input_ids: Vec<i64>,
    /// `[length]`
    pub labels: Vec<i64>,
}

/// A batch of windows as tensors.
#[derive(Debug, Clone)]
pub struct TokenBatch {
    /// `[batch, length]`
    pub input_ids: Tensor<2, Int>,
    /// `[batch, length]`
    pub labels: Tensor<2, Int>,
}

/// Stacks windows of equal length into a [`TokenBatch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct WindowBatcher;

impl Batcher<TokenWindow, TokenBatch> for WindowBatcher {
    fn batch(&self, items: Vec<TokenWindow>, device: &Device) -> TokenBatch {
        let batch = items.len();
        let length = items.first().map_or(0, |item| item.input_ids.len());
        assert!(
            items
                .iter()
                .all(|item| item.input_ids.len() == length && item.labels.len() == length),
            "windows of one batch must have one length"
        );
        let stack = |field: fn(&TokenWindow) -> &[i64]| {
            let values: Vec<i64> = items.iter().flat_map(|item| field(item).to_vec()).collect();
            Tensor::<2, Int>::from_data(TensorData::new(values, [batch, length]), device)
        };
        TokenBatch {
            input_ids: stack(|item| &item.input_ids),
            labels: stack(|item| &item.labels),
        }
    }
}
