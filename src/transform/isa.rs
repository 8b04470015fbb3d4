//! The instruction set the transform's kernels ([`super::moments`], [`super::map_apply`]) run
//! with: AVX-512 where the CPU has it, else a portable version of the same blocking (built
//! for AVX2 + FMA where available, for the baseline target otherwise).

use std::sync::OnceLock;

/// A family of kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    /// Explicit AVX-512F intrinsics.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// The portable kernels compiled with AVX2 and FMA enabled.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// The portable kernels for the baseline target.
    Portable,
}

impl Isa {
    /// The best family this CPU runs, detected once.
    pub fn detect() -> Self {
        static ISA: OnceLock<Isa> = OnceLock::new();
        *ISA.get_or_init(|| Self::available()[0])
    }

    /// Every family this CPU runs, best first (tests compare them).
    pub fn available() -> Vec<Self> {
        let mut v = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                v.push(Isa::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                v.push(Isa::Avx2);
            }
        }
        v.push(Isa::Portable);
        v
    }
}
