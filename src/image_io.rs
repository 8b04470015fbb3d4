//! Image files ⇄ [`Picture`]: decoding with explicit limits, planar f32 RGB plus an alpha
//! channel kept aside, and atomic writes (a failed save never leaves a partial file).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};

use crate::error::{Error, Result};

/// Largest width or height accepted anywhere: image files, C ABI buffers, texture sizes.
pub const MAX_SIDE: usize = 32768;

/// Largest number of pixels accepted anywhere: 2^27 ≈ 134 megapixels (16384×8192, or
/// 32768×4096). A picture is held as planar f32 RGB (12 bytes per pixel, plus 4 for an alpha
/// plane), so an image at the cap takes ~1.6 GiB as input and as much again as the result;
/// the network itself runs tile by tile. A 50-megapixel photo is well within it.
pub const MAX_PIXELS: u64 = 1 << 27;

/// Largest allocation an image decoder may make: 4 GiB, covering the decoded buffer of an
/// image at [`MAX_PIXELS`] even in 32-bit float RGBA (2 GiB) plus the decoder's own buffers.
/// Files larger than this are not read at all.
pub const MAX_DECODE_ALLOC: u64 = 4 << 30;

/// Largest amount of memory the PNG decoder may use for everything but the pixels: ICC
/// profile (decompressed), text chunks, row buffers. A real ICC profile is at most a few
/// hundred KiB; a compressed profile that would inflate beyond this is refused.
pub const MAX_PNG_METADATA: u64 = 16 << 20;

/// Decoding limits. The defaults are [`MAX_SIDE`] per side, [`MAX_PIXELS`] in all and
/// [`MAX_DECODE_ALLOC`] bytes of decoder allocations. Dimensions are checked from the file's
/// header, before anything of the image's size is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Widest image accepted, in pixels.
    pub max_width: u32,
    /// Tallest image accepted, in pixels.
    pub max_height: u32,
    /// Most pixels accepted (width × height).
    pub max_pixels: u64,
    /// Most bytes the decoder may allocate.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_width: MAX_SIDE as u32,
            max_height: MAX_SIDE as u32,
            max_pixels: MAX_PIXELS,
            max_alloc: MAX_DECODE_ALLOC,
        }
    }
}

impl DecodeLimits {
    /// Why a `width × height` image is refused, if it is.
    pub fn refuse(&self, width: u64, height: u64) -> Option<String> {
        if width > self.max_width as u64 || height > self.max_height as u64 {
            let side = if self.max_width == self.max_height {
                format!("{} pixels per side", self.max_width)
            } else {
                format!("{}×{} pixels", self.max_width, self.max_height)
            };
            return Some(format!("{width}×{height} pixels exceeds the limit of {side}"));
        }
        let pixels = width.saturating_mul(height);
        if pixels > self.max_pixels {
            return Some(format!(
                "{width}×{height} = {pixels} pixels exceeds the limit of {} pixels ({:.0} megapixels)",
                self.max_pixels,
                self.max_pixels as f64 / 1e6
            ));
        }
        None
    }
}

/// Checks a `width × height` image (named `what`) against the default limits.
pub fn check_size(what: &str, width: usize, height: usize) -> Result<()> {
    match DecodeLimits::default().refuse(width as u64, height as u64) {
        Some(reason) => Err(Error::Limits { what: what.to_string(), reason }),
        None => Ok(()),
    }
}

/// An RGB image in planar f32 (`[3, H, W]`, nominally 0..1) with an optional alpha plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Planar RGB, `3 × height × width` samples.
    pub rgb: Vec<f32>,
    /// Alpha, `height × width`, carried through stylization unchanged.
    pub alpha: Option<Vec<f32>>,
    /// Whether the source had more than 8 bits per sample (saved as 16-bit where possible).
    pub high_depth: bool,
}

impl Picture {
    /// A picture from planar RGB.
    pub fn from_planar(width: usize, height: usize, rgb: Vec<f32>) -> Result<Self> {
        if width == 0 || height == 0 || rgb.len() != 3 * width * height {
            return Err(Error::param(
                "picture",
                format!("{} samples do not make a 3×{height}×{width} image", rgb.len()),
            ));
        }
        Ok(Self { width, height, rgb, alpha: None, high_depth: false })
    }

