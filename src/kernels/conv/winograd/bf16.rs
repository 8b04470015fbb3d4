//! bf16 products in the Winograd domain (`--precision bf16`): the transformed inputs `V` and
//! weights `U` are rounded to bf16 (8-bit mantissa, round to nearest even), their products
//! summed in f32. Input and output transforms, bias and ReLU stay f32.
//!
//! With `avx512_bf16` the products run as `vdpbf16ps` dot products of input-channel pairs
//! (`Native`: twice the multiply-adds of an f32 FMA per instruction, half the operand
//! bytes); elsewhere the same rounded operands go through the f32 micro-kernels
//! (`Emulated`: the same numbers, without the speed).

/// How a Winograd layer computes its products.
#[derive(Debug)]
pub(crate) enum Products {
    /// f32 operands (the default precision).
    F32,
    /// bf16-rounded operands in f32 storage; the weights are `U` rounded, in `U`'s layout.
    Emulated(Vec<f32>),
    /// Pairs of bf16 operands in 32-bit words (low half: the even input channel), weights
    /// as [`super::pack::WinogradWeights::bf16_pairs`] lays them out.
    Native(Vec<u32>),
}

/// The bf16 bit pattern nearest to `x` (ties to even), as `vcvtne2ps2bf16` rounds.
pub(crate) fn bf16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return ((b >> 16) | 0x40) as u16;
    }
    (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// `x` rounded to the nearest bf16 value, kept as f32.
pub(crate) fn to_bf16(x: f32) -> f32 {
    f32::from_bits((bf16_bits(x) as u32) << 16)
}

/// Rounds every value to bf16 in place.
pub(crate) fn round_to_bf16(v: &mut [f32]) {
    for x in v {
        *x = to_bf16(*x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_to_nearest_even() {
        assert_eq!(to_bf16(1.0), 1.0);
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
        assert_eq!(to_bf16(1.0 + 1.0 / 256.0), 1.0);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: to the even one, 1 + 2^-6.
        assert_eq!(to_bf16(1.0 + 3.0 / 256.0), 1.0 + 1.0 / 64.0);
        assert_eq!(to_bf16(1.0 + 1.0 / 200.0), 1.0 + 1.0 / 128.0);
        assert_eq!(to_bf16(-3.0), -3.0);
        assert!(to_bf16(f32::NAN).is_nan());
        for x in [0.1f32, -7.3, 1e-20, 3e30, 123.456] {
            assert!(((to_bf16(x) - x) / x).abs() <= 1.0 / 256.0, "{x}");
        }
    }
}
