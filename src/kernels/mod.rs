//! The CPU kernels, and the one switchboard that picks them ([`config`]).
//!
//! The model and the transform ask for operations — a packed 3×3 convolution
//! ([`conv::PackedConv`]), a pass of network steps over pooled buffers ([`pass::Pass`]),
//! padding, pooling and upsampling ([`pad`], [`resample`]), feature moments and the affine
//! map ([`stats`]) — and never see which instruction set, bf16 product or AMX tile runs
//! them: that is decided here, once per process, from the CPU's features and the switches
//! of `docs/performance.md` ([`Config`]).
//!
//! - `conv/`: the fused convolution (direct and Winograd F(4×4, 3×3)) over AVX-512,
//!   AVX2+FMA or portable micro-kernels.
//! - `amx/` (x86-64 only): convolutions, activations, pooling and upsampling on Intel AMX
//!   tiles; a pass runs there when [`Config::amx_serves`] its precision.
//! - `stats/`: the one-pass f64 moments and the f32 affine map of the transform.
//! - `buffers.rs` (the activation pool), `pad.rs` (borders), `resample.rs`, `host.rs`
//!   (a CPU tensor's values), `pass.rs` (a plan's steps over pooled buffers),
//!   `precision.rs`.
//!
//! Elsewhere than x86-64 the portable kernels are the only family and AMX is absent.

#[cfg(target_arch = "x86_64")]
mod amx;
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench;
pub(crate) mod buffers;
mod config;
pub(crate) mod conv;
pub(crate) mod host;
pub(crate) mod pad;
pub(crate) mod pass;
mod precision;
pub(crate) mod resample;
pub(crate) mod stats;

pub use config::{
    config, AmxMode, Config, ConvAlgo, Cpu, ALGO_ENV, AMX_ENV, BF16_ENV, CONV_ENV, GENERIC_PATHS_ENV, ISA_ENV,
};
pub use conv::{Algo, Isa};
pub use pad::Border;
pub(crate) use precision::GenericBf16;
pub use precision::Precision;

/// Whether work on `device` runs the CPU's own kernels (see [`Config::cpu_kernels`]).
pub(crate) fn cpu_kernels(device: &candle_core::Device) -> bool {
    config().cpu_kernels(device)
}

/// `dst` (`width × height`, row-major) becomes the transpose of `src` (`height × width`…):
/// `src` has rows of `width`, `dst` rows of `height` (planes ⇄ pixel-major values, in
/// parallel).
pub(crate) fn transpose(src: &[f32], dst: &mut [f32], width: usize, height: usize) {
    use rayon::prelude::*;
    dst.par_chunks_mut(height).enumerate().for_each(|(x, col)| {
        for (y, v) in col.iter_mut().enumerate() {
            *v = src[y * width + x];
        }
    });
}