    /// Converts a decoded image; grayscale becomes RGB, alpha is kept aside. Works from the
    /// decoder's own buffer (no intermediate full-size copy).
    pub fn from_dynamic(img: &DynamicImage) -> Self {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let color = img.color();
        let high_depth = color.bytes_per_pixel() / color.channel_count() > 1;
        let (rgb, alpha) = match img {
            DynamicImage::ImageLuma8(b) => planar(b.as_raw(), 1, w * h, |v| v as f32 / 255.0),
            DynamicImage::ImageLumaA8(b) => planar(b.as_raw(), 2, w * h, |v| v as f32 / 255.0),
            DynamicImage::ImageRgb8(b) => planar(b.as_raw(), 3, w * h, |v| v as f32 / 255.0),
            DynamicImage::ImageRgba8(b) => planar(b.as_raw(), 4, w * h, |v| v as f32 / 255.0),
            DynamicImage::ImageLuma16(b) => planar(b.as_raw(), 1, w * h, |v| v as f32 / 65535.0),
            DynamicImage::ImageLumaA16(b) => planar(b.as_raw(), 2, w * h, |v| v as f32 / 65535.0),
            DynamicImage::ImageRgb16(b) => planar(b.as_raw(), 3, w * h, |v| v as f32 / 65535.0),
            DynamicImage::ImageRgba16(b) => planar(b.as_raw(), 4, w * h, |v| v as f32 / 65535.0),
            DynamicImage::ImageRgb32F(b) => planar(b.as_raw(), 3, w * h, |v| v),
            DynamicImage::ImageRgba32F(b) => planar(b.as_raw(), 4, w * h, |v| v),
            other => planar(other.to_rgba32f().as_raw(), 4, w * h, |v| v),
        };
        Self { width: w, height: h, rgb, alpha, high_depth }
    }

    /// The first sample (pixel index, value) that is NaN or infinite, in RGB or alpha.
    pub fn first_non_finite(&self) -> Option<(usize, f32)> {
        let n = self.width * self.height;
        let rgb = self.rgb.iter().enumerate().map(|(i, v)| (i % n.max(1), *v));
        let alpha = self.alpha.iter().flatten().enumerate().map(|(i, v)| (i, *v));
        rgb.chain(alpha).find(|(_, v)| !v.is_finite())
    }

    /// Fails when the picture is inconsistent (empty, planes of the wrong length, over the
    /// size limits) or a sample is NaN or infinite; `what` names the picture in the message.
    pub fn check(&self, what: &str) -> Result<()> {
        let n = self.width * self.height;
        if n == 0 || self.rgb.len() != 3 * n || self.alpha.as_ref().is_some_and(|a| a.len() != n) {
            return Err(Error::param(
                what,
                format!(
                    "{} RGB and {} alpha samples do not make a {}×{} picture",
                    self.rgb.len(),
                    self.alpha.as_ref().map_or(0, |a| a.len()),
                    self.width,
                    self.height
                ),
            ));
        }
        check_size(what, self.width, self.height)?;
        match self.first_non_finite() {
            Some((i, v)) => Err(Error::param(
                what,
                format!(
                    "sample at ({}, {}) is {v}; pixels must be finite",
                    i % self.width.max(1),
                    i / self.width.max(1)
                ),
            )),
            None => Ok(()),
        }
    }

    /// `[1, 3, H, W]` on `device`.
    pub fn to_tensor(&self, device: &Device) -> Result<Tensor> {
        Ok(Tensor::from_slice(&self.rgb, (1, 3, self.height, self.width), device)?)
    }

    /// Builds a picture from a `[1, 3, H, W]` or `[3, H, W]` tensor.
    pub fn from_tensor(t: &Tensor) -> Result<Self> {
        let t = if t.rank() == 4 { t.squeeze(0)? } else { t.clone() };
        let (c, h, w) = t.dims3()?;
        if c != 3 {
            return Err(Error::Tensor(format!("expected 3 channels, got {c}")));
        }
        let rgb: Vec<f32> = t.to_dtype(candle_core::DType::F32)?.flatten_all()?.to_vec1()?;
        Self::from_planar(w, h, rgb)
    }

