//! A style image encoded once: the statistics of its features at every level, taken from a
//! single pass through the encoder trunk.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::image_io::Picture;
use crate::model::{Border, Model};
use crate::transform::Stats;

/// Per-level feature statistics of one style image; reusable across many content images.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedStyle {
    levels: BTreeMap<usize, Stats>,
}

impl EncodedStyle {
    /// Encodes `picture` once and keeps the statistics of each of `levels`.
    pub fn encode(model: &Model, picture: &Picture, levels: &[usize]) -> Result<Self> {
        let Some(&top) = levels.iter().max() else {
            return Err(Error::param("levels", "no level given"));
        };
        for &l in levels {
            model.check_level(l)?;
        }
        picture.check("style image")?;
        let taps = model.encode(&picture.to_tensor(model.device())?, top, Border::Reflect)?;
        let mut out = BTreeMap::new();
        for &l in levels {
            let f = &taps[l - 1];
            let (_, c, h, w) = f.dims4()?;
            let stats = Stats::of(&f.reshape((c, h * w))?)?;
            out.insert(l, stats);
        }
        Ok(Self { levels: out })
    }

    /// Builds a style from statistics computed elsewhere (e.g. a cache).
    pub fn from_stats(levels: BTreeMap<usize, Stats>) -> Self {
        Self { levels }
    }

    /// The statistics at `level`, if this style was encoded for it.
    pub fn stats(&self, level: usize) -> Option<&Stats> {
        self.levels.get(&level)
    }

    /// Levels this style has statistics for.
    pub fn levels(&self) -> Vec<usize> {
        self.levels.keys().copied().collect()
    }
}
