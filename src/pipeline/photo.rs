//! Photo mode: the fast smoothing step of FastPhotoStyle (Li et al., ECCV 2018) — an
//! edge-preserving filter of the stylized result guided by the content image, here the
//! colour guided filter (He et al., "Guided image filtering"). Within every window the output
//! is an affine function of the content's colours, so the content's edges and fine structure
//! come back while the style's colours and mood stay; a photograph stays a photograph.

use rayon::prelude::*;

use crate::error::{try_zeroed, Result};

/// Window radius as a fraction of the shorter image side (at least [`MIN_RADIUS`]).
pub const RADIUS_FRACTION: f64 = 1.0 / 64.0;
/// Smallest window radius in pixels.
pub const MIN_RADIUS: usize = 2;
/// Regularisation of the guided filter (on 0..1 colours): larger smooths more.
pub const EPSILON: f64 = 1e-3;

/// The window radius used for a `width × height` image.
pub fn radius_for(width: usize, height: usize) -> usize {
    ((width.min(height) as f64 * RADIUS_FRACTION).round() as usize).max(MIN_RADIUS)
}

/// Working memory of photo mode per pixel, beyond the stylized image and the content: the
/// guide's window means (3 f32 planes), the inverse covariances (6 f64 planes), the result
/// (3), and per colour channel its window mean, its covariances with the guide (3) or the
/// affine coefficients (4), with the box filter's own planes (4): at most 26 f32 planes at
/// once, counted as 30.
pub const PHOTO_BYTES_PER_PIXEL: u64 = 30 * 4;

/// Pixels a box filter's pass handles between two calls of its `tick`: a few tens of
/// milliseconds of work, so a cancel inside the photo filter waits no longer than that.
const TICK_PIXELS: usize = 1 << 19;

/// Columns a box filter's column pass handles together (cache-friendly rows).
const STRIP: usize = 64;

/// Mean over the `(2r+1)²` window around each pixel, clipped to the image. `tick` is called
/// after every [`TICK_PIXELS`] or so of each of its two passes; an error from it stops.
fn box_mean(plane: &[f32], w: usize, h: usize, r: usize, tick: &mut dyn FnMut() -> Result<()>) -> Result<Vec<f32>> {
    let mut rows = try_zeroed::<f32>(w * h, "photo mode plane")?;
    let band = (TICK_PIXELS / w.max(1)).max(1) * w;
    for (outs, ins) in rows.chunks_mut(band).zip(plane.chunks(band)) {
        outs.par_chunks_exact_mut(w).zip(ins.par_chunks_exact(w)).for_each(|(out, row)| {
            let mut prefix = vec![0f64; w + 1];
            for (i, &v) in row.iter().enumerate() {
                prefix[i + 1] = prefix[i] + v as f64;
            }
            for (x, o) in out.iter_mut().enumerate() {
                let (a, b) = (x.saturating_sub(r), (x + r + 1).min(w));
                *o = ((prefix[b] - prefix[a]) / (b - a) as f64) as f32;
            }
        });
        tick()?;
    }
    let mut out = try_zeroed::<f32>(w * h, "photo mode plane")?;
    // Columns, in strips of columns for cache-friendly rows; each strip writes its own
    // columns of the output. Strips are run in groups of about TICK_PIXELS.
    let group = (TICK_PIXELS / (STRIP * h.max(1))).max(1);
    let all: Vec<usize> = (0..w.div_ceil(STRIP)).collect();
    for strips in all.chunks(group) {
        column_strips(&rows, strips, w, h, r, &mut out);
        tick()?;
    }
    Ok(out)
}

/// The column pass of [`box_mean`] over the strips of [`STRIP`] columns numbered `strips`:
/// from the row-filtered `rows` into the same columns of `out`.
fn column_strips(rows: &[f32], strips: &[usize], w: usize, h: usize, r: usize, out: &mut [f32]) {
    let done: Vec<(usize, Vec<f32>)> = strips
        .par_iter()
        .map(|&s| {
            let (x0, x1) = (s * STRIP, ((s + 1) * STRIP).min(w));
            let sw = x1 - x0;
            let mut prefix = vec![0f64; (h + 1) * sw];
            for y in 0..h {
                for i in 0..sw {
                    prefix[(y + 1) * sw + i] = prefix[y * sw + i] + rows[y * w + x0 + i] as f64;
                }
            }
            let mut strip = vec![0f32; h * sw];
            for y in 0..h {
                let (a, b) = (y.saturating_sub(r), (y + r + 1).min(h));
                for i in 0..sw {
                    strip[y * sw + i] = ((prefix[b * sw + i] - prefix[a * sw + i]) / (b - a) as f64) as f32;
                }
            }
            (x0, strip)
        })
        .collect();
    for (x0, strip) in &done {
        let sw = strip.len() / h.max(1);
        for y in 0..h {
            out[y * w + x0..y * w + x0 + sw].copy_from_slice(&strip[y * sw..(y + 1) * sw]);
        }
    }
}