    /// Resizes so that the longer side is at most `max_side` (no-op when it already fits).
    pub fn fit_within(&self, max_side: usize) -> Self {
        let (w, h) = fitted_size(self.width, self.height, max_side);
        if (w, h) == (self.width, self.height) {
            return self.clone();
        }
        self.resized(w, h)
    }

    /// As [`Picture::resized`] (Catmull-Rom, computed here in bands of rows on every core),
    /// with the memory of the copy reserved fallibly (an [`Error::Limits`] when short) and
    /// `tick` called after every band of rows (its error stops it).
    pub fn resized_with(&self, width: usize, height: usize, tick: &mut dyn FnMut(f32) -> Result<()>) -> Result<Self> {
        let n = self.width * self.height;
        let planes = 3 + usize::from(self.alpha.is_some());
        let (sw, sh) = (self.width, self.height);
        let m = width * height;
        let mut rgb = crate::error::try_zeroed::<f32>(3 * m, "resized image")?;
        for c in 0..3 {
            let done = c as f32 / planes as f32;
            let mut t = |f: f32| tick(done + f / planes as f32);
            resize_plane_into(
                &self.rgb[c * n..(c + 1) * n],
                sw,
                sh,
                width,
                height,
                &mut rgb[c * m..(c + 1) * m],
                &mut t,
            )?;
        }
        let alpha = match &self.alpha {
            Some(a) => {
                let mut out = crate::error::try_zeroed::<f32>(m, "resized image")?;
                resize_plane_into(a, sw, sh, width, height, &mut out, &mut |f| tick((3.0 + f) / planes as f32))?;
                Some(out)
            }
            None => None,
        };
        Ok(Picture { width, height, rgb, alpha, high_depth: self.high_depth })
    }

    /// Resamples to `width × height` (Catmull-Rom), alpha included.
    pub fn resized(&self, width: usize, height: usize) -> Self {
        let mut out = Picture {
            width,
            height,
            rgb: Vec::with_capacity(3 * width * height),
            alpha: None,
            high_depth: self.high_depth,
        };
        let n = self.width * self.height;
        for c in 0..3 {
            out.rgb.extend(resize_plane(&self.rgb[c * n..(c + 1) * n], self.width, self.height, width, height));
        }
        out.alpha = self.alpha.as_ref().map(|a| resize_plane(a, self.width, self.height, width, height));
        out
    }

    /// The image as 8- or 16-bit (by `high_depth`) RGB/RGBA, rounded and clamped to 0..1.
    pub fn to_dynamic(&self, allow_alpha: bool) -> DynamicImage {
        let (w, h, n) = (self.width as u32, self.height as u32, self.width * self.height);
        let alpha = self.alpha.as_ref().filter(|_| allow_alpha);
        let channels = if alpha.is_some() { 4 } else { 3 };
        let sample = |i: usize, c: usize| -> f32 {
            if c < 3 {
                self.rgb[c * n + i]
            } else {
                alpha.map_or(1.0, |a| a[i])
            }
        };
        if self.high_depth {
            let buf: Vec<u16> =
                (0..n * channels).map(|k| quantize(sample(k / channels, k % channels), 65535.0) as u16).collect();
            if channels == 4 {
                DynamicImage::ImageRgba16(image::ImageBuffer::from_raw(w, h, buf).expect("sized"))
            } else {
                DynamicImage::ImageRgb16(image::ImageBuffer::from_raw(w, h, buf).expect("sized"))
            }
        } else {
            let buf: Vec<u8> =
                (0..n * channels).map(|k| quantize(sample(k / channels, k % channels), 255.0) as u8).collect();
            if channels == 4 {
                DynamicImage::ImageRgba8(image::ImageBuffer::from_raw(w, h, buf).expect("sized"))
            } else {
                DynamicImage::ImageRgb8(image::ImageBuffer::from_raw(w, h, buf).expect("sized"))
            }
        }
    }
}

