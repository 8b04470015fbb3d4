//! A style image encoded once: the statistics of its features at every level, taken from a
//! single pass through the encoder trunk (one pass per stroke scale), tile by tile for large
//! styles, and — for patch swap — its feature maps at one level.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::budget;
use super::stroke_scale::{rescale, rescale_bytes, scaled_size, MIN_SCALED_SIDE};
use super::stylize::MIN_TILE;
use super::tiling::{extract, scale, TilePlan, DEFAULT_TILE, STYLE_TILE};
use crate::error::{try_zeroed, Error, Result};
use crate::image_io::Picture;
use crate::model::architecture::CHANNELS;
use crate::model::Model;
use crate::progress::{probed, step, Progress, Silent};
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
        Self { stroke_scale: vec![1.0], patch_level: None }
    }
}

impl StyleEncoding {
    /// The encoding a job needs: its stroke scales, and the coarsest of `levels` when
    /// patch swap is on.
    pub fn for_job(stroke_scale: &[f64], patch_swap: bool, levels: &[usize]) -> Self {
        Self {
            stroke_scale: stroke_scale.to_vec(),
            patch_level: if patch_swap { levels.iter().max().copied() } else { None },
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
        write!(f, "FeatureMaps {{ level: {}, channels: {}, sizes: {sizes:?} }}", self.level, self.channels)
    }
}

/// Per-level feature statistics of one style image; reusable across many content images.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedStyle {
    levels: BTreeMap<usize, Stats>,
    features: Option<FeatureMaps>,
}

impl EncodedStyle {
    /// Encodes `picture` once and keeps the statistics of each of `levels`, tile by tile as
    /// [`EncodedStyle::encode_tiled`] with the default tile size and no progress reports.
    pub fn encode(model: &Model, picture: &Picture, levels: &[usize]) -> Result<Self> {
        Self::encode_tiled_with(model, picture, levels, &StyleEncoding::default(), DEFAULT_TILE, &mut Silent)
    }

