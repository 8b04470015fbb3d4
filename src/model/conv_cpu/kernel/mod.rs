//! Micro-kernels: one register tile of `m` output channels × `nv` vectors of consecutive
//! positions, accumulated over a chunk of input channels and the taps of a 3×3 window
//! (direct convolution) or a single tap (the 1×1 products of the Winograd domain, i.e. a
//! GEMM tile).
//!
//! All kernels share the [`Tile`] contract and differ only in vector width and blocking.

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod portable;

use super::winograd::transform::{self, InputJob, OutputJob};

/// One micro-kernel invocation over an `s × s` window (`s` = 3 or 1). Positions are in
/// band coordinates (see `band.rs`).
///
/// With `n = nv · VL` lanes, a kernel reads, for `ci < kc`, `ky, kx < s`, `j < n`:
/// `input[ci·chan_stride + ky·row_stride + kx + j]`; reads `weights[(ci·s² + ky·s + kx)·m + i]`
/// for `i < m`; reads (when `accumulate`) and writes `out[i·out_stride + j]`; reads `bias[i]`
/// when `bias` is not null. Every one of those addresses must be valid.
pub(crate) struct Tile {
    pub input: *const f32,
    pub chan_stride: usize,
    pub row_stride: usize,
    pub kc: usize,
    pub weights: *const f32,
    pub out: *mut f32,
    pub out_stride: usize,
    /// Initial value per output channel (first chunk); null means zero or `accumulate`.
    pub bias: *const f32,
    /// Start from the values in `out` (later chunks).
    pub accumulate: bool,
    /// Clamp at zero before storing (last chunk of a ReLU layer).
    pub relu: bool,
}

/// One bf16 micro-kernel invocation (the Winograd products with `avx512_bf16`): `m` output
/// channels × `nv` vectors of positions, over `pairs` pairs of input channels.
///
/// With `n = nv · VL` lanes, a kernel reads, for `p < pairs`, `j < n`: the 32-bit word
/// `input[p·pair_stride + j]` (two bf16 values: even channel low, odd channel high) and
/// `weights[p·m + i]` for `i < m` (the same pairing); reads (when `accumulate`) and writes
/// `out[i·out_stride + j]` (f32). Every one of those addresses must be valid. Only the
/// x86-64 kernels read it.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) struct PairTile {
    pub input: *const u32,
    pub pair_stride: usize,
    pub pairs: usize,
    pub weights: *const u32,
    pub out: *mut f32,
    pub out_stride: usize,
    /// Start from the values in `out`; otherwise from zero.
    pub accumulate: bool,
}

/// A family of micro-kernels of one instruction set.
pub(crate) trait MicroKernel {
    /// Output channels per full tile (weights are packed for this width).
    const MR: usize;
    /// Lanes per vector.
    const VL: usize;
    /// Vectors per full tile.
    const NV: usize;
    /// Runs the `m × nv` tile of a 3×3 window, `1 ≤ m ≤ MR`, `1 ≤ nv ≤ NV`.
    ///
    /// # Safety
    /// Every address described by [`Tile`] for these `m`, `nv` and `s = 3` must be valid,
    /// and the instruction set of the family must be available (see [`super::Isa::detect`]).
    unsafe fn run(m: usize, nv: usize, t: &Tile);
    /// As [`Self::run`] with a single tap (`s = 1`; `row_stride` is unused).
    ///
    /// # Safety
    /// As for [`Self::run`], with `s = 1`.
    unsafe fn run_1x1(m: usize, nv: usize, t: &Tile);

    /// The [`PairTile`] kernel, `1 ≤ m ≤ MR`, `1 ≤ nv ≤ NV`. Only families with bf16 dot
    /// products implement it; the caller checks with [`super::bf16_native`].
    ///
    /// # Safety
    /// Every address described by [`PairTile`] must be valid, and `avx512_bf16` available.
    unsafe fn run_1x1_bf16(_m: usize, _nv: usize, _t: &PairTile) {
        unreachable!("this micro-kernel family has no bf16 products")
    }

    /// Packs `kc` rows of `vt` f32 values (row stride `vt`, `vt` a multiple of `VL`) into
    /// `kc.div_ceil(2)` rows of `vt` bf16 pairs (`dst[p·vt + j]` = rows `2p`, `2p + 1` at
    /// column `j`; a missing odd row is zero).
    ///
    /// # Safety
    /// `src.len() ≥ kc·vt`, `dst.len() ≥ kc.div_ceil(2)·vt`, and `avx512_bf16` available.
    unsafe fn pack_bf16_pairs(_src: &[f32], _kc: usize, _vt: usize, _dst: &mut [u32]) {
        unreachable!("this micro-kernel family has no bf16 products")
    }

    /// The Winograd input transform, compiled for this family's instruction set.
    ///
    /// # Safety
    /// The instruction set of the family must be available.
    unsafe fn wino_input(job: &mut InputJob) {
        transform::input(job)
    }

    /// The Winograd output transform, compiled for this family's instruction set.
    ///
    /// # Safety
    /// The instruction set of the family must be available.
    unsafe fn wino_output(job: &mut OutputJob) {
        transform::output(job)
    }
}
