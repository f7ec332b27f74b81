//! Checkpoints: everything a run needs to continue exactly, written atomically.
//!
//! A checkpoint is a folder `step-NNNNNNNN/` of the run folder holding `model.bpk` and
//! `optimizer.bpk` (Burn's burnpack format; parameter ids are kept, so the optimizer state
//! finds its parameters again) and `state.json` (step, data position, the run's settings and
//! a checksum of each file). It is written under a hidden `.partial` name, flushed to disk
//! and then renamed into place, so a crash or kill at any moment leaves either the complete
//! new checkpoint or none, and the previous checkpoints intact. Only then are checkpoints
//! beyond the newest `keep` deleted.
//!
//! The run's randomness (initial weights, data order, hashing and dropout of every step)
//! derives from `training.seed`, the step and the data position, so these three restore
//! the random state exactly.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{Bytes, Device};
use reformer_core::ReformerLm;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::settings::TrainSettings;

/// Version of the checkpoint layout.
const FORMAT: u32 = 1;
const MODEL_FILE: &str = "model.bpk";
const OPTIMIZER_FILE: &str = "optimizer.bpk";
const STATE_FILE: &str = "state.json";
const PREFIX: &str = "step-";

/// Size and FNV-1a checksum of a checkpoint file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// File name inside the checkpoint.
    pub name: String,
    /// Length in bytes.
    pub bytes: u64,
    /// FNV-1a 64-bit hash, hexadecimal.
    pub fnv1a64: String,
}

impl FileDigest {
    fn of(name: &str, data: &[u8]) -> Self {
        let hash = reformer_core::random::fnv1a64(data);
        Self {
            name: name.to_string(),
            bytes: data.len() as u64,
            fnv1a64: format!("{hash:016x}"),
        }
    }
}

/// `state.json`: where the run stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointState {
    /// Layout version.
    pub format: u32,
    /// Optimizer steps completed.
    pub step: u64,
    /// Training examples consumed (the data position).
    pub examples_seen: u64,
    /// The run's settings.
    pub settings: TrainSettings,
    /// The files and their checksums.
    pub files: Vec<FileDigest>,
}

/// A loaded checkpoint.
pub struct Checkpoint {
    /// Its folder.
    pub path: PathBuf,
    /// Where the run stood.
    pub state: CheckpointState,
    /// The model, on the device it was loaded to.
    pub model: ReformerLm,
    /// The optimizer's state.
    pub optimizer: OptimizerRecord,
}

fn folder_name(step: u64) -> String {
    format!("{PREFIX}{step:08}")
}

/// Writes `data` to `path` and flushes it to disk.
fn write_synced(path: &Path, data: &[u8]) -> Result<()> {
    let mut file = File::create(path).map_err(TrainError::io("cannot create", path))?;
    file.write_all(data)
        .and_then(|()| file.sync_all())
        .map_err(TrainError::io("cannot write", path))
}

/// Flushes a folder's entries (a rename inside it) to disk.
fn sync_folder(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|folder| folder.sync_all())
        .map_err(TrainError::io("cannot sync", path))
}

/// Writes a checkpoint of `model` and `optimizer` at `state.step` into `run_dir`, then
/// deletes all but the newest `keep` checkpoints. Returns the checkpoint's folder.
pub fn save(
    run_dir: &Path,
    mut state: CheckpointState,
    model: &ReformerLm,
    optimizer: &ModuleOptimizer,
    keep: usize,
) -> Result<PathBuf> {
    std::fs::create_dir_all(run_dir).map_err(TrainError::io("cannot create", run_dir))?;
    let name = folder_name(state.step);
    let partial = run_dir.join(format!(".{name}.partial"));
    let path = run_dir.join(&name);
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(TrainError::io("cannot remove", &partial))?;
    }
    std::fs::create_dir(&partial).map_err(TrainError::io("cannot create", &partial))?;

    let pack_error = |what: &str, e: String| {
        TrainError::checkpoint(&partial, format!("cannot encode the {what}: {e}"))
    };
    let mut store = BurnpackStore::from_bytes(None);
    model
        .save_into(&mut store)
        .map_err(|e| pack_error("model", e.to_string()))?;
    let model_bytes = store
        .get_bytes()
        .map_err(|e| pack_error("model", e.to_string()))?;
    let optimizer_bytes = optimizer
        .to_record()
        .into_bytes()
        .map_err(|e| pack_error("optimizer", e.to_string()))?;

    state.format = FORMAT;
    state.files = Vec::new();
    for (file, data) in [
        (MODEL_FILE, &model_bytes[..]),
        (OPTIMIZER_FILE, &optimizer_bytes[..]),
    ] {
        write_synced(&partial.join(file), data)?;
        state.files.push(FileDigest::of(file, data));
    }
    let json = serde_json::to_vec_pretty(&state).expect("the state serialises");
    write_synced(&partial.join(STATE_FILE), &json)?;
    sync_folder(&partial)?;

    if path.exists() {
        std::fs::remove_dir_all(&path).map_err(TrainError::io("cannot replace", &path))?;
    }
    std::fs::rename(&partial, &path).map_err(TrainError::io("cannot move into place", &partial))?;
    sync_folder(run_dir)?;
    prune(run_dir, keep)?;
    Ok(path)
}

