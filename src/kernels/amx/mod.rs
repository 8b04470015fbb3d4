//! Convolutions on Intel AMX (Advanced Matrix Extensions): tiles of bf16 products with f32
//! accumulation (`tdpbf16ps`, 16 × 16 × 32 multiply-adds per instruction), where the CPU has
//! them and Linux lets the process use them.
//!
//! The data flow of a pass (`pass`): the network's input planes (`[c, h, w]` f32) become
//! activations in the AMX layout (`act`: pixels of channel values in bf16, with the
//! one-pixel border the 3×3 windows read already in place), each convolution (`conv`)
//! reads its input straight from that layout — a window tap is an offset, no copy — and
//! writes the next layer's activations (bias, ReLU, border) from its accumulators; pooling
//! and upsampling stay in the layout; planes come back out only where the caller sees them
//! (taps, the result). Weights are packed once, at load time (`pack`). The three-channel
//! input layer gathers its 27 window values per pixel instead (`im2col`).
//!
//! Two precisions ([`Split`]): `Bf16` rounds every operand to bf16 (`--precision bf16`);
//! `Bf16x3` keeps f32 accuracy by splitting each operand into a high and a low bf16 part and
//! summing the three significant products (`hi·hi + hi·lo + lo·hi`, Henry et al. 2019),
//! which leaves a relative error of about 2⁻¹⁶ per product.
//!
//! Whether a pass runs here is the switchboard's (`kernels::config`: the CPU and
//! `UNISTYLE_CONV_AMX`).

pub(crate) mod act;
pub(crate) mod conv;
mod epilogue;
pub(crate) mod pack;
pub(crate) mod pass;
mod simd;
#[cfg(test)]
mod tests;
mod tiles;

use super::precision::Precision;

/// How operands are represented in the products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Split {
    /// One bf16 per value.
    Bf16,
    /// A high and a low bf16 per value; three products per multiply.
    Bf16x3,
}

impl Split {
    /// bf16 parts stored per value.
    pub(crate) fn parts(self) -> usize {
        match self {
            Split::Bf16 => 1,
            Split::Bf16x3 => 2,
        }
    }

    /// The split a pass at `precision` uses, or `None` when AMX does not serve it here
    /// ([`crate::kernels::Config::amx_serves`]).
    pub(crate) fn for_precision(precision: Precision) -> Option<Self> {
        if !super::config().amx_serves(precision) {
            return None;
        }
        Some(match precision {
            Precision::Bf16 => Split::Bf16,
            Precision::F32 => Split::Bf16x3,
        })
    }
}

/// Whether this CPU has AMX tiles with bf16 products, the process may use them
/// ([`crate::kernels::Cpu::amx_bf16`]) and the switchboard lets some pass run there.
#[cfg(test)]
pub(crate) fn available() -> bool {
    super::config().amx_serves(Precision::Bf16)
}