/// Interleaved samples with `channels` per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) →
/// planar RGB and an optional alpha plane.
fn planar<T: Copy>(raw: &[T], channels: usize, n: usize, to_f32: impl Fn(T) -> f32) -> (Vec<f32>, Option<Vec<f32>>) {
    let mut rgb = vec![0f32; 3 * n];
    let mut alpha = channels.is_multiple_of(2).then(|| vec![0f32; n]);
    for (i, px) in raw.chunks_exact(channels).take(n).enumerate() {
        if channels >= 3 {
            for c in 0..3 {
                rgb[c * n + i] = to_f32(px[c]);
            }
        } else {
            let v = to_f32(px[0]);
            (0..3).for_each(|c| rgb[c * n + i] = v);
        }
        if let Some(a) = alpha.as_mut() {
            a[i] = to_f32(px[channels - 1]);
        }
    }
    (rgb, alpha)
}

/// The size [`Picture::fit_within`] gives a `width × height` image.
pub fn fitted_size(width: usize, height: usize, max_side: usize) -> (usize, usize) {
    let longest = width.max(height);
    if max_side == 0 || longest <= max_side {
        return (width, height);
    }
    let scale = max_side as f64 / longest as f64;
    let w = ((width as f64 * scale).round() as usize).max(1);
    let h = ((height as f64 * scale).round() as usize).max(1);
    (w, h)
}

/// Width and height of an image file as displayed (EXIF orientation applied), from its
/// header only.
pub fn image_size(path: &Path, what: &'static str) -> Result<(usize, usize)> {
    let limits = DecodeLimits::default();
    let mut decoder = open_decoder(path, what, limits)?;
    let (w, h) = decoder.dimensions();
    let rotated = matches!(
        decoder.orientation().unwrap_or(Orientation::NoTransforms),
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    );
    Ok(if rotated { (h as usize, w as usize) } else { (w as usize, h as usize) })
}

fn image_error(path: &Path, what: &'static str, reason: String) -> Error {
    Error::Image { what, path: path.to_path_buf(), reason }
}

fn limits_error(path: &Path, what: &'static str, reason: String) -> Error {
    Error::Limits { what: format!("{what} '{}'", path.display()), reason }
}

/// A decoder's error in words that say what is wrong with the file.
fn decode_error(path: &Path, what: &'static str, e: ImageError, limits: &DecodeLimits) -> Error {
    match e {
        ImageError::Limits(l) => limits_error(
            path,
            what,
            format!(
                "decoding needs more memory than allowed: at most {} MiB for the pixels and {} MiB for a PNG's metadata (ICC profile, text) ({l})",
                limits.max_alloc >> 20,
                MAX_PNG_METADATA >> 20
            ),
        ),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            image_error(path, what, format!("the file is truncated or corrupt ({io})"))
        }
        ImageError::IoError(io) => Error::Io { what, path: path.to_path_buf(), source: io },
        ImageError::Unsupported(u) => image_error(path, what, format!("unsupported image: {u}")),
        other => image_error(path, what, format!("corrupt or unreadable image: {}", tidy_decoder_message(&other.to_string()))),
    }
}

