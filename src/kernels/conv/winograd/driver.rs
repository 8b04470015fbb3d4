//! The Winograd driver: tasks are (image, band of tile rows, block of tile columns, group
//! of output channels). Per chunk of input channels a task transforms its input rectangle
//! into `V` (P × kc × tiles, `P = (tile + 2)²` positions), multiplies it by the packed `U`
//! with the 1×1 micro-kernel into the accumulators `M` (P × co_group × tiles), and finally transforms `M` back into
//! output rows with bias and ReLU. All scratch is per worker and bounded by the blocking.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::bf16::{round_to_bf16, Products};
use super::pack::WinogradWeights;
use super::transform::{InputJob, OutputJob};
use crate::kernels::conv::driver::{Geometry, OutPtr};
use crate::kernels::conv::kernel::{MicroKernel, PairTile, Tile};
use crate::kernels::conv::scratch;
use crate::kernels::conv::Fused;
use crate::kernels::pad::Border;

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
#[allow(clippy::too_many_arguments)]
pub(crate) fn run<K: MicroKernel>(
    p: &WinogradWeights,
    x: &[f32],
    g: Geometry,
    border: Border,
    relu: bool,
    b: WinoBlocking,
    products: &Products,
    fused: Fused,
    out: &mut [f32],
) {
    assert_eq!(p.mr, K::MR, "weights packed for another kernel");
    assert!(fused.fits(g, border), "resampling {fused:?} cannot be fused into {g:?}");
    let (sh, sw) = fused.input_dims(g);
    let (oh, ow) = fused.output_dims(g);
    assert_eq!(x.len(), g.n * g.cin * sh * sw, "input length");
    assert_eq!(out.len(), g.n * g.cout * oh * ow, "output length");
    assert!(b.tr >= 1 && b.tc >= 1 && b.kc >= 1 && b.co_group >= 1);
    assert!(b.co_group.is_multiple_of(K::MR) || b.co_group >= g.cout);
    if out.is_empty() {
        return;
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
    let stop = crate::progress::stop_flag();
    let dst = OutPtr::new(out);
    // bf16 pairs need chunks that start at even input channels.
    let kc_step = if matches!(products, Products::Native(_)) { b.kc.next_multiple_of(2) } else { b.kc };
    let kc_max = kc_step.min(g.cin);
    let co_max = b.co_group.min(g.cout);
    let vt = (b.tr * b.tc).div_ceil(K::VL) * K::VL;
    let (v_xi, m_xi) = (kc_max * vt, co_max * vt);
    let pairs_len = if matches!(products, Products::Native(_)) { kc_max.div_ceil(2) * vt } else { 0 };
    let hw = sh * sw;
    // An upsampled input is read through the maps: padded position → upsampled index → source.
    let up = usize::from(fused.up_in);
    let lens =
        [InputJob::scratch_len(tile, b.tr, b.tc), positions * v_xi, positions * m_xi, tile * tile * b.tc, pairs_len];
    (0..workers).into_par_iter().for_each(|_| {
        scratch::with(lens, |[band, v, m, tmp, pairs]| {
            loop {
                let t = next.fetch_add(1, Ordering::Relaxed);
                if t >= tasks || crate::progress::stopped(&stop) {
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
                let rowmap: Vec<usize> =
                    (0..tile * rows + 2).map(|q| padded_source(border, tile * tr0 + q, g.h) >> up).collect();
                let colmap: Vec<usize> =
                    (0..tile * cols + 2).map(|q| padded_source(border, tile * tc0 + q, g.w) >> up).collect();
                let ntiles = rows * cols;
                let image = &x[img * g.cin * hw..(img + 1) * g.cin * hw];
                for ci0 in (0..g.cin).step_by(kc_step) {
                    let kc = kc_step.min(g.cin - ci0);
                    let mut job = InputJob {
                        tile,
                        planes: &image[ci0 * hw..(ci0 + kc) * hw],
                        w: sw,
                        hw,
                        rowmap: &rowmap,
                        colmap: &colmap,
                        col0: tile * tc0,
                        mapped: fused.up_in,
                        rows,
                        cols,
                        band: &mut *band,
                        v: &mut *v,
                        xi_stride: v_xi,
                        vt,
                    };
                    // SAFETY: the family's instruction set was detected by `Isa::detect`.
                    unsafe { K::wino_input(&mut job) };
                    let chunk = Chunk { ci0, kc, c0, c1, ntiles, vt, v_xi, co_max, accumulate: ci0 > 0 };
                    match products {
                        Products::F32 => chunk.products_f32::<K>(p, &p.u, v, m),
                        Products::Emulated(u) => {
                            for xi in 0..positions {
                                round_to_bf16(&mut v[xi * v_xi..xi * v_xi + kc * vt]);
                            }
                            chunk.products_f32::<K>(p, u, v, m)
                        }
                        Products::Native(u) => chunk.products_bf16::<K>(p, u, v, m, pairs),
                    }
                }
                for co in c0..c1 {
                    for r in 0..rows {
                        let mut job = OutputJob {
                            tile,
                            m: &*m,
                            xi_stride: m_xi,
                            base: (co - c0) * vt + r * cols,
                            cols,
                            bias: p.bias[co],
                            relu,
                            tmp: &mut *tmp,
                        };
                        // SAFETY: as above.
                        unsafe { K::wino_output(&mut job) };
                        let x0 = tile * tc0;
                        let width = (tile * cols).min(g.w - x0);
                        let y0 = tile * (tr0 + r);
                        let rows_here = tile.min(g.h - y0);
                        let plane = (img * g.cout + co) * oh * ow;
                        if fused.pool_out {
                            // SAFETY: rows y0/2 .. (y0 + rows_here)/2 (rounded up) < oh of plane
                            // (img, co), columns x0/2 .. x0/2 + ⌈width/2⌉ ≤ ow; tiles are
                            // aligned to 4, so no other task writes them.
                            unsafe {
                                write_pooled(
                                    &tmp[..tile * tile * cols],
                                    tile * cols,
                                    rows_here,
                                    width,
                                    &dst,
                                    plane + (y0 / 2) * ow + x0 / 2,
                                    ow,
                                )
                            };
                            continue;
                        }
                        for a in 0..rows_here {
                            let o = plane + (y0 + a) * g.w + x0;
                            let src = &tmp[a * tile * cols..a * tile * cols + width];
                            // SAFETY: `o .. o + width` lies in row y0 + a < h of plane (img, co),
                            // columns x0 .. x0 + width ≤ w; no other task writes them.
                            unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.at(o), width) };
                        }
                    }
                }
            }
        })
    });
}

