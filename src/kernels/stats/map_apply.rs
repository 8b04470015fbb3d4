//! Applying an affine map `x ↦ M x + b` (C × C, f32) to row-major features (`C × n`), into
//! a new buffer or in place, in chunks of [`CHUNK`] pixels: each chunk is copied to a small
//! scratch first (so the output may overwrite the input; long row pieces also keep the
//! hardware prefetchers busy), as panels of [`PANEL`] pixels; then every block of [`ROWS`]
//! output channels is one register tile over a panel, started from the bias, with the
//! weights packed so that a block's weights for one input channel are adjacent.

use rayon::prelude::*;

use crate::error::Result;
use crate::kernels::Isa;

/// Pixels per panel (the width of a register tile).
pub(crate) const PANEL: usize = 64;
/// Pixels copied out at once: whole panels.
const CHUNK: usize = 4 * PANEL;
/// Output channels per register tile.
pub(crate) const ROWS: usize = 6;
/// Chunks per parallel task at least (small maps stay on one thread).
const MIN_CHUNKS_PER_TASK: usize = 2;

/// `M` and `b` laid out for the kernels.
#[derive(Debug, Clone)]
pub(crate) struct PackedMap {
    channels: usize,
    /// Per block of [`ROWS`] output channels (the last padded with zero rows), for each input
    /// channel `k`, the block's weights `M[i, k]`: block `b` starts at `b · ROWS · C`.
    weights: Vec<f32>,
    /// `b`, padded with zeros to whole blocks.
    bias: Vec<f32>,
}

impl PackedMap {
    /// Packs the row-major `C × C` matrix `m` and the bias `b` (length C).
    pub fn new(m: &[f32], b: &[f32]) -> Self {
        let c = b.len();
        assert_eq!(m.len(), c * c);
        let cp = c.next_multiple_of(ROWS);
        let mut weights = vec![0f32; cp * c];
        for (blk, w) in weights.chunks_exact_mut(ROWS * c).enumerate() {
            for k in 0..c {
                for r in 0..ROWS {
                    let i = blk * ROWS + r;
                    if i < c {
                        w[k * ROWS + r] = m[i * c + k];
                    }
                }
            }
        }
        let mut bias = b.to_vec();
        bias.resize(cp, 0.0);
        Self { channels: c, weights, bias }
    }

    /// `M x + b` of the row-major `C × n` values `x`, in a new buffer.
    pub fn apply(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        self.apply_with(Isa::detect(), x, n)
    }

    /// [`PackedMap::apply`] with the kernels of `isa` (which the CPU must run).
    pub fn apply_with(&self, isa: Isa, x: &[f32], n: usize) -> Result<Vec<f32>> {
        let len = self.channels * n;
        assert_eq!(x.len(), len);
        let mut out = crate::kernels::buffers::with_capacity(len)?;
        // SAFETY: `x` holds C × n values and `out` has room for as many; `run` writes every
        // one of them before `set_len` exposes them.
        unsafe {
            self.run(isa, x.as_ptr(), out.as_mut_ptr(), n);
            out.set_len(len);
        }
        Ok(out)
    }

    /// Replaces the row-major `C × n` values `x` by `M x + b`.
    pub fn apply_in_place(&self, x: &mut [f32], n: usize) {
        self.apply_in_place_with(Isa::detect(), x, n)
    }

    /// [`PackedMap::apply_in_place`] with the kernels of `isa` (which the CPU must run).
    pub fn apply_in_place_with(&self, isa: Isa, x: &mut [f32], n: usize) {
        assert_eq!(x.len(), self.channels * n);
        let p = x.as_mut_ptr();
        // SAFETY: source and destination are the same C × n values; each panel is copied out
        // before any of its values is written.
        unsafe { self.run(isa, p, p, n) }
    }

    /// Maps `C × n` values from `src` to `dst` (which may be `src` itself), panels in
    /// parallel.
    ///
    /// # Safety
    /// `src` must be readable and `dst` writable for `C · n` values; apart from being the
    /// same buffer, they must not overlap.
    unsafe fn run(&self, isa: Isa, src: *const f32, dst: *mut f32, n: usize) {
        let c = self.channels;
        if c == 0 || n == 0 {
            return;
        }
        let chunks = n.div_ceil(CHUNK);
        let tasks = (chunks / MIN_CHUNKS_PER_TASK).clamp(1, 4 * rayon::current_num_threads());
        let per_task = chunks.div_ceil(tasks) * CHUNK;
        let (src, dst) = (Shared(src as *mut f32), Shared(dst));
        (0..n.div_ceil(per_task)).into_par_iter().for_each(|t| {
            let (src, dst) = (&src, &dst);
            // Panel q of the chunk: `C × PANEL` values from `q · C · PANEL`.
            let mut scratch = vec![0f32; c * CHUNK];
            for p0 in (t * per_task..n.min((t + 1) * per_task)).step_by(CHUNK) {
                let len = CHUNK.min(n - p0);
                for k in 0..c {
                    // SAFETY: row k, columns p0..p0 + len lie inside the C × n source.
                    let from = unsafe { std::slice::from_raw_parts(src.0.add(k * n + p0), len) };
                    for (q, piece) in from.chunks(PANEL).enumerate() {
                        scratch[(q * c + k) * PANEL..][..piece.len()].copy_from_slice(piece);
                    }
                }
                for q in 0..len.div_ceil(PANEL) {
                    let width = PANEL.min(len - q * PANEL);
                    let panel = &scratch[q * c * PANEL..][..c * PANEL];
                    // SAFETY: this task alone writes columns p0..p0 + len (its chunks are its
                    // own), rows 0..C, of the C × n destination; their source is in `scratch`.
                    unsafe { self.panel(isa, panel, dst.0.add(p0 + q * PANEL), n, width) };
                }
            }
        });
    }