/// The PNG decoder prints chunk types as Rust debug structures
/// (`ChunkType { type: IHDR, critical: true, … }`): keep just the type (`'IHDR'`).
fn tidy_decoder_message(msg: &str) -> String {
    const OPEN: &str = "ChunkType { type: ";
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else { break };
        let kind = after[..end].split(',').next().unwrap_or("").trim();
        out.push_str(&rest[..start]);
        out.push_str(&format!("'{kind}'"));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Opens an image file for reading (a regular file only: a FIFO or a device is refused at
/// once), its format recognised from the content (never from the extension: a text file
/// named `.png` is not a PNG image). Returns the reader and the file's size.
fn open_reader(path: &Path, what: &'static str) -> Result<(ImageReader<std::io::BufReader<std::fs::File>>, u64)> {
    let io = |source: std::io::Error| Error::Io { what, path: path.to_path_buf(), source };
    let (file, len) = crate::input_file::open_regular(path).map_err(io)?;
    let reader = ImageReader::new(std::io::BufReader::new(file)).with_guessed_format().map_err(io)?;
    Ok((reader, len))
}

/// Opens a decoder on `path` after checking what can be checked without decoding: the file
/// is a non-empty regular file no larger than the allocation limit, in a known format, and
/// its header's dimensions are within `limits`.
fn open_decoder(path: &Path, what: &'static str, limits: DecodeLimits) -> Result<impl ImageDecoder> {
    let image_err = |reason: String| image_error(path, what, reason);
    let (mut reader, len) = open_reader(path, what)?;
    if len == 0 {
        return Err(image_err("the file is empty (0 bytes)".into()));
    }
    if len > limits.max_alloc {
        return Err(limits_error(
            path,
            what,
            format!("the file is {} MiB, more than the decoder limit of {} MiB", len >> 20, limits.max_alloc >> 20),
        ));
    }
    if reader.format().is_none() {
        return Err(image_err("not a recognised image format: the content is not PNG, JPEG, TIFF, BMP or WebP".into()));
    }
    if reader.format() == Some(ImageFormat::Jpeg) {
        let bytes = crate::input_file::read_bounded(path, limits.max_alloc).map_err(|source| Error::Io {
            what,
            path: path.to_path_buf(),
            source,
        })?;
        if let Some(why) = jpeg_incomplete(&bytes) {
            return Err(image_err(format!("the file is truncated or corrupt: {why}")));
        }
    }
    // The dimensions are checked here rather than by the decoder, so that the message can say
    // which limit the header exceeds; the decoder only enforces the allocation limit.
    let mut l = image::Limits::default();
    l.max_image_width = None;
    l.max_image_height = None;
    l.max_alloc = Some(limits.max_alloc);
    if reader.format() == Some(ImageFormat::Png) {
        // The PNG decoder keeps this first limit for its own buffers (metadata included);
        // the pixels are bounded separately below.
        l.max_alloc = Some(limits.max_alloc.min(MAX_PNG_METADATA));
    }
    reader.limits(l);
    let decoder = reader.into_decoder().map_err(|e| decode_error(path, what, e, &limits))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(image_err(format!("the image has no pixels ({w}×{h})")));
    }
    if let Some(reason) = limits.refuse(w as u64, h as u64) {
        return Err(limits_error(path, what, reason));
    }
    Ok(decoder)
}

/// `clamp(v, 0, 1) · scale`, rounded half up; NaN maps to 0.
fn quantize(v: f32, scale: f32) -> f32 {
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    (v * scale + 0.5).floor()
}

/// Taps and weights of a Catmull-Rom resampling of `n` samples to `m`, per output sample
/// (support widened by the ratio when shrinking; weights normalised; edges clamped).
fn catmull_rom_taps(n: usize, m: usize) -> Vec<(usize, Vec<f32>)> {
    let kernel = |x: f32| {
        let x = x.abs();
        if x < 1.0 {
            1.5 * x * x * x - 2.5 * x * x + 1.0
        } else if x < 2.0 {
            -0.5 * x * x * x + 2.5 * x * x - 4.0 * x + 2.0
        } else {
            0.0
        }
    };
    let ratio = n as f32 / m as f32;
    let scale = ratio.max(1.0);
    let support = 2.0 * scale;
    (0..m)
        .map(|o| {
            let centre = (o as f32 + 0.5) * ratio;
            let left = ((centre - support).floor().max(0.0) as usize).min(n - 1);
            let right = ((centre + support).ceil() as usize).clamp(left + 1, n);
            let mut w: Vec<f32> = (left..right).map(|i| kernel((i as f32 - (centre - 0.5)) / scale)).collect();
            let sum: f32 = w.iter().sum();
            if sum != 0.0 {
                w.iter_mut().for_each(|v| *v /= sum);
            }
            (left, w)
        })
        .collect()
}

/// Resamples a `w × h` plane into `out` (`nw × nh`), rows first then columns, in bands of
/// output rows, clamped to 0..1; `tick(fraction)` after every band.
fn resize_plane_into(
    src: &[f32],
    w: usize,
    h: usize,
    nw: usize,
    nh: usize,
    out: &mut [f32],
    tick: &mut dyn FnMut(f32) -> Result<()>,
) -> Result<()> {
    use rayon::prelude::*;
    const BAND: usize = 64;
    let (xs, ys) = (catmull_rom_taps(w, nw), catmull_rom_taps(h, nh));
    let mut rows = crate::error::try_zeroed::<f32>(h * nw, "resized image")?;
    for (b, band) in rows.chunks_mut(BAND * nw).enumerate() {
        band.par_chunks_mut(nw).enumerate().for_each(|(r, row)| {
            let s = &src[(b * BAND + r) * w..][..w];
            for (o, (left, wt)) in row.iter_mut().zip(&xs) {
                *o = wt.iter().zip(&s[*left..]).map(|(a, v)| a * v).sum();
            }
        });
        tick(0.5 * ((b + 1) * BAND).min(h) as f32 / h as f32)?;
    }
    for (b, band) in out.chunks_mut(BAND * nw).enumerate() {
        band.par_chunks_mut(nw).enumerate().for_each(|(r, row)| {
            let (top, wt) = &ys[b * BAND + r];
            row.fill(0.0);
            for (k, a) in wt.iter().enumerate() {
                let s = &rows[(top + k) * nw..][..nw];
                row.iter_mut().zip(s).for_each(|(o, v)| *o += a * v);
            }
            // As the image crate's resize of f32 samples: results clamped to 0..1.
            row.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
        });
        tick(0.5 + 0.5 * ((b + 1) * BAND).min(nh) as f32 / nh as f32)?;
    }
    Ok(())
}

fn resize_plane(src: &[f32], w: usize, h: usize, nw: usize, nh: usize) -> Vec<f32> {
    let buf: image::ImageBuffer<image::Luma<f32>, Vec<f32>> =
        image::ImageBuffer::from_raw(w as u32, h as u32, src.to_vec()).expect("plane size");
    image::imageops::resize(&buf, nw as u32, nh as u32, image::imageops::FilterType::CatmullRom).into_raw()
}

/// Why a JPEG stream is incomplete, if it is. The JPEG decoder in use fills data missing at
/// the end of a file with grey rather than failing, so a truncated file is caught here: the
/// main image's first scan must be followed, somewhere, by the end-of-image marker (entropy
/// coded data cannot contain it; data appended after it, as in motion photos, is fine).
fn jpeg_incomplete(b: &[u8]) -> Option<&'static str> {
    let mut i = 2; // after the start-of-image marker
    loop {
        while i + 1 < b.len() && b[i] == 0xFF && b[i + 1] == 0xFF {
            i += 1; // fill bytes
        }
        if i + 2 > b.len() {
            return Some("it ends inside the headers, before any image data");
        }
        if b[i] != 0xFF {
            return None; // not a marker: the decoder will say what is wrong
        }
        let marker = b[i + 1];
        if matches!(marker, 0x01 | 0xD0..=0xD8) {
            i += 2; // markers without a length
            continue;
        }
        if marker == 0xD9 {
            return None; // an empty image: the decoder will say so
        }
        if i + 4 > b.len() {
            return Some("it ends inside the headers, before any image data");
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        if marker == 0xDA {
            let data = b.get(i + 2 + len..).unwrap_or(&[]);
            return match data.windows(2).any(|w| w == [0xFF, 0xD9]) {
                true => None,
                false => Some("the image data stops before the end-of-image marker"),
            };
        }
        i += 2 + len;
    }
}

/// Decodes an image file; `what` names the input in messages ("content image", …). The
/// header is checked against `limits` before any pixel buffer is allocated, and the EXIF
/// orientation is applied: the image comes out as it is displayed.
pub fn decode_file(path: &Path, what: &'static str, limits: DecodeLimits) -> Result<DynamicImage> {
    let mut decoder = open_decoder(path, what, limits)?;
    if decoder.total_bytes() > limits.max_alloc {
        return Err(limits_error(
            path,
            what,
            format!(
                "the decoded image needs {} MiB, more than the decoder limit of {} MiB",
                decoder.total_bytes() >> 20,
                limits.max_alloc >> 20
            ),
        ));
    }
    let (w, h) = decoder.dimensions();
    // The decoded buffer, and the planar f32 picture made from it (16 bytes per pixel).
    let need = decoder.total_bytes().saturating_add(16 * w as u64 * h as u64);
    crate::memory::check(&format!("{what} '{}'", path.display()), need)?;
    // A missing or unreadable EXIF block is no reason to refuse the pixels.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut remaining = image::Limits::default();
    remaining.max_image_width = None;
    remaining.max_image_height = None;
    remaining.max_alloc = Some(limits.max_alloc - decoder.total_bytes());
    decoder.set_limits(remaining).map_err(|e| decode_error(path, what, e, &limits))?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(path, what, e, &limits))?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Loads an image file as a [`Picture`] with the default limits. Float images must hold
/// finite samples.
pub fn load_picture(path: &Path, what: &'static str) -> Result<Picture> {
    let img = decode_file(path, what, DecodeLimits::default())?;
    let picture = Picture::from_dynamic(&img);
    if let Some((i, v)) = picture.first_non_finite() {
        let (x, y) = (i % picture.width, i / picture.width);
        return Err(image_error(
            path,
            what,
            format!("sample at ({x}, {y}) is {v}; float images must hold finite values"),
        ));
    }
    Ok(picture)
}

/// The output format for `path`, from its extension.
pub fn output_format(path: &Path) -> Result<ImageFormat> {
    let fmt = ImageFormat::from_path(path).map_err(|_| Error::Image {
        what: "output file",
        path: path.to_path_buf(),
        reason: "unknown extension: use .png, .jpg/.jpeg, .tif/.tiff, .bmp or .webp".into(),
    })?;
    match fmt {
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Tiff | ImageFormat::Bmp | ImageFormat::WebP => Ok(fmt),
        other => Err(Error::Image {
            what: "output file",
            path: path.to_path_buf(),
            reason: format!("writing {other:?} is not supported; use .png, .jpg, .tif, .bmp or .webp"),
        }),
    }
}

/// Checks, before any work is done, that `path` can take an output image: a known
/// extension, a file name (not a directory, no trailing slash), nothing there but a writable
/// regular file we may replace, in an existing directory where a file can be created (tried
/// with a temporary file that is removed at once).
pub fn check_output(path: &Path) -> Result<ImageFormat> {
    let format = output_format(path)?;
    let probe = temp_beside(path, "output file")?;
    probe.close().map_err(|source| Error::Io { what: "output file", path: path.to_path_buf(), source })?;
    Ok(format)
}

/// Why an output may not go to `path`, if it may not. Outputs replace only what the user
/// asked to replace: a regular file that is writable. A symbolic link (even to a regular
/// file: the link would be replaced, not its target), a read-only file, a directory, a
/// device, a FIFO or a socket is refused; so is a path ending in a slash.
pub fn output_refusal(path: &Path) -> Option<String> {
    let text = path.as_os_str().to_string_lossy();
    if text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) {
        return Some("ends with a slash: give a file name".into());
    }
    let meta = std::fs::symlink_metadata(path).ok()?;
    let t = meta.file_type();
    if t.is_symlink() {
        return Some("is a symbolic link; refusing to replace it (give the path of the file it points to)".into());
    }
    if !t.is_file() {
        return Some(format!("is {}; only a regular file can be replaced", crate::input_file::kind_of(&meta)));
    }
    if meta.permissions().readonly() {
        return Some("is a read-only file; refusing to replace it (make it writable first)".into());
    }
    None
}

