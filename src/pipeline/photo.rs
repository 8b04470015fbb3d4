//! Photo mode: the fast smoothing step of FastPhotoStyle (Li et al., ECCV 2018) — an
//! edge-preserving filter of the stylized result guided by the content image, here the
//! colour guided filter (He et al., "Guided image filtering"). Within every window the output
//! is an affine function of the content's colours, so the content's edges and fine structure
//! come back while the style's colours and mood stay; a photograph stays a photograph.

use rayon::prelude::*;

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

/// Mean over the `(2r+1)²` window around each pixel, clipped to the image.
fn box_mean(plane: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut rows = vec![0f32; w * h];
    rows.par_chunks_exact_mut(w).zip(plane.par_chunks_exact(w)).for_each(|(out, row)| {
        let mut prefix = vec![0f64; w + 1];
        for (i, &v) in row.iter().enumerate() {
            prefix[i + 1] = prefix[i] + v as f64;
        }
        for (x, o) in out.iter_mut().enumerate() {
            let (a, b) = (x.saturating_sub(r), (x + r + 1).min(w));
            *o = ((prefix[b] - prefix[a]) / (b - a) as f64) as f32;
        }
    });
    let mut out = vec![0f32; w * h];
    // Columns, in strips of columns for cache-friendly rows.
    const STRIP: usize = 64;
    let strips: Vec<Vec<f32>> = (0..w.div_ceil(STRIP))
        .into_par_iter()
        .map(|s| {
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
            strip
        })
        .collect();
    for (s, strip) in strips.iter().enumerate() {
        let x0 = s * STRIP;
        let sw = strip.len() / h.max(1);
        for y in 0..h {
            out[y * w + x0..y * w + x0 + sw].copy_from_slice(&strip[y * sw..(y + 1) * sw]);
        }
    }
    out
}

/// Filters planar RGB `image` guided by planar RGB `guide` (same size) with window radius
/// `r` and regularisation `eps`: `q = ā · I + b̄`, where `(a, b)` is each window's least-squares
/// affine fit of the image to the guide's colours.
pub fn guided_filter(image: &[f32], guide: &[f32], w: usize, h: usize, r: usize, eps: f64) -> Vec<f32> {
    let n = w * h;
    let plane = |p: &[f32], k: usize| p[k * n..(k + 1) * n].to_vec();
    let guide_planes: Vec<Vec<f32>> = (0..3).map(|k| plane(guide, k)).collect();
    let mean_i: Vec<Vec<f32>> = guide_planes.iter().map(|g| box_mean(g, w, h, r)).collect();
    // The inverse of each window's regularised guide covariance (symmetric 3×3: 6 planes).
    let pairs = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];
    let cov: Vec<Vec<f32>> = pairs
        .iter()
        .map(|&(a, b)| {
            let prod: Vec<f32> = guide_planes[a].iter().zip(&guide_planes[b]).map(|(x, y)| x * y).collect();
            let m = box_mean(&prod, w, h, r);
            m.iter().enumerate().map(|(p, v)| v - mean_i[a][p] * mean_i[b][p]).collect()
        })
        .collect();
    let inverse: Vec<[f64; 6]> = (0..n)
        .into_par_iter()
        .map(|p| {
            let e = |k: usize| cov[k][p] as f64;
            let (a, b, c, d, f, g) = (e(0) + eps, e(1), e(2), e(3) + eps, e(4), e(5) + eps);
            // [[a b c] [b d f] [c f g]]⁻¹ by cofactors (positive definite: eps > 0).
            let (i00, i01, i02) = (d * g - f * f, c * f - b * g, b * f - c * d);
            let (i11, i12, i22) = (a * g - c * c, b * c - a * f, a * d - b * b);
            let det = a * i00 + b * i01 + c * i02;
            [i00 / det, i01 / det, i02 / det, i11 / det, i12 / det, i22 / det]
        })
        .collect();
    let mut out = vec![0f32; 3 * n];
    for k in 0..3 {
        let p_plane = plane(image, k);
        let mean_p = box_mean(&p_plane, w, h, r);
        let cov_ip: Vec<Vec<f32>> = (0..3)
            .map(|a| {
                let prod: Vec<f32> = guide_planes[a].iter().zip(&p_plane).map(|(x, y)| x * y).collect();
                let m = box_mean(&prod, w, h, r);
                m.iter().enumerate().map(|(p, v)| v - mean_i[a][p] * mean_p[p]).collect()
            })
            .collect();
        let mut coef: Vec<Vec<f32>> = vec![vec![0f32; n]; 4];
        for p in 0..n {
            let inv = &inverse[p];
            let v = [cov_ip[0][p] as f64, cov_ip[1][p] as f64, cov_ip[2][p] as f64];
            let a = [
                inv[0] * v[0] + inv[1] * v[1] + inv[2] * v[2],
                inv[1] * v[0] + inv[3] * v[1] + inv[4] * v[2],
                inv[2] * v[0] + inv[4] * v[1] + inv[5] * v[2],
            ];
            let b = mean_p[p] as f64 - (0..3).map(|j| a[j] * mean_i[j][p] as f64).sum::<f64>();
            for j in 0..3 {
                coef[j][p] = a[j] as f32;
            }
            coef[3][p] = b as f32;
        }
        let smooth: Vec<Vec<f32>> = coef.iter().map(|c| box_mean(c, w, h, r)).collect();
        for p in 0..n {
            out[k * n + p] = (0..3).map(|j| smooth[j][p] * guide_planes[j][p]).sum::<f32>() + smooth[3][p];
        }
    }
    out
}

/// Photo mode on planar RGB `stylized`, guided by the `content` it was made from.
pub fn photo_smooth(stylized: &mut [f32], content: &[f32], w: usize, h: usize) {
    let out = guided_filter(stylized, content, w, h, radius_for(w, h), EPSILON);
    stylized.copy_from_slice(&out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_mean_matches_a_direct_sum() {
        let (w, h, r) = (7, 5, 2);
        let p: Vec<f32> = (0..w * h).map(|i| (i * 37 % 11) as f32).collect();
        let m = box_mean(&p, w, h, r);
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
        let out = guided_filter(&image, &guide, w, h, 4, 1e-3);
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
