//! A style image encoded once: the statistics of its features at every level, taken from a
//! single pass through the encoder trunk, tile by tile for large styles.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::image_io::Picture;
use super::budget;
use super::stylize::MIN_TILE;
use super::tiling::{extract, scale, TilePlan, DEFAULT_TILE};
use crate::model::Model;
use crate::progress::{step, Progress, Silent};
use crate::transform::{Accumulator, Stats};

/// Per-level feature statistics of one style image; reusable across many content images.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedStyle {
    levels: BTreeMap<usize, Stats>,
}

impl EncodedStyle {
    /// Encodes `picture` once and keeps the statistics of each of `levels`, tile by tile as
    /// [`EncodedStyle::encode_tiled`] with the default tile size and no progress reports.
    pub fn encode(model: &Model, picture: &Picture, levels: &[usize]) -> Result<Self> {
        Self::encode_tiled(model, picture, levels, DEFAULT_TILE, &mut Silent)
    }

    /// Encodes `picture` in tiles of at most `tile` pixels a side (each with a halo covering
    /// the encoder's receptive field, so the statistics are those of the whole image), adding
    /// up every level's statistics over the tiles' cores. Memory stays that of one tile,
    /// whatever the style's size. Reports progress after each tile and stops on cancel.
    pub fn encode_tiled(
        model: &Model,
        picture: &Picture,
        levels: &[usize],
        tile: usize,
        progress: &mut dyn Progress,
    ) -> Result<Self> {
        let Some(&top) = levels.iter().max() else {
            return Err(Error::param("levels", "no level given"));
        };
        for &l in levels {
            model.check_level(l)?;
        }
        if tile < MIN_TILE {
            return Err(Error::param("tile size", format!("must be at least {MIN_TILE} pixels, got {tile}")));
        }
        picture.check("style image")?;
        let (w, h) = (picture.width, picture.height);
        budget::check("style image", budget::style_estimate(w, h, top, tile))?;
        step(progress, 0.0)?;
        let plan = TilePlan::for_encoder(w, h, top, tile);
        let dev = model.device();
        let mut accs: BTreeMap<usize, Accumulator> = BTreeMap::new();
        let count = plan.tiles.len() as f32;
        for (i, t) in plan.tiles.iter().enumerate() {
            let x = extract(&picture.rgb, w, h, t, dev)?;
            let taps = model.encode(&x, top, plan.border)?;
            drop(x);
            for &l in levels {
                let f = &taps[l - 1];
                let (_, c, fh, fw) = f.dims4()?;
                let s = scale(l);
                let (_, _, cw, ch) = t.core_features(s);
                let (ox, oy) = t.core_offset_features(s);
                let core = f.reshape((c, fh, fw))?.narrow(1, oy, ch)?.narrow(2, ox, cw)?.reshape((c, cw * ch))?;
                accs.entry(l).or_insert_with(|| Accumulator::new(c)).add(&core)?;
            }
            drop(taps);
            step(progress, (i + 1) as f32 / count)?;
        }
        let mut out = BTreeMap::new();
        for (l, acc) in accs {
            out.insert(l, acc.finish()?);
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
