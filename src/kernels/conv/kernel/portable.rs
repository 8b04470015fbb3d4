//! Portable micro-kernel (any target): 4 output channels × up to 3 groups of 8 positions in
//! plain arrays, left to the compiler's auto-vectoriser.

use super::{MicroKernel, Tile};

pub(crate) struct Portable;

const LANES: usize = 8;

impl MicroKernel for Portable {
    const MR: usize = 4;
    const VL: usize = LANES;
    const NV: usize = 3;

    unsafe fn run(m: usize, nv: usize, t: &Tile) {
        // SAFETY: forwarded contract.
        unsafe { dispatch!(3, m, nv, t, 4, 3, 2, 1) }
    }

    unsafe fn run_1x1(m: usize, nv: usize, t: &Tile) {
        // SAFETY: forwarded contract.
        unsafe { dispatch!(1, m, nv, t, 4, 3, 2, 1) }
    }
}

/// Calls `tile::<m, nv·8, $s>` for the runtime `m` (one of the listed) and `nv ∈ 1..=3`.
macro_rules! dispatch {
    ($s:literal, $m:expr, $nv:expr, $t:expr, $($mm:literal),*) => {
        match ($m, $nv) {
            $(
                ($mm, 3) => tile::<$mm, 24, $s>($t),
                ($mm, 2) => tile::<$mm, 16, $s>($t),
                ($mm, 1) => tile::<$mm, 8, $s>($t),
            )*
            (m, nv) => unreachable!("portable tile {m}x{nv}"),
        }
    };
}
use dispatch;

/// # Safety
/// The [`Tile`] contract for `M` channels, `N` positions and an `S × S` window.
unsafe fn tile<const M: usize, const N: usize, const S: usize>(t: &Tile) {
    // SAFETY (whole body): every offset stays inside the ranges the Tile contract declares
    // valid; the slices built here cover exactly such ranges.
    unsafe {
        let mut acc = [[0f32; N]; M];
        for (i, row) in acc.iter_mut().enumerate() {
            if t.accumulate {
                row.copy_from_slice(std::slice::from_raw_parts(t.out.add(i * t.out_stride), N));
            } else if !t.bias.is_null() {
                *row = [*t.bias.add(i); N];
            }
        }
        for ci in 0..t.kc {
            let w = std::slice::from_raw_parts(t.weights.add(ci * S * S * M), S * S * M);
            for ky in 0..S {
                let r = std::slice::from_raw_parts(t.input.add(ci * t.chan_stride + ky * t.row_stride), N + S - 1);
                for kx in 0..S {
                    let x: &[f32; N] = match r[kx..kx + N].try_into() {
                        Ok(x) => x,
                        Err(_) => unreachable!(),
                    };
                    let wt = &w[(ky * S + kx) * M..(ky * S + kx + 1) * M];
                    for (row, &wv) in acc.iter_mut().zip(wt.iter()) {
                        for (a, &xv) in row.iter_mut().zip(x.iter()) {
                            *a += wv * xv;
                        }
                    }
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            let out = std::slice::from_raw_parts_mut(t.out.add(i * t.out_stride), N);
            for (o, &a) in out.iter_mut().zip(row.iter()) {
                *o = if t.relu { a.max(0.0) } else { a };
            }
        }
    }
}