/// Writes `rows × width` outputs (rows of `stride` samples in `tmp`) 2×2 max-pooled in ceil
/// mode — an odd last row or column is a window of its own — to `⌈rows/2⌉` rows of `out_w`
/// samples from `dst.at(o)`.
///
/// # Safety
/// `dst.at(o + i·out_w + j)` for `i < ⌈rows/2⌉`, `j < ⌈width/2⌉` must be valid writes no
/// other thread makes.
unsafe fn write_pooled(tmp: &[f32], stride: usize, rows: usize, width: usize, dst: &OutPtr, o: usize, out_w: usize) {
    let pw = width.div_ceil(2);
    for (i, y) in (0..rows).step_by(2).enumerate() {
        let r0 = &tmp[y * stride..y * stride + width];
        let r1 = if y + 1 < rows { &tmp[(y + 1) * stride..(y + 1) * stride + width] } else { r0 };
        // SAFETY: the caller's contract, row i.
        let row = unsafe { std::slice::from_raw_parts_mut(dst.at(o + i * out_w), pw) };
        for (j, v) in row.iter_mut().enumerate() {
            let (c0, c1) = (2 * j, (2 * j + 1).min(width - 1));
            *v = r0[c0].max(r0[c1]).max(r1[c0]).max(r1[c1]);
        }
    }
}

