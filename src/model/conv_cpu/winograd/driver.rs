//! The Winograd driver: tasks are (image, band of tile rows, block of tile columns, group
//! of output channels). Per chunk of input channels a task transforms its input rectangle
//! into `V` (P × kc × tiles, `P = (tile + 2)²` positions), multiplies it by the packed `U`
//! with the 1×1 micro-kernel into the accumulators `M` (P × co_group × tiles), and finally transforms `M` back into
//! output rows with bias and ReLU. All scratch is per worker and bounded by the blocking.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::pack::WinogradWeights;
use super::transform::{InputJob, OutputJob};
use crate::model::conv_cpu::driver::{Geometry, OutPtr};
use crate::model::conv_cpu::kernel::{MicroKernel, Tile};
use crate::model::pad::Border;

/// How a Winograd call is cut up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WinoBlocking {
    /// Tile rows (`tile` output rows each) per task.
    pub tr: usize,
    /// Tile columns (`tile` output columns each) per task.
    pub tc: usize,
    /// Output channels per task (a multiple of the kernel's `MR`, or all of them).
    pub co_group: usize,
    /// Input channels per chunk.
    pub kc: usize,
}

/// Per-worker L2 budget (bytes) for the transformed input `V` and the accumulators `M`
/// (P · (kc + co_group) · tiles floats).
const VM_BUDGET: usize = 3 << 19;
/// Tile columns per task at most, and tiles per task at most.
const MAX_TILE_COLS: usize = 64;
const MAX_TILES: usize = 128;
/// Input channels per chunk at most: long reductions per micro-kernel call.
const MAX_KC: usize = 128;
/// Output channels per group at most (wider layers are split).
const MAX_CO: usize = 256;

impl WinoBlocking {
    /// Heuristic blocking: output channels in as few groups as possible (every group
    /// transforms the input rectangle anew), input chunks of up to 128 channels, and as many
    /// tiles per task as the scratch budget allows (at least two vectors' worth), as a
    /// rectangle of up to 64 tile columns. Then smaller rectangles, and only then more
    /// groups, until every thread has several tasks.
    pub fn choose<K: MicroKernel>(g: Geometry, threads: usize, tile: usize) -> Self {
        let (th, tw) = (g.h.div_ceil(tile), g.w.div_ceil(tile));
        let positions = (tile + 2) * (tile + 2);
        let groups = g.cout.div_ceil(MAX_CO);
        let mut co_group = if groups == 1 { g.cout } else { g.cout.div_ceil(groups).div_ceil(K::MR) * K::MR };
        let kc = g.cin.clamp(1, MAX_KC);
        let per_tile = positions * 4 * (kc + co_group.min(g.cout));
        let vt = (VM_BUDGET / per_tile / K::VL * K::VL).clamp(2 * K::VL, MAX_TILES);
        let tc = tw.clamp(1, MAX_TILE_COLS).min(vt);
        let mut tr = (vt / tc).clamp(1, th.max(1));
        let want = 4 * threads.max(1);
        let tasks = |tr: usize, co: usize| g.n * th.div_ceil(tr) * tw.div_ceil(tc) * g.cout.div_ceil(co);
        while tasks(tr, co_group) < want && tr > 1 {
            tr = tr.div_ceil(2);
        }
        while tasks(tr, co_group) < want && co_group > K::MR {
            co_group = (co_group / 2).div_ceil(K::MR) * K::MR;
        }
        Self { tr, tc, co_group, kc }
    }
}

/// Source index of padded position `p` (padded index `p` is source `p − 1`); positions past
/// the far border only feed outputs that are cropped away (odd sizes) and read index 0.
fn padded_source(border: Border, p: usize, n: usize) -> usize {
    if p <= n + 1 {
        border.source(p as isize - 1, n)
    } else {
        0
    }
}

