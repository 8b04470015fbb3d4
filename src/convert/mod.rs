//! Weights tooling: converts the upstream models of WCT (PyTorch checkpoints or the authors'
//! Torch7 files) into one `wct-vgg19/1` safetensors file, and describes such files.
//!
//! - [`convert()`]: upstream files → one `wct-vgg19/1` file ([`ConvertOptions`], [`ConvertReport`]);
//! - [`read_state_dict`] / [`parse_state_dict`]: the legacy (pre-1.6, non-zip) `torch.save`
//!   format → named f32 tensors, through a small, safe pickle VM (no code is ever run);
//!   [`parse_t7_state_dict`]: the authors' Torch7 `.t7` models → their convolutions;
//! - [`keymap`]: upstream keys (`2.weight`, `seq.conv3_1.weight`) → layout names, driven by
//!   [`crate::model::architecture`];
//! - [`UpstreamFiles`], [`read_checkpoint`], [`assemble`]: the upstream files of a folder, one
//!   file read (`.pth` or `.t7`), encoder and decoders assembled;
//! - [`to_safetensors_bytes`] / [`write_validated`]: the reproducible safetensors writer (f32 or
//!   f16 storage);
//! - [`inspect()`]: metadata, tensors and sha256 of a validated file.
//! - [`install()`]: converts or verifies, then puts the file in the per-user weights folder.
//!
//! ```no_run
//! use unistyle::convert::{convert, ConvertOptions};
//! # fn main() -> unistyle::Result<()> {
//! let report = convert("upstream".as_ref(), "weights/wct-vgg19.safetensors".as_ref(), &ConvertOptions::default())?;
//! println!("levels {:?}, sha256 {}", report.levels, report.sha256);
//! # Ok(()) }
//! ```

mod inspect;
mod install;
pub mod keymap;
mod pickle;
mod storage;
mod torch7;
mod torch_legacy;
mod upstream;
mod writer;

use std::path::{Path, PathBuf};

pub use crate::hash::sha256_hex;
pub use inspect::{inspect, TensorInfo, WeightsInfo};
pub use install::{install, installed_name, InstallReport};
/// Parses a Torch7 `.t7` file held in memory (as [`parse_state_dict`] does a PyTorch `.pth`).
pub use torch7::parse_state_dict as parse_t7_state_dict;
pub use torch_legacy::{parse_state_dict, read_state_dict, StateDict, TensorData};
pub use upstream::{assemble, read_checkpoint, Assembled, UpstreamFiles};
pub use writer::{layout_metadata, to_safetensors_bytes, write_validated, StorageDtype};

use crate::error::Result;

/// What [`convert`] should produce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConvertOptions {
    /// Storage type of the output (loading always yields f32).
    pub dtype: StorageDtype,
    /// Decoder levels to include (default: every level whose decoder file is present).
    pub levels: Option<Vec<usize>>,
}

/// What [`convert`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertReport {
    /// The file written.
    pub out: PathBuf,
    /// Decoder levels in it, ascending.
    pub levels: Vec<usize>,
    /// Number of tensors written.
    pub tensors: usize,
    /// Storage type of the tensors.
    pub dtype: StorageDtype,
    /// Upstream file names read.
    pub sources: Vec<String>,
    /// Hex sha256 of the written file.
    pub sha256: String,
}

/// The `source` metadata recorded for a set of upstream files.
pub fn source_description(sources: &[String]) -> String {
    format!("upstream WCT models ({}), converted by unistyle {}", sources.join(", "), env!("CARGO_PKG_VERSION"))
}

/// Converts the upstream files in `from` into the safetensors bytes of a `wct-vgg19/1` file
/// (not yet validated; `out` only labels messages).
pub fn convert_to_bytes(from: &Path, out: &Path, options: &ConvertOptions) -> Result<(Assembled, Vec<u8>)> {
    let files = UpstreamFiles::find(from)?;
    let assembled = assemble(&files, options.levels.as_deref())?;
    let metadata = layout_metadata(&assembled.levels, options.dtype, &source_description(&assembled.sources));
    let bytes = to_safetensors_bytes(&assembled.tensors, &metadata, options.dtype, out)?;
    Ok((assembled, bytes))
}

/// Converts the upstream files in `from` and writes `out` atomically, after checking the
/// result against the layout. On error nothing is written.
pub fn convert(from: &Path, out: &Path, options: &ConvertOptions) -> Result<ConvertReport> {
    let (assembled, bytes) = convert_to_bytes(from, out, options)?;
    write_validated(&bytes, out)?;
    Ok(ConvertReport {
        out: out.to_path_buf(),
        levels: assembled.levels,
        tensors: assembled.tensors.len(),
        dtype: options.dtype,
        sources: assembled.sources,
        sha256: sha256_hex(&bytes),
    })
}
