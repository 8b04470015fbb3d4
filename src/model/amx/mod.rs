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
//! `UNISTYLE_CONV_AMX=off` turns the path off (for comparisons), `bf16` keeps it for
//! `--precision bf16` only.
//!
//! The code that runs the instructions exists on x86-64 only (the submodules below); on
//! other processors [`available`] is false and callers (`cpu_pass`, `conv_cpu`) leave the
//! path out under the same `target_arch` switch.

#[cfg(target_arch = "x86_64")]
pub(crate) mod act;
#[cfg(target_arch = "x86_64")]
pub(crate) mod conv;
#[cfg(target_arch = "x86_64")]
mod epilogue;
#[cfg(target_arch = "x86_64")]
pub(crate) mod pack;
#[cfg(target_arch = "x86_64")]
pub(crate) mod pass;
#[cfg(target_arch = "x86_64")]
mod simd;
#[cfg(all(test, target_arch = "x86_64"))]
mod tests;
#[cfg(target_arch = "x86_64")]
mod tiles;

use std::sync::OnceLock;

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
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn parts(self) -> usize {
        match self {
            Split::Bf16 => 1,
            Split::Bf16x3 => 2,
        }
    }

    /// The split a pass at `precision` uses, or `None` when AMX does not serve it here.
    pub(crate) fn for_precision(precision: Precision) -> Option<Self> {
        if !available() {
            return None;
        }
        match (precision, mode()) {
            (_, Mode::Off) => None,
            (Precision::Bf16, _) => Some(Split::Bf16),
            (Precision::F32, Mode::On) => Some(Split::Bf16x3),
            (Precision::F32, Mode::Bf16Only) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    On,
    Bf16Only,
    Off,
}

/// `UNISTYLE_CONV_AMX` (read once).
fn mode() -> Mode {
    static MODE: OnceLock<Mode> = OnceLock::new();
    *MODE.get_or_init(|| match std::env::var("UNISTYLE_CONV_AMX").as_deref().map(str::trim) {
        Ok("off" | "0") => Mode::Off,
        Ok("bf16") => Mode::Bf16Only,
        _ => Mode::On,
    })
}

/// Whether this CPU has AMX tiles with bf16 products (and AVX-512 BF16 for the conversions)
/// and the kernel granted this process the tile state (`arch_prctl(ARCH_REQ_XCOMP_PERM)`);
/// asked once.
pub(crate) fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(detect)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn detect() -> bool {
    use std::arch::x86_64::__cpuid_count;
    if !(std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bf16")) {
        return false;
    }
    // CPUID leaf 7: EDX bit 22 AMX-BF16, bit 24 AMX-TILE.
    let edx = __cpuid_count(7, 0).edx;
    if edx & (1 << 22) == 0 || edx & (1 << 24) == 0 {
        return false;
    }
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: arch_prctl with these arguments only asks for permission to use a state
    // component; it touches no memory of ours.
    unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn detect() -> bool {
    false
}
