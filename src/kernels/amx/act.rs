//! Activations in the AMX layout: for each pixel of an `(h + 2) × (w + 2)` grid (the image
//! and its one-pixel border, rows of `w + 2` pixels), its channel values as bf16, all high
//! parts and then, for [`Split::Bf16x3`], all low parts. A 3×3 window's tap at `(dy, dx)`
//! for a row of outputs is then just the same rows shifted by `dy` rows and `dx` pixels.
//! A few pixels of slack after the grid let the convolution read whole blocks of 32
//! positions past the end of the last row (values it discards).
//!
//! Also here: the conversions from and to `[c, h, w]` f32 planes, the border fill, and the
//! 2×2 max-pool and 2× nearest upsampling in this layout.

use rayon::prelude::*;

use super::Split;
use crate::error::Result;
use crate::kernels::buffers::{Buffer, BufferPool};
use crate::kernels::conv::bf16_bits;
use crate::kernels::pad::Border;
use crate::kernels::resample::pool_partner;

/// Pixels of slack after the grid (a block of 32 positions plus the window's reach).
pub(crate) const SLACK_PX: usize = 40;

/// The bf16 parts of `v`: the nearest bf16 and, split, the nearest bf16 to what is left.
#[inline(always)]
pub(crate) fn split_bits(v: f32) -> (u16, u16) {
    let hi = bf16_bits(v);
    (hi, bf16_bits(v - widen(hi)))
}

/// The f32 value of bf16 bits.
#[inline(always)]
pub(crate) fn widen(b: u16) -> f32 {
    f32::from_bits((b as u32) << 16)
}

/// Where a 64-byte aligned run of values starts in an allocation at `addr`, in elements of
/// `size` bytes. Tile rows that straddle cache lines load at half speed or worse.
pub(crate) fn align_offset(addr: usize, size: usize) -> usize {
    (64 - addr % 64) % 64 / size
}

/// A pooled buffer of bf16 bit patterns (held in an f32 buffer of half the length), starting
/// on a 64-byte boundary.
pub(crate) struct Bf16Buf<'p> {
    buf: Buffer<'p>,
    start: usize,
    len: usize,
}

impl<'p> Bf16Buf<'p> {
    /// `len` values, contents as the pool left them.
    pub(crate) fn take(pool: &'p BufferPool, len: usize) -> Result<Self> {
        let buf = pool.take(len.div_ceil(2) + 16)?;
        let start = align_offset(buf.as_ptr() as usize, 2);
        Ok(Bf16Buf { buf, start, len })
    }

    pub(crate) fn data(&self) -> &[u16] {
        // SAFETY: the buffer holds `len / 2 + 16` f32, room for `len` u16 after the at most
        // 62 bytes skipped to align; u16 has a smaller alignment than f32 and every bit
        // pattern is valid for both.
        unsafe { std::slice::from_raw_parts((self.buf.as_ptr() as *const u16).add(self.start), self.len) }
    }

    pub(crate) fn data_mut(&mut self) -> &mut [u16] {
        // SAFETY: as in `data`, with the buffer borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut((self.buf.as_mut_ptr() as *mut u16).add(self.start), self.len) }
    }
}

/// Activations of `c` channels on an `h × w` image (see the module docs).
pub(crate) struct Act<'p> {
    buf: Bf16Buf<'p>,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub split: Split,
    /// Whether each pixel holds its row neighbourhood (`from_planes`), the input form of a
    /// thin convolution.
    pub stacked: bool,
}

impl<'p> Act<'p> {
    /// Uninitialised activations (the caller writes the interior, then the border); `c`, the
    /// values stored per pixel and part, is a multiple of 16 (the kernels' vector width).
    pub(crate) fn new(pool: &'p BufferPool, c: usize, h: usize, w: usize, split: Split) -> Result<Self> {
        if !c.is_multiple_of(16) {
            return Err(crate::Error::Tensor(format!("AMX activations: {c} values per pixel, not a multiple of 16")));
        }
        let len = ((h + 2) * (w + 2) + SLACK_PX) * c * split.parts();
        let mut act = Act { buf: Bf16Buf::take(pool, len)?, h, w, c, split, stacked: false };
        // The slack is read (and discarded) by the convolution: keep it finite.
        let start = (h + 2) * (w + 2) * act.stride();
        act.data_mut()[start..].fill(0);
        Ok(act)
    }

