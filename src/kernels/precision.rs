//! Arithmetic precision of the network's convolutions: `f32` (the default, exact to the
//! goldens; on AMX as bf16×3 products, see `kernels::amx`) or `bf16` (bf16 products with f32
//! accumulation in the wide layers — faster where the CPU has AMX or `avx512_bf16`, for
//! previews and users who choose speed). One parser serves the CLI (`--precision`), presets
//! (`precision = "bf16"`) and the C ABI.

use std::fmt;
use std::str::FromStr;

/// How the convolutions compute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Precision {
    /// f32 throughout.
    #[default]
    F32,
    /// bf16 operands, f32 accumulation, in the wide layers; the thin RGB layers, the
    /// transform and everything else stay f32.
    Bf16,
}

impl Precision {
    /// Every precision, by name.
    pub const ALL: [Precision; 2] = [Precision::F32, Precision::Bf16];

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        }
    }

    /// Whether bf16 products run in hardware here (AMX or `avx512_bf16`); elsewhere `bf16`
    /// gives the same numbers through the f32 kernels, without the speed.
    pub fn bf16_in_hardware() -> bool {
        super::config().bf16_in_hardware()
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = String;

    /// `f32` or `bf16` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|p| p.name() == t).ok_or_else(|| format!("'{s}' is not a precision (f32 or bf16)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for p in Precision::ALL {
            assert_eq!(p.name().parse::<Precision>(), Ok(p));
        }
        assert_eq!(" BF16 ".parse::<Precision>(), Ok(Precision::Bf16));
        assert!("fp16".parse::<Precision>().unwrap_err().contains("f32 or bf16"));
        assert_eq!(Precision::default(), Precision::F32);
    }
}
