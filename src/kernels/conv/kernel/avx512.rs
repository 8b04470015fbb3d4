//! AVX-512F micro-kernel: 6 output channels × 4 vectors of 16 positions (24 accumulators,
//! 4 input vectors, 1 broadcast weight of the 32 `zmm` registers).

use std::arch::x86_64::*;

use super::{transform, InputJob, MicroKernel, OutputJob, PairTile, Tile};

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

    unsafe fn run_1x1_bf16(m: usize, nv: usize, t: &PairTile) {
        // SAFETY: forwarded contract; avx512_bf16 guaranteed by the caller.
        unsafe { dispatch!(tile_bf16, m, nv, t, 6, 5, 4, 3, 2, 1) }
    }

    unsafe fn pack_bf16_pairs(src: &[f32], kc: usize, vt: usize, dst: &mut [u32]) {
        // SAFETY: forwarded contract.
        unsafe { pack_pairs(src, kc, vt, dst) }
    }
}

/// Calls `$f::<m, nv, $s>` (or `$f::<m, nv>`) for the runtime `m` (one of the listed) and
/// `nv ∈ 1..=4`.
macro_rules! dispatch {
    ($f:ident, $m:expr, $nv:expr, $t:expr, $($mm:literal),*) => {
        match ($m, $nv) {
            $(
                ($mm, 4) => $f::<$mm, 4>($t),
                ($mm, 3) => $f::<$mm, 3>($t),
                ($mm, 2) => $f::<$mm, 2>($t),
                ($mm, 1) => $f::<$mm, 1>($t),
            )*
            (m, nv) => unreachable!("avx512 tile {m}x{nv}"),
        }
    };
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

/// # Safety
/// The [`PairTile`] contract for `M`, `NV` (16 lanes per vector); avx512f and avx512_bf16
/// available.
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn tile_bf16<const M: usize, const NV: usize>(t: &PairTile) {
    // SAFETY (whole body): every pointer offset below stays inside the ranges the PairTile
    // contract declares valid; unaligned loads/stores are used throughout. `__m512i` and
    // `__m512bh` are both 512 bits of plain data.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); NV]; M];
        if t.accumulate {
            for (i, row) in acc.iter_mut().enumerate() {
                for (v, a) in row.iter_mut().enumerate() {
                    *a = _mm512_loadu_ps(t.out.add(i * t.out_stride + 16 * v));
                }
            }
        }
        let mut x = t.input;
        let mut w = t.weights;
        for _ in 0..t.pairs {
            let mut xs = [_mm512_setzero_si512(); NV];
            for (v, xv) in xs.iter_mut().enumerate() {
                *xv = _mm512_loadu_si512(x.add(16 * v).cast());
            }
            for (i, row) in acc.iter_mut().enumerate() {
                let wb: __m512bh = std::mem::transmute(_mm512_set1_epi32(*w.add(i) as i32));
                for (a, xv) in row.iter_mut().zip(xs.iter()) {
                    *a = _mm512_dpbf16_ps(*a, std::mem::transmute::<__m512i, __m512bh>(*xv), wb);
                }
            }
            x = x.add(t.pair_stride);
            w = w.add(M);
        }
        for (i, row) in acc.iter().enumerate() {
            for (v, a) in row.iter().enumerate() {
                _mm512_storeu_ps(t.out.add(i * t.out_stride + 16 * v), *a);
            }
        }
    }
}

/// See [`MicroKernel::pack_bf16_pairs`].
///
/// # Safety
/// Its contract; avx512f and avx512_bf16 available.
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn pack_pairs(src: &[f32], kc: usize, vt: usize, dst: &mut [u32]) {
    assert!(src.len() >= kc * vt && dst.len() >= kc.div_ceil(2) * vt && vt.is_multiple_of(16));
    // Interleave lanes 0..8 (then 8..16) of the even row `a` with those of the odd row `b`.
    let lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    let hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for p in 0..kc.div_ceil(2) {
        let even = &src[2 * p * vt..(2 * p + 1) * vt];
        let odd = (2 * p + 1 < kc).then(|| &src[(2 * p + 1) * vt..(2 * p + 2) * vt]);
        let out = &mut dst[p * vt..(p + 1) * vt];
        for j in (0..vt).step_by(16) {
            // SAFETY: j + 16 ≤ vt, the length of `even`, `odd` and `out`.
            unsafe {
                let a = _mm512_loadu_ps(even.as_ptr().add(j));
                let b = match odd {
                    Some(o) => _mm512_loadu_ps(o.as_ptr().add(j)),
                    None => _mm512_setzero_ps(),
                };
                let r = _mm512_cvtne2ps_pbh(_mm512_permutex2var_ps(a, hi, b), _mm512_permutex2var_ps(a, lo, b));
                _mm512_storeu_si512(out.as_mut_ptr().add(j).cast(), std::mem::transmute::<__m512bh, __m512i>(r));
            }
        }
    }
}
