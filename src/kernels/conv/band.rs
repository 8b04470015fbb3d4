//! The padded input band a task convolves: a few input rows of a chunk of input channels,
//! each row widened by one border sample on each side, gathered into per-thread scratch.
//!
//! With row stride `wp = w + 2`, output pixel `(r, x)` of the band sits at flat position
//! `q = r·wp + x`, and its tap `(ky, kx)` reads band position `q + ky·wp + kx` — so the
//! micro-kernels can sweep `q` straight across row ends (the two columns `x ∈ {w, w+1}` of
//! every row are computed but never copied out).

use crate::kernels::pad::Border;

/// Which source rows and columns feed a band.
pub(crate) struct BandMap {
    /// Source row of each of the `rows + 2` band rows.
    pub rows: Vec<usize>,
    /// Source columns of the left and right border samples.
    pub left: usize,
    pub right: usize,
}

impl BandMap {
    /// Band of output rows `y0 .. y0 + rows` of an `h × w` image.
    pub fn new(border: Border, y0: usize, rows: usize, h: usize, w: usize) -> Self {
        let rows = (0..rows + 2).map(|j| border.source(y0 as isize - 1 + j as isize, h)).collect();
        Self { rows, left: border.source(-1, w), right: border.source(w as isize, w) }
    }
}

/// Copies input channels `planes` (each an `h × w` plane, `w = plane.len() / h`) into `dst`,
/// channel `i` at `dst[i·chan_stride ..]`, band row `j` at `+ j·(w+2)`.
///
/// The caller guarantees `dst.len() ≥ planes.len()·chan_stride` and
/// `chan_stride ≥ map.rows.len()·(w+2)`.
pub(crate) fn fill(dst: &mut [f32], chan_stride: usize, planes: &[f32], hw: usize, w: usize, map: &BandMap) {
    let wp = w + 2;
    for (plane, chan) in planes.chunks_exact(hw).zip(dst.chunks_mut(chan_stride)) {
        for (&r, row_out) in map.rows.iter().zip(chan.chunks_exact_mut(wp)) {
            let row_in = &plane[r * w..(r + 1) * w];
            row_out[0] = row_in[map.left];
            row_out[1..=w].copy_from_slice(row_in);
            row_out[w + 1] = row_in[map.right];
        }
    }
}