    /// bf16 values per pixel.
    pub(crate) fn stride(&self) -> usize {
        self.c * self.split.parts()
    }

    /// Pixels per grid row.
    pub(crate) fn row_px(&self) -> usize {
        self.w + 2
    }

    /// Index of the first value of grid pixel `(gy, gx)` (border included: the image's
    /// pixel `(y, x)` is grid pixel `(y + 1, x + 1)`).
    #[inline(always)]
    pub(crate) fn at(&self, gy: usize, gx: usize) -> usize {
        (gy * self.row_px() + gx) * self.stride()
    }

    pub(crate) fn data(&self) -> &[u16] {
        self.buf.data()
    }

    pub(crate) fn data_mut(&mut self) -> &mut [u16] {
        self.buf.data_mut()
    }

    /// Writes the one-pixel border from the interior (`border`'s rule, as `pad1` does).
    pub(crate) fn fill_border(&mut self, border: Border) {
        let (h, w, s) = (self.h, self.w, self.stride());
        let (sx0, sx1) = (border.source(-1, w) + 1, border.source(w as isize, w) + 1);
        let (sy0, sy1) = (border.source(-1, h) + 1, border.source(h as isize, h) + 1);
        let row = self.row_px() * s;
        let data = self.data_mut();
        data[row..(h + 1) * row].par_chunks_mut(row).for_each(|r| {
            r.copy_within(sx0 * s..(sx0 + 1) * s, 0);
            r.copy_within(sx1 * s..(sx1 + 1) * s, (w + 1) * s);
        });
        data.copy_within(sy0 * row..(sy0 + 1) * row, 0);
        data.copy_within(sy1 * row..(sy1 + 1) * row, (h + 1) * row);
    }

    /// Activations storing `stored` values per pixel (zeros beyond the real ones) from
    /// `[c, h, w]` planes; `stacked`: the channels at `x - 1`, `x`, `x + 1` (`border`'s rule at
    /// the ends) side by side.
    pub(crate) fn from_planes(
        pool: &'p BufferPool,
        src: &[f32],
        (c, h, w): (usize, usize, usize),
        (stored, stacked): (usize, bool),
        split: Split,
        border: Border,
    ) -> Result<Self> {
        if stored < if stacked { 3 * c } else { c } {
            return Err(crate::Error::Tensor(format!("AMX activations: {stored} values per pixel for {c} channels")));
        }
        let mut act = Act::new(pool, stored, h, w, split)?;
        act.stacked = stacked;
        let (s, row) = (act.stride(), act.row_px() * act.stride());
        let plane = h * w;
        let xs = border.index_map(w);
        let lo = (split == Split::Bf16x3).then_some(stored);
        act.data_mut()[row..(h + 1) * row].par_chunks_mut(row).enumerate().for_each(|(y, dst)| {
            if !stacked {
                let px = &mut dst[s..(w + 1) * s];
                // SAFETY: AMX (checked before any pass) implies AVX-512 BF16; the row's planes
                // lie in `src`, its `w` pixels in `px`, and `stored` (a multiple of 32) leaves
                // room for the 16-channel blocks.
                unsafe { super::simd::planes_row_to_pixels(src, (plane, y * w, c, w), px, s, lo) };
                let written = c.next_multiple_of(16);
                if written < stored {
                    for p in px.chunks_exact_mut(s) {
                        p[written..stored].fill(0);
                        if lo.is_some() {
                            p[stored + written..].fill(0);
                        }
                    }
                }
                return;
            }
            for x in 0..w {
                let px = &mut dst[(x + 1) * s..(x + 2) * s];
                px.fill(0);
                for (slot, dx) in (0..3).enumerate() {
                    let sx = xs[x + dx];
                    for ch in 0..c {
                        let (hi, lo) = split_bits(src[ch * plane + y * w + sx]);
                        px[slot * c + ch] = hi;
                        if split == Split::Bf16x3 {
                            px[stored + slot * c + ch] = lo;
                        }
                    }
                }
            }
        });
        act.fill_border(border);
        Ok(act)
    }

