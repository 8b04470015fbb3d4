//! AVX2 + FMA micro-kernel: 4 output channels × 3 vectors of 8 positions (12 accumulators,
//! 3 input vectors, 1 broadcast weight = all 16 `ymm` registers).

use std::arch::x86_64::*;

use super::{transform, InputJob, MicroKernel, OutputJob, Tile};

pub(crate) struct Avx2;

impl MicroKernel for Avx2 {
    const MR: usize = 4;
    const VL: usize = 8;
    const NV: usize = 3;

    unsafe fn run(m: usize, nv: usize, t: &Tile) {
        // SAFETY: forwarded contract; `tile` needs avx2+fma, guaranteed by the caller.
        unsafe { dispatch!(tile, 3, m, nv, t) }
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
        unsafe { dispatch!(tile, 1, m, nv, t) }
    }
}

/// Calls `$f::<m, nv, $s>` for the runtime `m ∈ 1..=4`, `nv ∈ 1..=3`.
macro_rules! dispatch {
    ($f:ident, $s:literal, $m:expr, $nv:expr, $t:expr) => {
        match ($m, $nv) {
            (4, 3) => $f::<4, 3, $s>($t),
            (4, 2) => $f::<4, 2, $s>($t),
            (4, 1) => $f::<4, 1, $s>($t),
            (3, 3) => $f::<3, 3, $s>($t),
            (3, 2) => $f::<3, 2, $s>($t),
            (3, 1) => $f::<3, 1, $s>($t),
            (2, 3) => $f::<2, 3, $s>($t),
            (2, 2) => $f::<2, 2, $s>($t),
            (2, 1) => $f::<2, 1, $s>($t),
            (1, 3) => $f::<1, 3, $s>($t),
            (1, 2) => $f::<1, 2, $s>($t),
            (1, 1) => $f::<1, 1, $s>($t),
            (m, nv) => unreachable!("avx2 tile {m}x{nv}"),
        }
    };
}
use dispatch;

/// # Safety
/// The [`Tile`] contract for `M`, `NV` (8 lanes per vector) and an `S × S` window; avx2 and
/// fma available.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile<const M: usize, const NV: usize, const S: usize>(t: &Tile) {
    // SAFETY (whole body): every pointer offset below stays inside the ranges the Tile
    // contract declares valid; unaligned loads/stores are used throughout.
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); NV]; M];
        if t.accumulate {
            for (i, row) in acc.iter_mut().enumerate() {
                for (v, a) in row.iter_mut().enumerate() {
                    *a = _mm256_loadu_ps(t.out.add(i * t.out_stride + 8 * v));
                }
            }
        } else if !t.bias.is_null() {
            for (i, row) in acc.iter_mut().enumerate() {
                let b = _mm256_broadcast_ss(&*t.bias.add(i));
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
                        let mut xs = [_mm256_setzero_ps(); NV];
                        for (v, xv) in xs.iter_mut().enumerate() {
                            *xv = _mm256_loadu_ps(r.add(kx + 8 * v));
                        }
                        for (i, row) in acc.iter_mut().enumerate() {
                            let wb = _mm256_broadcast_ss(&*wt.add(i));
                            for (a, xv) in row.iter_mut().zip(xs.iter()) {
                                *a = _mm256_fmadd_ps(wb, *xv, *a);
                            }
                        }
                    } else {
                        let mut ws = [_mm256_setzero_ps(); M];
                        for (i, wv) in ws.iter_mut().enumerate() {
                            *wv = _mm256_broadcast_ss(&*wt.add(i));
                        }
                        for v in 0..NV {
                            let xv = _mm256_loadu_ps(r.add(kx + 8 * v));
                            for (row, wv) in acc.iter_mut().zip(ws.iter()) {
                                row[v] = _mm256_fmadd_ps(*wv, xv, row[v]);
                            }
                        }
                    }
                }
            }
            x = x.add(t.chan_stride);
            w = w.add(S * S * M);
        }
        let zero = _mm256_setzero_ps();
        for (i, row) in acc.iter().enumerate() {
            for (v, a) in row.iter().enumerate() {
                let a = if t.relu { _mm256_max_ps(*a, zero) } else { *a };
                _mm256_storeu_ps(t.out.add(i * t.out_stride + 8 * v), a);
            }
        }
    }
}

/// The portable transform, compiled with this family's instruction set.
#[target_feature(enable = "avx2,fma")]
unsafe fn wino_input(job: &mut InputJob) {
    transform::input(job)
}

/// The portable transform, compiled with this family's instruction set.
#[target_feature(enable = "avx2,fma")]
unsafe fn wino_output(job: &mut OutputJob) {
    transform::output(job)
}