/// Convolves `x` (`[n, cin, h, w]`) with Winograd weights `p`; see `driver::run` for the
/// shared contract (`p.mr == K::MR`, lengths, `co_group` a multiple of `MR` or ≥ cout).
pub(crate) fn run<K: MicroKernel>(
    p: &WinogradWeights,
    x: &[f32],
    g: Geometry,
    border: Border,
    relu: bool,
    b: WinoBlocking,
) -> Vec<f32> {
    assert_eq!(p.mr, K::MR, "weights packed for another kernel");
    assert_eq!(x.len(), g.n * g.cin * g.h * g.w, "input length");
    assert!(b.tr >= 1 && b.tc >= 1 && b.kc >= 1 && b.co_group >= 1);
    assert!(b.co_group.is_multiple_of(K::MR) || b.co_group >= g.cout);
    let mut out = crate::model::conv_cpu::alloc::zeroed(g.n * g.cout * g.h * g.w);
    if out.is_empty() {
        return out;
    }
    let tile = p.tile;
    let positions = p.positions();
    let (th, tw) = (g.h.div_ceil(tile), g.w.div_ceil(tile));
    let row_bands = th.div_ceil(b.tr);
    let col_blocks = tw.div_ceil(b.tc);
    let groups = g.cout.div_ceil(b.co_group);
    let tasks = g.n * row_bands * col_blocks * groups;
    let workers = rayon::current_num_threads().clamp(1, tasks);
    let next = AtomicUsize::new(0);
    let dst = OutPtr::new(&mut out);
    let kc_max = b.kc.min(g.cin);
    let co_max = b.co_group.min(g.cout);
    let vt = (b.tr * b.tc).div_ceil(K::VL) * K::VL;
    let (v_xi, m_xi) = (kc_max * vt, co_max * vt);
    let hw = g.h * g.w;
    (0..workers).into_par_iter().for_each(|_| {
        let mut band = vec![0f32; InputJob::scratch_len(tile, b.tr, b.tc)];
        let mut v = vec![0f32; positions * v_xi];
        let mut m = vec![0f32; positions * m_xi];
        let mut tmp = vec![0f32; tile * tile * b.tc];
        loop {
            let t = next.fetch_add(1, Ordering::Relaxed);
            if t >= tasks {
                break;
            }
            let grp = t % groups;
            let cblk = (t / groups) % col_blocks;
            let rband = (t / (groups * col_blocks)) % row_bands;
            let img = t / (groups * col_blocks * row_bands);
            let (tr0, tc0) = (rband * b.tr, cblk * b.tc);
            let rows = b.tr.min(th - tr0);
            let cols = b.tc.min(tw - tc0);
            let (c0, c1) = (grp * b.co_group, g.cout.min((grp + 1) * b.co_group));
            let rowmap: Vec<usize> = (0..tile * rows + 2).map(|q| padded_source(border, tile * tr0 + q, g.h)).collect();
            let colmap: Vec<usize> = (0..tile * cols + 2).map(|q| padded_source(border, tile * tc0 + q, g.w)).collect();
            let ntiles = rows * cols;
            let image = &x[img * g.cin * hw..(img + 1) * g.cin * hw];
            for ci0 in (0..g.cin).step_by(b.kc) {
                let kc = b.kc.min(g.cin - ci0);
                let mut job = InputJob {
                    tile,
                    planes: &image[ci0 * hw..(ci0 + kc) * hw],
                    w: g.w,
                    hw,
                    rowmap: &rowmap,
                    colmap: &colmap,
                    col0: tile * tc0,
                    rows,
                    cols,
                    band: &mut band,
                    v: &mut v,
                    xi_stride: v_xi,
                    vt,
                };
                // SAFETY: the family's instruction set was detected by `Isa::detect`.
                unsafe { K::wino_input(&mut job) };
                let first = ci0 == 0;
                for xi in 0..positions {
                    for q in (0..ntiles).step_by(K::NV * K::VL) {
                        let nv = K::NV.min((ntiles - q).div_ceil(K::VL));
                        for cb in (c0..c1).step_by(K::MR) {
                            let mm = K::MR.min(c1 - cb);
                            let weights = &p.u[p.offset(xi, cb, ci0, mm)..];
                            debug_assert!(weights.len() >= kc * mm);
                            let tile = Tile {
                                input: v[xi * v_xi + q..].as_ptr(),
                                chan_stride: vt,
                                row_stride: 0,
                                kc,
                                weights: weights.as_ptr(),
                                out: m[(xi * co_max + cb - c0) * vt + q..].as_mut_ptr(),
                                out_stride: vt,
                                bias: std::ptr::null(),
                                accumulate: !first,
                                relu: false,
                            };
                            // SAFETY: V reads: ξ·v_xi + (kc−1)·vt + q + nv·VL ≤ ξ·v_xi + kc·vt
                            // ≤ P·v_xi (q + nv·VL ≤ round_up(ntiles, VL) ≤ vt); U: kc·mm
                            // floats from the block offset (packing layout); M: rows
                            // cb−c0 .. cb−c0+mm ≤ co_max of stride vt, positions < vt, inside
                            // block ξ. Instruction set detected by `Isa::detect`.
                            unsafe { K::run_1x1(mm, nv, &tile) };
                        }
                    }
                }
            }
            for co in c0..c1 {
                for r in 0..rows {
                    let mut job = OutputJob {
                        tile,
                        m: &m,
                        xi_stride: m_xi,
                        base: (co - c0) * vt + r * cols,
                        cols,
                        bias: p.bias[co],
                        relu,
                        tmp: &mut tmp,
                    };
                    // SAFETY: as above.
                    unsafe { K::wino_output(&mut job) };
                    let x0 = tile * tc0;
                    let width = (tile * cols).min(g.w - x0);
                    for a in 0..tile {
                        let y = tile * (tr0 + r) + a;
                        if y < g.h {
                            let o = ((img * g.cout + co) * g.h + y) * g.w + x0;
                            let src = &tmp[a * tile * cols..a * tile * cols + width];
                            // SAFETY: `o .. o + width` lies in row y < h of plane (img, co),
                            // columns x0 .. x0 + width ≤ w; no other task writes them.
                            unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.at(o), width) };
                        }
                    }
                }
            }
        }
    });
    out
}
