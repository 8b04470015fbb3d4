//! The AVX2 micro-kernel of the transform's cross-products ([`super::moments`]): the same
//! four-lane dot products, in the same order, as the portable kernel it replaces on AVX2 +
//! FMA CPUs (so the sums are bit for bit the same), but held in registers: a `TILE × TILE`
//! tile is two passes of 2 × `TILE` accumulators, which with their operands fit the 16 vector
//! registers (the portable form spilled).

use std::arch::x86_64::*;

use super::moments::{cross_shape, STRETCH, TILE};

/// [`super::moments::cross_rows`] with AVX2 + FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) fn cross_rows(s: &[f64], stride: usize, len: usize, ib: usize, rows: &mut [f64]) {
    const HALF: usize = TILE / 2;
    let cp = cross_shape(s, stride, len, ib, rows);
    let sp = s.as_ptr();
    for p0 in (0..len).step_by(STRETCH) {
        let plen = STRETCH.min(len - p0);
        for jb in (0..=ib).step_by(TILE) {
            // SAFETY (every pointer below): rows < cp, columns < p0 + plen ≤ len ≤ stride, as `cross_shape` asserted.
            let b: [*const f64; TILE] = std::array::from_fn(|j| unsafe { sp.add((jb + j) * stride + p0) });
            for i0 in (0..TILE).step_by(HALF) {
                let a: [*const f64; HALF] = std::array::from_fn(|i| unsafe { sp.add((ib + i0 + i) * stride + p0) });
                let mut t = [[_mm256_setzero_pd(); TILE]; HALF];
                for p in (0..plen).step_by(4) {
                    let av: [__m256d; HALF] = std::array::from_fn(|i| unsafe { _mm256_loadu_pd(a[i].add(p)) });
                    for j in 0..TILE {
                        let bv = unsafe { _mm256_loadu_pd(b[j].add(p)) };
                        for i in 0..HALF {
                            t[i][j] = _mm256_fmadd_pd(av[i], bv, t[i][j]);
                        }
                    }
                }
                for (i, ti) in t.iter().enumerate() {
                    for (j, tij) in ti.iter().enumerate() {
                        let mut l = [0f64; 4];
                        // SAFETY: four f64 fit `l`.
                        unsafe { _mm256_storeu_pd(l.as_mut_ptr(), *tij) };
                        // The portable kernel's order: ((l0 + l1) + l2) + l3.
                        rows[(i0 + i) * cp + jb + j] += l.iter().sum::<f64>();
                    }
                }
            }
        }
    }
}
