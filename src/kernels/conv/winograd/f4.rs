//! Winograd F(4×4, 3×3) (Lavin & Gray, 2016; interpolation points 0, ±1, ±2, ∞): an output
//! tile `Y` (4×4) from a 6×6 input patch `d` and a 3×3 kernel `g` is
//! `Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A` with
//!
//! ```text
//!      ⎡4  0 -5  0  1  0⎤        ⎡ 1/4    0     0 ⎤
//!      ⎢0 -4 -4  1  1  0⎥        ⎢-1/6  -1/6  -1/6⎥        ⎡1  1  1  1  1  0⎤
//! Bᵀ = ⎢0  4 -4 -1  1  0⎥    G = ⎢-1/6   1/6  -1/6⎥   Aᵀ = ⎢0  1 -1  2 -2  0⎥
//!      ⎢0 -2 -1  2  1  0⎥        ⎢1/24  1/12  1/6 ⎥        ⎢0  1  1  4  4  0⎥
//!      ⎢0  2 -1 -2  1  0⎥        ⎢1/24 -1/12  1/6 ⎥        ⎣0  1 -1  8 -8  1⎦
//!      ⎣0  4  0 -5  0  1⎦        ⎣  0     0     1 ⎦
//! ```
//!
//! 36 multiplications per 4×4 output tile and channel pair instead of 144 (2.25× fewer than
//! F(2×2, 3×3)). As in `transform`, both data transforms are vectorised across the tiles of
//! a rectangle: each padded input row is split into its four column phases, so that the six
//! samples of consecutive tiles are six contiguous streams.

use super::transform::{gather_row, InputJob, OutputJob};

