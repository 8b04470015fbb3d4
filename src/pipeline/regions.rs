//! Spatial control: which style colours which pixels at each level.
//!
//! The paper's rule is the reference: a mask resized (nearest) to the feature map marks a region
//! (mask > 0.5; earlier masks win where they overlap); each region is whitened with its own
//! statistics and coloured with its style mix. Pixels no mask covers belong to the remainder
//! style when there is one, and keep their content features otherwise. With feathering, every
//! region's transform is applied everywhere and mixed by the smoothed mask weights, so borders
//! blend instead of showing a seam. A region with fewer than [`MIN_REGION_PIXELS`] pixels at
//! some level (or none) is whitened with the whole image's statistics instead of its own.
//!
//! Statistics are accumulated tile by tile ([`LevelRegions::accumulate`]) and the transform is
//! applied tile by tile ([`LevelRegions::apply`]), so large images never need a whole
//! feature map in memory.

use candle_core::{DType, Device, Tensor};

use rayon::prelude::*;

use super::mask::{try_zeroed, Mask};
use super::stylize::Stylizer;
use crate::error::Result;
use crate::transform::perturbation::derive_seed;
use crate::transform::temporal::MomentSmoother;
use crate::transform::{Accumulator, Affine, MapOptions, Stats, WeightedStyle};

/// Soft weight per group per feature pixel, and the weight of the content itself.
type SoftWeights = (Vec<Vec<f32>>, Option<Vec<f32>>);

/// Below this many pixels a region's own covariance is too degenerate to whiten with.
pub const MIN_REGION_PIXELS: usize = 16;

/// Group index of pixels that keep their content features.
const KEEP: u8 = u8::MAX;

/// Per-run mask data at content resolution.
pub(crate) struct RegionPlan {
    /// Feathered masks at content resolution, when feathering is on.
    soft: Option<Vec<Mask>>,
    /// Weight of the stylized result per content pixel, for foreground-only compositing.
    foreground: Option<Vec<f32>>,
}

impl RegionPlan {
    /// Feathers the masks at content resolution when asked; `check` is called between the
    /// steps of the work and cancels it by failing.
    pub fn new(st: &Stylizer, width: usize, height: usize, check: &mut dyn FnMut() -> Result<()>) -> Result<Self> {
        let soft = if st.feather > 0.0 && !st.masks.is_empty() {
            let mut soft = Vec::with_capacity(st.masks.len());
            for m in &st.masks {
                soft.push(m.feathered(width, height, st.feather, check)?);
            }
            Some(soft)
        } else {
            None
        };
        let foreground = match st.foreground_only {
            false => None,
            true => {
                let mut outside = try_zeroed::<f32>(width * height, "foreground mask")?;
                outside.fill(1.0);
                for (i, m) in st.masks.iter().enumerate() {
                    match &soft {
                        Some(s) => outside
                            .par_iter_mut()
                            .zip(s[i].data.par_iter())
                            .for_each(|(o, &v)| *o *= 1.0 - v as f32 / 255.0),
                        None => outside
                            .par_iter_mut()
                            .zip(m.resize_nearest(width, height).par_iter())
                            .for_each(|(o, &inside)| *o *= if inside { 0.0 } else { 1.0 }),
                    }
                    check()?;
                }
                outside.par_iter_mut().for_each(|o| *o = 1.0 - *o);
                Some(outside)
            }
        };
        Ok(Self { soft, foreground })
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

/// A rectangle of the whole feature map; `x`, `y` may lie outside it and wrap (circular).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rect {
    pub x: isize,
    pub y: isize,
    pub w: usize,
    pub h: usize,
}

/// One level's region layout over the whole `fw × fh` feature map, its statistics and, once
/// finished, its transforms.
pub(crate) struct LevelRegions<'s, 'a> {
    st: &'s Stylizer<'a>,
    level: usize,
    fw: usize,
    fh: usize,
    /// Hard group per feature pixel; `None` without masks (everything is group 0).
    membership: Option<Vec<u8>>,
    /// Soft weight per group per feature pixel, and the weight of the content itself.
    soft: Option<SoftWeights>,
    groups: Vec<Accumulator>,
    whole: Option<Accumulator>,
    affines: Vec<Option<Affine>>,
    /// The content statistics each group's transform was built from.
    stats: Vec<Option<Stats>>,
}

impl<'s, 'a> LevelRegions<'s, 'a> {
    pub fn new(
        st: &'s Stylizer<'a>,
        plan: &RegionPlan,
        level: usize,
        channels: usize,
        fw: usize,
        fh: usize,
    ) -> Result<Self> {
        let n = fw * fh;
        let ngroups = st.groups.len();
        let regions = st.masks.len();
        let has_rest = ngroups > regions;
        let membership = (!st.masks.is_empty()).then(|| {
            let hard: Vec<Vec<bool>> = st.masks.iter().map(|m| m.resize_nearest(fw, fh)).collect();
            (0..n)
                .map(|p| match (0..regions).find(|&r| hard[r][p]) {
                    Some(r) => r as u8,
                    None if has_rest => regions as u8,
                    None => KEEP,
                })
                .collect()
        });
        let soft = match plan.soft.as_ref() {
            None => None,
            Some(soft) => {
                let mut rest = try_zeroed::<f32>(n, "mask weights")?;
                rest.fill(1.0);
                let mut weights = Vec::with_capacity(ngroups);
                for m in soft {
                    let s = m.resize_smooth(fw, fh)?;
                    weights.push((0..n).map(|p| s[p] * rest[p]).collect::<Vec<f32>>());
                    for (r, v) in rest.iter_mut().zip(&s) {
                        *r *= 1.0 - v;
                    }
                }
                Some(if has_rest {
                    weights.push(rest);
                    (weights, None)
                } else {
                    (weights, Some(rest))
                })
            }
        };
        Ok(Self {
            st,
            level,
            fw,
            fh,
            groups: (0..ngroups).map(|_| Accumulator::new(channels)).collect(),
            whole: membership.is_some().then(|| Accumulator::new(channels)),
            membership,
            soft,
            affines: Vec::new(),
            stats: Vec::new(),
        })
    }