    /// Encodes `picture` in tiles of at most `tile` (and at most [`STYLE_TILE`]) pixels a side (each with a halo covering
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
        Self::encode_tiled_with(model, picture, levels, &StyleEncoding::default(), tile, progress)
    }

    /// Encodes `picture` at each stroke scale of `encoding` (statistics pooled over the
    /// scales) and keeps the feature maps `encoding.patch_level` asks for.
    pub fn encode_with(model: &Model, picture: &Picture, levels: &[usize], encoding: &StyleEncoding) -> Result<Self> {
        Self::encode_tiled_with(model, picture, levels, encoding, DEFAULT_TILE, &mut Silent)
    }

    /// [`EncodedStyle::encode_with`] in tiles of at most `tile` pixels a side, as
    /// [`EncodedStyle::encode_tiled`]: progress after each tile (of every stroke scale), cancel
    /// honoured between tiles; the patch-swap feature maps are assembled from the tiles' cores.
    pub fn encode_tiled_with(
        model: &Model,
        picture: &Picture,
        levels: &[usize],
        encoding: &StyleEncoding,
        tile: usize,
        progress: &mut dyn Progress,
    ) -> Result<Self> {
        let Some(&top) = levels.iter().chain(&encoding.patch_level).max() else {
            return Err(Error::param("levels", "no level given"));
        };
        for &l in levels.iter().chain(&encoding.patch_level) {
            model.check_level(l)?;
        }
        if tile < MIN_TILE {
            return Err(Error::param("tile size", format!("must be at least {MIN_TILE} pixels, got {tile}")));
        }
        let tile = tile.min(STYLE_TILE);
        picture.check("style image")?;
        super::modes::check_stroke_scale(&encoding.stroke_scale)?;
        step(progress, 0.0)?;
        let mut accs: BTreeMap<usize, Accumulator> = BTreeMap::new();
        let mut features = encoding.patch_level.map(|level| FeatureMaps { level, channels: 0, maps: Vec::new() });
        let scales = encoding.stroke_scale.len() as f32;
        for (si, &stroke) in encoding.stroke_scale.iter().enumerate() {
            let (w, h) = scaled_size(picture, stroke)?;
            // Patch swap's map comes from a smaller copy when the style's own would be too large.
            let map_size = encoding.patch_level.map(|l| patch_map_source(w, h, l));
            let separate_map = map_size.filter(|&size| size != (w, h));
            let mut need = budget::style_estimate(w, h, top, tile) + rescale_bytes(picture, w, h);
            if let (Some(l), Some((mw, mh))) = (encoding.patch_level, map_size) {
                need += patch_map_bytes(mw, mh, l) + separate_map.map_or(0, |_| rescale_bytes(picture, mw, mh));
            }
            budget::check("style image", need)?;
            // Each stroke scale's share of the progress (a separate map pass counts a quarter).
            let passes = 1.0 + separate_map.map_or(0.0, |_| 0.25);
            let at = |pass: f32, f: f32| (si as f32 + (pass + f) / passes) / scales;
            let scaled = rescale(picture, stroke, &mut |f| step(progress, at(0.0, 0.0 * f)))?;
            let map_here = if separate_map.is_none() { encoding.patch_level } else { None };
            let map = encode_pass(model, &scaled, levels, map_here, top, tile, &mut accs, &mut |f| {
                step(progress, at(0.0, f))
            })?;
            drop(scaled);
            let map = match (separate_map, encoding.patch_level) {
                (Some((mw, mh)), Some(l)) => {
                    let small = picture.resized_with(mw, mh, &mut |_| step(progress, at(1.0, 0.0)))?;
                    encode_pass(model, &small, &[], Some(l), l, tile, &mut accs, &mut |f| {
                        step(progress, at(1.0, 0.25 * f))
                    })?
                }
                _ => map,
            };
            if let (Some(fm), Some((c, mw, mh, values))) = (features.as_mut(), map) {
                fm.channels = c;
                fm.maps.push((mw, mh, Arc::new(values)));
            }
        }
        // The levels' eigendecompositions run one after another on this thread: the linear
        // algebra's matrix products reserve a large per-thread workspace on first use, which
        // on a worker thread would count again against a capped address space.
        let levels = accs.into_iter().map(|(l, a)| Ok((l, a.finish()?))).collect::<Result<_>>()?;
        Ok(Self { levels, features })
    }

    /// Builds a style from statistics computed elsewhere (e.g. a cache).
    pub fn from_stats(levels: BTreeMap<usize, Stats>) -> Self {
        Self { levels, features: None }
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

/// Largest feature map kept per style and stroke scale for patch swap, in bytes (f32): a
/// style whose map at the patch level would be larger has its map taken from a copy
/// downscaled to fit (its statistics still come from the whole image).
pub const MAX_PATCH_MAP_BYTES: u64 = 64 << 20;

/// Bytes of a `width × height` picture's feature map at `level`.
fn patch_map_bytes(width: usize, height: usize, level: usize) -> u64 {
    let s = scale(level);
    (width.div_ceil(s) * height.div_ceil(s)) as u64 * CHANNELS[level] as u64 * 4
}

/// The size of the picture patch swap's map at `level` is taken from, for a `width × height`
/// style: itself, or a copy scaled down (aspect kept) until the map fits
/// [`MAX_PATCH_MAP_BYTES`].
pub fn patch_map_source(width: usize, height: usize, level: usize) -> (usize, usize) {
    let (mut w, mut h) = (width, height);
    while patch_map_bytes(w, h, level) > MAX_PATCH_MAP_BYTES && w.min(h) > MIN_SCALED_SIDE {
        let f = (MAX_PATCH_MAP_BYTES as f64 / patch_map_bytes(w, h, level) as f64).sqrt().min(0.99);
        w = ((w as f64 * f).floor() as usize).max(1);
        h = ((h as f64 * f).floor() as usize).max(1);
    }
    (w, h)
}

/// A feature map as `(C, width, height, values)`.
type MapValues = (usize, usize, usize, Vec<f32>);

/// One pass of the encoder over `picture`, tile by tile: the statistics of `levels` added to
/// `accs`, and the feature map of `map_level` (`(C, width, height, values)`) when asked for.
/// Progress after every tile.
#[allow(clippy::too_many_arguments)]
fn encode_pass(
    model: &Model,
    picture: &Picture,
    levels: &[usize],
    map_level: Option<usize>,
    top: usize,
    tile: usize,
    accs: &mut BTreeMap<usize, Accumulator>,
    progress: &mut dyn FnMut(f32) -> Result<()>,
) -> Result<Option<MapValues>> {
    let (w, h) = (picture.width, picture.height);
    let plan = TilePlan::for_encoder(w, h, top, tile);
    let dev = model.device();
    // The whole feature map of the patch level, `[C, fh·fw]`, filled core by core.
    let mut map: Option<MapValues> = None;
    let count = plan.tiles.len() as f32;
    for (i, t) in plan.tiles.iter().enumerate() {
        let x = extract(&picture.rgb, w, h, t, dev)?;
        let done = i as f32 / count;
        let taps = probed(&mut || progress(done), || model.encode(&x, top, plan.border))?;
        drop(x);
        let core_of = |l: usize| -> Result<(candle_core::Tensor, (usize, usize, usize, usize))> {
            let f = &taps[l - 1];
            let (_, c, fh, fw) = f.dims4()?;
            let s = scale(l);
            let (fx0, fy0, cw, ch) = t.core_features(s);
            let (ox, oy) = t.core_offset_features(s);
            let core = f.reshape((c, fh, fw))?.narrow(1, oy, ch)?.narrow(2, ox, cw)?;
            Ok((core, (fx0, fy0, cw, ch)))
        };
        for &l in levels {
            let (core, (_, _, cw, ch)) = core_of(l)?;
            let c = core.dim(0)?;
            accs.entry(l).or_insert_with(|| Accumulator::new(c)).add(&core.reshape((c, cw * ch))?)?;
        }
        if let Some(level) = map_level {
            let (core, (fx0, fy0, cw, ch)) = core_of(level)?;
            let c = core.dim(0)?;
            let s = scale(level);
            let (mw, mh) = (w.div_ceil(s), h.div_ceil(s));
            if map.is_none() {
                map = Some((c, mw, mh, try_zeroed(c * mw * mh, "patch swap style map")?));
            }
            let (_, _, _, dst) = map.as_mut().expect("just set");
            let values: Vec<f32> = core.to_dtype(candle_core::DType::F32)?.flatten_all()?.to_vec1()?;
            for ci in 0..c {
                for y in 0..ch {
                    let src = &values[(ci * ch + y) * cw..][..cw];
                    dst[(ci * mh + fy0 + y) * mw + fx0..][..cw].copy_from_slice(src);
                }
            }
        }
        drop(taps);
        progress((i + 1) as f32 / count)?;
    }
    Ok(map)
}
