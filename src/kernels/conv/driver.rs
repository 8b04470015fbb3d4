//! The convolution driver: cuts the output into tasks (image × band of rows × group of
//! output channels), runs them on the rayon pool with one bounded scratch per worker, and
//! sweeps the micro-kernel over each task.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::band::{fill, BandMap};
use super::kernel::{MicroKernel, Tile};
use super::pack::PackedWeights;
use crate::kernels::pad::Border;

/// Shape of one call: `[n, cin, h, w] → [n, cout, h, w]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub n: usize,
    pub cin: usize,
    pub cout: usize,
    pub h: usize,
    pub w: usize,
}

/// How a call is cut up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocking {
    /// Output rows per band.
    pub rows: usize,
    /// Output channels per task (a multiple of the kernel's `MR`, or all of them).
    pub co_group: usize,
    /// Input channels per chunk (the micro-kernel reduction length is `9·kc`).
    pub kc: usize,
}

/// Extra floats after the band so the last, partially used vector of a row sweep may read
/// past the band's end.
const SLACK: usize = 64;

/// Per-worker L2 budget (bytes) for the accumulator band (`co_group·rows·(w+2)` floats).
const ACC_BUDGET: usize = 768 << 10;
/// Target band positions per task (`rows·(w+2)`): long sweeps keep each weight block hot in
/// L1 for many tiles.
const TARGET_POSITIONS: usize = 1536;

impl Blocking {
    /// Heuristic blocking for `g` on `threads` workers with kernel family `K`: input chunks
    /// of up to 64 channels (a weight block of `MR·64·9` floats fits L1), bands of about
    /// `TARGET_POSITIONS` positions, and as many output channels per task as the
    /// accumulator budget allows (each task gathers its input band once per chunk).
    pub fn choose<K: MicroKernel>(g: Geometry, threads: usize) -> Self {
        let wp = g.w + 2;
        let kc = g.cin.clamp(1, 64);
        let mut rows = (TARGET_POSITIONS / wp).clamp(1, g.h.max(1));
        let cq = |rows: usize| (rows * wp).div_ceil(K::VL) * K::VL;
        let fit = |rows: usize| (ACC_BUDGET / (4 * cq(rows)) / K::MR).max(1) * K::MR;
        let mut co_group = g.cout.div_ceil(K::MR) * K::MR;
        co_group = co_group.min(fit(rows));
        // Enough tasks to keep every worker busy with some balance.
        let want = 4 * threads.max(1);
        let tasks = |rows: usize, co: usize| g.n * g.h.div_ceil(rows) * g.cout.div_ceil(co);
        while tasks(rows, co_group) < want && rows > 1 {
            rows = rows.div_ceil(2);
        }
        while tasks(rows, co_group) < want && co_group > K::MR {
            co_group = (co_group / 2).div_ceil(K::MR) * K::MR;
        }
        Self { rows, co_group, kc }
    }
}

/// Raw output pointer shared by the workers; each task writes a disjoint region.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr(*mut f32);
// SAFETY: the pointer is only used to write regions that no two tasks share (see `run`),
// and the buffer outlives the parallel section.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    pub fn new(out: &mut [f32]) -> Self {
        Self(out.as_mut_ptr())
    }

    /// The element `o` floats past the start (a method, so closures capture the whole
    /// `Send + Sync` wrapper rather than its raw-pointer field).
    pub fn at(self, o: usize) -> *mut f32 {
        self.0.wrapping_add(o)
    }
}

