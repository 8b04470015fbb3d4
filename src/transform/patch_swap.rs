//! Patch swap in whitened feature space (Chen & Schmidt 2016 "style swap"; the "style
//! decorator" of Avatar-Net, Sheng et al. 2018): content and style features are whitened with
//! their own statistics, every 3×3 content patch is replaced by the whitened style patch of
//! highest normalised cross-correlation, overlapping patches are averaged, and the result is
//! coloured with the style statistics and blended with the content by alpha.
//!
//! Matching runs in chunks of content positions × style patches (a matrix product per pair
//! of chunks, the best match per content position kept), so memory stays bounded whatever
//! the sizes of content and style.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::{mixed_colouring, Affine, Stats, WeightedStyle};
use crate::error::{Error, Result};
use candle_core::Device;

/// Content positions matched per chunk.
const CONTENT_CHUNK: usize = 1024;
/// Style patches scored per chunk.
const STYLE_CHUNK: usize = 2048;
/// Patch edge (3×3 patches).
const PATCH: usize = 3;

/// A feature map `[C, h·w]`, row-major f32.
#[derive(Debug, Clone, Copy)]
pub struct FeatureMap<'a> {
    pub values: &'a [f32],
    pub channels: usize,
    pub width: usize,
    pub height: usize,
}

impl FeatureMap<'_> {
    fn check(&self, what: &str) -> Result<()> {
        if self.values.len() != self.channels * self.width * self.height || self.width == 0 || self.height == 0 {
            return Err(Error::Tensor(format!(
                "{what}: {} values for {} channels of {}×{}",
                self.values.len(),
                self.channels,
                self.width,
                self.height
            )));
        }
        Ok(())
    }
}

/// A whitened feature map and where its patches are taken.
struct Whitened {
    values: Vec<f32>,
    width: usize,
    height: usize,
    /// Patch centres `(x, y)`.
    centres: Vec<(usize, usize)>,
}

impl Whitened {
    fn new(map: &FeatureMap, stats: &Stats, interior_only: bool) -> Result<Self> {
        let c = map.channels;
        let zero = vec![0.0; c];
        let white = Affine::from_linear(&stats.whitening(), &stats.mean, &zero, 1.0, &Device::Cpu)?;
        let values = white.apply_f32(map.values, map.width * map.height)?;
        let (w, h) = (map.width, map.height);
        let interior = interior_only && w >= PATCH && h >= PATCH;
        let centres = if interior {
            (1..h - 1).flat_map(|y| (1..w - 1).map(move |x| (x, y))).collect()
        } else {
            (0..h).flat_map(|y| (0..w).map(move |x| (x, y))).collect()
        };
        Ok(Self { values, width: w, height: h, centres })
    }

    /// Writes the patch centred at `(x, y)` (borders clamped) into `out` (length 9·C):
    /// offset-major, channels inner.
    fn patch(&self, x: usize, y: usize, out: &mut [f32]) {
        let n = self.width * self.height;
        let c = self.values.len() / n;
        for k in 0..PATCH * PATCH {
            let sx = (x + k % PATCH).saturating_sub(1).min(self.width - 1);
            let sy = (y + k / PATCH).saturating_sub(1).min(self.height - 1);
            let p = sy * self.width + sx;
            for (ch, o) in out[k * c..(k + 1) * c].iter_mut().enumerate() {
                *o = self.values[ch * n + p];
            }
        }
    }
}

