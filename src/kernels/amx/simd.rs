//! AVX-512 helpers shared by the epilogue and the conversions (every AMX CPU has AVX-512).

use std::arch::x86_64::*;

/// Transposes 16 vectors of 16 lanes in place: four rounds that swap the off-diagonal
/// blocks of 8, 4, 2 and 1 lanes.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn transpose(v: &mut [__m512; 16]) {
    // SAFETY: AVX-512F (the caller's guarantee); the index arrays hold 16 lanes each.
    unsafe {
        for b in [8usize, 4, 2, 1] {
            let lo: [i32; 16] = std::array::from_fn(|l| if l & b == 0 { l as i32 } else { (16 + l - b) as i32 });
            let hi: [i32; 16] = std::array::from_fn(|l| if l & b == 0 { (l + b) as i32 } else { (16 + l) as i32 });
            let (lo, hi) = (_mm512_loadu_si512(lo.as_ptr() as *const _), _mm512_loadu_si512(hi.as_ptr() as *const _));
            for i in (0..16).filter(|i| i & b == 0) {
                let (a, c) = (v[i], v[i + b]);
                v[i] = _mm512_permutex2var_ps(a, lo, c);
                v[i + b] = _mm512_permutex2var_ps(a, hi, c);
            }
        }
    }
}

/// Rounds 16 values to bf16 (`hi`) and, when `lo` is wanted, the rest to a second bf16.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
#[inline]
pub(crate) unsafe fn split16(v: __m512) -> (__m256i, __m256i) {
    // SAFETY: the caller guarantees the CPU features.
    unsafe {
        let hi: __m256i = std::mem::transmute(_mm512_cvtneps_pbh(v));
        let back = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(hi), 16));
        let lo: __m256i = std::mem::transmute(_mm512_cvtneps_pbh(_mm512_sub_ps(v, back)));
        (hi, lo)
    }
}

/// Writes row `y` of `[c, h, w]` planes (`src`, planes `plane` values apart, the row at
/// `row`) as pixels: pixel `x`'s channel `ch` goes to `dst[x · stride + ch]` and, when
/// `lo` is given, its low part to `dst[x · stride + lo + ch]`. Channels are written in
/// blocks of 16 (zeros past `c`), so `stride` must leave room for them.
///
/// # Safety
/// AVX-512F/BW/VL and AVX-512 BF16; `src` holds the row's `c` planes, `dst` `w` pixels.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
pub(crate) unsafe fn planes_row_to_pixels(
    src: &[f32],
    (plane, row, c, w): (usize, usize, usize, usize),
    dst: &mut [u16],
    stride: usize,
    lo: Option<usize>,
) {
    // SAFETY: the caller guarantees the CPU features; loads and stores stay inside the
    // row's `m` valid positions of each plane and `dst`'s `w` pixels (`stride` per pixel).
    unsafe {
        for x0 in (0..w).step_by(16) {
            let m = (w - x0).min(16);
            let mmask: __mmask16 = if m == 16 { 0xffff } else { (1u16 << m) - 1 };
            for c0 in (0..c).step_by(16) {
                let mut v = [_mm512_setzero_ps(); 16];
                for (j, vj) in v.iter_mut().enumerate().take((c - c0).min(16)) {
                    *vj = _mm512_maskz_loadu_ps(mmask, src.as_ptr().add((c0 + j) * plane + row + x0));
                }
                transpose(&mut v);
                for (r, &vr) in v.iter().enumerate().take(m) {
                    let at = dst.as_mut_ptr().add((x0 + r) * stride + c0);
                    let (hi, low) = split16(vr);
                    _mm256_storeu_si256(at as *mut __m256i, hi);
                    if let Some(lo) = lo {
                        _mm256_storeu_si256(at.add(lo) as *mut __m256i, low);
                    }
                }
            }
        }
    }
}

/// The largest of four pixels' values, channel by channel, as `dst` (`c` channels of high
/// parts, then, when `lo` is given, as many low parts `lo` further; ties keep the first).
///
/// # Safety
/// AVX-512F/BW/VL; the four pixels and `dst` hold `c` channels (a multiple of 16) of each
/// part.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(crate) unsafe fn max4(px: [*const u16; 4], dst: *mut u16, c: usize, lo: Option<usize>) {
    // SAFETY: the caller guarantees the CPU features and the pixels' extent.
    unsafe {
        let widen = |p: *const u16| {
            _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(p as *const __m256i)), 16))
        };
        for c0 in (0..c).step_by(16) {
            let load = |p: *const u16| match lo {
                Some(l) => _mm512_add_ps(widen(p.add(c0)), widen(p.add(c0 + l))),
                None => widen(p.add(c0)),
            };
            let mut best = load(px[0]);
            let mut hi = _mm256_loadu_si256(px[0].add(c0) as *const __m256i);
            let mut low = lo.map(|l| _mm256_loadu_si256(px[0].add(c0 + l) as *const __m256i));
            for &p in &px[1..] {
                let v = load(p);
                let m = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, best);
                best = _mm512_mask_blend_ps(m, best, v);
                hi = _mm256_mask_blend_epi16(m, hi, _mm256_loadu_si256(p.add(c0) as *const __m256i));
                if let (Some(l), Some(x)) = (lo, low.as_mut()) {
                    *x = _mm256_mask_blend_epi16(m, *x, _mm256_loadu_si256(p.add(c0 + l) as *const __m256i));
                }
            }
            _mm256_storeu_si256(dst.add(c0) as *mut __m256i, hi);
            if let (Some(l), Some(x)) = (lo, low) {
                _mm256_storeu_si256(dst.add(c0 + l) as *mut __m256i, x);
            }
        }
    }
}