/// The window mean of the product of two planes, minus the product of their window means.
fn box_covariance(
    (a, b): (&[f32], &[f32]),
    (mean_a, mean_b): (&[f32], &[f32]),
    (w, h, r): (usize, usize, usize),
    tick: &mut dyn FnMut() -> Result<()>,
) -> Result<Vec<f32>> {
    let mut prod = try_zeroed::<f32>(w * h, "photo mode plane")?;
    prod.par_iter_mut().zip(a.par_iter().zip(b)).for_each(|(p, (x, y))| *p = x * y);
    let mut m = box_mean(&prod, w, h, r, tick)?;
    drop(prod);
    m.par_iter_mut().zip(mean_a.par_iter().zip(mean_b)).for_each(|(v, (x, y))| *v -= x * y);
    Ok(m)
}

/// Filters planar RGB `image` guided by planar RGB `guide` (same size) with window radius
/// `r` and regularisation `eps`: `q = ā · I + b̄`, where `(a, b)` is each window's least-squares
/// affine fit of the image to the guide's colours. `tick` is called between the filter's
/// passes (each one box filter of the image) and within them (see [`box_mean`]); an error
/// from it stops the filter.
pub fn guided_filter(
    image: &[f32],
    guide: &[f32],
    w: usize,
    h: usize,
    r: usize,
    eps: f64,
    tick: &mut dyn FnMut() -> Result<()>,
) -> Result<Vec<f32>> {
    let n = w * h;
    let guide_planes: Vec<&[f32]> = (0..3).map(|k| &guide[k * n..(k + 1) * n]).collect();
    let mut mean_i = Vec::with_capacity(3);
    for g in &guide_planes {
        mean_i.push(box_mean(g, w, h, r, tick)?);
        tick()?;
    }
    // The inverse of each window's regularised guide covariance (symmetric 3×3: 6 planes).
    let pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];
    let mut cov = Vec::with_capacity(6);
    for &(a, b) in &pairs {
        cov.push(box_covariance((guide_planes[a], guide_planes[b]), (&mean_i[a], &mean_i[b]), (w, h, r), tick)?);
        tick()?;
    }
    let mut inverse = try_zeroed::<[f64; 6]>(n, "photo mode covariances")?;
    inverse.par_iter_mut().enumerate().for_each(|(p, out)| {
        let e = |k: usize| cov[k][p] as f64;
        let (a, b, c, d, f, g) = (e(0) + eps, e(1), e(2), e(3) + eps, e(4), e(5) + eps);
        // [[a b c] [b d f] [c f g]]⁻¹ by cofactors (positive definite: eps > 0).
        let (i00, i01, i02) = (d * g - f * f, c * f - b * g, b * f - c * d);
        let (i11, i12, i22) = (a * g - c * c, b * c - a * f, a * d - b * b);
        let det = a * i00 + b * i01 + c * i02;
        *out = [i00, i01, i02, i11, i12, i22].map(|v| v / det);
    });
    drop(cov);
    let mut out = try_zeroed::<f32>(3 * n, "photo mode result")?;
    for k in 0..3 {
        let p_plane = &image[k * n..(k + 1) * n];
        let mean_p = box_mean(p_plane, w, h, r, tick)?;
        tick()?;
        let mut cov_ip = Vec::with_capacity(3);
        for a in 0..3 {
            cov_ip.push(box_covariance((guide_planes[a], p_plane), (&mean_i[a], &mean_p), (w, h, r), tick)?);
            tick()?;
        }
        let mut coef: Vec<Vec<f32>> = Vec::with_capacity(4);
        for _ in 0..4 {
            coef.push(try_zeroed::<f32>(n, "photo mode coefficients")?);
        }
        let [c0, c1, c2, c3] = &mut coef[..] else { unreachable!("four planes") };
        (c0, c1, c2, c3).into_par_iter().enumerate().for_each(|(p, (a0, a1, a2, b0))| {
            let inv = &inverse[p];
            let v = [cov_ip[0][p] as f64, cov_ip[1][p] as f64, cov_ip[2][p] as f64];
            let a = [
                inv[0] * v[0] + inv[1] * v[1] + inv[2] * v[2],
                inv[1] * v[0] + inv[3] * v[1] + inv[4] * v[2],
                inv[2] * v[0] + inv[4] * v[1] + inv[5] * v[2],
            ];
            let b = mean_p[p] as f64 - (0..3).map(|j| a[j] * mean_i[j][p] as f64).sum::<f64>();
            (*a0, *a1, *a2, *b0) = (a[0] as f32, a[1] as f32, a[2] as f32, b as f32);
        });
        drop((cov_ip, mean_p));
        let out_k = &mut out[k * n..(k + 1) * n];
        for (j, c) in coef.iter().enumerate() {
            let smooth = box_mean(c, w, h, r, tick)?;
            match guide_planes.get(j) {
                Some(g) => out_k.par_iter_mut().zip(smooth.par_iter().zip(*g)).for_each(|(o, (s, i))| *o += s * i),
                None => out_k.par_iter_mut().zip(&smooth).for_each(|(o, s)| *o += s),
            }
            tick()?;
        }
    }
    Ok(out)
}