/// Swaps every content patch for its best-matching whitened style patch, colours the
/// result with the weighted styles and blends it with `content` by `alpha`. `styles[i]`
/// pairs a style's feature map with its statistics and weight (weights only colour; every
/// style's patches compete in the matching). Returns `[C, h·w]` row-major f32.
pub fn patch_swap(
    content: &FeatureMap,
    content_stats: &Stats,
    styles: &[(FeatureMap, WeightedStyle)],
    alpha: f64,
) -> Result<Vec<f32>> {
    content.check("content features")?;
    let c = content.channels;
    if styles.is_empty() {
        return Err(Error::param("styles", "patch swap needs at least one style's features"));
    }
    for (i, (m, s)) in styles.iter().enumerate() {
        m.check(&format!("style {} features", i + 1))?;
        if m.channels != c || s.stats.channels() != c {
            return Err(Error::Tensor(format!("style {} features have {} channels, content {c}", i + 1, m.channels)));
        }
    }
    let k = PATCH * PATCH * c;
    let target = Whitened::new(content, content_stats, false)?;
    let sources = styles.iter().map(|(m, s)| Whitened::new(m, s.stats, true)).collect::<Result<Vec<_>>>()?;
    // Every style patch as (source, centre index).
    let all: Vec<(usize, usize)> =
        sources.iter().enumerate().flat_map(|(s, w)| (0..w.centres.len()).map(move |i| (s, i))).collect();
    let n = content.width * content.height;
    let mut best = vec![(f32::NEG_INFINITY, 0usize); n];
    let mut style_buf = vec![0f32; k * STYLE_CHUNK];
    let mut content_buf = vec![0f32; k * CONTENT_CHUNK];
    let mut scores = vec![0f32; STYLE_CHUNK * CONTENT_CHUNK];
    for (chunk_index, chunk) in all.chunks(STYLE_CHUNK).enumerate() {
        let ns = chunk.len();
        // Style patches, normalised: the best normalised cross-correlation is the largest
        // dot product with unit style patches (the content patch's norm is common).
        style_buf[..k * ns].par_chunks_exact_mut(k).zip(chunk).for_each(|(col, &(s, i))| {
            let (x, y) = sources[s].centres[i];
            sources[s].patch(x, y, col);
            let norm = col.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>().sqrt();
            let inv = if norm > 1e-12 { (1.0 / norm) as f32 } else { 0.0 };
            col.iter_mut().for_each(|v| *v *= inv);
        });
        let sm = MatRef::from_column_major_slice(&style_buf[..k * ns], k, ns);
        for start in (0..n).step_by(CONTENT_CHUNK) {
            let nc = (n - start).min(CONTENT_CHUNK);
            content_buf[..k * nc].par_chunks_exact_mut(k).enumerate().for_each(|(j, col)| {
                let p = start + j;
                target.patch(p % content.width, p / content.width, col);
            });
            let cm = MatRef::from_column_major_slice(&content_buf[..k * nc], k, nc);
            let out = MatMut::from_column_major_slice_mut(&mut scores[..ns * nc], ns, nc);
            matmul(out, Accum::Replace, sm.transpose(), cm, 1.0f32, Par::rayon(0));
            let base = chunk_index * STYLE_CHUNK;
            best[start..start + nc].par_iter_mut().zip(scores[..ns * nc].par_chunks_exact(ns)).for_each(|(b, col)| {
                for (i, &v) in col.iter().enumerate() {
                    if v > b.0 {
                        *b = (v, base + i);
                    }
                }
            });
        }
    }
    // Average the chosen (un-normalised) style patches where they overlap.
    let (w, h) = (content.width, content.height);
    let mut swapped = vec![0f32; c * n];
    let mut count = vec![0u32; n];
    let mut patch = vec![0f32; k];
    for (p, &(_, idx)) in best.iter().enumerate() {
        let (s, i) = all[idx];
        let (sx, sy) = sources[s].centres[i];
        sources[s].patch(sx, sy, &mut patch);
        let (x, y) = (p % w, p / w);
        for o in 0..PATCH * PATCH {
            let (qx, qy) = ((x + o % PATCH).wrapping_sub(1), (y + o / PATCH).wrapping_sub(1));
            if qx >= w || qy >= h {
                continue;
            }
            let q = qy * w + qx;
            count[q] += 1;
            for ch in 0..c {
                swapped[ch * n + q] += patch[o * c + ch];
            }
        }
    }
    for ch in 0..c {
        for (v, &m) in swapped[ch * n..(ch + 1) * n].iter_mut().zip(&count) {
            *v /= m.max(1) as f32;
        }
    }
    // Colour with the styles' statistics, then blend with the content by alpha.
    let weighted: Vec<WeightedStyle> = styles.iter().map(|(_, s)| *s).collect();
    let (colouring, mean) = mixed_colouring(&weighted);
    let colour = Affine::from_linear(&colouring, &vec![0.0; c], &mean, 1.0, &Device::Cpu)?;
    let mut out = colour.apply_f32(&swapped, n)?;
    let a = alpha as f32;
    for (o, &f) in out.iter_mut().zip(content.values) {
        *o = a * *o + (1.0 - a) * f;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::stats::Stats;
    use candle_core::Tensor;

    fn whitened_distance(a: &[f32], b: &[f32]) -> f64 {
        let num: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
        let den: f64 = b.iter().map(|y| (*y as f64).powi(2)).sum();
        (num / den.max(f64::MIN_POSITIVE)).sqrt()
    }

    fn map(c: usize, w: usize, h: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..c * w * h)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let x = (i % w) as f32;
                ((s >> 40) as f32 / (1u64 << 24) as f32) + (x * 0.3 + (i / (w * h)) as f32).sin()
            })
            .collect()
    }

    fn stats(v: &[f32], c: usize) -> Stats {
        Stats::of(&Tensor::from_slice(v, (c, v.len() / c), &candle_core::Device::Cpu).unwrap()).unwrap()
    }

    #[test]
    fn content_as_its_own_style_comes_back() {
        let (c, w, h) = (6, 17, 11);
        let v = map(c, w, h, 1);
        let s = stats(&v, c);
        let f = FeatureMap { values: &v, channels: c, width: w, height: h };
        // Border positions clamp their patches, so only interior ones are exact matches.
        let out = patch_swap(&f, &s, &[(f, WeightedStyle { stats: &s, weight: 1.0 })], 1.0).unwrap();
        let mut worst = 0f32;
        for ch in 0..c {
            for y in 2..h - 2 {
                for x in 2..w - 2 {
                    let i = ch * w * h + y * w + x;
                    worst = worst.max((out[i] - v[i]).abs());
                }
            }
        }
        assert!(worst < 1e-3, "interior differs by {worst}");
        assert!(whitened_distance(&out, &v) < 0.2);
    }

    #[test]
    fn output_is_made_of_style_patches_and_alpha_zero_keeps_the_content() {
        let (c, w, h) = (4, 9, 8);
        let (vc, vs) = (map(c, w, h, 2), map(c, 12, 10, 3));
        let (sc, ss) = (stats(&vc, c), stats(&vs, c));
        let fc = FeatureMap { values: &vc, channels: c, width: w, height: h };
        let fs = FeatureMap { values: &vs, channels: c, width: 12, height: 10 };
        let style = [(fs, WeightedStyle { stats: &ss, weight: 1.0 })];
        let zero = patch_swap(&fc, &sc, &style, 0.0).unwrap();
        assert_eq!(zero, vc);
        let a = patch_swap(&fc, &sc, &style, 1.0).unwrap();
        assert_eq!(a, patch_swap(&fc, &sc, &style, 1.0).unwrap(), "deterministic");
        assert!(a.iter().all(|v| v.is_finite()));
        // Swapped features take (roughly) the style's mean.
        let n = w * h;
        for ch in 0..c {
            let m: f64 = a[ch * n..(ch + 1) * n].iter().map(|&v| v as f64).sum::<f64>() / n as f64;
            assert!((m - ss.mean[ch]).abs() < 0.5, "channel {ch}: {m} vs {}", ss.mean[ch]);
        }
    }
}
