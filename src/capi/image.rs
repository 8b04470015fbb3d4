//! Image descriptors as hosts hold pixels (width, height, row stride, channels, sample type,
//! pointer): validation, and conversion to and from [`Picture`] / [`Mask`].

use std::ffi::c_void;

use super::status::{fail, Fail, UNISTYLE_ERR_INVALID, UNISTYLE_ERR_LIMITS, UNISTYLE_ERR_NULL};
use super::versioned::{read_versioned, Versioned};
use crate::image_io::Picture;
use crate::pipeline::Mask;

/// 8-bit unsigned samples, 0..255.
pub const UNISTYLE_U8: u32 = 1;
/// 16-bit unsigned samples, 0..65535 (native endianness).
pub const UNISTYLE_U16: u32 = 2;
/// 32-bit float samples, nominally 0..1.
pub const UNISTYLE_F32: u32 = 3;

/// Largest side accepted through the ABI (the library's [`crate::image_io::MAX_SIDE`]).
pub const MAX_SIDE: u32 = crate::image_io::MAX_SIDE as u32;
/// Largest `mask_count` accepted through the ABI ([`crate::pipeline::MAX_MASKS`]).
pub const MAX_MASKS: u32 = crate::pipeline::MAX_MASKS as u32;
/// Largest number of pixels accepted through the ABI ([`crate::image_io::MAX_PIXELS`]).
pub const MAX_PIXELS: u64 = crate::image_io::MAX_PIXELS;

/// An image in the host's memory. `channels`: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
/// (interleaved). `stride` is the distance between rows in bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct UnistyleImage {
    /// `sizeof(unistyle_image)`, for versioning.
    pub struct_size: u32,
    pub width: u32,
    pub height: u32,
    pub channels: u32,
    pub sample_type: u32,
    pub stride: usize,
    pub data: *mut c_void,
}

/// Size of the first version of [`UnistyleImage`] (frozen: the end of `data`).
pub const IMAGE_V1_SIZE: u32 = <UnistyleImage as Versioned>::V1_SIZE;

impl Default for UnistyleImage {
    /// An empty descriptor (refused by the library until filled in).
    fn default() -> Self {
        Self { struct_size: 0, width: 0, height: 0, channels: 0, sample_type: 0, stride: 0, data: std::ptr::null_mut() }
    }
}

/// A descriptor that passed validation: sizes are consistent and the buffer span is known.
/// Holds the library's copy of the host's descriptor (fields it did not pass at defaults).
pub(crate) struct Checked<'a> {
    d: UnistyleImage,
    bytes_per_sample: usize,
    buffer: std::marker::PhantomData<&'a mut [u8]>,
}

/// Validates `d` (named `what` in messages).
///
/// # Safety
/// `d` must be NULL or point to a readable descriptor; its `data` must point to at least
/// `stride × height` bytes — the part no check can verify.
pub(crate) unsafe fn check<'a>(d: *const UnistyleImage, what: &str) -> Result<Checked<'a>, Fail> {
    if d.is_null() {
        return fail(UNISTYLE_ERR_NULL, format!("{what} descriptor is NULL"));
    }
    // SAFETY: caller guarantees `d` points to a descriptor of `struct_size` bytes.
    let d = unsafe { read_versioned(d, what)? };
    if d.data.is_null() {
        return fail(UNISTYLE_ERR_NULL, format!("{what}: data pointer is NULL"));
    }
    if d.width == 0 || d.height == 0 {
        return fail(UNISTYLE_ERR_INVALID, format!("{what}: size {}×{} is empty", d.width, d.height));
    }
    if d.width > MAX_SIDE || d.height > MAX_SIDE {
        return fail(
            UNISTYLE_ERR_LIMITS,
            format!("{what}: size {}×{} exceeds the limit of {MAX_SIDE} per side", d.width, d.height),
        );
    }
    if d.width as u64 * d.height as u64 > MAX_PIXELS {
        return fail(
            UNISTYLE_ERR_LIMITS,
            format!(
                "{what}: size {}×{} = {} pixels exceeds the limit of {MAX_PIXELS} pixels",
                d.width,
                d.height,
                d.width as u64 * d.height as u64
            ),
        );
    }
    if !(1..=4).contains(&d.channels) {
        return fail(UNISTYLE_ERR_INVALID, format!("{what}: channels must be 1..4, got {}", d.channels));
    }
    let bytes_per_sample = match d.sample_type {
        UNISTYLE_U8 => 1,
        UNISTYLE_U16 => 2,
        UNISTYLE_F32 => 4,
        t => return fail(UNISTYLE_ERR_INVALID, format!("{what}: unknown sample_type {t}")),
    };
    let row = (d.width as usize)
        .checked_mul(d.channels as usize * bytes_per_sample)
        .ok_or_else(|| Fail(UNISTYLE_ERR_INVALID, format!("{what}: row size overflows")))?;
    if d.stride < row {
        return fail(UNISTYLE_ERR_INVALID, format!("{what}: stride {} is smaller than a row ({row} bytes)", d.stride));
    }
    let total = d.stride.checked_mul(d.height as usize - 1).and_then(|v| v.checked_add(row));
    if total.is_none_or(|t| t > isize::MAX as usize) {
        return fail(UNISTYLE_ERR_INVALID, format!("{what}: buffer size overflows"));
    }
    if !(d.data as usize).is_multiple_of(bytes_per_sample) || !d.stride.is_multiple_of(bytes_per_sample) {
        return fail(
            UNISTYLE_ERR_INVALID,
            format!("{what}: data and stride must be aligned to the {bytes_per_sample}-byte sample size"),
        );
    }
    Ok(Checked { d, bytes_per_sample, buffer: std::marker::PhantomData })
}