/// Photo mode on planar RGB `stylized`, guided by the `content` it was made from; `tick`
/// as for [`guided_filter`].
pub fn photo_smooth(
    stylized: &mut [f32],
    content: &[f32],
    w: usize,
    h: usize,
    tick: &mut dyn FnMut() -> Result<()>,
) -> Result<()> {
    let out = guided_filter(stylized, content, w, h, radius_for(w, h), EPSILON, tick)?;
    stylized.copy_from_slice(&out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_box_mean_is_banded_with_ticks_and_equals_a_direct_sum() {
        let (w, h, r) = (1030, 700, 3);
        let p: Vec<f32> = (0..w * h).map(|i| (i * 37 % 101) as f32 / 100.0).collect();
        let mut ticks = 0;
        let m = box_mean(&p, w, h, r, &mut || {
            ticks += 1;
            Ok(())
        })
        .unwrap();
        assert!(ticks >= 4, "{ticks} ticks for {} pixels", w * h);
        for (x, y) in [(0, 0), (w - 1, h - 1), (513, 349), (1029, 0), (64, 511), (700, 512)] {
            let (mut s, mut c) = (0.0f64, 0.0f64);
            for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                    s += p[yy * w + xx] as f64;
                    c += 1.0;
                }
            }
            assert!((m[y * w + x] as f64 - s / c).abs() < 1e-5, "({x}, {y})");
        }
        // A failing tick stops the filter.
        let mut calls = 0;
        let r2 = box_mean(&p, w, h, r, &mut || {
            calls += 1;
            if calls == 2 {
                Err(crate::Error::Cancelled)
            } else {
                Ok(())
            }
        });
        assert!(matches!(r2, Err(crate::Error::Cancelled)) && calls == 2);
    }

    #[test]
    fn box_mean_matches_a_direct_sum() {
        let (w, h, r) = (7, 5, 2);
        let p: Vec<f32> = (0..w * h).map(|i| (i * 37 % 11) as f32).collect();
        let m = box_mean(&p, w, h, r, &mut || Ok(())).unwrap();
        for y in 0..h {
            for x in 0..w {
                let (mut s, mut c) = (0.0, 0.0);
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                    for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                        s += p[yy * w + xx];
                        c += 1.0;
                    }
                }
                assert!((m[y * w + x] - s / c).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn keeps_the_guides_edge_and_removes_noise_beside_it() {
        // Guide: a vertical step edge. Image: the same edge in another colour plus noise.
        let (w, h) = (40, 30);
        let n = w * h;
        let mut guide = vec![0f32; 3 * n];
        let mut image = vec![0f32; 3 * n];
        let mut s = 1u64;
        for k in 0..3 {
            for p in 0..n {
                let left = p % w < w / 2;
                guide[k * n + p] = if left { 0.2 } else { 0.8 };
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.2;
                image[k * n + p] = if left { 0.1 * k as f32 } else { 0.9 } + noise;
            }
        }
        let out = guided_filter(&image, &guide, w, h, 4, 1e-3, &mut || Ok(())).unwrap();
        // The step is still a step: the two columns beside it differ by the full jump.
        for y in 0..h {
            let (l, r) = (out[y * w + w / 2 - 1], out[y * w + w / 2]);
            assert!(r - l > 0.75, "row {y}: {l} | {r}");
        }
        // Noise is gone on each side.
        let side: Vec<f32> = (0..h).map(|y| out[y * w + 3]).collect();
        let spread = side.iter().cloned().fold(f32::MIN, f32::max) - side.iter().cloned().fold(f32::MAX, f32::min);
        assert!(spread < 0.05, "left side spread {spread}");
    }
}
