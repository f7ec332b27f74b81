//! Interoperability with HuggingFace's Reformer: checkpoints and reference fixtures.

mod fixture;
mod safetensors_file;
mod weights;

pub use fixture::{HfFixture, ParityReport, relative_error};
pub use safetensors_file::SafetensorsFile;
