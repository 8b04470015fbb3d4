//! Micro-kernels: one register tile of `m` output channels × `nv` vectors of consecutive
//! band positions, accumulated over a chunk of input channels and the nine taps.
//!
//! All kernels share the [`Tile`] contract and differ only in vector width and blocking.

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod portable;

/// One micro-kernel invocation. Positions are in band coordinates (see `band.rs`).
///
/// With `n = nv · VL` lanes, a kernel reads, for `ci < kc`, `ky, kx < 3`, `j < n`:
/// `input[ci·chan_stride + ky·row_stride + kx + j]`; reads `weights[(ci·9 + tap)·m + i]` for
/// `i < m`; reads (when `accumulate`) and writes `out[i·out_stride + j]`; reads `bias[i]`
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

/// A family of micro-kernels of one instruction set.
pub(crate) trait MicroKernel {
    /// Output channels per full tile (weights are packed for this width).
    const MR: usize;
    /// Lanes per vector.
    const VL: usize;
    /// Vectors per full tile.
    const NV: usize;
    /// Runs the `m × nv` tile, `1 ≤ m ≤ MR`, `1 ≤ nv ≤ NV`.
    ///
    /// # Safety
    /// Every address described by [`Tile`] for these `m`, `nv` must be valid, and the
    /// instruction set of the family must be available (see [`super::Isa::detect`]).
    unsafe fn run(m: usize, nv: usize, t: &Tile);
}
