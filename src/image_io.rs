//! Image files ⇄ [`Picture`]: decoding with explicit limits, planar f32 RGB plus an alpha
//! channel kept aside, and atomic writes (a failed save never leaves a partial file).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use image::{DynamicImage, ImageFormat, ImageReader};

use crate::error::{Error, Result};

/// Decoding limits. The defaults admit 32768 px per side and 4 GiB of decoder allocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_width: u32,
    pub max_height: u32,
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_width: 32768,
            max_height: 32768,
            max_alloc: 4 << 30,
        }
    }
}

/// An RGB image in planar f32 (`[3, H, W]`, nominally 0..1) with an optional alpha plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub width: usize,
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
        Ok(Self {
            width,
            height,
            rgb,
            alpha: None,
            high_depth: false,
        })
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
        Self {
            width: w,
            height: h,
            rgb,
            alpha,
            high_depth,
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
            out.rgb
                .extend(resize_plane(&self.rgb[c * n..(c + 1) * n], self.width, self.height, width, height));
        }
        out.alpha = self
            .alpha
            .as_ref()
            .map(|a| resize_plane(a, self.width, self.height, width, height));
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
            let buf: Vec<u16> = (0..n * channels)
                .map(|k| quantize(sample(k / channels, k % channels), 65535.0) as u16)
                .collect();
            if channels == 4 {
                DynamicImage::ImageRgba16(image::ImageBuffer::from_raw(w, h, buf).expect("sized"))
            } else {
                DynamicImage::ImageRgb16(image::ImageBuffer::from_raw(w, h, buf).expect("sized"))
            }
        } else {
            let buf: Vec<u8> = (0..n * channels)
                .map(|k| quantize(sample(k / channels, k % channels), 255.0) as u8)
                .collect();
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
    let mut alpha = (channels % 2 == 0).then(|| vec![0f32; n]);
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

/// Width and height of an image file, from its header only.
pub fn image_size(path: &Path, what: &'static str) -> Result<(usize, usize)> {
    let (w, h) = open_reader(path, what)?
        .into_dimensions()
        .map_err(|e| image_error(path, what, e.to_string()))?;
    Ok((w as usize, h as usize))
}

fn image_error(path: &Path, what: &'static str, reason: String) -> Error {
    Error::Image {
        what,
        path: path.to_path_buf(),
        reason,
    }
}

/// Opens an image file for reading, its format guessed from the content.
fn open_reader(path: &Path, what: &'static str) -> Result<ImageReader<std::io::BufReader<std::fs::File>>> {
    ImageReader::open(path)
        .map_err(|source| Error::Io {
            what,
            path: path.to_path_buf(),
            source,
        })?
        .with_guessed_format()
        .map_err(|e| image_error(path, what, e.to_string()))
}

/// `clamp(v, 0, 1) · scale`, rounded half up; NaN maps to 0.
fn quantize(v: f32, scale: f32) -> f32 {
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    (v * scale + 0.5).floor()
}

fn resize_plane(src: &[f32], w: usize, h: usize, nw: usize, nh: usize) -> Vec<f32> {
    let buf: image::ImageBuffer<image::Luma<f32>, Vec<f32>> =
        image::ImageBuffer::from_raw(w as u32, h as u32, src.to_vec()).expect("plane size");
    image::imageops::resize(&buf, nw as u32, nh as u32, image::imageops::FilterType::CatmullRom)
        .into_raw()
}

/// Decodes an image file; `what` names the input in messages ("content image", …).
pub fn decode_file(path: &Path, what: &'static str, limits: DecodeLimits) -> Result<DynamicImage> {
    let image_err = |reason: String| image_error(path, what, reason);
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        return Err(image_err("is a directory, not an image file".into()));
    }
    if meta.len() == 0 {
        return Err(image_err("the file is empty (0 bytes)".into()));
    }
    let mut reader = open_reader(path, what)?;
    if reader.format().is_none() {
        return Err(image_err("not a recognised image format".into()));
    }
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_width);
    l.max_image_height = Some(limits.max_height);
    l.max_alloc = Some(limits.max_alloc);
    reader.limits(l);
    let img = reader.decode().map_err(|e| image_err(e.to_string()))?;
    if img.width() == 0 || img.height() == 0 {
        return Err(image_err("the image has no pixels".into()));
    }
    Ok(img)
}

/// Loads an image file as a [`Picture`] with the default limits.
pub fn load_picture(path: &Path, what: &'static str) -> Result<Picture> {
    Ok(Picture::from_dynamic(&decode_file(path, what, DecodeLimits::default())?))
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

/// Writes `picture` to `path` in the format its extension names. The file is written to a
/// temporary file in the same directory and renamed into place only when complete.
pub fn save_picture(picture: &Picture, path: &Path) -> Result<()> {
    let format = output_format(path)?;
    let mut img = picture.to_dynamic(!matches!(format, ImageFormat::Jpeg | ImageFormat::Bmp));
    if matches!(format, ImageFormat::Jpeg | ImageFormat::Bmp | ImageFormat::WebP) && picture.high_depth {
        img = match img.color().has_alpha() {
            true => DynamicImage::ImageRgba8(img.to_rgba8()),
            false => DynamicImage::ImageRgb8(img.to_rgb8()),
        };
    }
    write_atomically(path, "output file", |w| {
        img.write_to(w, format).map_err(|e| e.to_string())
    })
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

/// Runs `write` into a temporary sibling of `path`, then renames it over `path`.
pub fn write_atomically(
    path: &Path,
    what: &'static str,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::result::Result<(), String>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io_err = |source: std::io::Error| Error::Io {
        what,
        path: path.to_path_buf(),
        source,
    };
    if !dir.is_dir() {
        return Err(Error::Io {
            what,
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("directory '{}' does not exist", dir.display()),
            ),
        });
    }
    let tmp = tempfile::Builder::new()
        .prefix(".unistyle-")
        .suffix(".part")
        .tempfile_in(&dir)
        .map_err(io_err)?;
    let mut w = BufWriter::new(tmp.reopen().map_err(io_err)?);
    write(&mut w).map_err(|reason| Error::Image {
        what,
        path: path.to_path_buf(),
        reason,
    })?;
    w.flush().map_err(io_err)?;
    drop(w);
    // Temporary files are created private (0600); give the result the permissions of the
    // file it replaces, or the usual 0644 for a new file.
    let perms = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => default_permissions(tmp.as_file()).map_err(io_err)?,
    };
    std::fs::set_permissions(tmp.path(), perms).map_err(io_err)?;
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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