/// `G g Gᵀ` for one row-major 3×3 kernel (computed in f64, rounded once), row-major 6×6.
pub(crate) fn weight(g: &[f32]) -> Vec<f32> {
    let gm: [[f64; 3]; 6] = [
        [0.25, 0.0, 0.0],
        [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
        [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
        [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
        [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
        [0.0, 0.0, 1.0],
    ];
    let mut u = vec![0f32; 36];
    for a in 0..6 {
        for c in 0..6 {
            let mut s = 0f64;
            for k in 0..3 {
                for l in 0..3 {
                    s += gm[a][k] * g[3 * k + l] as f64 * gm[c][l];
                }
            }
            u[6 * a + c] = s as f32;
        }
    }
    u
}

#[cfg(any(test, feature = "bench-internals"))]
/// Recovers the 3×3 kernel from `G g Gᵀ` with a left inverse of `G`: `g₀ = 4·row₀`,
/// `g₁ = −3·(row₁ − row₂)`, `g₂ = row₅`, on both sides.
pub(crate) fn weight_inverse(u: &[f32]) -> [f32; 9] {
    let pick = |v: &dyn Fn(usize) -> f64, k: usize| match k {
        0 => 4.0 * v(0),
        1 => -3.0 * (v(1) - v(2)),
        _ => v(5),
    };
    let mut g = [0f32; 9];
    for r in 0..3 {
        for c in 0..3 {
            let row = |a: usize| pick(&|b: usize| u[6 * a + b] as f64, c);
            g[3 * r + c] = pick(&row, r) as f32;
        }
    }
    g
}

/// The six-point transform `Bᵀ d` of streams `d0..d5` into `t0..t5`, elementwise.
#[inline(always)]
fn b_transform(d: [&[f32]; 6], t: [&mut [f32]; 6]) {
    let [t0, t1, t2, t3, t4, t5] = t;
    let n = t0.len();
    let (d0, d1, d2, d3, d4, d5) = (&d[0][..n], &d[1][..n], &d[2][..n], &d[3][..n], &d[4][..n], &d[5][..n]);
    let (t1, t2, t3, t4, t5) = (&mut t1[..n], &mut t2[..n], &mut t3[..n], &mut t4[..n], &mut t5[..n]);
    for j in 0..n {
        let (a, b, c, e, f, h) = (d0[j], d1[j], d2[j], d3[j], d4[j], d5[j]);
        t0[j] = 4.0 * a - 5.0 * c + f;
        t1[j] = -4.0 * (b + c) + e + f;
        t2[j] = 4.0 * (b - c) - e + f;
        t3[j] = 2.0 * (e - b) - c + f;
        t4[j] = 2.0 * (b - e) - c + f;
        t5[j] = 4.0 * b - 5.0 * e + h;
    }
}

#[inline(always)]
pub(crate) fn input(job: &mut InputJob) {
    let (rows, cols) = (job.rows, job.cols);
    let nrows = 4 * rows + 2;
    let pw = 4 * cols + 2;
    let half = cols + 1;
    assert!(job.rowmap.len() == nrows && job.colmap.len() == pw);
    assert!(rows * cols <= job.vt);
    let kc = job.planes.len() / job.hw;
    assert!(job.v.len() >= 35 * job.xi_stride + kc * job.vt && kc * job.vt <= job.xi_stride);
    let (padded, rest) = job.band.split_at_mut(4 * half);
    let padded = &mut padded[..pw];
    let (phases, rt) = rest.split_at_mut(4 * half);
    let rt = &mut rt[..nrows * 6 * cols];
    for (ci, plane) in job.planes.chunks_exact(job.hw).enumerate() {
        // Row pass: each padded row once, split into its four column phases, d·B → six
        // streams over the tiles.
        for (&sr, r6) in job.rowmap.iter().zip(rt.chunks_exact_mut(6 * cols)) {
            let src = &plane[sr * job.w..(sr + 1) * job.w];
            gather_row(src, job.col0, job.colmap, job.mapped, padded);
            let (p0, p) = phases.split_at_mut(half);
            let (p1, p) = p.split_at_mut(half);
            let (p2, p3) = p.split_at_mut(half);
            for (j, quad) in padded[..4 * cols].chunks_exact(4).enumerate() {
                p0[j] = quad[0];
                p1[j] = quad[1];
                p2[j] = quad[2];
                p3[j] = quad[3];
            }
            // The last two padded samples start the tile after the last (read as d4, d5).
            p0[cols] = padded[4 * cols];
            p1[cols] = padded[4 * cols + 1];
            let (t0, r) = r6.split_at_mut(cols);
            let (t1, r) = r.split_at_mut(cols);
            let (t2, r) = r.split_at_mut(cols);
            let (t3, r) = r.split_at_mut(cols);
            let (t4, t5) = r.split_at_mut(cols);
            b_transform(
                [&p0[..cols], &p1[..cols], &p2[..cols], &p3[..cols], &p0[1..], &p1[1..]],
                [t0, t1, t2, t3, t4, t5],
            );
        }
        // Column pass: Bᵀ across the six rows of each tile row.
        for r in 0..rows {
            let base = ci * job.vt + r * cols;
            let t = |k: usize, c: usize| {
                let s = ((4 * r + k) * 6 + c) * cols;
                &rt[s..s + cols]
            };
            for c in 0..6 {
                let d = [t(0, c), t(1, c), t(2, c), t(3, c), t(4, c), t(5, c)];
                let xs = job.xi_stride;
                // Positions ξ = 6a + c for a = 0..6 are 6·xi_stride apart: split them off.
                let (_, v) = job.v.split_at_mut(c * xs + base);
                let (v0, v) = v.split_at_mut(6 * xs);
                let (v1, v) = v.split_at_mut(6 * xs);
                let (v2, v) = v.split_at_mut(6 * xs);
                let (v3, v) = v.split_at_mut(6 * xs);
                let (v4, v5) = v.split_at_mut(6 * xs);
                b_transform(
                    d,
                    [
                        &mut v0[..cols],
                        &mut v1[..cols],
                        &mut v2[..cols],
                        &mut v3[..cols],
                        &mut v4[..cols],
                        &mut v5[..cols],
                    ],
                );
            }
        }
    }
}

/// Tiles per vectorised block of the output transform.
const L: usize = 16;

/// Output transform of one tile row of one output channel, with bias and ReLU, into four
/// output rows of `4·cols` samples (`tmp[a·4·cols..(a + 1)·4·cols]`). Vectorised across
/// blocks of `L` tiles: `Aᵀ` down the columns of `M`, then across, then interleaved.
#[inline(always)]
pub(crate) fn output(job: &mut OutputJob) {
    let cols = job.cols;
    assert!(job.m.len() >= 35 * job.xi_stride + job.base + cols && job.tmp.len() >= 16 * cols);
    let (bias, relu) = (job.bias, job.relu);
    let (m, xs, base) = (job.m, job.xi_stride, job.base);
    for j in (0..cols).step_by(L) {
        let n = L.min(cols - j);
        // s[k][c][l] = (Aᵀ M)[k][c] of tile j + l.
        let mut s = [[[0f32; L]; 6]; 4];
        for c in 0..6 {
            let mut v = [[0f32; L]; 6];
            for (a, va) in v.iter_mut().enumerate() {
                let src = &m[(6 * a + c) * xs + base + j..][..n];
                // A whole block is a fixed-size copy (kept inline, not a memcpy call).
                match <&[f32; L]>::try_from(src) {
                    Ok(full) => *va = *full,
                    Err(_) => va[..n].copy_from_slice(src),
                }
            }
            let [s0, s1, s2, s3] = &mut s;
            a_transform(&v, [&mut s0[c], &mut s1[c], &mut s2[c], &mut s3[c]]);
        }
        for (k, sk) in s.iter().enumerate() {
            // y[i][l] = (Aᵀ M A)[k][i] of tile j + l.
            let mut y = [[0f32; L]; 4];
            let [y0, y1, y2, y3] = &mut y;
            a_transform(sk, [y0, y1, y2, y3]);
            let row = &mut job.tmp[k * 4 * cols + 4 * j..][..4 * n];
            for (l, out) in row.chunks_exact_mut(4).enumerate() {
                for (i, o) in out.iter_mut().enumerate() {
                    let v = y[i][l] + bias;
                    *o = if relu { v.max(0.0) } else { v };
                }
            }
        }
    }
}

/// `Aᵀ` applied elementwise to six blocks of `L` values.
#[inline(always)]
fn a_transform(m: &[[f32; L]; 6], out: [&mut [f32; L]; 4]) {
    let [o0, o1, o2, o3] = out;
    for l in 0..L {
        let (p12, m12) = (m[1][l] + m[2][l], m[1][l] - m[2][l]);
        let (p34, m34) = (m[3][l] + m[4][l], m[3][l] - m[4][l]);
        o0[l] = m[0][l] + p12 + p34;
        o1[l] = m12 + 2.0 * m34;
        o2[l] = p12 + 4.0 * p34;
        o3[l] = m12 + 8.0 * m34 + m[5][l];
    }
}
