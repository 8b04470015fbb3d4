//! The kernel switchboard: what this CPU offers and which kernels run, decided once per
//! process from the CPU's features and the `UNISTYLE_CONV*` / `UNISTYLE_GENERIC_PATHS`
//! environment variables (the table is in `docs/performance.md`). Every feature probe and
//! every kernel switch of the crate is read here and nowhere else.

use std::sync::OnceLock;

use candle_core::Device;

use super::conv::{is_wide, Algo, Isa};
use super::precision::Precision;

/// `UNISTYLE_GENERIC_PATHS=1` (`true`, `yes`, `on`): the CPU takes the code paths written for
/// other devices (candle's tensor operations) instead of its own kernels.
pub const GENERIC_PATHS_ENV: &str = "UNISTYLE_GENERIC_PATHS";
/// `UNISTYLE_CONV_ISA=avx512|avx2|portable`: a lower micro-kernel family than the best.
pub const ISA_ENV: &str = "UNISTYLE_CONV_ISA";
/// `UNISTYLE_CONV_BF16=emulate`: bf16 products through the f32 kernels, not `avx512_bf16`.
pub const BF16_ENV: &str = "UNISTYLE_CONV_BF16";
/// `UNISTYLE_CONV_AMX=off|0|bf16`: AMX off, or for `--precision bf16` only.
pub const AMX_ENV: &str = "UNISTYLE_CONV_AMX";
/// `UNISTYLE_CONV_ALGO=direct|winograd4`: one convolution algorithm for every layer.
pub const ALGO_ENV: &str = "UNISTYLE_CONV_ALGO";
/// `UNISTYLE_CONV=candle`: candle's stock convolution on the CPU (models loaded after).
pub const CONV_ENV: &str = "UNISTYLE_CONV";

/// What the CPU and the operating system offer, probed once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cpu {
    /// AVX-512 Foundation.
    pub avx512f: bool,
    /// AVX2 with FMA.
    pub avx2_fma: bool,
    /// AVX-512 BF16 (`vdpbf16ps`, and the conversions AMX needs).
    pub avx512_bf16: bool,
    /// AMX tiles with bf16 products, granted to this process by the kernel.
    pub amx_bf16: bool,
}

impl Cpu {
    /// Asks the CPU (and, for AMX, Linux) what it has.
    #[cfg(target_arch = "x86_64")]
    fn probe() -> Self {
        let avx512f = std::arch::is_x86_feature_detected!("avx512f");
        let avx512_bf16 = avx512f && std::arch::is_x86_feature_detected!("avx512bf16");
        Self {
            avx512f,
            avx2_fma: std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
            avx512_bf16,
            amx_bf16: avx512_bf16 && amx_granted(),
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn probe() -> Self {
        Self::default()
    }
}

/// Whether the CPU has AMX tiles with bf16 products (CPUID leaf 7: EDX bit 22 AMX-BF16, bit
/// 24 AMX-TILE) and Linux granted this process the tile state
/// (`arch_prctl(ARCH_REQ_XCOMP_PERM)`).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn amx_granted() -> bool {
    use std::arch::x86_64::__cpuid_count;
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

#[cfg(all(target_arch = "x86_64", not(target_os = "linux")))]
fn amx_granted() -> bool {
    false
}

/// Which passes AMX serves (`UNISTYLE_CONV_AMX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmxMode {
    /// Every precision, where the CPU has it (the default).
    Auto,
    /// `--precision bf16` only (`bf16`).
    Bf16Only,
    /// Never (`off` or `0`).
    Off,
}

/// Which convolution algorithm the layers use (`UNISTYLE_CONV_ALGO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvAlgo {
    /// Winograd F(4×4, 3×3) for the wide layers, direct for the thin ones (the default).
    Auto,
    /// One algorithm for every layer.
    Forced(Algo),
}

/// The one kernel configuration of this process ([`config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// What the CPU offers.
    pub cpu: Cpu,
    /// The micro-kernel family: the best the CPU runs, or a lower one `UNISTYLE_CONV_ISA` names.
    pub isa: Isa,
    /// Whether bf16 products run in hardware (`avx512_bf16`) in the `isa` kernels; off with
    /// `UNISTYLE_CONV_BF16=emulate` (the same numbers through the f32 kernels).
    pub bf16_native: bool,
    /// `UNISTYLE_CONV_BF16=emulate` (it applies to every family's kernels).
    bf16_emulated: bool,
    /// Which passes AMX may serve.
    pub amx: AmxMode,
    /// The convolution algorithm.
    pub conv_algo: ConvAlgo,
    /// `UNISTYLE_CONV=candle`: the CPU's 3×3 convolutions are candle's.
    pub candle_conv: bool,
    /// `UNISTYLE_GENERIC_PATHS`: the CPU takes the generic paths everywhere.
    pub generic_paths: bool,
}

/// The configuration of this process, read the first time a kernel is chosen.
pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| Config::new(Cpu::probe(), |name| std::env::var(name).ok()))
}