    /// One panel: rows `0..C`, columns `0..len` of `dst` (row stride `n`) from `scratch`.
    ///
    /// # Safety
    /// `dst` must be writable at `i · n + j` for `i < C`, `j < len`.
    unsafe fn panel(&self, isa: Isa, scratch: &[f32], dst: *mut f32, n: usize, len: usize) {
        let (w, b, c) = (&self.weights, &self.bias, self.channels);
        match isa {
            // SAFETY: the ISA variants exist only when the CPU has those features; the
            // destination's validity is the caller's.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { super::avx512::map_panel(w, b, c, scratch, dst, n, len) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { panel_avx2(w, b, c, scratch, dst, n, len) },
            Isa::Portable => unsafe { panel_portable::<false>(w, b, c, scratch, dst, n, len) },
        }
    }
}

/// A pointer the parallel tasks share; they write disjoint columns.
struct Shared(*mut f32);
// SAFETY: the tasks of `PackedMap::run` only read the source and write disjoint columns.
unsafe impl Sync for Shared {}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn panel_avx2(w: &[f32], b: &[f32], c: usize, s: &[f32], dst: *mut f32, n: usize, len: usize) {
    // SAFETY: forwarded from the caller.
    unsafe { panel_portable::<true>(w, b, c, s, dst, n, len) }
}

/// The panel in sub-panels of 16 pixels, `ROWS` output channels at a time; `FMA` fuses the
/// multiply-adds.
///
/// # Safety
/// As [`PackedMap::panel`].
#[inline(always)]
unsafe fn panel_portable<const FMA: bool>(
    w: &[f32],
    b: &[f32],
    c: usize,
    s: &[f32],
    dst: *mut f32,
    n: usize,
    len: usize,
) {
    const L: usize = 16;
    for q in (0..len).step_by(L) {
        let width = L.min(len - q);
        for ib in (0..c).step_by(ROWS) {
            let wb = &w[ib * c..][..ROWS * c];
            let mut acc: [[f32; L]; ROWS] = std::array::from_fn(|r| [b[ib + r]; L]);
            for (k, wk) in wb.chunks_exact(ROWS).enumerate() {
                let x: &[f32; L] = s[k * PANEL + q..][..L].try_into().expect("16 values");
                for r in 0..ROWS {
                    for l in 0..L {
                        acc[r][l] = if FMA { wk[r].mul_add(x[l], acc[r][l]) } else { wk[r] * x[l] + acc[r][l] };
                    }
                }
            }
            for (r, row) in acc.iter().enumerate().take(c - ib) {
                // SAFETY: row ib + r < C, columns q..q + width < len.
                unsafe { std::ptr::copy_nonoverlapping(row.as_ptr(), dst.add((ib + r) * n + q), width) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    #[test]
    fn every_kernel_matches_the_naive_product_at_odd_sizes() {
        for (c, n) in [(1, 1), (3, 5), (5, 63), (6, 64), (7, 65), (13, 1000), (64, 129), (67, 256 * 9 + 17), (2, 5000)]
        {
            let (m, b, x) = (values(c * c, 1 + c as u64), values(c, 2), values(c * n, 3 + n as u64));
            let map = PackedMap::new(&m, &b);
            let expect: Vec<f64> = (0..c * n)
                .map(|k| {
                    let (i, p) = (k / n, k % n);
                    b[i] as f64 + (0..c).map(|j| m[i * c + j] as f64 * x[j * n + p] as f64).sum::<f64>()
                })
                .collect();
            for isa in Isa::available() {
                let copy = map.apply_with(isa, &x, n).unwrap();
                let mut inplace = x.clone();
                map.apply_in_place_with(isa, &mut inplace, n);
                assert_eq!(copy, inplace, "{isa:?} {c}×{n}: in place and copied agree");
                for (k, (a, e)) in copy.iter().zip(&expect).enumerate() {
                    assert!((*a as f64 - e).abs() < 1e-5 * (c as f64).sqrt(), "{isa:?} {c}×{n} [{k}]: {a} vs {e}");
                }
            }
        }
    }
}
