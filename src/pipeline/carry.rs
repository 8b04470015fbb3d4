//! Carrying the previous frame's result forward where the content did not change.
//!
//! The motion between consecutive frames is taken as one global translation (a pan), found
//! by matching the frames' lightness coarse to fine (mean absolute difference, exhaustive at
//! the coarsest level of a pyramid, refined at each finer one). The previous result, shifted
//! by it, is blended into the new one per pixel by `strength · exp(−(d/GATE)²)`, where `d` is
//! the local (5×5 box-averaged) lightness difference between the new content and the shifted
//! previous content: where the content did not change (noise averages out) the previous
//! result is kept in part; where it changed (an object moved, a cut, pixels that just came
//! into view) the new result is taken as it is.

use rayon::prelude::*;

use crate::image_io::Picture;

/// Local lightness difference (0..1 scale) at which the carried weight falls to 1/e.
pub const GATE: f32 = 0.03;
/// Coarsest pyramid level: halve until the longer side is at most this.
const TOP_SIDE: usize = 128;
/// Search radius at the coarsest level (pixels of that level), and at each finer one.
const TOP_RADIUS: isize = 16;
const REFINE_RADIUS: isize = 2;
/// Radius of the box that averages the difference before the gate.
const BOX: usize = 2;

/// What the next frame needs of this one.
#[derive(Debug, Clone)]
pub(crate) struct Previous {
    pub width: usize,
    pub height: usize,
    /// Lightness of the content, `height × width`.
    pub luma: Vec<f32>,
    /// The result as delivered, planar RGB.
    pub rgb: Vec<f32>,
}

/// Rec. 601 lightness of planar RGB.
pub(crate) fn luma(p: &Picture) -> Vec<f32> {
    let n = p.width * p.height;
    let (r, rest) = p.rgb.split_at(n);
    let (g, b) = rest.split_at(n);
    r.par_iter().zip(g).zip(b).map(|((&r, &g), &b)| 0.299 * r + 0.587 * g + 0.114 * b).collect()
}

/// A grey image and its size.
struct Plane {
    v: Vec<f32>,
    w: usize,
    h: usize,
}

impl Plane {
    /// Half the size, 2×2 averages (an odd last row or column is dropped).
    fn half(&self) -> Plane {
        let (w, h) = (self.w / 2, self.h / 2);
        let v = (0..w * h)
            .map(|k| {
                let (x, y) = (2 * (k % w), 2 * (k / w));
                let at = |x: usize, y: usize| self.v[y * self.w + x];
                0.25 * (at(x, y) + at(x + 1, y) + at(x, y + 1) + at(x + 1, y + 1))
            })
            .collect();
        Plane { v, w, h }
    }
}

/// Mean absolute difference between `cur(x)` and `prev(x + s)` over their overlap (rows
/// subsampled by `step`); `None` when they overlap by less than half.
fn mismatch(prev: &Plane, cur: &Plane, s: (isize, isize), step: usize) -> Option<f64> {
    let (w, h) = (cur.w as isize, cur.h as isize);
    let (x0, x1) = (0.max(-s.0), w.min(w - s.0));
    let (y0, y1) = (0.max(-s.1), h.min(h - s.1));
    if x1 <= x0 || y1 <= y0 || 2 * (x1 - x0) * (y1 - y0) < w * h {
        return None;
    }
    let rows: Vec<isize> = (y0..y1).step_by(step).collect();
    let sum: f64 = rows
        .par_iter()
        .map(|&y| {
            let c = &cur.v[(y * w + x0) as usize..(y * w + x1) as usize];
            let p = &prev.v[((y + s.1) * w + x0 + s.0) as usize..((y + s.1) * w + x1 + s.0) as usize];
            c.iter().zip(p).map(|(a, b)| (a - b).abs()).sum::<f32>() as f64
        })
        .sum();
    Some(sum / (rows.len() as f64 * (x1 - x0) as f64))
}

/// The best shift within `radius` of `around`, if any overlaps enough.
fn search(prev: &Plane, cur: &Plane, around: (isize, isize), radius: isize, step: usize) -> Option<(isize, isize)> {
    let mut best: Option<((isize, isize), f64)> = None;
    for dy in -radius..=radius {
        for dx in -radius..=radius {
            let s = (around.0 + dx, around.1 + dy);
            if let Some(m) = mismatch(prev, cur, s, step) {
                // Ties go to the smaller motion, so a still picture reads as still.
                let better = match best {
                    None => true,
                    Some((b, bm)) => m < bm || (m == bm && s.0.abs() + s.1.abs() < b.0.abs() + b.1.abs()),
                };
                if better {
                    best = Some((s, m));
                }
            }
        }
    }
    best.map(|(s, _)| s)
}

