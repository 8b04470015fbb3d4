//! The convolution's epilogue for one accumulator tile (16 positions × 16 output channels,
//! stored row by row): bias, ReLU, then the next layer's activations (bf16 parts, one
//! pixel's channels per row) and/or f32 planes (the tile transposed in registers, so each
//! channel's 16 positions go out in one store). AVX-512 (with BF16 for the rounding), which
//! every AMX CPU has.

use std::arch::x86_64::*;

/// Where one tile's results go.
#[derive(Clone, Copy)]
pub(crate) struct TileOut {
    /// Rows (positions) and channels of the tile that exist (all 16 channels go to the
    /// activations, which store the padding channels' zeros too).
    pub m: usize,
    pub n: usize,
    /// First value of the first position's channels in the activations, the values between
    /// consecutive positions, and the distance to the low parts (`None`: one part only).
    pub act: Option<(*mut u16, usize, Option<usize>)>,
    /// First value of the first channel's plane at the first position, and the plane size.
    pub planes: Option<(*mut f32, usize)>,
}

/// Writes `tile + bias` (ReLU'd when `relu`) to `out`.
///
/// # Safety
/// The CPU has AVX-512F/BW/VL and AVX-512 BF16; `out`'s pointers address room for `m`
/// positions of `n` channels as described in [`TileOut`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
pub(crate) unsafe fn write(tile: &[f32; 256], bias: &[f32; 16], relu: bool, out: TileOut) {
    // SAFETY: the caller guarantees the CPU features and the output memory; the tile and
    // bias are read within their bounds.
    unsafe {
        let b = _mm512_loadu_ps(bias.as_ptr());
        let zero = _mm512_setzero_ps();
        let mut v = [zero; 16];
        for (r, vr) in v.iter_mut().enumerate() {
            let s = _mm512_add_ps(_mm512_loadu_ps(tile.as_ptr().add(16 * r)), b);
            *vr = if relu { _mm512_max_ps(s, zero) } else { s };
        }
        if let Some((p, stride, lo)) = out.act {
            for (r, &vr) in v.iter().enumerate().take(out.m) {
                let hi = _mm512_cvtneps_pbh(vr);
                let hi_bits: __m256i = std::mem::transmute(hi);
                let at = p.add(r * stride);
                _mm256_storeu_si256(at as *mut __m256i, hi_bits);
                if let Some(lo_off) = lo {
                    let back = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(hi_bits), 16));
                    let lo_bits: __m256i = std::mem::transmute(_mm512_cvtneps_pbh(_mm512_sub_ps(vr, back)));
                    _mm256_storeu_si256(at.add(lo_off) as *mut __m256i, lo_bits);
                }
            }
        }
        if let Some((p, plane)) = out.planes {
            super::simd::transpose(&mut v);
            let mmask: __mmask16 = if out.m >= 16 { 0xffff } else { (1u16 << out.m) - 1 };
            for (j, &vj) in v.iter().enumerate().take(out.n) {
                _mm512_mask_storeu_ps(p.add(j * plane), mmask, vj);
            }
        }
    }
}
