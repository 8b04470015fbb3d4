//! The AVX-512 micro-kernels of the transform: the f64 cross-products of
//! [`super::moments`] and the f32 map panels of [`super::map_apply`].

use std::arch::x86_64::*;

use super::map_apply::{PANEL, ROWS};
use super::moments::{cross_shape, LANES, STRETCH, TILE};

/// [`super::moments::cross_rows`]: `TILE × TILE` tiles of 8-lane dot products over
/// stretches of `STRETCH` pixels.
#[target_feature(enable = "avx512f")]
pub(crate) fn cross_rows(s: &[f64], stride: usize, len: usize, ib: usize, rows: &mut [f64]) {
    let cp = cross_shape(s, stride, len, ib, rows);
    let sp = s.as_ptr();
    for p0 in (0..len).step_by(STRETCH) {
        let plen = STRETCH.min(len - p0);
        // SAFETY (every pointer below): rows < cp, columns < p0 + plen ≤ len ≤ stride, as `cross_shape` asserted.
        let a: [*const f64; TILE] = std::array::from_fn(|i| unsafe { sp.add((ib + i) * stride + p0) });
        for jb in (0..=ib).step_by(TILE) {
            let b: [*const f64; TILE] = std::array::from_fn(|j| unsafe { sp.add((jb + j) * stride + p0) });
            let mut t = [[_mm512_setzero_pd(); TILE]; TILE];
            for p in (0..plen).step_by(LANES) {
                let av: [__m512d; TILE] = std::array::from_fn(|i| unsafe { _mm512_loadu_pd(a[i].add(p)) });
                for j in 0..TILE {
                    let bv = unsafe { _mm512_loadu_pd(b[j].add(p)) };
                    for i in 0..TILE {
                        t[i][j] = _mm512_fmadd_pd(av[i], bv, t[i][j]);
                    }
                }
            }
            for i in 0..TILE {
                for j in 0..TILE {
                    rows[i * cp + jb + j] += _mm512_reduce_add_pd(t[i][j]);
                }
            }
        }
    }
}

/// [`super::map_apply`]'s panel: `ROWS` output channels × 64 pixels per register tile.
///
/// # Safety
/// `dst` must be writable at `i · n + j` for `i < c`, `j < len`; `len ≤ PANEL`.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn map_panel(w: &[f32], b: &[f32], c: usize, s: &[f32], dst: *mut f32, n: usize, len: usize) {
    const V: usize = PANEL / 16;
    assert!(len <= PANEL && s.len() >= c * PANEL);
    assert!(w.len() >= c.next_multiple_of(ROWS) * c && b.len() >= c.next_multiple_of(ROWS));
    let masks: [__mmask16; V] = std::array::from_fn(|v| {
        let valid = len.saturating_sub(16 * v).min(16);
        ((1u32 << valid) - 1) as __mmask16
    });
    for ib in (0..c).step_by(ROWS) {
        let mut acc: [[__m512; V]; ROWS] = std::array::from_fn(|r| [_mm512_set1_ps(b[ib + r]); V]);
        let wb = &w[ib * c..][..ROWS * c];
        for (k, wk) in wb.chunks_exact(ROWS).enumerate() {
            // SAFETY: row k < c of the scratch holds PANEL values.
            let x: [__m512; V] =
                std::array::from_fn(|v| unsafe { _mm512_loadu_ps(s.as_ptr().add(k * PANEL + 16 * v)) });
            for r in 0..ROWS {
                let m = _mm512_set1_ps(wk[r]);
                for v in 0..V {
                    acc[r][v] = _mm512_fmadd_ps(m, x[v], acc[r][v]);
                }
            }
        }
        for (r, row) in acc.iter().enumerate().take(c - ib) {
            // SAFETY: row ib + r < c; the masks keep the stores to columns < len.
            let out = unsafe { dst.add((ib + r) * n) };
            for v in 0..V {
                if masks[v] == 0xffff {
                    unsafe { _mm512_storeu_ps(out.add(16 * v), row[v]) };
                } else if masks[v] != 0 {
                    unsafe { _mm512_mask_storeu_ps(out.add(16 * v), masks[v], row[v]) };
                }
            }
        }
    }
}
