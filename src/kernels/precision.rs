//! Arithmetic precision of the network's convolutions: `f32` (the default, exact to the
//! goldens; on AMX as bf16×3 products, see `kernels::amx`) or `bf16` (bf16 products with f32
//! accumulation in the wide layers — faster where the CPU has AMX or `avx512_bf16`, for
//! previews and users who choose speed). One parser serves the CLI (`--precision`), presets
//! (`precision = "bf16"`) and the C ABI.

use std::fmt;
use std::str::FromStr;

use candle_core::{DType, Device, Tensor};

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

/// How `--precision bf16` runs a wide convolution on the generic paths (candle's `conv2d`,
/// used on devices other than the CPU and on the CPU when its kernels are switched off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GenericBf16 {
    /// bf16 tensors through the device's own bf16 convolution: CUDA (im2col in bf16, cuBLAS
    /// bf16 products accumulated in f32, results rounded to bf16).
    Native,
    /// The same roundings on f32 tensors (operands rounded to bf16, products accumulated in
    /// f32, the result rounded to bf16): the CPU, whose candle matmul has no bf16.
    Emulated,
    /// bf16 is not run: the layer stays f32 (Metal).
    Off,
}

impl GenericBf16 {
    /// The bf16 form of a generic convolution on `device`.
    pub(crate) fn on(device: &Device) -> Self {
        if device.is_cuda() {
            GenericBf16::Native
        } else if device.is_cpu() {
            GenericBf16::Emulated
        } else {
            GenericBf16::Off
        }
    }

    /// A layer's f32 `[cout, cin, 3, 3]` weights in this form (`None` when bf16 is off).
    pub(crate) fn weights(self, weight: &Tensor) -> candle_core::Result<Option<Tensor>> {
        match self {
            GenericBf16::Native => weight.to_dtype(DType::BF16).map(Some),
            GenericBf16::Emulated => round_bf16(weight).map(Some),
            GenericBf16::Off => Ok(None),
        }
    }

    /// `conv2d` (no padding, stride 1) of f32 `x` with weights made by [`Self::weights`],
    /// returning f32.
    pub(crate) fn conv2d(self, x: &Tensor, weight: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            GenericBf16::Native => x.to_dtype(DType::BF16)?.conv2d(weight, 0, 1, 1, 1)?.to_dtype(DType::F32),
            GenericBf16::Emulated => round_bf16(&round_bf16(x)?.conv2d(weight, 0, 1, 1, 1)?),
            GenericBf16::Off => x.conv2d(weight, 0, 1, 1, 1),
        }
    }
}

/// `x` rounded to the nearest bf16 (ties to even), kept in its own dtype.
pub(crate) fn round_bf16(x: &Tensor) -> candle_core::Result<Tensor> {
    x.to_dtype(DType::BF16)?.to_dtype(x.dtype())
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

    #[test]
    fn emulated_bf16_rounds_operands_and_result() {
        let dev = Device::Cpu;
        assert_eq!(GenericBf16::on(&dev), GenericBf16::Emulated);
        let v: Vec<f32> = (0..2 * 4 * 4).map(|i| 1.0 + (i as f32 * 0.377).sin() / 3.0).collect();
        let x = Tensor::from_vec(v, (1, 2, 4, 4), &dev).unwrap();
        let w = Tensor::from_vec((0..2 * 2 * 9).map(|i| 0.01 * i as f32 - 0.1).collect(), (2, 2, 3, 3), &dev).unwrap();
        let wb = GenericBf16::Emulated.weights(&w).unwrap().unwrap();
        let y = GenericBf16::Emulated.conv2d(&x, &wb).unwrap();
        let exact = x.conv2d(&w, 0, 1, 1, 1).unwrap();
        assert_eq!(y.dims(), exact.dims());
        let (y, exact): (Vec<f32>, Vec<f32>) =
            (y.flatten_all().unwrap().to_vec1().unwrap(), exact.flatten_all().unwrap().to_vec1().unwrap());
        for (a, b) in y.iter().zip(&exact) {
            // Every result is a bf16 value, within bf16's relative precision of the f32 one.
            assert_eq!(*a, half::bf16::from_f32(*a).to_f32());
            assert!((a - b).abs() <= 2e-2 * b.abs().max(0.1), "{a} vs {b}");
        }
        assert!(y.iter().zip(&exact).any(|(a, b)| a != b), "bf16 rounded nothing");
    }
}
