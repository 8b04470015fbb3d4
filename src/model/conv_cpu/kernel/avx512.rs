//! AVX-512F micro-kernel: 6 output channels × 4 vectors of 16 positions (24 accumulators,
//! 4 input vectors, 1 broadcast weight of the 32 `zmm` registers).

use std::arch::x86_64::*;

use super::{transform, InputJob, MicroKernel, OutputJob, Tile};

pub(crate) struct Avx512;

impl MicroKernel for Avx512 {
    const MR: usize = 6;
    const VL: usize = 16;
    const NV: usize = 4;

    unsafe fn run(m: usize, nv: usize, t: &Tile) {
        // SAFETY: forwarded contract; `tile` needs avx512f, guaranteed by the caller.
        unsafe { dispatch!(tile, 3, m, nv, t, 6, 5, 4, 3, 2, 1) }
    }

    unsafe fn wino_input(job: &mut InputJob) {
        // SAFETY: the caller guarantees the instruction set.
        unsafe { wino_input(job) }
    }

    unsafe fn wino_output(job: &mut OutputJob) {
        // SAFETY: the caller guarantees the instruction set.
        unsafe { wino_output(job) }
    }

    unsafe fn run_1x1(m: usize, nv: usize, t: &Tile) {
        // SAFETY: as above, with a single tap.
        unsafe { dispatch!(tile, 1, m, nv, t, 6, 5, 4, 3, 2, 1) }
    }
}

/// Calls `$f::<m, nv, $s>` for the runtime `m` (one of the listed) and `nv ∈ 1..=4`.
macro_rules! dispatch {
    ($f:ident, $s:literal, $m:expr, $nv:expr, $t:expr, $($mm:literal),*) => {
        match ($m, $nv) {
            $(
                ($mm, 4) => $f::<$mm, 4, $s>($t),
                ($mm, 3) => $f::<$mm, 3, $s>($t),
                ($mm, 2) => $f::<$mm, 2, $s>($t),
                ($mm, 1) => $f::<$mm, 1, $s>($t),
            )*
            (m, nv) => unreachable!("avx512 tile {m}x{nv}"),
        }
    };
}
use dispatch;

/// # Safety
/// The [`Tile`] contract for `M`, `NV` (16 lanes per vector) and an `S × S` window; avx512f
/// available.
#[target_feature(enable = "avx512f")]
unsafe fn tile<const M: usize, const NV: usize, const S: usize>(t: &Tile) {
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
            for ky in 0..S {
                let r = x.add(ky * t.row_stride);
                for kx in 0..S {
                    let wt = w.add((ky * S + kx) * M);
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
            w = w.add(S * S * M);
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

/// The portable transform, compiled with this family's instruction set.
#[target_feature(enable = "avx512f")]
unsafe fn wino_input(job: &mut InputJob) {
    transform::input(job)
}

/// The portable transform, compiled with this family's instruction set.
#[target_feature(enable = "avx512f")]
unsafe fn wino_output(job: &mut OutputJob) {
    transform::output(job)
}
