//! Training library and the `reformer` command.
//!
//! - [`settings`]: what a run is (model, data, optimisation), from JSON and flags.
//! - [`trainer`]: the optimizer step (accumulation, clipping, schedule, Adam) and
//!   [`run::train`], the loop with evaluation, checkpoints and interrupts.
//! - [`checkpoint`]: atomic checkpoints that resume exactly.
//! - [`evaluation`], [`generation`] and [`sampling`]: using a trained model.
//! - [`commands`]: each `reformer` subcommand, callable in-process.

pub mod checkpoint;
pub mod commands;
pub mod data;
pub mod error;
pub mod evaluation;
pub mod generation;
pub mod gradients;
pub mod progress;
pub mod run;
pub mod sampling;
pub mod schedule;
pub mod settings;
pub mod trainer;

pub use error::{Result, TrainError};