/// Convolves `x` (`[n, cin, h, w]`, contiguous) with `p`, adding the bias and applying ReLU
/// when `relu`, into `out` (`[n, cout, h, w]`; every value is written).
///
/// The caller guarantees `x.len() == n·cin·h·w`, `p.cin == cin`, `p.cout == cout`,
/// `p.mr == K::MR`, `h, w ≥ 1`, and `blocking.co_group` a multiple of `K::MR` (or ≥ cout).
pub(crate) fn run<K: MicroKernel>(
    p: &PackedWeights,
    x: &[f32],
    g: Geometry,
    border: Border,
    relu: bool,
    b: Blocking,
    out: &mut [f32],
) {
    assert_eq!(p.mr, K::MR, "weights packed for another kernel");
    assert_eq!(x.len(), g.n * g.cin * g.h * g.w, "input length");
    assert_eq!(out.len(), g.n * g.cout * g.h * g.w, "output length");
    assert!(g.h >= 1 && g.w >= 1 && b.rows >= 1 && b.kc >= 1 && b.co_group >= 1);
    assert!(b.co_group.is_multiple_of(K::MR) || b.co_group >= g.cout);
    assert!(SLACK > K::VL, "band slack must cover one vector past a row sweep");
    if out.is_empty() {
        return;
    }
    let bands = g.h.div_ceil(b.rows);
    let groups = g.cout.div_ceil(b.co_group);
    let tasks = g.n * bands * groups;
    let workers = rayon::current_num_threads().clamp(1, tasks);
    let next = AtomicUsize::new(0);
    let stop = crate::progress::stop_flag();
    let dst = OutPtr::new(out);
    let wp = g.w + 2;
    let chan_stride = (b.rows + 2) * wp;
    let cq = (b.rows * wp).div_ceil(K::VL) * K::VL;
    let lens = [b.kc.min(g.cin) * chan_stride + SLACK, b.co_group.min(g.cout) * cq];
    (0..workers).into_par_iter().for_each(|_| {
        super::scratch::with(lens, |[band, acc]| {
            loop {
                let t = next.fetch_add(1, Ordering::Relaxed);
                if t >= tasks || crate::progress::stopped(&stop) {
                    break;
                }
                let grp = t % groups;
                let bnd = (t / groups) % bands;
                let img = t / (groups * bands);
                let y0 = bnd * b.rows;
                let rows = b.rows.min(g.h - y0);
                let c0 = grp * b.co_group;
                let c1 = g.cout.min(c0 + b.co_group);
                let map = BandMap::new(border, y0, rows, g.h, g.w);
                let nq = rows * wp;
                let hw = g.h * g.w;
                let image = &x[img * g.cin * hw..(img + 1) * g.cin * hw];
                for ci0 in (0..g.cin).step_by(b.kc) {
                    let kc = b.kc.min(g.cin - ci0);
                    fill(band, chan_stride, &image[ci0 * hw..(ci0 + kc) * hw], hw, g.w, &map);
                    let first = ci0 == 0;
                    let last = ci0 + kc == g.cin;
                    for cb in (c0..c1).step_by(K::MR) {
                        let m = K::MR.min(c1 - cb);
                        let weights = &p.data[p.offset(cb, ci0, m)..];
                        debug_assert!(weights.len() >= kc * 9 * m);
                        for q in (0..nq).step_by(K::NV * K::VL) {
                            let nv = K::NV.min((nq - q).div_ceil(K::VL));
                            let tile = Tile {
                                input: band[q..].as_ptr(),
                                chan_stride,
                                row_stride: wp,
                                kc,
                                weights: weights.as_ptr(),
                                out: acc[(cb - c0) * cq + q..].as_mut_ptr(),
                                out_stride: cq,
                                bias: if first { p.bias[cb..].as_ptr() } else { std::ptr::null() },
                                accumulate: !first,
                                relu: relu && last,
                            };
                            // SAFETY: reads reach at most band position
                            // (kc−1)·chan_stride + 2·wp + 2 + (q + nv·VL − 1)
                            //   ≤ (kc−1)·chan_stride + (rows+2)·wp + VL ≤ kc·chan_stride + VL
                            // (q + nv·VL ≤ round_up(nq, VL) ≤ rows·wp + VL − 1), which is below
                            // band.len() = kc_max·chan_stride + SLACK as SLACK > VL (asserted);
                            // weights: kc·9·m from the block offset (packing layout); bias: m
                            // values from cb; reads/writes of `acc`: rows cb−c0 .. cb−c0+m ≤
                            // co_group of stride cq, positions q .. q + nv·VL ≤ cq. The kernel
                            // family was selected by `Isa::detect`.
                            unsafe { K::run(m, nv, &tile) };
                        }
                    }
                }
                // Copy the valid columns of each band row out.
                for co in c0..c1 {
                    let src = &acc[(co - c0) * cq..];
                    for r in 0..rows {
                        let o = ((img * g.cout + co) * g.h + y0 + r) * g.w;
                        let row = &src[r * wp..r * wp + g.w];
                        // SAFETY: `o .. o + w` lies inside `out` (img < n, co < cout,
                        // y0 + r < h), and no other task writes this (img, co, row).
                        unsafe {
                            std::ptr::copy_nonoverlapping(row.as_ptr(), dst.at(o), g.w);
                        }
                    }
                }
            }
        })
    });
}