/// A new temporary file in the directory of `path` (which must not be a directory itself),
/// the errors naming `path`.
fn temp_beside(path: &Path, what: &'static str) -> Result<tempfile::NamedTempFile> {
    let io_err = |kind: std::io::ErrorKind, msg: String| Error::Io {
        what,
        path: path.to_path_buf(),
        source: std::io::Error::new(kind, msg),
    };
    if let Some(why) = output_refusal(path) {
        return Err(io_err(std::io::ErrorKind::InvalidInput, why));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(io_err(std::io::ErrorKind::NotFound, format!("directory '{}' does not exist", dir.display())));
    }
    tempfile::Builder::new().prefix(".unistyle-").suffix(".part").tempfile_in(&dir).map_err(|e| {
        // `tempfile` appends " at path <temporary file>"; the OS reason is what matters.
        let full = e.to_string();
        let why = full.rsplit_once(" at path ").map_or(full.as_str(), |(why, _)| why);
        io_err(e.kind(), format!("cannot create a file in directory '{}': {why}", dir.display()))
    })
}

/// Writes `picture` to `path` in the format its extension names. The file is written to a
/// temporary file in the same directory and renamed into place only when complete.
pub fn save_picture(picture: &Picture, path: &Path) -> Result<()> {
    save_picture_unless(picture, path, &|| false)
}

