//! Reference fixtures recorded with HuggingFace's Reformer, and the parity check against them.
//!
//! A fixture directory holds `config.json`, `model.safetensors` and `io.safetensors` (inputs,
//! HuggingFace's rotations per LSH layer, and its logits and losses); see
//! `shared/fixtures/README.md` for the format.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use serde::Serialize;

use super::safetensors_file::SafetensorsFile;
use crate::config::AttentionKind;
use crate::error::Result;
use crate::grads::{named_grads, named_params, relative_error_of};
use crate::model::ReformerLm;
use crate::randomness::Randomness;

/// A fixture directory.
pub struct HfFixture {
    dir: PathBuf,
    io: SafetensorsFile,
}

/// Worst relative errors of our outputs against HuggingFace's.
#[derive(Debug, Clone, Serialize)]
pub struct ParityReport {
    /// `‖ours − hf‖ / ‖hf‖` over all logits.
    pub logits_rel_err: f64,
    /// The largest `|ours − hf| / |hf|` over the fixture's losses.
    pub loss_rel_err: f64,
    /// Each loss compared: name, ours, HuggingFace's.
    pub losses: Vec<(String, f64, f64)>,
}

impl ParityReport {
    /// The worst of all errors in the report.
    pub fn worst(&self) -> f64 {
        self.logits_rel_err.max(self.loss_rel_err)
    }
}

/// `‖a − b‖ / ‖b‖` (or `‖a − b‖` when `b` is zero).
pub fn relative_error<const D: usize>(ours: &Tensor<D>, reference: &Tensor<D>) -> f64 {
    let values = |t: &Tensor<D>| {
        t.to_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("float data")
    };
    relative_error_of(&values(ours), &values(reference))
}

impl HfFixture {
    /// Opens a fixture directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let io = SafetensorsFile::open(dir.join("io.safetensors"))?;
        Ok(Self { dir, io })
    }

    /// The model with HuggingFace's weights.
    pub fn model(&self, device: &Device) -> Result<ReformerLm> {
        ReformerLm::from_hf_dir(&self.dir, device)
    }

    /// The token ids, `[batch, length]`.
    pub fn input_ids(&self, device: &Device) -> Result<Tensor<2, Int>> {
        self.io.int("input_ids", device)
    }

    /// The attention mask, `[batch, length]`, if the fixture has one.
    pub fn attention_mask(&self, device: &Device) -> Result<Option<Tensor<2, Int>>> {
        if self.io.contains("attention_mask") {
            self.io.int("attention_mask", device).map(Some)
        } else {
            Ok(None)
        }
    }

    /// An evaluation pass that replays HuggingFace's rotations in every LSH layer.
    pub fn randomness(&self, model: &ReformerLm, device: &Device) -> Result<Randomness> {
        let mut randomness = Randomness::eval(0);
        for (layer, kind) in model.config.attn_layers.iter().enumerate() {
            if *kind == AttentionKind::Lsh {
                let rotations = self.io.float(&format!("rotations.layer{layer}"), device)?;
                randomness = randomness.with_rotations(layer, rotations);
            }
        }
        Ok(randomness)
    }

    /// Pairs of (labels, loss) names the fixture holds: `labels`/`loss` and every
    /// `labels_<name>`/`loss_<name>`.
    pub fn loss_names(&self) -> Vec<(String, String)> {
        let names = self.io.names();
        let mut pairs = vec![("labels".to_string(), "loss".to_string())];
        for name in &names {
            if let Some(suffix) = name.strip_prefix("labels_") {
                let loss = format!("loss_{suffix}");
                if names.contains(&loss) {
                    pairs.push((name.clone(), loss));
                }
            }
        }
        pairs
    }

    /// A copy of `model` whose parameters hold HuggingFace's recorded gradients
    /// (`grad.<name>`), in our layout.
    pub fn reference_grads(&self, model: &ReformerLm) -> Result<ReformerLm> {
        let grads =
            SafetensorsFile::from_bytes(self.io.path().to_path_buf(), self.io.subset("grad.")?)?;
        let mut reference = model.valid();
        reference.load_hf_file(&grads)?;
        Ok(reference)
    }

    /// Computes every parameter's gradient of the fixture's loss (train mode, dropout 0,
    /// HuggingFace's rotations) and compares it with the recorded one.
    ///
    /// Returns each parameter's path and relative error, worst first.
    pub fn check_grads(&self, device: &Device, reversible: bool) -> Result<Vec<(String, f64)>> {
        let device = device.clone().autodiff();
        let model = self.model(&device)?;
        let mut randomness = self.randomness(&model, &device)?;
        randomness.dropout = true;
        let mask = self.attention_mask(&device)?;
        let labels = self.io.int::<2>("labels", &device)?;
        let step = model.train_step(
            self.input_ids(&device)?,
            mask.as_ref(),
            labels,
            &randomness,
            reversible,
        )?;
        let reference = named_params(&self.reference_grads(&model)?);
        let ours = named_grads(&model, &step.grads);
        let mut errors: Vec<(String, f64)> = ours
            .into_iter()
            .zip(reference)
            .map(|(ours, reference)| {
                let reference = reference.values.expect("parameters have values");
                let error = match ours.values {
                    Some(values) => relative_error_of(&values, &reference),
                    None => f64::INFINITY,
                };
                (ours.path, error)
            })
            .collect();
        errors.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(errors)
    }

    /// A tensor of the fixture's `io.safetensors`.
    pub fn io(&self) -> &SafetensorsFile {
        &self.io
    }

    /// Runs our model on the fixture's inputs with HuggingFace's rotations and compares the
    /// logits and every loss.
    pub fn check(&self, device: &Device) -> Result<ParityReport> {
        let model = self.model(device)?;
        let randomness = self.randomness(&model, device)?;
        let mask = self.attention_mask(device)?;
        let output = model.forward(self.input_ids(device)?, mask.as_ref(), &randomness)?;
        let logits = model.logits(output.hidden.clone());
        let logits_rel_err = relative_error(&logits, &self.io.float::<3>("logits", device)?);

        let mut losses = Vec::new();
        for (labels_name, loss_name) in self.loss_names() {
            let labels = self.io.int::<2>(&labels_name, device)?;
            let ours: f64 = model
                .loss(output.hidden.clone(), labels)?
                .into_scalar::<f32>() as f64;
            let reference = self.io.float::<1>(&loss_name, device)?.into_scalar::<f32>() as f64;
            losses.push((loss_name, ours, reference));
        }
        let loss_rel_err = losses
            .iter()
            .map(|(_, ours, hf)| (ours - hf).abs() / hf.abs().max(f64::MIN_POSITIVE))
            .fold(0.0, f64::max);
        Ok(ParityReport {
            logits_rel_err,
            loss_rel_err,
            losses,
        })
    }
}
