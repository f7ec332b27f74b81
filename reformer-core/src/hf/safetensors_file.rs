//! Reading named tensors out of a safetensors file.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use crate::error::{ReformerError, Result};

/// A safetensors file held in memory.
pub struct SafetensorsFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl SafetensorsFile {
    /// Reads the file; an unreadable or malformed file is an error naming it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let bytes = std::fs::read(&path).map_err(|source| ReformerError::Io {
            path: path.clone(),
            source,
        })?;
        Self::from_bytes(path, bytes)
    }

    /// Parses `bytes`; `path` names their origin in errors.
    pub fn from_bytes(path: PathBuf, bytes: Vec<u8>) -> Result<Self> {
        let file = Self { path, bytes };
        file.parse()?;
        Ok(file)
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn parse(&self) -> Result<SafeTensors<'_>> {
        SafeTensors::deserialize(&self.bytes).map_err(|e| ReformerError::Weights {
            path: self.path.clone(),
            reason: format!("not a valid safetensors file: {e}"),
        })
    }

    /// The names of the tensors in the file.
    pub fn names(&self) -> Vec<String> {
        self.parse()
            .map(|t| t.names().into_iter().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// A safetensors file, in memory, of the tensors whose names start with `prefix`, with the
    /// prefix removed.
    pub fn subset(&self, prefix: &str) -> Result<Vec<u8>> {
        let tensors = self.parse()?;
        let views: Vec<(String, _)> = tensors
            .tensors()
            .into_iter()
            .filter_map(|(name, view)| name.strip_prefix(prefix).map(|n| (n.to_string(), view)))
            .collect();
        safetensors::serialize(views, None).map_err(|e| ReformerError::Weights {
            path: self.path.clone(),
            reason: format!("cannot re-serialize tensors `{prefix}*`: {e}"),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file holds a tensor called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.names().iter().any(|n| n == name)
    }

    fn bad(&self, name: &str, reason: String) -> ReformerError {
        ReformerError::BadTensor {
            path: self.path.clone(),
            name: name.to_string(),
            reason,
        }
    }

    /// Raw little-endian bytes, dtype and shape of `name`, the shape checked to have rank `D`.
    fn raw<const D: usize>(&self, name: &str) -> Result<(Dtype, [usize; D], Vec<u8>)> {
        let tensors = self.parse()?;
        let view = tensors
            .tensor(name)
            .map_err(|_| ReformerError::MissingTensor {
                path: self.path.clone(),
                name: name.to_string(),
            })?;
        let shape: [usize; D] = view.shape().try_into().map_err(|_| {
            self.bad(
                name,
                format!("has shape {:?}, expected rank {D}", view.shape()),
            )
        })?;
        Ok((view.dtype(), shape, view.data().to_vec()))
    }

    /// A float32 tensor.
    pub fn float<const D: usize>(&self, name: &str, device: &Device) -> Result<Tensor<D>> {
        let (dtype, shape, bytes) = self.raw::<D>(name)?;
        if dtype != Dtype::F32 {
            return Err(self.bad(name, format!("has dtype {dtype:?}, expected F32")));
        }
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// An integer tensor (int64 or int32 in the file).
    pub fn int<const D: usize>(&self, name: &str, device: &Device) -> Result<Tensor<D, Int>> {
        let (dtype, shape, bytes) = self.raw::<D>(name)?;
        let values: Vec<i64> = match dtype {
            Dtype::I64 => bytes
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect(),
            Dtype::I32 => bytes
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes(b.try_into().expect("4 bytes")) as i64)
                .collect(),
            other => return Err(self.bad(name, format!("has dtype {other:?}, expected I64"))),
        };
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }
}
