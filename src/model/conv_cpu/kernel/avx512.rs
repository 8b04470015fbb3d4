//! AVX-512F micro-kernel: 6 output channels × 4 vectors of 16 positions (24 accumulators,
//! 4 input vectors, 1 broadcast weight of the 32 `zmm` registers).

use std::arch::x86_64::*;

use super::{MicroKernel, Tile};

pub(crate) struct Avx512;

impl MicroKernel for Avx512 {
    const MR: usize = 6;
    const VL: usize = 16;
    const NV: usize = 4;

    unsafe fn run(m: usize, nv: usize, t: &Tile) {
        macro_rules! dispatch {
            ($($m:literal),*) => {
                match (m, nv) {
                    $(
                        ($m, 4) => tile::<$m, 4>(t),
                        ($m, 3) => tile::<$m, 3>(t),
                        ($m, 2) => tile::<$m, 2>(t),
                        ($m, 1) => tile::<$m, 1>(t),
                    )*
                    _ => unreachable!("avx512 tile {m}x{nv}"),
                }
            };
        }
        // SAFETY: forwarded contract; `tile` needs avx512f, guaranteed by the caller.
        unsafe { dispatch!(6, 5, 4, 3, 2, 1) }
    }
}

/// # Safety
/// The [`Tile`] contract for `M`, `NV` (16 lanes per vector); avx512f available.
#[target_feature(enable = "avx512f")]
unsafe fn tile<const M: usize, const NV: usize>(t: &Tile) {
    // SAFETY (whole body): every pointer offset below stays inside the ranges the Tile
    // contract declares valid; unaligned loads/stores are used throughout.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); NV]; M];
        if t.accumulate {
            for (i, row) in acc.iter_mut().enumerate() {
                for (v, a) in row.iter_mut().enumerate() {
                    *a = _mm512_loadu_ps(t.out.add(i * t.out_stride + 16 * v));
                }
            }
        } else if !t.bias.is_null() {
            for (i, row) in acc.iter_mut().enumerate() {
                let b = _mm512_set1_ps(*t.bias.add(i));
                for a in row.iter_mut() {
                    *a = b;
                }
            }
        }
        let mut x = t.input;
        let mut w = t.weights;
        for _ in 0..t.kc {
            for ky in 0..3 {
                let r = x.add(ky * t.row_stride);
                for kx in 0..3 {
                    let wt = w.add((ky * 3 + kx) * M);
                    if NV <= M {
                        let mut xs = [_mm512_setzero_ps(); NV];
                        for (v, xv) in xs.iter_mut().enumerate() {
                            *xv = _mm512_loadu_ps(r.add(kx + 16 * v));
                        }
                        for (i, row) in acc.iter_mut().enumerate() {
                            let wb = _mm512_set1_ps(*wt.add(i));
                            for (a, xv) in row.iter_mut().zip(xs.iter()) {
                                *a = _mm512_fmadd_ps(wb, *xv, *a);
                            }
                        }
                    } else {
                        let mut ws = [_mm512_setzero_ps(); M];
                        for (i, wv) in ws.iter_mut().enumerate() {
                            *wv = _mm512_set1_ps(*wt.add(i));
                        }
                        for v in 0..NV {
                            let xv = _mm512_loadu_ps(r.add(kx + 16 * v));
                            for (row, wv) in acc.iter_mut().zip(ws.iter()) {
                                row[v] = _mm512_fmadd_ps(*wv, xv, row[v]);
                            }
                        }
                    }
                }
            }
            x = x.add(t.chan_stride);
            w = w.add(9 * M);
        }
        let zero = _mm512_setzero_ps();
        for (i, row) in acc.iter().enumerate() {
            for (v, a) in row.iter().enumerate() {
                let a = if t.relu { _mm512_max_ps(*a, zero) } else { *a };
                _mm512_storeu_ps(t.out.add(i * t.out_stride + 16 * v), a);
            }
        }
    }
}