impl Checked<'_> {
    pub fn width(&self) -> usize {
        self.d.width as usize
    }
    pub fn height(&self) -> usize {
        self.d.height as usize
    }

    /// Reads sample `c` of pixel (x, y) as f32 in 0..1 (floats as they are).
    ///
    /// # Safety
    /// The buffer must hold `stride × height` readable bytes (see [`check`]).
    unsafe fn read(&self, x: usize, y: usize, c: usize) -> f32 {
        let off = y * self.d.stride + (x * self.d.channels as usize + c) * self.bytes_per_sample;
        // SAFETY: offset is within the validated span; alignment checked in `check`.
        unsafe {
            let p = (self.d.data as *const u8).add(off);
            match self.d.sample_type {
                UNISTYLE_U8 => *p as f32 / 255.0,
                UNISTYLE_U16 => *(p as *const u16) as f32 / 65535.0,
                _ => *(p as *const f32),
            }
        }
    }

    /// # Safety
    /// The buffer must hold `stride × height` writable bytes.
    unsafe fn write(&self, x: usize, y: usize, c: usize, v: f32) {
        let off = y * self.d.stride + (x * self.d.channels as usize + c) * self.bytes_per_sample;
        let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
        // SAFETY: as in `read`.
        unsafe {
            let p = (self.d.data as *mut u8).add(off);
            match self.d.sample_type {
                UNISTYLE_U8 => *p = (v * 255.0 + 0.5).floor() as u8,
                UNISTYLE_U16 => *(p as *mut u16) = (v * 65535.0 + 0.5).floor() as u16,
                _ => *(p as *mut f32) = v,
            }
        }
    }

    /// Copies the pixels out as a [`Picture`] (gray is replicated to RGB; alpha kept aside).
    /// Float samples that are NaN or infinite are rejected.
    ///
    /// # Safety
    /// The buffer must hold `stride × height` readable bytes.
    pub unsafe fn to_picture(&self, what: &str) -> Result<Picture, Fail> {
        let (w, h, ch) = (self.width(), self.height(), self.d.channels as usize);
        let n = w * h;
        let mut rgb = vec![0f32; 3 * n];
        let has_alpha = ch == 2 || ch == 4;
        let mut alpha = has_alpha.then(|| vec![0f32; n]);
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                for c in 0..ch {
                    // SAFETY: forwarded from the caller.
                    let v = unsafe { self.read(x, y, c) };
                    if !v.is_finite() {
                        return fail(UNISTYLE_ERR_INVALID, format!("{what}: sample at ({x}, {y}) channel {c} is {v}"));
                    }
                    match (ch, c) {
                        (1 | 2, 0) => (0..3).for_each(|k| rgb[k * n + i] = v),
                        (2, 1) | (4, 3) => alpha.as_mut().expect("has alpha")[i] = v,
                        (_, c) => rgb[c * n + i] = v,
                    }
                }
            }
        }
        Ok(Picture { width: w, height: h, rgb, alpha, high_depth: self.d.sample_type != UNISTYLE_U8 })
    }

    /// Copies a mask out: gray value, or the luminance of RGB; alpha is ignored.
    ///
    /// # Safety
    /// The buffer must hold `stride × height` readable bytes.
    pub unsafe fn to_mask(&self, what: &str) -> Result<Mask, Fail> {
        // SAFETY: forwarded from the caller.
        let p = unsafe { self.to_picture(what)? };
        let n = p.width * p.height;
        let data = (0..n).map(|i| 0.2126 * p.rgb[i] + 0.7152 * p.rgb[n + i] + 0.0722 * p.rgb[2 * n + i]).collect();
        Ok(Mask::new(p.width, p.height, data)?)
    }

    /// Writes `p` (same size) into the buffer: RGB → gray by luminance where the buffer is
    /// gray; alpha from `p` or opaque.
    ///
    /// # Safety
    /// The buffer must hold `stride × height` writable bytes.
    pub unsafe fn write_picture(&self, p: &Picture) {
        let (w, h, ch) = (self.width(), self.height(), self.d.channels as usize);
        let n = w * h;
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                // Clamp first, so a gray result equals the gray of the clamped colour result.
                let c01 = |v: f32| if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
                let (r, g, b) = (c01(p.rgb[i]), c01(p.rgb[n + i]), c01(p.rgb[2 * n + i]));
                let a = p.alpha.as_ref().map_or(1.0, |a| a[i]);
                let gray = 0.2126 * r + 0.7152 * g + 0.0722 * b;
                let samples: &[f32] = match ch {
                    1 => &[gray],
                    2 => &[gray, a],
                    3 => &[r, g, b],
                    _ => &[r, g, b, a],
                };
                for (c, &v) in samples.iter().enumerate() {
                    // SAFETY: forwarded from the caller.
                    unsafe { self.write(x, y, c, v) };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(width: u32, height: u32, channels: u32, sample_type: u32, stride: usize) -> UnistyleImage {
        // Never read: `check` only looks at the pointer's value.
        let data = std::ptr::NonNull::<u64>::dangling().as_ptr().cast();
        UnistyleImage { struct_size: IMAGE_V1_SIZE, width, height, channels, sample_type, stride, data }
    }

    fn status(d: &UnistyleImage) -> Result<(), i32> {
        // SAFETY: a valid descriptor; `check` does not read the pixels.
        unsafe { check(d, "image") }.map(|_| ()).map_err(|f| f.0)
    }

    #[test]
    fn span_arithmetic_overflow_is_rejected_not_wrapped() {
        let big = MAX_SIDE;
        // The largest descriptor: 32768 × 4096 RGBA floats (the pixel limit), 2 GiB, fits
        // (nothing is read); 32768² is over the pixel limit.
        let tall = (MAX_PIXELS / big as u64) as u32;
        assert_eq!(status(&desc(big, tall, 4, UNISTYLE_F32, big as usize * 16)), Ok(()));
        assert_eq!(status(&desc(big, big, 4, UNISTYLE_F32, big as usize * 16)), Err(UNISTYLE_ERR_LIMITS));
        // stride × (height − 1) overflows usize, or the span passes isize::MAX.
        for stride in [usize::MAX, usize::MAX / 2, (isize::MAX as usize / (tall as usize - 1)) + 16] {
            assert_eq!(
                status(&desc(big, tall, 4, UNISTYLE_F32, stride & !3)),
                Err(UNISTYLE_ERR_INVALID),
                "stride {stride}"
            );
        }
        // Spans up to isize::MAX bytes are allowed (2^63 − 16 here); one past it is refused.
        let row = 16usize;
        let stride = (isize::MAX as usize - row) / 4 / 4 * 4;
        assert_eq!(status(&desc(4, 5, 4, UNISTYLE_U8, stride)), Ok(()));
        assert_eq!(status(&desc(4, 5, 4, UNISTYLE_U8, stride + 4)), Err(UNISTYLE_ERR_INVALID));
        // Stride shorter than a row, sizes beyond the limit, bad channels and types.
        assert_eq!(status(&desc(10, 2, 3, UNISTYLE_U8, 29)), Err(UNISTYLE_ERR_INVALID));
        assert_eq!(status(&desc(big + 1, 1, 1, UNISTYLE_U8, 1 << 20)), Err(UNISTYLE_ERR_LIMITS));
        assert_eq!(status(&desc(1, 1, 5, UNISTYLE_U8, 8)), Err(UNISTYLE_ERR_INVALID));
        assert_eq!(status(&desc(1, 1, 1, 7, 8)), Err(UNISTYLE_ERR_INVALID));
        assert_eq!(status(&desc(0, 1, 1, UNISTYLE_U8, 8)), Err(UNISTYLE_ERR_INVALID));
    }
}
