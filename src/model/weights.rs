//! Opening and validating `wct-vgg19/1` safetensors files before anything is built from them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use safetensors::{Dtype, SafeTensors};

use super::architecture::{decoder_tensors, encoder_tensors, MAX_LEVEL};
use crate::error::{Error, Result};

/// The layout identifier stored in the header metadata under `format`.
pub const FORMAT: &str = "wct-vgg19/1";

/// Largest weights file read: a complete five-level `wct-vgg19/1` file in f32 is about
/// 140 MiB, so anything above 1 GiB is refused before it is read into memory.
pub const MAX_WEIGHTS_BYTES: u64 = 1 << 30;

/// A validated weights file, its tensors converted to f32 on the CPU.
pub struct WeightsFile {
    /// The file read.
    pub path: PathBuf,
    /// Levels whose decoder is present, ascending.
    pub levels: Vec<usize>,
    /// Highest level the encoder trunk reaches.
    pub encoder_level: usize,
    /// Every tensor by its layout name (`encoder.conv1_1.weight`, …), f32 on the CPU.
    pub tensors: HashMap<String, Tensor>,
    /// Header metadata (`format`, `levels`, `dtype`, `source`, …).
    pub metadata: HashMap<String, String>,
    /// SHA-256 of the file's bytes (lowercase hex): identifies the weights, e.g. in the style cache.
    pub content_hash: String,
}

fn levels_string(levels: &[usize]) -> String {
    levels.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(",")
}

/// What a safetensors header error means for the file at hand.
fn header_problem(e: &safetensors::SafeTensorError, len: usize) -> String {
    use safetensors::SafeTensorError as E;
    match e {
        E::MetadataIncompleteBuffer => {
            format!("truncated or with bytes appended (its {len} bytes are not the tensor data its header describes)")
        }
        E::InvalidHeaderLength => format!(
            "truncated, or no safetensors file at all (its header would run past the end of the {len}-byte file)"
        ),
        E::HeaderTooLarge | E::HeaderTooSmall => format!("no safetensors header at the start ({e})"),
        e => format!("{e}"),
    }
}