    /// The value of channel `ch` at grid pixel index `i` (from [`Self::at`]).
    #[inline(always)]
    fn value(data: &[u16], i: usize, c: usize, ch: usize, split: Split) -> f32 {
        match split {
            Split::Bf16 => widen(data[i + ch]),
            Split::Bf16x3 => widen(data[i + ch]) + widen(data[i + c + ch]),
        }
    }

    /// Writes the interior's first `out.len() / (h · w)` channels as planes into `out`.
    pub(crate) fn to_planes(&self, out: &mut [f32]) {
        let (c, h, w, split) = (self.c, self.h, self.w, self.split);
        debug_assert!(out.len() <= c * h * w);
        let data = self.data();
        out.par_chunks_mut(h * w).enumerate().for_each(|(ch, plane)| {
            for (y, orow) in plane.chunks_exact_mut(w).enumerate() {
                for (x, o) in orow.iter_mut().enumerate() {
                    *o = Self::value(data, self.at(y + 1, x + 1), c, ch, split);
                }
            }
        });
    }

    /// The 2×2 max-pool (ceil mode: an odd last row or column pairs with itself, or on a
    /// torus with the first one), as `resample::pool_into` computes it.
    pub(crate) fn pool(&self, pool: &'p BufferPool, border: Border) -> Result<Act<'p>> {
        let (c, h, w, split) = (self.c, self.h, self.w, self.split);
        let (oh, ow) = (h.div_ceil(2), w.div_ceil(2));
        let mut out = Act::new(pool, c, oh, ow, split)?;
        let partner = |i: usize, len: usize| pool_partner(i, len, border);
        let (s, orow) = (out.stride(), out.row_px() * out.stride());
        let src = self.data();
        out.data_mut()[orow..(oh + 1) * orow].par_chunks_mut(orow).enumerate().for_each(|(oy, dst)| {
            let (y0, y1) = (2 * oy, partner(2 * oy, h));
            for ox in 0..ow {
                let (x0, x1) = (2 * ox, partner(2 * ox, w));
                let corners = [
                    self.at(y0 + 1, x0 + 1),
                    self.at(y0 + 1, x1 + 1),
                    self.at(y1 + 1, x0 + 1),
                    self.at(y1 + 1, x1 + 1),
                ];
                let px = &mut dst[(ox + 1) * s..(ox + 2) * s];
                let lo = (split == Split::Bf16x3).then_some(c);
                // SAFETY: AMX (checked before any pass) implies AVX-512; each corner and `px`
                // hold `c` channels (a multiple of 16, see `new`) of every part.
                unsafe { super::simd::max4(corners.map(|i| src[i..].as_ptr()), px.as_mut_ptr(), c, lo) };
            }
        });
        out.fill_border(border);
        Ok(out)
    }

    /// 2× nearest upsampling.
    pub(crate) fn upsample(&self, pool: &'p BufferPool, border: Border) -> Result<Act<'p>> {
        let (h, w) = (self.h, self.w);
        let mut out = Act::new(pool, self.c, 2 * h, 2 * w, self.split)?;
        let (s, orow) = (out.stride(), out.row_px() * out.stride());
        let src = self.data();
        out.data_mut()[orow..(2 * h + 1) * orow].par_chunks_mut(orow).enumerate().for_each(|(oy, dst)| {
            let y = oy / 2;
            for x in 0..w {
                let px = &src[self.at(y + 1, x + 1)..][..s];
                dst[(2 * x + 1) * s..(2 * x + 2) * s].copy_from_slice(px);
                dst[(2 * x + 2) * s..(2 * x + 3) * s].copy_from_slice(px);
            }
        });
        out.fill_border(border);
        Ok(out)
    }
}
