//! Winograd F(2×2, 3×3) transforms (Lavin & Gray, 2016): an output tile `Y` (2×2) from a
//! 4×4 input patch `d` and a 3×3 kernel `g` is `Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A` with
//!
//! ```text
//!      ⎡1  0 -1  0⎤        ⎡ 1    0    0 ⎤
//! Bᵀ = ⎢0  1  1  0⎥    G = ⎢1/2  1/2  1/2⎥    Aᵀ = ⎡1  1  1  0⎤
//!      ⎢0 -1  1  0⎥        ⎢1/2 -1/2  1/2⎥         ⎣0  1 -1 -1⎦
//!      ⎣0  1  0 -1⎦        ⎣ 0    0    1 ⎦
//! ```
//!
//! (cross-correlation, as `conv2d` computes). The input and output transforms run over a
//! rectangle of tiles, vectorised across tiles: input rows are first gathered with their
//! border samples and split into even and odd columns, so that the four columns of
//! consecutive tiles are four contiguous streams.

/// `G g Gᵀ` for one row-major 3×3 kernel (computed in f64, rounded once).
pub(crate) fn weight(g: &[f32]) -> [f32; 16] {
    let g: [f64; 9] = std::array::from_fn(|i| g[i] as f64);
    // h = g Gᵀ (3×4)
    let mut h = [[0f64; 4]; 3];
    for (r, hr) in h.iter_mut().enumerate() {
        let (a, b, c) = (g[3 * r], g[3 * r + 1], g[3 * r + 2]);
        *hr = [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
    }
    // U = G h (4×4)
    let mut u = [0f32; 16];
    for c in 0..4 {
        let (a, b, e) = (h[0][c], h[1][c], h[2][c]);
        u[c] = a as f32;
        u[4 + c] = (0.5 * (a + b + e)) as f32;
        u[8 + c] = (0.5 * (a - b + e)) as f32;
        u[12 + c] = e as f32;
    }
    u
}

#[cfg(any(test, feature = "bench-internals"))]
/// Recovers the 3×3 kernel from `G g Gᵀ` (up to the rounding of `u`): rows 0 and 3 of `G`
/// pick `g`'s outer rows, and the difference of rows 1 and 2 its middle one.
pub(crate) fn weight_inverse(u: &[f32]) -> [f32; 9] {
    let u: [f64; 16] = std::array::from_fn(|i| u[i] as f64);
    // h (3×4): h0 = U0, h1 = U1 − U2, h2 = U3
    let h: [[f64; 4]; 3] = std::array::from_fn(|r| {
        std::array::from_fn(|c| match r {
            0 => u[c],
            1 => u[4 + c] - u[8 + c],
            _ => u[12 + c],
        })
    });
    let mut g = [0f32; 9];
    for r in 0..3 {
        g[3 * r] = h[r][0] as f32;
        g[3 * r + 1] = (h[r][1] - h[r][2]) as f32;
        g[3 * r + 2] = h[r][3] as f32;
    }
    g
}

/// Gather + input transform of a chunk of input channels over a rectangle of tiles.
pub(crate) struct InputJob<'a> {
    /// Output tile edge: 2 for F(2×2, 3×3), 4 for F(4×4, 3×3) (see `f4`).
    pub tile: usize,
    /// `kc` consecutive input planes of `h × w`.
    pub planes: &'a [f32],
    pub w: usize,
    pub hw: usize,
    /// Source row of each of the `tile·rows + 2` padded rows the rectangle reads.
    pub rowmap: &'a [usize],
    /// Source column of each of the `tile·cols + 2` padded columns the rectangle reads.
    pub colmap: &'a [usize],
    /// First padded column of the rectangle (`tile·tc0`).
    pub col0: usize,
    pub rows: usize,
    pub cols: usize,
    /// Scratch: at least [`InputJob::scratch_len`]`(rows, cols)` floats.
    pub band: &'a mut [f32],
    /// Output: `v[ξ·xi_stride + ci·vt + r·cols + j]` for tile `(r, j)`, `ξ = (tile + 2)·a + c`.
    pub v: &'a mut [f32],
    pub xi_stride: usize,
    pub vt: usize,
}

impl InputJob<'_> {
    /// Scratch floats for a rectangle of `rows × cols` tiles: one padded row, its column
    /// phases, and the `tile + 2` row-transformed streams of each of the `tile·rows + 2` rows.
    pub fn scratch_len(tile: usize, rows: usize, cols: usize) -> usize {
        2 * tile * (cols + 1) + (tile * rows + 2) * (tile + 2) * cols
    }
}