/// As [`save_picture`], but when `cancelled()` answers true once the file is written (an
/// interrupt arrived meanwhile), the temporary file is removed and the old output is left as
/// it was: [`Error::Cancelled`].
pub fn save_picture_unless(picture: &Picture, path: &Path, cancelled: &dyn Fn() -> bool) -> Result<()> {
    let format = output_format(path)?;
    let mut img = picture.to_dynamic(!matches!(format, ImageFormat::Jpeg | ImageFormat::Bmp));
    if matches!(format, ImageFormat::Jpeg | ImageFormat::Bmp | ImageFormat::WebP) && picture.high_depth {
        img = match img.color().has_alpha() {
            true => DynamicImage::ImageRgba8(img.to_rgba8()),
            false => DynamicImage::ImageRgb8(img.to_rgb8()),
        };
    }
    write_atomically_unless(path, "output file", |w| img.write_to(w, format).map_err(|e| e.to_string()), cancelled)
}

#[cfg(unix)]
fn default_permissions(_f: &std::fs::File) -> std::io::Result<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions(f: &std::fs::File) -> std::io::Result<std::fs::Permissions> {
    Ok(f.metadata()?.permissions())
}

/// Runs `write` into a temporary sibling of `path`, then renames it over `path`. What is at
/// `path` must be replaceable (see [`output_refusal`]).
pub fn write_atomically(
    path: &Path,
    what: &'static str,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::result::Result<(), String>,
) -> Result<()> {
    write_atomically_unless(path, what, write, &|| false)
}