/// One chunk of input channels of one task: the Winograd-domain products `M (+)= U·V` at
/// every position.
struct Chunk {
    ci0: usize,
    kc: usize,
    c0: usize,
    c1: usize,
    ntiles: usize,
    vt: usize,
    v_xi: usize,
    co_max: usize,
    /// Add to `M` (later chunks) instead of overwriting it.
    accumulate: bool,
}

impl Chunk {
    /// f32 products with weights `u` laid out as `p.u`.
    fn products_f32<K: MicroKernel>(&self, p: &WinogradWeights, u: &[f32], v: &[f32], m: &mut [f32]) {
        let (kc, vt, v_xi) = (self.kc, self.vt, self.v_xi);
        for xi in 0..p.positions() {
            for q in (0..self.ntiles).step_by(K::NV * K::VL) {
                let nv = K::NV.min((self.ntiles - q).div_ceil(K::VL));
                for cb in (self.c0..self.c1).step_by(K::MR) {
                    let mm = K::MR.min(self.c1 - cb);
                    let weights = &u[p.offset(xi, cb, self.ci0, mm)..];
                    debug_assert!(weights.len() >= kc * mm);
                    let tile = Tile {
                        input: v[xi * v_xi + q..].as_ptr(),
                        chan_stride: vt,
                        row_stride: 0,
                        kc,
                        weights: weights.as_ptr(),
                        out: m[(xi * self.co_max + cb - self.c0) * vt + q..].as_mut_ptr(),
                        out_stride: vt,
                        bias: std::ptr::null(),
                        accumulate: self.accumulate,
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

    /// bf16 pair products (`avx512_bf16`) with weights `u` laid out by
    /// [`WinogradWeights::bf16_pairs`]; `pairs` is scratch for one position's V as pairs.
    fn products_bf16<K: MicroKernel>(
        &self,
        p: &WinogradWeights,
        u: &[u32],
        v: &[f32],
        m: &mut [f32],
        pairs: &mut [f32],
    ) {
        let (kc, vt, v_xi) = (self.kc, self.vt, self.v_xi);
        let npairs = kc.div_ceil(2);
        assert!(pairs.len() >= npairs * vt && self.ci0.is_multiple_of(2));
        let pairs: &mut [u32] = bytemuck_u32(pairs);
        for xi in 0..p.positions() {
            // SAFETY: instruction set detected by `Isa::detect` (Native needs K::BF16).
            unsafe { K::pack_bf16_pairs(&v[xi * v_xi..xi * v_xi + kc * vt], kc, vt, pairs) };
            for q in (0..self.ntiles).step_by(K::NV * K::VL) {
                let nv = K::NV.min((self.ntiles - q).div_ceil(K::VL));
                for cb in (self.c0..self.c1).step_by(K::MR) {
                    let mm = K::MR.min(self.c1 - cb);
                    let weights = &u[p.pair_offset(xi, cb, self.ci0, mm)..];
                    debug_assert!(weights.len() >= npairs * mm);
                    let tile = PairTile {
                        input: pairs[q..].as_ptr(),
                        pair_stride: vt,
                        pairs: npairs,
                        weights: weights.as_ptr(),
                        out: m[(xi * self.co_max + cb - self.c0) * vt + q..].as_mut_ptr(),
                        out_stride: vt,
                        accumulate: self.accumulate,
                    };
                    // SAFETY: pair reads: (npairs−1)·vt + q + nv·VL ≤ npairs·vt words of
                    // `pairs`; U: npairs·mm words from the block offset; M as in
                    // `products_f32`. Instruction set detected by `Isa::detect`.
                    unsafe { K::run_1x1_bf16(mm, nv, &tile) };
                }
            }
        }
    }
}

/// The same memory as 32-bit words (scratch is kept as f32).
fn bytemuck_u32(v: &mut [f32]) -> &mut [u32] {
    // SAFETY: f32 and u32 have the same size and alignment, and every bit pattern is a
    // valid u32; the new slice borrows `v` exclusively for its lifetime.
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u32>(), v.len()) }
}