impl Config {
    /// The configuration for `cpu` with the switches `env` returns (by variable name).
    pub(crate) fn new(cpu: Cpu, env: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| env(name).map(|v| v.trim().to_ascii_lowercase());
        let available = Isa::supported_by(&cpu);
        let isa =
            var(ISA_ENV).and_then(|v| available.iter().copied().find(|isa| isa.name() == v)).unwrap_or(available[0]);
        let bf16_emulated = var(BF16_ENV).is_some_and(|v| v == "emulate");
        let amx = match var(AMX_ENV).as_deref() {
            Some("off" | "0") => AmxMode::Off,
            Some("bf16") => AmxMode::Bf16Only,
            _ => AmxMode::Auto,
        };
        let conv_algo = match var(ALGO_ENV).as_deref() {
            Some("direct") => ConvAlgo::Forced(Algo::Direct),
            Some("winograd4") => ConvAlgo::Forced(Algo::Winograd4),
            _ => ConvAlgo::Auto,
        };
        Self {
            cpu,
            isa,
            bf16_native: Self::bf16_hardware(&cpu, isa, bf16_emulated),
            bf16_emulated,
            amx,
            conv_algo,
            candle_conv: var(CONV_ENV).is_some_and(|v| v == "candle"),
            generic_paths: var(GENERIC_PATHS_ENV).is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes" | "on")),
        }
    }

    fn bf16_hardware(cpu: &Cpu, isa: Isa, emulated: bool) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            isa == Isa::Avx512 && cpu.avx512_bf16 && !emulated
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (cpu, isa, emulated);
            false
        }
    }

    /// Whether work on `device` runs the CPU's own kernels: on the CPU, unless the generic
    /// paths are forced.
    pub fn cpu_kernels(&self, device: &Device) -> bool {
        device.is_cpu() && !self.generic_paths
    }

    /// Whether a 3×3 convolution whose weights live on `device` runs the fused CPU kernel.
    pub fn fused_conv(&self, device: &Device) -> bool {
        self.cpu_kernels(device) && !self.candle_conv
    }

    /// Whether the `isa` kernels run bf16 products in hardware (for kernels built for another
    /// family than [`Config::isa`]: tests and comparisons).
    pub(crate) fn bf16_native_in(&self, isa: Isa) -> bool {
        Self::bf16_hardware(&self.cpu, isa, self.bf16_emulated)
    }

    /// Whether AMX runs the passes at `precision`.
    pub fn amx_serves(&self, precision: Precision) -> bool {
        self.cpu.amx_bf16
            && match (self.amx, precision) {
                (AmxMode::Off, _) => false,
                (_, Precision::Bf16) => true,
                (AmxMode::Auto, Precision::F32) => true,
                (AmxMode::Bf16Only, Precision::F32) => false,
            }
    }

    /// Whether bf16 products run in hardware here (AMX or `avx512_bf16`).
    pub fn bf16_in_hardware(&self) -> bool {
        self.amx_serves(Precision::Bf16) || self.bf16_native
    }

    /// The algorithm of a `cin → cout` layer: Winograd F(4×4) for layers wide enough that
    /// its products dominate its transforms, unless one is forced.
    pub(crate) fn algo(&self, cin: usize, cout: usize) -> Algo {
        match self.conv_algo {
            ConvAlgo::Forced(a) => a,
            ConvAlgo::Auto if is_wide(cin, cout) => Algo::Winograd4,
            ConvAlgo::Auto => Algo::Direct,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(cpu: Cpu, vars: &[(&str, &str)]) -> Config {
        Config::new(cpu, |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
    }

    const ALL: Cpu = Cpu { avx512f: true, avx2_fma: true, avx512_bf16: true, amx_bf16: true };

    #[test]
    fn defaults_take_the_best_the_cpu_has() {
        let c = with(ALL, &[]);
        assert_eq!(c.isa, Isa::supported_by(&ALL)[0]);
        assert_eq!((c.amx, c.conv_algo, c.candle_conv, c.generic_paths), (AmxMode::Auto, ConvAlgo::Auto, false, false));
        assert!(c.amx_serves(Precision::F32) && c.amx_serves(Precision::Bf16));
        assert_eq!(c.algo(64, 64), Algo::Winograd4);
        assert_eq!(c.algo(3, 64), Algo::Direct);
        let bare = with(Cpu::default(), &[]);
        assert_eq!(bare.isa, Isa::Portable);
        assert!(!bare.bf16_in_hardware() && !bare.amx_serves(Precision::Bf16));
    }

    #[test]
    fn switches_keep_their_documented_meanings() {
        let c = with(
            ALL,
            &[
                (ISA_ENV, " Portable "),
                (AMX_ENV, "bf16"),
                (ALGO_ENV, "direct"),
                (CONV_ENV, "candle"),
                (GENERIC_PATHS_ENV, "yes"),
            ],
        );
        assert_eq!(c.isa, Isa::Portable);
        assert!(!c.bf16_native, "bf16 products are AVX-512's");
        assert!(!c.amx_serves(Precision::F32) && c.amx_serves(Precision::Bf16));
        assert_eq!(c.algo(256, 256), Algo::Direct);
        assert!(c.candle_conv && c.generic_paths);
        assert!(!c.cpu_kernels(&Device::Cpu) && !c.fused_conv(&Device::Cpu));
        for off in ["off", "0"] {
            assert!(!with(ALL, &[(AMX_ENV, off)]).amx_serves(Precision::Bf16));
        }
        // Unknown or unavailable values are ignored.
        let c = with(Cpu::default(), &[(ISA_ENV, "avx512"), (ALGO_ENV, "fastest"), (GENERIC_PATHS_ENV, "2")]);
        assert_eq!((c.isa, c.conv_algo, c.generic_paths), (Isa::Portable, ConvAlgo::Auto, false));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn bf16_products_follow_the_isa_and_the_switch() {
        assert!(with(ALL, &[]).bf16_native);
        let emulated = with(ALL, &[(BF16_ENV, "emulate")]);
        assert!(!emulated.bf16_native && !emulated.bf16_native_in(Isa::Avx512));
        assert!(with(ALL, &[(ISA_ENV, "avx2")]).bf16_native_in(Isa::Avx512));
        assert!(!with(ALL, &[]).bf16_native_in(Isa::Avx2));
    }
}
