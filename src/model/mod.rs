//! The WCT model: a VGG-19 encoder trunk and per-level reconstruction decoders, loaded
//! from one `wct-vgg19/1` safetensors file (see `weights/README.md`).

pub mod architecture;
mod decoder;
mod encoder;
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod layers;
#[cfg(not(feature = "bench-internals"))]
mod layers;
pub mod weights;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

pub use crate::kernels::{Border, Precision};
pub use architecture::{CHANNELS, MAX_LEVEL};
use decoder::Decoder;
use encoder::Encoder;
pub use weights::{WeightsFile, FORMAT};

use crate::error::{Error, Result};
use crate::kernels::buffers::BufferPool;
use crate::kernels::pass::Pass;

/// Encoder and decoders on one device, with the pool their CPU activations are drawn from
/// (shared by clones, kept across runs; see `kernels::buffers`).
#[derive(Debug, Clone)]
pub struct Model {
    device: Device,
    encoder: Encoder,
    decoders: BTreeMap<usize, Decoder>,
    source: PathBuf,
    content_hash: String,
    pool: Arc<BufferPool>,
}

impl Model {
    /// Loads and validates a weights file onto `device`.
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        Self::from_weights(WeightsFile::open(path.as_ref())?, device)
    }

    /// Builds the networks from an already validated file.
    pub fn from_weights(file: WeightsFile, device: &Device) -> Result<Self> {
        let path = file.path.clone();
        let wrap = |e: candle_core::Error| Error::Weights { path: path.clone(), reason: e.to_string() };
        let mut tensors = std::collections::HashMap::with_capacity(file.tensors.len());
        for (name, t) in file.tensors {
            tensors.insert(name, t.to_device(device).map_err(wrap)?);
        }
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let encoder = Encoder::new(&vb.pp("encoder"), file.encoder_level).map_err(wrap)?;
        let mut decoders = BTreeMap::new();
        for &k in &file.levels {
            decoders.insert(k, Decoder::new(&vb.pp(format!("decoder{k}")), k).map_err(wrap)?);
        }
        Ok(Self {
            device: device.clone(),
            encoder,
            decoders,
            source: file.path,
            content_hash: file.content_hash,
            pool: Arc::default(),
        })
    }

    /// The device the networks live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The file the weights came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// SHA-256 (lowercase hex) of the weights file this model was loaded from.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// Levels with a decoder, ascending.
    pub fn levels(&self) -> Vec<usize> {
        self.decoders.keys().copied().collect()
    }

    /// Fails with a clear message when `level` has no decoder.
    pub fn check_level(&self, level: usize) -> Result<()> {
        if self.decoders.contains_key(&level) && level <= self.encoder.max_level() {
            Ok(())
        } else {
            Err(Error::MissingLevel {
                level,
                available: self.levels().iter().map(|l| l.to_string()).collect::<Vec<_>>().join(","),
            })
        }
    }

    fn pass(&self, border: Border, precision: Precision) -> Pass<'_> {
        Pass { border, precision, pool: &self.pool }
    }

    /// Encodes `[1, 3, H, W]` RGB (0..1) and returns relu1_1 … relu{upto}_1.
    pub fn encode(&self, image: &Tensor, upto: usize, border: Border) -> Result<Vec<Tensor>> {
        self.encode_with(image, upto, border, Precision::F32)
    }

    /// As [`Self::encode`], at `precision`.
    pub fn encode_with(
        &self,
        image: &Tensor,
        upto: usize,
        border: Border,
        precision: Precision,
    ) -> Result<Vec<Tensor>> {
        if upto > self.encoder.max_level() {
            self.check_level(upto)?;
        }
        let taps = self.encoder.taps(image, upto, &|_| true, self.pass(border, precision))?;
        taps.into_iter().map(|t| t.ok_or_else(|| Error::Tensor("a tap was not kept".into()))).collect()
    }

    /// Encodes `[1, 3, H, W]` RGB (0..1) and returns relu{level}_1 alone (no copy of the
    /// shallower taps is made).
    pub fn encode_level(&self, image: &Tensor, level: usize, border: Border, precision: Precision) -> Result<Tensor> {
        if level == 0 || level > self.encoder.max_level() {
            self.check_level(level)?;
        }
        let taps = self.encoder.taps(image, level, &|l| l == level, self.pass(border, precision))?;
        taps.into_iter().last().flatten().ok_or_else(|| Error::Tensor(format!("level {level} was not encoded")))
    }

    /// Decodes relu{level}_1 features to `[1, 3, height, width]` RGB.
    pub fn decode(
        &self,
        level: usize,
        features: &Tensor,
        height: usize,
        width: usize,
        border: Border,
    ) -> Result<Tensor> {
        self.decode_with(level, features, height, width, border, Precision::F32)
    }

    /// As [`Self::decode`], at `precision`.
    pub fn decode_with(
        &self,
        level: usize,
        features: &Tensor,
        height: usize,
        width: usize,
        border: Border,
        precision: Precision,
    ) -> Result<Tensor> {
        self.check_level(level)?;
        self.decoders[&level].forward_pass(features, height, width, self.pass(border, precision))
    }
}
