//! Patch swap in whitened feature space (Chen & Schmidt 2016 "style swap"; the "style
//! decorator" of Avatar-Net, Sheng et al. 2018): content and style features are whitened with
//! their own statistics, every 3×3 content patch is replaced by the whitened style patch of
//! highest normalised cross-correlation, overlapping patches are averaged, and the result is
//! coloured with the style statistics and blended with the content by alpha.
//!
//! Matching is bounded and approximate in two stages: a coarse search scores every candidate
//! style patch by its centre features alone (a matrix product over blocks of content positions
//! and candidates, one ninth of the full patch's arithmetic) and keeps a shortlist of the best
//! [`SHORTLIST`] per content position; the shortlist is then rescored with the whole 3×3
//! patches and the best kept. The candidates are at most [`MAX_CANDIDATES`] patch centres over
//! all styles (a regular grid of centres past that), so the time is linear in the content's
//! area whatever the styles' sizes, and memory is that of one block.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::{mixed_colouring, Affine, Stats, WeightedStyle};
use crate::error::{try_zeroed, Error, Result};
use candle_core::Device;

/// Most style patches a content patch is compared with, over every style and stroke scale;
/// past it the candidates are the centres on a grid of stride 2, 3, … over each style map.
pub const MAX_CANDIDATES: usize = 16384;
/// Candidates kept per content position by the coarse search and rescored exactly.
pub const SHORTLIST: usize = 8;
/// Content positions matched per block.
const CONTENT_CHUNK: usize = 1024;
/// Candidates scored per block.
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

    /// Bytes of working memory [`patch_swap`] needs beyond its inputs and output for a
    /// content map of `content_positions` and style maps of `style_positions` in all, at
    /// `channels` channels.
    pub fn working_bytes(content_positions: usize, style_positions: usize, channels: usize) -> u64 {
        let (n, s, c) = (content_positions as u64, style_positions as u64, channels as u64);
        let k = (PATCH * PATCH) as u64 * c;
        // Whitened copies of the maps, the swapped sum and counts, the candidates' centre
        // descriptors, the shortlists, one block of descriptors and scores.
        4 * (n * c + s * c)
            + 4 * (n * c + n)
            + 4 * c * MAX_CANDIDATES as u64
            + 8 * n * SHORTLIST as u64
            + 4 * (c * CONTENT_CHUNK as u64 + (STYLE_CHUNK * CONTENT_CHUNK) as u64)
            + 4 * k * rayon::current_num_threads() as u64
    }
}

/// A whitened feature map, pixel-major (the channels of a position side by side), so a
/// patch is nine contiguous copies.
struct Whitened {
    /// `values[p·C + ch]`.
    values: Vec<f32>,
    width: usize,
    height: usize,
    channels: usize,
}

impl Whitened {
    fn new(map: &FeatureMap, stats: &Stats) -> Result<Self> {
        let c = map.channels;
        let zero = vec![0.0; c];
        let white = Affine::from_linear(&stats.whitening(), &stats.mean, &zero, 1.0, &Device::Cpu)?;
        let n = map.width * map.height;
        let planar = white.apply_f32(map.values, n)?;
        let mut values = crate::error::try_zeroed::<f32>(planar.len(), "patch swap features")?;
        crate::kernels::transpose(&planar, &mut values, n, c);
        Ok(Self { values, width: map.width, height: map.height, channels: c })
    }

    /// Patch centres on a grid of `stride` (interior positions only when the map is at least
    /// a patch wide), in row order.
    fn centres(&self, stride: usize) -> Vec<(u32, u32)> {
        let (w, h) = (self.width, self.height);
        let (x0, x1, y0, y1) = if w >= PATCH && h >= PATCH { (1, w - 1, 1, h - 1) } else { (0, w, 0, h) };
        (y0..y1).step_by(stride).flat_map(|y| (x0..x1).step_by(stride).map(move |x| (x as u32, y as u32))).collect()
    }

    fn interior(&self) -> usize {
        let (w, h) = (self.width, self.height);
        if w >= PATCH && h >= PATCH {
            (w - 2) * (h - 2)
        } else {
            w * h
        }
    }

    /// Writes the patch centred at `(x, y)` (borders clamped) into `out` (length 9·C):
    /// offset-major, channels inner.
    fn patch(&self, x: usize, y: usize, out: &mut [f32]) {
        let c = self.channels;
        for (k, o) in out[..PATCH * PATCH * c].chunks_exact_mut(c).enumerate() {
            let sx = (x + k % PATCH).saturating_sub(1).min(self.width - 1);
            let sy = (y + k / PATCH).saturating_sub(1).min(self.height - 1);
            self.centre(sx, sy, o);
        }
    }

