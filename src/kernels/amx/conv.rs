//! The AMX convolution: for each output row, blocks of 32 positions × 32 output channels
//! accumulate in the four accumulator tiles over every chunk of the reduction (and, for
//! [`Split::Bf16x3`], every term), then an epilogue adds the bias, applies the ReLU and
//! writes the next layer's activations (bf16 parts, border filled afterwards) and/or
//! `[cout, h, w]` f32 planes. Rows are shared among the worker threads.

use rayon::prelude::*;

use super::act::Act;
use super::epilogue::{self, TileOut};
use super::pack::{AmxWeights, TILE};
use super::tiles::{Tiles, K, ROWS};
use super::Split;

/// Where the convolution reads its input: `data` holds pixels of `stride` bf16 values in
/// rows of `row_px` pixels; output `(y, x)`'s reduction chunk `q`, part `part` starts at
/// `(y · row_px + x) · stride + offsets[q][part]`.
pub(crate) struct Source<'a> {
    pub data: &'a [u16],
    pub row_px: usize,
    pub stride: usize,
    pub offsets: Vec<[usize; 2]>,
}

impl<'a> Source<'a> {
    /// Reading the windows in place from activations.
    pub(crate) fn pixels(act: &'a Act<'_>, w: &AmxWeights) -> Self {
        let (s, row) = (act.stride(), act.row_px());
        let per_tap = w.cin_stored / K;
        let offsets = (0..w.chunks)
            .map(|q| {
                // Stacked: chunk `q` is window row `q`, read at the window's middle pixel.
                let (tap, c0) = if w.stacked { (3 * q + 1, 0) } else { (q / per_tap, (q % per_tap) * K) };
                let base = ((tap / 3) * row + tap % 3) * s + c0;
                [base, base + act.c]
            })
            .collect();
        Source { data: act.data(), row_px: row, stride: s, offsets }
    }
}

/// Where the results go.
pub(crate) struct Sink<'s, 'p> {
    /// The next layer's activations (interior written; the caller fills the border).
    pub act: Option<&'s mut Act<'p>>,
    /// `[cout, h, w]` f32 planes.
    pub planes: Option<&'s mut [f32]>,
}

/// Raw output pointers shared by the row tasks (each writes only its own rows).
#[derive(Clone, Copy)]
struct Out {
    act: *mut u16,
    act_stride: usize,
    act_row: usize,
    act_c: usize,
    lo: bool,
    /// Planes: the first value, the distance between planes and between rows.
    planes: *mut f32,
    plane: usize,
    row: usize,
}
// SAFETY: the tasks write disjoint rows of the buffers behind the pointers, which outlive
// the parallel loop.
unsafe impl Send for Out {}
unsafe impl Sync for Out {}