/// The complete checkpoints of a run folder, oldest first, with their steps.
pub fn list(run_dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let entries = std::fs::read_dir(run_dir).map_err(TrainError::io("cannot read", run_dir))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(TrainError::io("cannot read", run_dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(step) = name
            .strip_prefix(PREFIX)
            .and_then(|s| s.parse::<u64>().ok())
            && entry.path().join(STATE_FILE).is_file()
        {
            found.push((step, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Deletes all but the newest `keep` checkpoints of a run folder.
fn prune(run_dir: &Path, keep: usize) -> Result<()> {
    let all = list(run_dir)?;
    for (_, path) in all.iter().take(all.len().saturating_sub(keep)) {
        std::fs::remove_dir_all(path).map_err(TrainError::io("cannot remove", path))?;
    }
    Ok(())
}

/// The checkpoint `path` names: a checkpoint folder itself, or the newest complete one of a
/// run folder.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    if path.join(STATE_FILE).is_file() {
        return Ok(path.to_path_buf());
    }
    if !path.is_dir() {
        return Err(TrainError::checkpoint(
            path,
            "no such folder; pass a run folder or one of its step-N checkpoints",
        ));
    }
    list(path)?.pop().map(|(_, newest)| newest).ok_or_else(|| {
        TrainError::checkpoint(path, "holds no complete checkpoint (no step-N/state.json)")
    })
}

/// Reads and verifies one file of a checkpoint.
fn read_verified(path: &Path, digest: &FileDigest) -> Result<Vec<u8>> {
    let file = path.join(&digest.name);
    let data = std::fs::read(&file).map_err(|e| {
        TrainError::checkpoint(
            &file,
            format!("cannot be read ({e}); the checkpoint is incomplete"),
        )
    })?;
    if FileDigest::of(&digest.name, &data) != *digest {
        return Err(TrainError::checkpoint(
            &file,
            "is corrupt (its size or checksum differs from state.json); resume from an \
             earlier checkpoint of the run",
        ));
    }
    Ok(data)
}

/// Loads the checkpoint at `path` (see [`resolve`]) with its model on `device`.
pub fn load(path: &Path, device: &Device) -> Result<Checkpoint> {
    let path = resolve(path)?;
    let state_path = path.join(STATE_FILE);
    let text = std::fs::read(&state_path).map_err(TrainError::io("cannot read", &state_path))?;
    let state: CheckpointState = serde_json::from_slice(&text).map_err(|e| {
        TrainError::checkpoint(&state_path, format!("is not a valid checkpoint state: {e}"))
    })?;
    if state.format != FORMAT {
        return Err(TrainError::checkpoint(
            &state_path,
            format!(
                "has layout version {}, this program reads {FORMAT}",
                state.format
            ),
        ));
    }
    let digest = |name: &str| {
        state
            .files
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| TrainError::checkpoint(&state_path, format!("lists no {name}")))
    };
    let model_bytes = read_verified(&path, digest(MODEL_FILE)?)?;
    let optimizer_bytes = read_verified(&path, digest(OPTIMIZER_FILE)?)?;

    let mut model = ReformerLm::new(&state.settings.model, device)?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(model_bytes)));
    let model_file = path.join(MODEL_FILE);
    let applied = model.load_from(&mut store).map_err(|e| {
        TrainError::checkpoint(
            &model_file,
            format!("does not match the model in state.json: {e}"),
        )
    })?;
    if !applied.errors.is_empty() || !applied.missing.is_empty() || !applied.unused.is_empty() {
        return Err(TrainError::checkpoint(
            &model_file,
            format!(
                "does not match the model in state.json (mis-shaped: {}, missing: {}, unused: {})",
                applied.errors.len(),
                applied.missing.len(),
                applied.unused.len()
            ),
        ));
    }
    // Burn materialises this state on its default device (`BURN_DEVICE`) and moves it to
    // the parameters' device at the next step.
    let optimizer = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(optimizer_bytes))
        .map_err(|e| TrainError::checkpoint(path.join(OPTIMIZER_FILE), e.to_string()))?;
    Ok(Checkpoint {
        path,
        state,
        model,
        optimizer,
    })
}
