//! One training run's state and its optimizer step: micro-batches, gradient accumulation,
//! global-norm clipping, the learning-rate schedule and Adam.
//!
//! Everything random in step `s` derives from `(training.seed, s)` and the data position, so a
//! run restored from a checkpoint continues exactly as if it had never stopped.

use std::path::{Path, PathBuf};

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsAccumulator, ModuleOptimizer};
use burn::tensor::Device;
use reformer_core::random::derive_seed;
use reformer_core::{Randomness, ReformerLm};
use reformer_datasets::{Split, WindowBatcher};

use crate::checkpoint::{self, Checkpoint, CheckpointState};
use crate::data::{Metric, RunData};
use crate::error::{Result, TrainError};
use crate::evaluation::{EvalReport, evaluate};
use crate::gradients::{clip_factor, global_norm, scale};
use crate::schedule::learning_rate;
use crate::settings::TrainSettings;

/// What one optimizer step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// Steps completed, this one included.
    pub step: u64,
    /// Mean training loss of the step's micro-batches, in nats per token.
    pub loss: f32,
    /// The learning rate the step used.
    pub learning_rate: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f32,
    /// Tokens the step trained on.
    pub tokens: usize,
}

/// A training run in progress.
pub struct Trainer {
    /// The run's settings.
    pub settings: TrainSettings,
    /// Optimizer steps completed.
    pub step: u64,
    /// Training examples consumed.
    pub examples_seen: u64,
    model: Option<ReformerLm>,
    optimizer: ModuleOptimizer,
    data: RunData,
    device: Device,
}

fn adam(settings: &TrainSettings) -> ModuleOptimizer {
    let t = &settings.training;
    AdamConfig::new()
        .with_beta_1(t.adam_beta1)
        .with_beta_2(t.adam_beta2)
        .with_epsilon(t.adam_epsilon)
        .init()
}

impl Trainer {
    /// Starts a run: validates the settings, opens the data and initialises the model on
    /// `device` from `training.seed`.
    pub fn new(settings: TrainSettings, device: &Device) -> Result<Self> {
        settings.validate()?;
        let seed = settings.training.seed;
        let data = RunData::open(&settings.data, settings.sequence_length(), seed)?;
        let model = ReformerLm::seeded(&settings.model, seed, &device.clone().autodiff())?;
        Ok(Self {
            optimizer: adam(&settings),
            settings,
            step: 0,
            examples_seen: 0,
            model: Some(model),
            data,
            device: device.clone(),
        })
    }

    /// Continues the run saved in `checkpoint`, on `device`; `steps`, when given, replaces
    /// the run's total number of steps.
    pub fn resume(path: &Path, device: &Device, steps: Option<u64>) -> Result<Self> {
        let Checkpoint {
            path,
            state,
            model,
            optimizer,
        } = checkpoint::load(path, &device.clone().autodiff())?;
        let mut settings = state.settings;
        if let Some(steps) = steps {
            settings.training.steps = steps;
        }
        settings.validate()?;
        if state.examples_seen != state.step * examples_per_step(&settings) {
            return Err(TrainError::checkpoint(
                path,
                format!(
                    "its data position ({} examples) does not match step {} of this run's \
                     batch settings",
                    state.examples_seen, state.step
                ),
            ));
        }
        let data = RunData::open(
            &settings.data,
            settings.sequence_length(),
            settings.training.seed,
        )?;
        Ok(Self {
            optimizer: adam(&settings).load_record(optimizer),
            settings,
            step: state.step,
            examples_seen: state.examples_seen,
            model: Some(model),
            data,
            device: device.clone(),
        })
    }

    /// The model (on the autodiff device).
    pub fn model(&self) -> &ReformerLm {
        self.model
            .as_ref()
            .expect("the model is only taken during a step")
    }

    /// How the run's held-out quality is reported.
    pub fn metric(&self) -> Metric {
        self.data.metric
    }

    /// Whether every step of the run is done.
    pub fn is_done(&self) -> bool {
        self.step >= self.settings.training.steps
    }

    /// Runs one optimizer step over `accumulation_steps` micro-batches.
    pub fn train_step(&mut self) -> Result<StepReport> {
        let t = self.settings.training.clone();
        let autodiff = self.device.clone().autodiff();
        let model = self
            .model
            .as_ref()
            .expect("the model is only taken during a step");
        let mut accumulator = GradientsAccumulator::<ReformerLm>::new();
        let mut loss_sum = 0.0f32;
        for micro in 0..t.accumulation_steps {
            let first = self.examples_seen + (micro * t.batch_size) as u64;
            let items = (first..first + t.batch_size as u64)
                .map(|position| self.data.train_example(position))
                .collect::<Result<Vec<_>>>()?;
            let batch = WindowBatcher.batch(items, &autodiff);
            let randomness = Randomness::train(derive_seed(t.seed, &[self.step, micro as u64]));
            let step = model.train_step(
                batch.input_ids,
                None,
                batch.labels,
                &randomness,
                t.reversible,
            )?;
            loss_sum += step.loss.into_scalar::<f32>();
            accumulator.accumulate(model, step.grads);
        }
        let loss = loss_sum / t.accumulation_steps as f32;
        if !loss.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                step: self.step + 1,
                loss,
            });
        }

        let mut grads = accumulator.grads();
        let micro_batches = t.accumulation_steps as f32;
        let grad_norm = global_norm(model, &grads) / micro_batches;
        scale(
            model,
            &mut grads,
            clip_factor(grad_norm, t.clip_norm) / micro_batches,
        );
        let lr = learning_rate(
            t.schedule,
            t.learning_rate,
            t.warmup_steps,
            self.step,
            t.steps,
        );
        let model = self
            .model
            .take()
            .expect("the model is only taken during a step");
        self.model = Some(self.optimizer.step(lr, model, grads));

        self.step += 1;
        self.examples_seen += examples_per_step(&self.settings);
        Ok(StepReport {
            step: self.step,
            loss,
            learning_rate: lr,
            grad_norm,
            tokens: t.accumulation_steps * t.batch_size * self.settings.sequence_length(),
        })
    }

    /// Evaluates the current model on `eval_batches` batches of a held-out split.
    pub fn evaluate(&self, split: Split) -> Result<EvalReport> {
        let t = &self.settings.training;
        let windows = self.data.held_out(split)?;
        evaluate(
            &self.model().valid(),
            windows.as_ref(),
            t.batch_size,
            t.eval_batches,
            t.seed,
            &self.device,
        )
    }

    /// Writes a checkpoint of the run as it stands into `run_dir`.
    pub fn save(&self, run_dir: &Path) -> Result<PathBuf> {
        let state = CheckpointState {
            format: 0,
            step: self.step,
            examples_seen: self.examples_seen,
            settings: self.settings.clone(),
            files: Vec::new(),
        };
        checkpoint::save(
            run_dir,
            state,
            self.model(),
            &self.optimizer,
            self.settings.training.keep_checkpoints,
        )
    }
}

/// Training examples one optimizer step consumes.
fn examples_per_step(settings: &TrainSettings) -> u64 {
    (settings.training.batch_size * settings.training.accumulation_steps) as u64
}
