//! What the Winograd transforms share: the jobs (a rectangle of input tiles for the input
//! transform, a tile row of one output channel for the output transform), the gathering of
//! padded input rows, and the entry points of the transforms, F(4×4, 3×3) (`f4`; the
//! F(2×2, 3×3) variant, once kept for comparison, is gone).

/// Gather + input transform of a chunk of input channels over a rectangle of tiles.
pub(crate) struct InputJob<'a> {
    /// Output tile edge: 4, F(4×4, 3×3) (see `f4`).
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
    /// Every padded column is read through `colmap` (the input is upsampled on the fly), not
    /// only the border ones.
    pub mapped: bool,
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
/// padded column `col0 + q` reads source column `col0 + q − 1`, or `colmap[q]` at the borders
/// (everywhere when `mapped`).
#[inline(always)]
pub(crate) fn gather_row(src: &[f32], col0: usize, colmap: &[usize], mapped: bool, padded: &mut [f32]) {
    let pw = padded.len();
    if mapped {
        for (p, &c) in padded.iter_mut().zip(colmap) {
            *p = src[c];
        }
        return;
    }
    let qlo = usize::from(col0 == 0);
    let qhi = (src.len() + 1).saturating_sub(col0).min(pw).max(qlo);
    padded[qlo..qhi].copy_from_slice(&src[col0 + qlo - 1..col0 + qhi - 1]);
    for q in (0..qlo).chain(qhi..pw) {
        padded[q] = src[colmap[q]];
    }
}

/// The input transform.
#[inline(always)]
pub(crate) fn input(job: &mut InputJob) {
    debug_assert_eq!(job.tile, 4);
    super::f4::input(job)
}

/// The output transform.
#[inline(always)]
pub(crate) fn output(job: &mut OutputJob) {
    debug_assert_eq!(job.tile, 4);
    super::f4::output(job)
}

/// `G g Gᵀ`, row-major `(tile + 2)²`.
pub(crate) fn weight_of(tile: usize, g: &[f32]) -> Vec<f32> {
    debug_assert_eq!(tile, 4);
    super::f4::weight(g)
}

#[cfg(any(test, feature = "bench-internals"))]
/// The 3×3 kernel back from `G g Gᵀ`.
pub(crate) fn weight_inverse_of(tile: usize, u: &[f32]) -> [f32; 9] {
    debug_assert_eq!(tile, 4);
    super::f4::weight_inverse(u)
}

/// Output transform of one tile row of one output channel, with bias and ReLU, into `tile`
/// output rows of `tile·cols` samples (row `a` at `tmp[a·tile·cols..]`).
pub(crate) struct OutputJob<'a> {
    /// Output tile edge (4).
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
