//! Loading HuggingFace Reformer checkpoints (`config.json` + `model.safetensors`).

use std::path::Path;

use burn::store::{ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::Device;

use super::safetensors_file::SafetensorsFile;
use crate::config::ReformerConfig;
use crate::error::{ReformerError, Result};
use crate::model::ReformerLm;

/// HuggingFace parameter names (regex) and the paths of our modules they map to.
///
/// Linear weights are transposed (`[out, in]` to `[in, out]`) and layer-norm `weight`/`bias`
/// become `gamma`/`beta` by burn-store's PyTorch adapter; these patterns only rename.
const KEY_MAP: [(&str, &str); 7] = [
    (r"^reformer\.embeddings\.", "embeddings."),
    (r"^reformer\.encoder\.layers\.", "layers."),
    (r"^reformer\.encoder\.layer_norm\.", "layer_norm."),
    (r"^lm_head\.decoder\.", "lm_head."),
    (r"\.attention\.output\.dense\.", ".attention.output."),
    (r"\.feed_forward\.dense\.dense\.", ".feed_forward.dense."),
    (r"\.feed_forward\.output\.dense\.", ".feed_forward.output."),
];

/// Buffers older HuggingFace versions saved that carry no parameters.
fn is_ignorable(name: &str) -> bool {
    name.contains("mask_value")
}

impl ReformerLm {
    /// Loads a HuggingFace checkpoint directory: `config.json` and `model.safetensors`.
    pub fn from_hf_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let config = ReformerConfig::from_json_file(dir.join("config.json"))?;
        let mut model = Self::new(&config, device)?;
        model.load_hf_weights(dir.join("model.safetensors"))?;
        Ok(model)
    }

    /// Replaces every parameter with the one of the same HuggingFace name in `path`.
    ///
    /// A tensor the model needs that the file lacks, one of the wrong shape, or one the file
    /// has that the model has no place for is an error naming it.
    pub fn load_hf_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        self.load_hf_file(&SafetensorsFile::open(path)?)
    }

    /// Like [`ReformerLm::load_hf_weights`], from a file already read.
    pub fn load_hf_file(&mut self, file: &SafetensorsFile) -> Result<()> {
        let path = file.path();
        let names = file.names();
        let mut store = SafetensorsStore::from_bytes(Some(file.bytes().to_vec()))
            .with_from_adapter(PyTorchToBurnAdapter)
            .skip_enum_variants(true)
            .allow_partial(true)
            .validate(false);
        // `lm_head.bias` is the same tensor as `lm_head.decoder.bias`; use it only alone.
        if names.iter().any(|n| n == "lm_head.decoder.bias") {
            store = store.with_key_remapping(r"^lm_head\.bias$", "ignored.lm_head.bias");
        }
        for (from, to) in KEY_MAP {
            store = store.with_key_remapping(from, to);
        }
        let result = self
            .load_from(&mut store)
            .map_err(|e| ReformerError::Weights {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;

        let mut problems = Vec::new();
        if !result.errors.is_empty() {
            let errors: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
            problems.push(format!("mis-shaped or unreadable: {}", errors.join("; ")));
        }
        if !result.missing.is_empty() {
            let missing: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
            problems.push(format!("missing: {}", missing.join(", ")));
        }
        let unused: Vec<&str> = result
            .unused
            .iter()
            .map(String::as_str)
            .filter(|n| !n.starts_with("ignored.") && !is_ignorable(n))
            .collect();
        if !unused.is_empty() {
            problems.push(format!(
                "not part of this model (does config.json match the weights?): {}",
                unused.join(", ")
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ReformerError::Weights {
                path: path.to_path_buf(),
                reason: problems.join("; "),
            })
        }
    }
}
