//! Validation of the model's inputs, so bad input is a typed error rather than a kernel panic.

use burn::tensor::{Bool, Int, Tensor};

use crate::config::ReformerConfig;
use crate::error::{ReformerError, Result};

/// Checks token ids, the attention mask and the length against `config`.
///
/// Returns the keep-mask (`[batch, length]`, false at padding) when the attention mask has any
/// zero, `None` otherwise: as in HuggingFace, an all-ones mask is no mask.
///
/// # Shapes
/// - input_ids: `[batch, length]`
/// - attention_mask: `[batch, length]`, 1 for tokens, 0 for padding
pub fn validate_inputs(
    config: &ReformerConfig,
    input_ids: &Tensor<2, Int>,
    attention_mask: Option<&Tensor<2, Int>>,
) -> Result<Option<Tensor<2, Bool>>> {
    let [batch, length] = input_ids.dims();
    config.validate_length(length)?;
    let ids = input_ids
        .to_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .expect("int tensor converts to i64");
    if let Some((index, &id)) = ids
        .iter()
        .enumerate()
        .find(|&(_, &id)| id < 0 || id as usize >= config.vocab_size)
    {
        return Err(ReformerError::TokenOutOfVocabulary {
            id,
            batch: index / length,
            position: index % length,
            vocab_size: config.vocab_size,
        });
    }
    let Some(mask) = attention_mask else {
        return Ok(None);
    };
    if mask.dims() != [batch, length] {
        return Err(ReformerError::InputShape {
            name: "attention_mask",
            expected: vec![batch, length],
            got: mask.dims().to_vec(),
        });
    }
    let values = mask
        .to_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .expect("int tensor converts to i64");
    if let Some(&bad) = values.iter().find(|&&v| v != 0 && v != 1) {
        return Err(ReformerError::InvalidMask { value: bad });
    }
    if values.iter().all(|&v| v == 1) {
        return Ok(None);
    }
    Ok(Some(mask.clone().equal_elem(1)))
}