    /// The centre features at `(x, y)` into `out` (length C).
    fn centre(&self, x: usize, y: usize, out: &mut [f32]) {
        let p = (y * self.width + x) * self.channels;
        out.copy_from_slice(&self.values[p..p + self.channels]);
    }
}

fn norm(v: &[f32]) -> f64 {
    v.iter().map(|x| (*x as f64) * (*x as f64)).sum::<f64>().sqrt()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

/// The stride of the candidate grid that keeps `positions` centres within [`MAX_CANDIDATES`].
fn candidate_stride(positions: usize) -> usize {
    let mut s = 1;
    while positions.div_ceil(s * s) > MAX_CANDIDATES {
        s += 1;
    }
    s
}

/// The best few `(score, candidate)` of one content position, best first.
#[derive(Clone, Copy)]
struct Shortlist([(f32, u32); SHORTLIST]);

impl Shortlist {
    const EMPTY: Self = Shortlist([(f32::NEG_INFINITY, u32::MAX); SHORTLIST]);

    fn offer(&mut self, score: f32, candidate: u32) {
        let l = &mut self.0;
        if score.partial_cmp(&l[SHORTLIST - 1].0) != Some(std::cmp::Ordering::Greater) {
            return;
        }
        let mut i = SHORTLIST - 1;
        while i > 0 && score > l[i - 1].0 {
            l[i] = l[i - 1];
            i -= 1;
        }
        l[i] = (score, candidate);
    }
}

/// Swaps every content patch for its best-matching whitened style patch, colours the
/// result with the weighted styles and blends it with `content` by `alpha`. `styles[i]`
/// pairs a style's feature map with its statistics and weight (weights only colour; every
/// style's patches compete in the matching). `tick` is called after every block of the
/// matching with the fraction matched (0..1); an error from it stops the swap. Returns
/// `[C, h·w]` row-major f32.
pub fn patch_swap(
    content: &FeatureMap,
    content_stats: &Stats,
    styles: &[(FeatureMap, WeightedStyle)],
    alpha: f64,
    tick: &mut dyn FnMut(f32) -> Result<()>,
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
    let target = Whitened::new(content, content_stats)?;
    tick(0.0)?;
    let mut sources = Vec::with_capacity(styles.len());
    for (m, s) in styles {
        sources.push(Whitened::new(m, s.stats)?);
        tick(0.0)?;
    }
    // The candidates: every style's patch centres, on a grid when there are too many.
    let stride = candidate_stride(sources.iter().map(Whitened::interior).sum());
    let all: Vec<(usize, u32, u32)> = sources
        .iter()
        .enumerate()
        .flat_map(|(s, w)| w.centres(stride).into_iter().map(move |(x, y)| (s, x, y)))
        .collect();
    let ns_all = all.len();
    // Each candidate's centre features divided by its whole patch's norm: its dot product
    // with a content patch's centre approximates the normalised cross-correlation (the
    // content patch's norm is common to all candidates).
    let mut described = try_zeroed::<f32>(c * ns_all, "patch swap candidates")?;
    let mut inv_norms = try_zeroed::<f32>(ns_all, "patch swap candidates")?;
    described.par_chunks_exact_mut(c).zip(inv_norms.par_iter_mut()).zip(&all).for_each_init(
        || vec![0f32; k],
        |patch, ((col, inv), &(s, x, y))| {
            let (x, y) = (x as usize, y as usize);
            sources[s].patch(x, y, patch);
            let n = norm(patch);
            *inv = if n > 1e-12 { (1.0 / n) as f32 } else { 0.0 };
            sources[s].centre(x, y, col);
            col.iter_mut().for_each(|v| *v *= *inv);
        },
    );
    let (w, h) = (content.width, content.height);
    let n = w * h;
    let mut chosen = try_zeroed::<u32>(n, "patch swap matches")?;
    let mut content_buf = try_zeroed::<f32>(c * CONTENT_CHUNK, "patch swap block")?;
    let mut scores = try_zeroed::<f32>(STYLE_CHUNK * CONTENT_CHUNK, "patch swap block")?;
    let mut shortlists = vec![Shortlist::EMPTY; CONTENT_CHUNK];
    let blocks = (n.div_ceil(CONTENT_CHUNK) * ns_all.div_ceil(STYLE_CHUNK)) as f32;
    let mut done = 0.0;
    for start in (0..n).step_by(CONTENT_CHUNK) {
        let nc = (n - start).min(CONTENT_CHUNK);
        content_buf[..c * nc].par_chunks_exact_mut(c).enumerate().for_each(|(j, col)| {
            let p = start + j;
            target.centre(p % w, p / w, col);
        });
        shortlists[..nc].fill(Shortlist::EMPTY);
        let cm = MatRef::from_column_major_slice(&content_buf[..c * nc], c, nc);
        for base in (0..ns_all).step_by(STYLE_CHUNK) {
            let ns = (ns_all - base).min(STYLE_CHUNK);
            let sm = MatRef::from_column_major_slice(&described[base * c..(base + ns) * c], c, ns);
            let out = MatMut::from_column_major_slice_mut(&mut scores[..ns * nc], ns, nc);
            matmul(out, Accum::Replace, sm.transpose(), cm, 1.0f32, Par::rayon(0));
            shortlists[..nc].par_iter_mut().zip(scores[..ns * nc].par_chunks_exact(ns)).for_each(|(l, col)| {
                for (i, &v) in col.iter().enumerate() {
                    l.offer(v, (base + i) as u32);
                }
            });
            done += 1.0;
            tick(done / blocks)?;
        }
        // Rescore the shortlist with the whole patches.
        chosen[start..start + nc].par_iter_mut().zip(&shortlists[..nc]).enumerate().for_each_init(
            || (vec![0f32; k], vec![0f32; k]),
            |(own, theirs), (j, (best, list))| {
                let p = start + j;
                target.patch(p % w, p / w, own);
                let mut top = (f64::NEG_INFINITY, list.0[0].1);
                for &(_, cand) in list.0.iter().filter(|(v, _)| v.is_finite()) {
                    let (s, x, y) = all[cand as usize];
                    sources[s].patch(x as usize, y as usize, theirs);
                    let score = dot(own, theirs) * inv_norms[cand as usize] as f64;
                    if score > top.0 {
                        top = (score, cand);
                    }
                }
                *best = if top.1 == u32::MAX { 0 } else { top.1 };
            },
        );
    }
    drop((described, content_buf, scores));
    // Average the chosen (un-normalised) style patches where they overlap (summed
    // pixel-major, then divided into planes).
    let mut summed = try_zeroed::<f32>(c * n, "patch swap result")?;
    let mut count = try_zeroed::<u32>(n, "patch swap result")?;
    let mut patch = vec![0f32; k];
    for (p, &idx) in chosen.iter().enumerate() {
        let (s, sx, sy) = all[idx as usize];
        sources[s].patch(sx as usize, sy as usize, &mut patch);
        let (x, y) = (p % w, p / w);
        for o in 0..PATCH * PATCH {
            let (qx, qy) = ((x + o % PATCH).wrapping_sub(1), (y + o / PATCH).wrapping_sub(1));
            if qx >= w || qy >= h {
                continue;
            }
            let q = qy * w + qx;
            count[q] += 1;
            for (v, &f) in summed[q * c..(q + 1) * c].iter_mut().zip(&patch[o * c..(o + 1) * c]) {
                *v += f;
            }
        }
    }
    drop((target, sources));
    let mut swapped = try_zeroed::<f32>(c * n, "patch swap result")?;
    crate::kernels::transpose(&summed, &mut swapped, c, n);
    drop(summed);
    for plane in swapped.chunks_exact_mut(n) {
        for (v, &m) in plane.iter_mut().zip(&count) {
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
        // Enough channels for the centre features to single out a patch (the coarse search),
        // as the network's 64 to 512 do.
        let (c, w, h) = (48, 17, 11);
        let v = map(c, w, h, 1);
        let s = stats(&v, c);
        let f = FeatureMap { values: &v, channels: c, width: w, height: h };
        // Border positions clamp their patches, so only interior ones are exact matches.
        let out = patch_swap(&f, &s, &[(f, WeightedStyle { stats: &s, weight: 1.0 })], 1.0, &mut |_| Ok(())).unwrap();
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
        let zero = patch_swap(&fc, &sc, &style, 0.0, &mut |_| Ok(())).unwrap();
        assert_eq!(zero, vc);
        let a = patch_swap(&fc, &sc, &style, 1.0, &mut |_| Ok(())).unwrap();
        assert_eq!(a, patch_swap(&fc, &sc, &style, 1.0, &mut |_| Ok(())).unwrap(), "deterministic");
        assert!(a.iter().all(|v| v.is_finite()));
        // Swapped features take (roughly) the style's mean.
        let n = w * h;
        for ch in 0..c {
            let m: f64 = a[ch * n..(ch + 1) * n].iter().map(|&v| v as f64).sum::<f64>() / n as f64;
            assert!((m - ss.mean[ch]).abs() < 0.5, "channel {ch}: {m} vs {}", ss.mean[ch]);
        }
    }
}