/// As [`write_atomically`]; `cancelled` is asked after writing and before the rename, and a
/// true answer removes the temporary file instead ([`Error::Cancelled`]).
pub fn write_atomically_unless(
    path: &Path,
    what: &'static str,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::result::Result<(), String>,
    cancelled: &dyn Fn() -> bool,
) -> Result<()> {
    let io_err = |source: std::io::Error| Error::Io { what, path: path.to_path_buf(), source };
    let tmp = temp_beside(path, what)?;
    let mut w = BufWriter::new(tmp.reopen().map_err(io_err)?);
    write(&mut w).map_err(|reason| Error::Image { what, path: path.to_path_buf(), reason })?;
    w.flush().map_err(io_err)?;
    drop(w);
    // Temporary files are created private (0600); give the result the permissions of the
    // file it replaces, or the usual 0644 for a new file.
    let perms = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => default_permissions(tmp.as_file()).map_err(io_err)?,
    };
    std::fs::set_permissions(tmp.path(), perms).map_err(io_err)?;
    if cancelled() {
        return Err(Error::Cancelled); // `tmp` is removed as it is dropped
    }
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn decoder_messages_lose_debug_structures() {
        let m = "Format error decoding Png: CRC error: expected 0x1 have 0x2 while decoding ChunkType { type: IHDR, critical: true, private: false, reserved: false, safecopy: false } chunk.";
        assert_eq!(
            tidy_decoder_message(m),
            "Format error decoding Png: CRC error: expected 0x1 have 0x2 while decoding 'IHDR' chunk."
        );
        assert_eq!(tidy_decoder_message("plain"), "plain");
    }

    #[test]
    fn atomic_writes_get_normal_permissions_and_keep_existing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        let write = |p: &Path| write_atomically(p, "test file", |w| w.write_all(b"data").map_err(|e| e.to_string()));
        write(&p).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o644);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        write(&p).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"data");
        // a failing writer leaves neither the target nor a temporary file
        let q = dir.path().join("never.bin");
        assert!(write_atomically(&q, "test file", |_| Err("boom".into())).is_err());
        assert!(!q.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
