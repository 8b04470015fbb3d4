//! Spatial control: which style colours which pixels at each level.
//!
//! The paper's rule is the reference: a mask resized (nearest) to the feature map marks a region
//! (mask > 0.5; earlier masks win where they overlap); each region is whitened with its own
//! statistics and coloured with its style mix. Pixels no mask covers belong to the remainder
//! style when there is one, and keep their content features otherwise. With feathering, every
//! region's transform is applied everywhere and mixed by the smoothed mask weights, so borders
//! blend instead of showing a seam. A region with fewer than [`MIN_REGION_PIXELS`] pixels at
//! some level (or none) is whitened with the whole image's statistics instead of its own.

use candle_core::{DType, Tensor};

use super::mask::Mask;
use super::stylize::Stylizer;
use crate::error::Result;
use crate::transform::{Affine, Stats, WeightedStyle};

/// Below this many pixels a region's own covariance is too degenerate to whiten with.
pub const MIN_REGION_PIXELS: usize = 16;

/// Per-run mask data at content resolution.
pub(crate) struct RegionPlan {
    /// Feathered masks at content resolution, when feathering is on.
    soft: Option<Vec<Mask>>,
    /// Weight of the stylized result per content pixel, for foreground-only compositing.
    foreground: Option<Vec<f32>>,
}

impl RegionPlan {
    pub fn new(st: &Stylizer, width: usize, height: usize) -> Self {
        let soft = (st.feather > 0.0 && !st.masks.is_empty())
            .then(|| st.masks.iter().map(|m| m.feathered(width, height, st.feather)).collect::<Vec<_>>());
        let foreground = st.foreground_only.then(|| {
            let layers: Vec<Vec<f32>> = match &soft {
                Some(s) => s.iter().map(|m| m.data.clone()).collect(),
                None => st
                    .masks
                    .iter()
                    .map(|m| m.resize_nearest(width, height).into_iter().map(|v| if v > 0.5 { 1.0 } else { 0.0 }).collect())
                    .collect(),
            };
            let mut outside = vec![1f32; width * height];
            for l in &layers {
                for (o, v) in outside.iter_mut().zip(l) {
                    *o *= 1.0 - v;
                }
            }
            outside.into_iter().map(|o| 1.0 - o).collect()
        });
        Self { soft, foreground }
    }

    /// Whitens and colours `features` (`[C, N]`, N = `fw·fh`) at `level`; returns f32 `[C, N]`.
    pub fn transform(&self, st: &Stylizer, level: usize, features: &Tensor, fw: usize, fh: usize) -> Result<Tensor> {
        let dev = features.device();
        let n = fw * fh;
        let mix = |g: usize| -> Vec<WeightedStyle> {
            st.groups[g]
                .iter()
                .map(|(s, w)| WeightedStyle {
                    stats: s.stats(level).expect("levels checked in build"),
                    weight: *w,
                })
                .collect()
        };
        if st.masks.is_empty() {
            let stats = Stats::of(features)?;
            return Affine::whiten_colour(&stats, &mix(0), dev)?.apply(features);
        }

        // Hard membership: the paper's rule, also the source of every region's statistics.
        let regions = st.masks.len();
        let has_rest = st.groups.len() > regions;
        let hard: Vec<Vec<f32>> = st.masks.iter().map(|m| m.resize_nearest(fw, fh)).collect();
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); st.groups.len()];
        let mut covered = vec![false; n];
        for p in 0..n {
            let g = (0..regions).find(|&r| hard[r][p] > 0.5).or(has_rest.then_some(regions));
            if let Some(g) = g {
                members[g].push(p as u32);
                covered[p] = true;
            }
        }
        let mut whole: Option<Stats> = None;
        let mut affine = |g: usize| -> Result<Affine> {
            let idx = &members[g];
            let stats = if idx.len() >= MIN_REGION_PIXELS {
                Stats::of(&features.index_select(&Tensor::from_slice(idx, idx.len(), dev)?, 1)?)?
            } else {
                if whole.is_none() {
                    whole = Some(Stats::of(features)?);
                }
                whole.clone().expect("just set")
            };
            Affine::whiten_colour(&stats, &mix(g), dev)
        };
        let row = |v: Vec<f32>| Tensor::from_vec(v, (1, n), dev);

        match &self.soft {
            None => {
                let keep = covered.iter().map(|&c| if c { 0.0 } else { 1.0 }).collect();
                let mut out = features.to_dtype(DType::F32)?.broadcast_mul(&row(keep)?)?;
                for g in 0..st.groups.len() {
                    if members[g].is_empty() {
                        continue;
                    }
                    let a = affine(g)?;
                    let idx = Tensor::from_slice(&members[g], members[g].len(), dev)?;
                    let res = a.apply(&features.index_select(&idx, 1)?)?;
                    out = out.index_add(&idx, &res, 1)?;
                }
                Ok(out)
            }
            Some(soft) => {
                let mut rest = vec![1f32; n];
                let mut weights = Vec::with_capacity(st.groups.len());
                for m in soft {
                    let s = m.resize_smooth(fw, fh);
                    weights.push((0..n).map(|p| s[p] * rest[p]).collect::<Vec<f32>>());
                    for (r, v) in rest.iter_mut().zip(&s) {
                        *r *= 1.0 - v;
                    }
                }
                let mut out = if has_rest {
                    weights.push(rest);
                    Tensor::zeros(features.dims2()?, DType::F32, dev)?
                } else {
                    features.to_dtype(DType::F32)?.broadcast_mul(&row(rest)?)?
                };
                for (g, w) in weights.into_iter().enumerate() {
                    if w.iter().all(|&v| v <= 1e-6) {
                        continue;
                    }
                    let res = affine(g)?.apply(features)?;
                    out = (out + res.broadcast_mul(&row(w)?)?)?;
                }
                Ok(out)
            }
        }
    }

    /// Foreground-only: `fg · stylized + (1 − fg) · content` per pixel (planar RGB).
    pub fn composite_foreground(&self, stylized: &mut [f32], content: &[f32]) {
        let Some(fg) = &self.foreground else { return };
        let n = fg.len();
        for c in 0..3 {
            for (i, &w) in fg.iter().enumerate() {
                let k = c * n + i;
                stylized[k] = w * stylized[k] + (1.0 - w) * content[k];
            }
        }
    }
}