/// The translation `s` for which `cur(x) ≈ prev(x + s)` (both `w × h` lightness planes).
pub(crate) fn estimate_shift(prev: &[f32], cur: &[f32], w: usize, h: usize) -> Option<(isize, isize)> {
    let mut pyramid = vec![(Plane { v: prev.to_vec(), w, h }, Plane { v: cur.to_vec(), w, h })];
    loop {
        let (p, c) = pyramid.last().expect("not empty");
        if p.w.max(p.h) <= TOP_SIDE || p.w.min(p.h) < 16 {
            break;
        }
        let next = (p.half(), c.half());
        pyramid.push(next);
    }
    let mut s = (0, 0);
    for (i, (p, c)) in pyramid.iter().enumerate().rev() {
        let top = i + 1 == pyramid.len();
        let radius = if top { TOP_RADIUS.min(p.w as isize / 4).min(p.h as isize / 4) } else { REFINE_RADIUS };
        let step = if i == 0 && pyramid.len() > 1 { 2 } else { 1 };
        s = search(p, c, s, radius, step)?;
        if i > 0 {
            s = (2 * s.0, 2 * s.1);
        }
    }
    Some(s)
}

/// Box average of radius [`BOX`] along rows then columns (edges clamped).
fn box_blur(v: &mut [f32], w: usize, h: usize) {
    let norm = 1.0 / (2 * BOX + 1) as f32;
    v.par_chunks_mut(w).for_each(|row| {
        let src = row.to_vec();
        for (x, o) in row.iter_mut().enumerate() {
            *o = (0..=2 * BOX).map(|k| src[(x + k).saturating_sub(BOX).min(w - 1)]).sum::<f32>() * norm;
        }
    });
    let src = v.to_vec();
    v.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, o) in row.iter_mut().enumerate() {
            *o = (0..=2 * BOX).map(|k| src[(y + k).saturating_sub(BOX).min(h - 1) * w + x]).sum::<f32>() * norm;
        }
    });
}

/// Blends `prev`'s result, shifted by `s`, into `rgb` (planar, same size) with the gated
/// weight `strength · exp(−(d/GATE)²)` per pixel; `luma` is the new content's lightness.
/// Pixels whose source lies outside the previous frame keep the new result.
pub(crate) fn blend_previous(rgb: &mut [f32], luma: &[f32], prev: &Previous, s: (isize, isize), strength: f32) {
    let (w, h) = (prev.width, prev.height);
    let n = w * h;
    let source = |k: usize| -> Option<usize> {
        let (x, y) = ((k % w) as isize + s.0, (k / w) as isize + s.1);
        ((0..w as isize).contains(&x) && (0..h as isize).contains(&y)).then(|| y as usize * w + x as usize)
    };
    // Outside the previous frame the difference counts as large, so the gate closes there
    // and next to it.
    let mut d: Vec<f32> = (0..n).into_par_iter().map(|k| source(k).map_or(1.0, |j| luma[k] - prev.luma[j])).collect();
    box_blur(&mut d, w, h);
    let weight: Vec<f32> = d
        .par_iter()
        .enumerate()
        .map(|(k, &d)| match source(k) {
            Some(_) => strength * (-(d / GATE) * (d / GATE)).exp(),
            None => 0.0,
        })
        .collect();
    for (c, plane) in rgb.chunks_mut(n).enumerate() {
        let old = &prev.rgb[c * n..(c + 1) * n];
        plane.par_iter_mut().zip(&weight).enumerate().for_each(|(k, (v, &a))| {
            if a > 0.0 {
                let j = source(k).expect("weight is 0 outside");
                *v += a * (old[j] - *v);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth but structured `w × h` pattern sampled at offset `(ox, oy)`.
    fn pattern(w: usize, h: usize, ox: isize, oy: isize) -> Vec<f32> {
        (0..w * h)
            .map(|k| {
                let (x, y) = ((k % w) as isize + ox, (k / w) as isize + oy);
                let (x, y) = (x as f32, y as f32);
                0.5 + 0.25 * (x * 0.07).sin() * (y * 0.05).cos() + 0.2 * ((x + 2.0 * y) * 0.013).sin()
            })
            .collect()
    }

    #[test]
    fn finds_a_known_pan() {
        let (w, h) = (300, 200);
        let prev = pattern(w, h, 0, 0);
        for s in [(0, 0), (7, 0), (-13, 5), (24, -18)] {
            // cur(x) = pattern(x + s) = prev(x + s)
            let cur = pattern(w, h, s.0, s.1);
            assert_eq!(estimate_shift(&prev, &cur, w, h), Some(s));
        }
    }

    #[test]
    fn carries_where_unchanged_and_not_where_changed() {
        let (w, h) = (40, 30);
        let n = w * h;
        let luma = pattern(w, h, 0, 0);
        let prev = Previous { width: w, height: h, luma: luma.clone(), rgb: vec![1.0; 3 * n] };
        let mut now = luma.clone();
        // The right half changed a lot.
        for (k, v) in now.iter_mut().enumerate() {
            if k % w >= w / 2 {
                *v += 0.5;
            }
        }
        let mut rgb = vec![0.0; 3 * n];
        blend_previous(&mut rgb, &now, &prev, (0, 0), 0.8);
        assert!((rgb[5 * w + 3] - 0.8).abs() < 1e-4, "unchanged pixel carries 0.8: {}", rgb[5 * w + 3]);
        assert!(rgb[5 * w + w - 3].abs() < 1e-4, "changed pixel keeps the new result");
        // Shifted by 4: the last 4 columns have no source.
        let mut rgb = vec![0.0; 3 * n];
        blend_previous(&mut rgb, &luma, &prev, (4, 0), 1.0);
        assert_eq!(rgb[w - 1], 0.0);
        assert!(rgb.iter().all(|v| v.is_finite()));
    }
}