/// Convolves an `h × w` image read through `src` (activations split as `split`) with `wts`
/// into `sink` (whose activations may be split otherwise).
///
/// Callers must have checked [`super::available`].
pub(crate) fn run(wts: &AmxWeights, src: &Source, (h, w): (usize, usize), split: Split, relu: bool, sink: Sink) {
    if h == 0 || w == 0 {
        return;
    }
    debug_assert_eq!(src.offsets.len(), wts.chunks);
    let out = Out {
        act_stride: sink.act.as_ref().map_or(0, |a| a.stride()),
        act_row: sink.act.as_ref().map_or(0, |a| a.row_px()),
        act_c: sink.act.as_ref().map_or(0, |a| a.c),
        lo: sink.act.as_ref().is_some_and(|a| a.split == Split::Bf16x3),
        act: sink.act.map_or(std::ptr::null_mut(), |a| a.data_mut().as_mut_ptr()),
        planes: sink.planes.map_or(std::ptr::null_mut(), |p| p.as_mut_ptr()),
        plane: h * w,
        row: w,
    };
    let threads = rayon::current_num_threads().max(1);
    let rows_per_task = (h / (8 * threads)).max(1);
    let tasks = h.div_ceil(rows_per_task);
    let stop = crate::progress::stop_flag();
    (0..tasks).into_par_iter().for_each(|t| {
        if crate::progress::stopped(&stop) {
            return;
        }
        let rows = t * rows_per_task..((t + 1) * rows_per_task).min(h);
        // SAFETY: the caller checked AMX and AVX-512 BF16; `out` points at buffers sized
        // for `h × w` outputs of `cout` channels (see `Sink`).
        unsafe { rows_task(wts, src, rows, (h, w), split, relu, out) };
    });
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn rows_task(
    wts: &AmxWeights,
    src: &Source,
    rows: std::ops::Range<usize>,
    (h, w): (usize, usize),
    split: Split,
    relu: bool,
    out: Out,
) {
    // SAFETY: the caller checked AMX.
    let mut tiles = unsafe { Tiles::configure() };
    let mut acc = [[0f32; ROWS * 16]; 4];
    let a_stride = src.stride * 2;
    let a_skip = ROWS * src.stride;
    // Plane rows are staged per task and copied out whole: written tile by tile in place,
    // the 16 channels' stores of a tile land a plane (often a multiple of 4 KiB) apart and
    // fight over the same L1 sets.
    let staged_row = w.next_multiple_of(2 * ROWS) + 16;
    STAGING.with(|cell| {
        let mut staging = cell.borrow_mut();
        let mut tile_out = out;
        if !out.planes.is_null() {
            staging.resize(wts.pairs * 32 * staged_row, 0.0);
            tile_out.planes = staging.as_mut_ptr();
            tile_out.plane = staged_row;
            tile_out.row = 0;
        }
        for y in rows {
            for x0 in (0..w).step_by(2 * ROWS) {
                let base = (y * src.row_px + x0) * src.stride;
                let a = src.data[base..].as_ptr();
                for p in 0..wts.pairs {
                    tiles.zero_accumulators();
                    let b = [wts.tiles(0, p).as_ptr(), wts.tiles(1, p).as_ptr()];
                    for (q, off) in src.offsets.iter().enumerate() {
                        // SAFETY: both position blocks read 16 pixels of `stride` values
                        // from `base + off` (each part), within the grid plus its slack
                        // (`SLACK_PX`) since `x0 < w`; chunk `q` of the pair's weights holds
                        // two tiles of each part.
                        unsafe {
                            let a0 = a.add(off[0]);
                            match split {
                                Split::Bf16 => tiles.step(a0, a0.add(a_skip), a_stride, b[0].add(q * 2 * TILE)),
                                Split::Bf16x3 => tiles.step3(
                                    a0,
                                    a0.add(a_skip),
                                    off[1] - off[0],
                                    a_stride,
                                    b[0].add(q * 2 * TILE),
                                    b[1].add(q * 2 * TILE),
                                ),
                            }
                        }
                    }
                    tiles.store(&mut acc);
                    // SAFETY: as `run` documents for `out`; the staging holds every channel of
                    // every pair for a row.
                    unsafe { epilogue(&acc, wts, y, x0, p, (h, w), relu, tile_out) };
                }
            }
            if !out.planes.is_null() {
                for co in 0..wts.cout {
                    // SAFETY: row `y` of plane `co` lies in the output planes (`run`).
                    let dst =
                        unsafe { std::slice::from_raw_parts_mut(out.planes.add(co * out.plane + y * out.row), w) };
                    dst.copy_from_slice(&staging[co * staged_row..][..w]);
                }
            }
        }
    });
}

thread_local! {
    /// Per-thread staging for plane rows (see `rows_task`), kept between calls.
    static STAGING: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn epilogue(
    acc: &[[f32; ROWS * 16]; 4],
    wts: &AmxWeights,
    y: usize,
    x0: usize,
    p: usize,
    (_h, w): (usize, usize),
    relu: bool,
    out: Out,
) {
    for (t, tile) in acc.iter().enumerate() {
        let (co0, xs) = (32 * p + 16 * (t % 2), x0 + 16 * (t / 2));
        // Blocks past `cout` hold zeros (zero weights and bias): the activations still get
        // them (the next layer reads every stored channel), the planes do not.
        let real = co0 < wts.cout;
        if xs >= w || (!real && out.act.is_null()) {
            continue;
        }
        let bias: &[f32; 16] = wts.bias[co0..co0 + 16].try_into().unwrap_or(&[0.0; 16]);
        // SAFETY (of the pointer arithmetic): pixel `(y, xs)` and channel `co0` lie inside
        // the outputs `run` was given.
        let target = unsafe {
            TileOut {
                m: (w - xs).min(ROWS),
                n: wts.cout.saturating_sub(co0).min(16),
                // The activations store every channel of the pair (zeros past `cout`).
                act: (!out.act.is_null()).then(|| {
                    (
                        out.act.add(((y + 1) * out.act_row + xs + 1) * out.act_stride + co0),
                        out.act_stride,
                        out.lo.then_some(out.act_c),
                    )
                }),
                planes: (real && !out.planes.is_null())
                    .then(|| (out.planes.add(co0 * out.plane + y * out.row + xs), out.plane)),
            }
        };
        // SAFETY: AMX implies AVX-512 BF16; `target` addresses the tile's outputs.
        unsafe { epilogue::write(tile, bias, relu, target) };
    }
}