/// Copies the padded row `col0 .. col0 + padded.len()` of source row `src` into `padded`:
/// padded column `col0 + q` reads source column `col0 + q − 1`, or `colmap[q]` at the borders.
#[inline(always)]
pub(crate) fn gather_row(src: &[f32], col0: usize, colmap: &[usize], padded: &mut [f32]) {
    let pw = padded.len();
    let qlo = usize::from(col0 == 0);
    let qhi = (src.len() + 1).saturating_sub(col0).min(pw).max(qlo);
    padded[qlo..qhi].copy_from_slice(&src[col0 + qlo - 1..col0 + qhi - 1]);
    for q in (0..qlo).chain(qhi..pw) {
        padded[q] = src[colmap[q]];
    }
}

/// The input transform of either tile size.
#[inline(always)]
pub(crate) fn input(job: &mut InputJob) {
    if job.tile == 4 {
        super::f4::input(job)
    } else {
        input2(job)
    }
}

/// The output transform of either tile size.
#[inline(always)]
pub(crate) fn output(job: &mut OutputJob) {
    if job.tile == 4 {
        super::f4::output(job)
    } else {
        output2(job)
    }
}

/// `G g Gᵀ` of either tile size, row-major `(tile + 2)²`.
pub(crate) fn weight_of(tile: usize, g: &[f32]) -> Vec<f32> {
    if tile == 4 {
        super::f4::weight(g)
    } else {
        weight(g).to_vec()
    }
}

#[cfg(any(test, feature = "bench-internals"))]
/// The 3×3 kernel back from `G g Gᵀ` of either tile size.
pub(crate) fn weight_inverse_of(tile: usize, u: &[f32]) -> [f32; 9] {
    if tile == 4 {
        super::f4::weight_inverse(u)
    } else {
        weight_inverse(u)
    }
}

#[inline(always)]
fn input2(job: &mut InputJob) {
    let (rows, cols) = (job.rows, job.cols);
    let nrows = 2 * rows + 2;
    let pw = 2 * cols + 2;
    let half = cols + 1;
    assert!(job.rowmap.len() == nrows && job.colmap.len() == pw);
    assert!(rows * cols <= job.vt);
    let kc = job.planes.len() / job.hw;
    assert!(job.v.len() >= 15 * job.xi_stride + kc * job.vt && kc * job.vt <= job.xi_stride);
    let (padded, rest) = job.band.split_at_mut(pw);
    let (eo, rt) = rest.split_at_mut(2 * half);
    let (even, odd) = eo.split_at_mut(half);
    let rt = &mut rt[..nrows * 4 * cols];
    let w = job.w;
    for (ci, plane) in job.planes.chunks_exact(job.hw).enumerate() {
        // Row pass: each padded row once, d·B → four streams over the tiles.
        for (&sr, r4) in job.rowmap.iter().zip(rt.chunks_exact_mut(4 * cols)) {
            let src = &plane[sr * w..(sr + 1) * w];
            gather_row(src, job.col0, job.colmap, padded);
            deinterleave(padded, even, odd);
            let (t0, r3) = r4.split_at_mut(cols);
            let (t1, r3) = r3.split_at_mut(cols);
            let (t2, t3) = r3.split_at_mut(cols);
            let (e0, e1, o0, o1) = (&even[..cols], &even[1..], &odd[..cols], &odd[1..]);
            for j in 0..cols {
                t0[j] = e0[j] - e1[j];
                t1[j] = o0[j] + e1[j];
                t2[j] = e1[j] - o0[j];
                t3[j] = o0[j] - o1[j];
            }
        }
        // Column pass: Bᵀ across the four rows of each tile row.
        for r in 0..rows {
            let base = ci * job.vt + r * cols;
            let t = |k: usize, c: usize| {
                let s = ((2 * r + k) * 4 + c) * cols;
                &rt[s..s + cols]
            };
            for c in 0..4 {
                let (a0, a1, a2, a3) = (t(0, c), t(1, c), t(2, c), t(3, c));
                combine::<true>(&mut job.v[c * job.xi_stride + base..][..cols], a0, a2);
                combine::<false>(&mut job.v[(4 + c) * job.xi_stride + base..][..cols], a1, a2);
                combine::<true>(&mut job.v[(8 + c) * job.xi_stride + base..][..cols], a2, a1);
                combine::<true>(&mut job.v[(12 + c) * job.xi_stride + base..][..cols], a1, a3);
            }
        }
    }
}

/// `out = a − b` (`SUB`) or `a + b`, elementwise.
#[inline(always)]
fn combine<const SUB: bool>(out: &mut [f32], a: &[f32], b: &[f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = if SUB { x - y } else { x + y };
    }
}

