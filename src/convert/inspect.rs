//! What is in a `wct-vgg19/1` file: validation result, metadata, tensors and a content hash.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::SafeTensors;

use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::model::weights::WeightsFile;

/// One tensor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Tensor name, e.g. `encoder.conv1_1.weight`.
    pub name: String,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Stored element type, e.g. `F32`.
    pub dtype: String,
}

/// A validated weights file, described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightsInfo {
    /// The file described.
    pub path: PathBuf,
    /// File size in bytes.
    pub size: u64,
    /// Lowercase hex sha256 of the whole file.
    pub sha256: String,
    /// Decoder levels, ascending.
    pub levels: Vec<usize>,
    /// Deepest level the encoder reaches.
    pub encoder_level: usize,
    /// Header metadata (`format`, `levels`, `dtype`, `source`, …).
    pub metadata: BTreeMap<String, String>,
    /// Sorted by name.
    pub tensors: Vec<TensorInfo>,
}

/// Reads `path`, validates it against the layout and describes it.
pub fn inspect(path: &Path) -> Result<WeightsInfo> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        what: "cannot read weights",
        path: path.to_path_buf(),
        source,
    })?;
    let file = WeightsFile::from_bytes(&bytes, path)?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::Weights { path: path.to_path_buf(), reason: e.to_string() })?;
    let mut tensors: Vec<TensorInfo> = st
        .tensors()
        .into_iter()
        .map(|(name, view)| TensorInfo { name, shape: view.shape().to_vec(), dtype: format!("{:?}", view.dtype()) })
        .collect();
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(WeightsInfo {
        path: path.to_path_buf(),
        size: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
        levels: file.levels,
        encoder_level: file.encoder_level,
        metadata: file.metadata.into_iter().collect(),
        tensors,
    })
}