impl WeightsFile {
    /// Reads and validates `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::from_bytes(&Self::read_bytes(path)?, path)
    }

    /// The bytes of the file at `path`, refused unread when it is not a regular file (a
    /// folder, a FIFO, a device…) or larger than any weights file ([`MAX_WEIGHTS_BYTES`]);
    /// read with that bound whatever the file claims. Not validated.
    pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
        crate::input_file::read_bounded(path, MAX_WEIGHTS_BYTES).map_err(|source| match source.kind() {
            std::io::ErrorKind::InvalidInput if path.is_dir() => {
                Error::weights(path, "is a directory, not a .safetensors file")
            }
            std::io::ErrorKind::InvalidInput => Error::weights(path, source.to_string()),
            _ => Error::Io { what: "cannot read weights", path: path.to_path_buf(), source },
        })
    }

    /// Validates an in-memory safetensors file; `path` only labels messages.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::weights(path, "the file is empty"));
        }
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| {
            Error::weights(path, format!("not a valid safetensors file: {}", header_problem(&e, bytes.len())))
        })?;
        let metadata = header.metadata().clone().unwrap_or_default();
        match metadata.get("format") {
            Some(f) if f == FORMAT => {}
            Some(f) => return Err(Error::weights(path, format!("format is '{f}', expected '{FORMAT}'"))),
            None => return Err(Error::weights(path, format!("header metadata has no 'format' (expected '{FORMAT}')"))),
        }
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| Error::weights(path, format!("corrupt or truncated safetensors data ({e})")))?;

        let present: BTreeSet<String> = st.names().into_iter().map(|s| s.to_string()).collect();
        let levels: Vec<usize> =
            (1..=MAX_LEVEL).filter(|k| present.iter().any(|n| n.starts_with(&format!("decoder{k}.")))).collect();
        let Some(&top) = levels.last() else {
            return Err(Error::weights(path, "it holds no decoder (no 'decoder1.' … 'decoder5.' tensors)"));
        };
        if let Some(declared) = metadata.get("levels") {
            let declared: Vec<usize> = declared
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().parse::<usize>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| Error::weights(path, format!("metadata levels '{declared}' is not a list of numbers")))?;
            if declared != levels {
                return Err(Error::weights(
                    path,
                    format!(
                        "metadata says levels {} but the file has decoders for {}",
                        levels_string(&declared),
                        levels_string(&levels)
                    ),
                ));
            }
        }
        let encoder_level =
            (top..=MAX_LEVEL).rev().find(|&k| present.contains(&format!("encoder.conv{k}_1.weight"))).unwrap_or(top);

        let mut expected: Vec<(String, Vec<usize>)> = encoder_tensors(encoder_level);
        for &k in &levels {
            expected.extend(decoder_tensors(k));
        }
        let known: BTreeSet<String> = encoder_tensors(MAX_LEVEL)
            .into_iter()
            .chain((1..=MAX_LEVEL).flat_map(decoder_tensors))
            .map(|(n, _)| n)
            .collect();
        if let Some(extra) = present.iter().find(|n| !known.contains(*n)) {
            return Err(Error::weights(path, format!("unexpected tensor '{extra}' (not part of {FORMAT})")));
        }

        let mut tensors = HashMap::with_capacity(expected.len());
        for (name, shape) in expected {
            let view = st.tensor(&name).map_err(|_| Error::weights(path, format!("missing tensor '{name}'")))?;
            if view.shape() != shape.as_slice() {
                return Err(Error::weights(
                    path,
                    format!("tensor '{name}' has shape {:?}, expected {:?}", view.shape(), shape),
                ));
            }
            let dtype = match view.dtype() {
                Dtype::F32 => DType::F32,
                Dtype::F16 => DType::F16,
                Dtype::BF16 => DType::BF16,
                other => {
                    return Err(Error::weights(
                        path,
                        format!("tensor '{name}' is {other:?}; expected F32 (or F16/BF16)"),
                    ))
                }
            };
            let t = Tensor::from_raw_buffer(view.data(), dtype, &shape, &Device::Cpu)
                .and_then(|t| t.to_dtype(DType::F32))
                .map_err(|e| Error::weights(path, format!("tensor '{name}': {e}")))?;
            let finite = t
                .abs()
                .and_then(|a| a.max_all())
                .and_then(|m| m.to_scalar::<f32>())
                .map(|m| m.is_finite())
                .unwrap_or(false);
            if !finite {
                return Err(Error::weights(path, format!("tensor '{name}' holds NaN or infinite values")));
            }
            tensors.insert(name, t);
        }
        Ok(Self {
            path: path.to_path_buf(),
            levels,
            encoder_level,
            tensors,
            metadata,
            content_hash: crate::hash::sha256_hex(bytes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors file of one 1-element f32 tensor named `name` (a JSON string body).
    fn one_tensor(name_json: &str) -> Vec<u8> {
        let header = format!(
            "{{\"__metadata__\":{{\"format\":\"{FORMAT}\"}},\"{name_json}\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}}}"
        );
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header.as_bytes());
        bytes.extend(1f32.to_le_bytes());
        bytes
    }

    #[test]
    fn names_from_the_file_are_quoted_on_one_line() {
        let Err(e) = WeightsFile::from_bytes(&one_tensor("decoder1.x\\ny\\u001b[31m"), Path::new("w.safetensors"))
        else {
            panic!("accepted a stray tensor");
        };
        let msg = e.to_string();
        assert!(msg.contains("unexpected tensor 'decoder1.x\\ny\\u{1b}[31m'"), "{msg}");
        assert!(!msg.chars().any(char::is_control), "{msg:?}");
    }
}
