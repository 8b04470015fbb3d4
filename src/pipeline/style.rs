//! A style image encoded once: the statistics of its features at every level, taken from a
//! single pass through the encoder trunk (one pass per stroke scale), and — for patch swap —
//! its feature maps at one level.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::stroke_scale::rescale;
use crate::error::{Error, Result};
use crate::image_io::Picture;
use crate::model::{Border, Model};
use crate::transform::{Accumulator, Stats};

/// How a style image is encoded beyond its statistics at native scale.
#[derive(Debug, Clone, PartialEq)]
pub struct StyleEncoding {
    /// Scales the image is taken at; the features of all are pooled (`[1]`: as given).
    pub stroke_scale: Vec<f64>,
    /// Keep the feature maps of this level (patch swap needs them at the coarsest level).
    pub patch_level: Option<usize>,
}

impl Default for StyleEncoding {
    fn default() -> Self {
        Self {
            stroke_scale: vec![1.0],
            patch_level: None,
        }
    }
}

impl StyleEncoding {
    /// The encoding a job needs: its stroke scales, and the coarsest of `levels` when
    /// patch swap is on.
    pub fn for_job(stroke_scale: &[f64], patch_swap: bool, levels: &[usize]) -> Self {
        Self {
            stroke_scale: stroke_scale.to_vec(),
            patch_level: if patch_swap {
                levels.iter().max().copied()
            } else {
                None
            },
        }
    }

    /// Whether this is the plain encoding (native scale, statistics only).
    pub fn is_plain(&self) -> bool {
        *self == Self::default()
    }
}

/// A style's feature map at one level and scale, `[C, height·width]` row-major f32.
#[derive(Clone, PartialEq)]
pub struct FeatureMaps {
    pub level: usize,
    pub channels: usize,
    /// `(width, height, values)` per stroke scale.
    pub maps: Vec<(usize, usize, Arc<Vec<f32>>)>,
}

impl std::fmt::Debug for FeatureMaps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<(usize, usize)> = self.maps.iter().map(|(w, h, _)| (*w, *h)).collect();
        write!(
            f,
            "FeatureMaps {{ level: {}, channels: {}, sizes: {sizes:?} }}",
            self.level, self.channels
        )
    }
}

/// Per-level feature statistics of one style image; reusable across many content images.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedStyle {
    levels: BTreeMap<usize, Stats>,
    features: Option<FeatureMaps>,
}

impl EncodedStyle {
    /// Encodes `picture` once and keeps the statistics of each of `levels`.
    pub fn encode(model: &Model, picture: &Picture, levels: &[usize]) -> Result<Self> {
        Self::encode_with(model, picture, levels, &StyleEncoding::default())
    }

    /// Encodes `picture` at each stroke scale of `encoding` (statistics pooled over the
    /// scales) and keeps the feature maps `encoding.patch_level` asks for.
    pub fn encode_with(
        model: &Model,
        picture: &Picture,
        levels: &[usize],
        encoding: &StyleEncoding,
    ) -> Result<Self> {
        let Some(&top) = levels.iter().chain(&encoding.patch_level).max() else {
            return Err(Error::param("levels", "no level given"));
        };
        for &l in levels.iter().chain(&encoding.patch_level) {
            model.check_level(l)?;
        }
        picture.check("style image")?;
        super::modes::check_stroke_scale(&encoding.stroke_scale)?;
        let mut acc: BTreeMap<usize, Accumulator> = BTreeMap::new();
        let mut features = encoding.patch_level.map(|level| FeatureMaps {
            level,
            channels: 0,
            maps: Vec::new(),
        });
        for &scale in &encoding.stroke_scale {
            let scaled = rescale(picture, scale)?;
            let taps = model.encode(&scaled.to_tensor(model.device())?, top, Border::Reflect)?;
            for &l in levels {
                let f = &taps[l - 1];
                let (_, c, h, w) = f.dims4()?;
                acc.entry(l)
                    .or_insert_with(|| Accumulator::new(c))
                    .add(&f.reshape((c, h * w))?)?;
            }
            if let Some(fm) = features.as_mut() {
                let f = &taps[fm.level - 1];
                let (_, c, h, w) = f.dims4()?;
                let values: Vec<f32> = f
                    .to_dtype(candle_core::DType::F32)?
                    .flatten_all()?
                    .to_vec1()?;
                fm.channels = c;
                fm.maps.push((w, h, Arc::new(values)));
            }
        }
        let levels = acc
            .into_iter()
            .map(|(l, a)| Ok((l, a.finish()?)))
            .collect::<Result<_>>()?;
        Ok(Self { levels, features })
    }

    /// Builds a style from statistics computed elsewhere (e.g. a cache).
    pub fn from_stats(levels: BTreeMap<usize, Stats>) -> Self {
        Self {
            levels,
            features: None,
        }
    }

    /// The statistics at `level`, if this style was encoded for it.
    pub fn stats(&self, level: usize) -> Option<&Stats> {
        self.levels.get(&level)
    }

    /// The feature maps kept for patch swap at `level`, if any.
    pub fn features(&self, level: usize) -> Option<&FeatureMaps> {
        self.features.as_ref().filter(|f| f.level == level)
    }

    /// Levels this style has statistics for.
    pub fn levels(&self) -> Vec<usize> {
        self.levels.keys().copied().collect()
    }
}