/// Splits `x` (length `2·n`) into its even and odd samples (`n` each).
#[inline(always)]
fn deinterleave(x: &[f32], even: &mut [f32], odd: &mut [f32]) {
    const B: usize = 16;
    let n = even.len().min(odd.len()).min(x.len() / 2);
    let full = n / B * B;
    for ((x, e), o) in
        x[..2 * full].chunks_exact(2 * B).zip(even[..full].chunks_exact_mut(B)).zip(odd[..full].chunks_exact_mut(B))
    {
        let (Ok(x), Ok(e), Ok(o)) =
            (<&[f32; 2 * B]>::try_from(x), <&mut [f32; B]>::try_from(e), <&mut [f32; B]>::try_from(o))
        else {
            unreachable!("chunks_exact yields exact lengths")
        };
        for l in 0..B {
            e[l] = x[2 * l];
            o[l] = x[2 * l + 1];
        }
    }
    for k in full..n {
        even[k] = x[2 * k];
        odd[k] = x[2 * k + 1];
    }
}

/// Tiles per vectorised block of the output transform.
const L: usize = 16;

/// Output transform of one tile row of one output channel, with bias and ReLU, into `tile`
/// output rows of `tile·cols` samples (row `a` at `tmp[a·tile·cols..]`).
pub(crate) struct OutputJob<'a> {
    /// Output tile edge (2 or 4).
    pub tile: usize,
    /// `m[ξ·xi_stride + base + j]`, `j < cols`.
    pub m: &'a [f32],
    pub xi_stride: usize,
    pub base: usize,
    pub cols: usize,
    pub bias: f32,
    pub relu: bool,
    pub tmp: &'a mut [f32],
}

#[inline(always)]
fn output2(job: &mut OutputJob) {
    let cols = job.cols;
    assert!(job.m.len() >= 15 * job.xi_stride + job.base + cols && job.tmp.len() >= 4 * cols);
    let ms: [&[f32]; 16] = std::array::from_fn(|xi| {
        let s = xi * job.xi_stride + job.base;
        &job.m[s..s + cols]
    });
    let (row0, row1) = job.tmp[..4 * cols].split_at_mut(2 * cols);
    let (bias, relu) = (job.bias, job.relu);
    for j in (0..cols).step_by(L) {
        let n = L.min(cols - j);
        let mut m = [[0f32; L]; 16];
        if n == L {
            for (mx, src) in m.iter_mut().zip(ms.iter()) {
                if let Ok(s) = <&[f32; L]>::try_from(&src[j..j + L]) {
                    *mx = *s;
                }
            }
        } else {
            for (mx, src) in m.iter_mut().zip(ms.iter()) {
                for (d, s) in mx.iter_mut().zip(&src[j..j + n]) {
                    *d = *s;
                }
            }
        }
        // Aᵀ M (2×4), then · A (2×2); rows interleaved into output order.
        let mut y0 = [0f32; 2 * L];
        let mut y1 = [0f32; 2 * L];
        for l in 0..L {
            let s0: [f32; 4] = std::array::from_fn(|c| m[c][l] + m[4 + c][l] + m[8 + c][l]);
            let s1: [f32; 4] = std::array::from_fn(|c| m[4 + c][l] - m[8 + c][l] - m[12 + c][l]);
            let mut y = [
                s0[0] + s0[1] + s0[2] + bias,
                s0[1] - s0[2] - s0[3] + bias,
                s1[0] + s1[1] + s1[2] + bias,
                s1[1] - s1[2] - s1[3] + bias,
            ];
            if relu {
                for v in &mut y {
                    *v = v.max(0.0);
                }
            }
            y0[2 * l] = y[0];
            y0[2 * l + 1] = y[1];
            y1[2 * l] = y[2];
            y1[2 * l + 1] = y[3];
        }
        if n == L {
            if let (Ok(r0), Ok(r1)) = (
                <&mut [f32; 2 * L]>::try_from(&mut row0[2 * j..2 * j + 2 * L]),
                <&mut [f32; 2 * L]>::try_from(&mut row1[2 * j..2 * j + 2 * L]),
            ) {
                *r0 = y0;
                *r1 = y1;
            }
        } else {
            for (d, s) in row0[2 * j..2 * (j + n)].iter_mut().zip(&y0) {
                *d = *s;
            }
            for (d, s) in row1[2 * j..2 * (j + n)].iter_mut().zip(&y1) {
                *d = *s;
            }
        }
    }
}