    /// Whole-map pixel index of each pixel of `r` (wrapping).
    fn indices(&self, r: Rect) -> impl Iterator<Item = usize> + '_ {
        let (fw, fh) = (self.fw as isize, self.fh as isize);
        (0..r.h).flat_map(move |j| {
            let y = (r.y + j as isize).rem_euclid(fh) as usize;
            (0..r.w).map(move |i| y * self.fw + (r.x + i as isize).rem_euclid(fw) as usize)
        })
    }

    /// Per group, the positions within the rectangle whose pixels belong to it.
    fn members(&self, r: Rect) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); self.groups.len()];
        if let Some(m) = &self.membership {
            for (k, p) in self.indices(r).enumerate() {
                if m[p] != KEEP {
                    out[m[p] as usize].push(k as u32);
                }
            }
        }
        out
    }

    /// Adds the statistics of `features` (`[C, r.w·r.h]`, the core of a tile).
    pub fn accumulate(&mut self, features: &Tensor, r: Rect) -> Result<()> {
        if self.membership.is_none() {
            return self.groups[0].add(features);
        }
        let dev = features.device().clone();
        for (g, idx) in self.members(r).into_iter().enumerate() {
            if !idx.is_empty() {
                let len = idx.len();
                self.groups[g].add(&features.index_select(&Tensor::from_vec(idx, len, &dev)?, 1)?)?;
            }
        }
        if let Some(w) = self.whole.as_mut() {
            w.add(features)?;
        }
        Ok(())
    }

    /// Builds each group's transform from the accumulated statistics, on this thread (see
    /// `EncodedStyle`: the linear algebra's per-thread workspace).
    /// With a clip's `smoother`, the statistics are its averages over the frames so far
    /// ([`MomentSmoother`]); without, this image's own.
    pub fn finish(&mut self, device: &Device, mut smoother: Option<&mut MomentSmoother>) -> Result<()> {
        let level = self.level;
        let mut stats_of = |key: usize, acc: &Accumulator| match smoother.as_deref_mut() {
            Some(s) => s.stats((level, key), acc),
            None => acc.finish(),
        };
        let whole = match &self.whole {
            Some(w) if self.groups.iter().any(|g| g.count() < MIN_REGION_PIXELS) => Some(stats_of(usize::MAX, w)?),
            _ => None,
        };
        let built: Vec<(Option<Affine>, Option<Stats>)> = self
            .groups
            .iter()
            .enumerate()
            .map(|(g, acc)| {
                let used = self.soft.is_some() || acc.count() > 0;
                if !used {
                    return Ok((None, None));
                }
                let stats = match &whole {
                    Some(w) if acc.count() < MIN_REGION_PIXELS => w.clone(),
                    _ => stats_of(g, acc)?,
                };
                let affine = self.group_map(g, &stats, device)?;
                Ok((Some(affine), Some(stats)))
            })
            .collect::<Result<_>>()?;
        (self.affines, self.stats) = built.into_iter().unzip();
        Ok(())
    }

    /// The map of group `g` from the content statistics `stats` to the group's style mix.
    fn group_map(&self, g: usize, stats: &Stats, device: &Device) -> Result<Affine> {
        let mix: Vec<WeightedStyle> = self.st.groups[g]
            .iter()
            .map(|(s, w)| WeightedStyle { stats: s.stats(self.level).expect("levels checked in build"), weight: *w })
            .collect();
        let m = &self.st.modes;
        // The variation perturbs the coarsest level only: the finer levels then refine the
        // perturbed arrangement instead of scrambling fine texture into noise.
        let variation = if self.level == self.st.levels[0] { m.variation } else { 0.0 };
        let options = MapOptions { kind: m.transform, variation, seed: derive_seed(m.seed, self.level, g) };
        Affine::new(stats, &mix, self.st.alpha_at(self.level), &options, device)
    }

    /// The content statistics of the whole image (group 0 without masks).
    pub fn content_stats(&self) -> Option<&Stats> {
        self.stats.first().and_then(|s| s.as_ref())
    }

    /// As [`LevelRegions::apply`], taking the features: without masks the map overwrites
    /// them in place ([`Affine::apply_in_place`]) instead of filling a second feature map.
    pub fn apply_owned(&self, features: Tensor, r: Rect) -> Result<Tensor> {
        match self.membership {
            None => self.affines[0].as_ref().expect("group 0 has pixels").apply_in_place(features),
            Some(_) => self.apply(&features, r),
        }
    }

    /// Transforms and alpha-blends `features` (`[C, r.w·r.h]`, f32) covering rectangle `r`;
    /// returns f32.
    pub fn apply(&self, features: &Tensor, r: Rect) -> Result<Tensor> {
        let dev = features.device();
        let n = r.w * r.h;
        let row = |v: Vec<f32>| Tensor::from_vec(v, (1, n), dev);
        if self.membership.is_none() {
            return self.affines[0].as_ref().expect("group 0 has pixels").apply(features);
        }
        match &self.soft {
            None => {
                let members = self.members(r);
                let m = self.membership.as_ref().expect("masks");
                let keep = self.indices(r).map(|p| if m[p] == KEEP { 1.0 } else { 0.0 }).collect();
                let mut out = features.to_dtype(DType::F32)?.broadcast_mul(&row(keep)?)?;
                for (g, idx) in members.into_iter().enumerate() {
                    let (Some(a), false) = (&self.affines[g], idx.is_empty()) else { continue };
                    let len = idx.len();
                    let idx = Tensor::from_vec(idx, len, dev)?;
                    out = out.index_add(&idx, &a.apply(&features.index_select(&idx, 1)?)?, 1)?;
                }
                Ok(out)
            }
            Some((weights, content)) => {
                let gather = |w: &Vec<f32>| self.indices(r).map(|p| w[p]).collect::<Vec<f32>>();
                let mut out = match content {
                    Some(c) => features.to_dtype(DType::F32)?.broadcast_mul(&row(gather(c))?)?,
                    None => Tensor::zeros(features.dims2()?, DType::F32, dev)?,
                };
                for (g, w) in weights.iter().enumerate() {
                    let w = gather(w);
                    if w.iter().all(|&v| v <= 1e-6) {
                        continue;
                    }
                    let a = self.affines[g].as_ref().expect("soft groups always have a transform");
                    out = (out + a.apply(features)?.broadcast_mul(&row(w)?)?)?;
                }
                Ok(out)
            }
        }
    }
}
