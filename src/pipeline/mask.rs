//! Region masks: grayscale images of any size, held as 8-bit samples (a mask the size of the
//! largest image allowed takes 128 MiB, not four times that), resized to each feature map
//! (nearest, the paper's rule) or smoothly (feathered, for soft region borders).

use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image_io::{decode_file, DecodeLimits};
use crate::kernels::transpose;

pub use crate::rules::MAX_MASKS;

/// A grayscale mask, 8 bits per sample (0 = outside, 255 = inside); a sample is inside when
/// its value is above one half (128 and up).
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major 8-bit samples, `width × height` (128 and up is inside).
    pub data: Vec<u8>,
}

/// `v` in 0..1 as an 8-bit sample, such that the sample is inside (≥ 128) exactly when `v`
/// is above one half; NaN counts as outside.
fn quantize(v: f32) -> u8 {
    if v.is_nan() {
        return 0;
    }
    (v.clamp(0.0, 1.0) * 255.0 - 0.5).ceil().clamp(0.0, 255.0) as u8
}

pub(crate) use crate::error::try_zeroed;

impl Mask {
    /// A mask from row-major samples in 0..1 (values above one half are inside); NaN counts
    /// as outside, values are clamped to 0..1 and kept to 8 bits.
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> Result<Self> {
        Self::check_dims(width, height, data.len())?;
        Ok(Self { width, height, data: data.into_iter().map(quantize).collect() })
    }

    /// A mask from row-major 8-bit samples (≥ 128 is inside).
    pub fn from_u8(width: usize, height: usize, data: Vec<u8>) -> Result<Self> {
        Self::check_dims(width, height, data.len())?;
        Ok(Self { width, height, data })
    }

    fn check_dims(width: usize, height: usize, len: usize) -> Result<()> {
        if width == 0 || height == 0 || len != width * height {
            return Err(Error::param("mask", format!("{len} samples do not make a {width}×{height} mask")));
        }
        crate::image_io::check_size("mask", width, height)
    }

    /// Loads an image file as a mask (its luminance; colour images are converted, 16-bit
    /// and float samples are rounded to 8 bits). The file's declared size is checked against
    /// the limits before anything is decoded.
    pub fn load(path: &Path) -> Result<Self> {
        let img = decode_file(path, "mask image", DecodeLimits::default())?;
        let (w, h) = (img.width() as usize, img.height() as usize);
        let luma = match img {
            image::DynamicImage::ImageLuma8(l) => l.into_raw(),
            img => img.to_luma8().into_raw(),
        };
        Self::from_u8(w, h, luma)
    }

    /// The sample at `i` in 0..1.
    pub fn value(&self, i: usize) -> f32 {
        self.data[i] as f32 / 255.0
    }

    /// Nearest-neighbour resize: output pixel x takes source pixel ⌊(x + ½)·in/out⌋ per axis.
    /// Returns whether each output pixel is inside.
    pub fn resize_nearest(&self, width: usize, height: usize) -> Vec<bool> {
        let xs = nearest_map(self.width, width);
        let ys = nearest_map(self.height, height);
        let mut out = Vec::with_capacity(width * height);
        for &y in &ys {
            let row = &self.data[y * self.width..(y + 1) * self.width];
            out.extend(xs.iter().map(|&x| row[x] >= 128));
        }
        out
    }

    /// Area-weighted (box) resize, for soft weights: each output pixel averages the source
    /// pixels it covers, so thin borders are not lost when shrinking. Values in 0..1.
    pub fn resize_smooth(&self, width: usize, height: usize) -> Result<Vec<f32>> {
        area_resize_with(&self.data, self.width, self.height, width, height, |v| v as f32 / 255.0)
    }

    /// The mask at `width × height` (nearest) blurred to a soft edge about `radius` pixels
    /// wide on each side: an approximate Gaussian of standard deviation `radius / 2` made of
    /// three box blurs per axis, so its cost does not depend on the radius. Runs in parallel;
    /// `check` is called between the passes and stops the work when it fails (cancel).
    pub fn feathered(
        &self,
        width: usize,
        height: usize,
        radius: f32,
        check: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Mask> {
        let inside = self.resize_nearest(width, height);
        let sigma = radius / 2.0;
        if sigma <= 0.0 {
            return Ok(Mask { width, height, data: inside.into_iter().map(|b| if b { 255 } else { 0 }).collect() });
        }
        let mut a = try_zeroed::<f32>(width * height, "feathered mask")?;
        a.par_iter_mut().zip(inside.par_iter()).for_each(|(v, &b)| *v = if b { 1.0 } else { 0.0 });
        drop(inside);
        let radii = box_radii(sigma);
        let mut t = try_zeroed::<f32>(width * height, "feathered mask")?;
        check()?;
        blur_rows(&mut a, width, &radii);
        check()?;
        transpose(&a, &mut t, width, height);
        check()?;
        blur_rows(&mut t, height, &radii);
        check()?;
        transpose(&t, &mut a, height, width);
        drop(t);
        let data = a.par_iter().map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8).collect();
        Ok(Mask { width, height, data })
    }
}

/// Radii of three successive box blurs whose combination has standard deviation close to
/// `sigma` (two sizes differing by 2, mixed to match the variance: the usual construction).
fn box_radii(sigma: f32) -> [usize; 3] {
    let n = 3.0f64;
    let s2 = (sigma as f64) * (sigma as f64);
    let ideal = (12.0 * s2 / n + 1.0).sqrt();
    let mut lower = ideal.floor() as i64;
    if lower % 2 == 0 {
        lower -= 1;
    }
    let lower = lower.max(1);
    let l = lower as f64;
    let m = ((12.0 * s2 - n * l * l - 4.0 * n * l - 3.0 * n) / (-4.0 * l - 4.0)).round() as i64;
    let width = |i: i64| if i < m { lower } else { lower + 2 };
    [0, 1, 2].map(|i| ((width(i) - 1) / 2) as usize)
}

/// Blurs every row of `data` (rows of `width`) with the box radii in turn, edges clamped.
fn blur_rows(data: &mut [f32], width: usize, radii: &[usize]) {
    data.par_chunks_mut(width).for_each_init(
        || vec![0f64; width + 1],
        |prefix, row| {
            for &r in radii {
                box_blur_row(row, r, prefix);
            }
        },
    );
}

/// One box blur of radius `r` along `row`, samples beyond the ends repeating the end
/// samples; O(1) per sample whatever the radius (prefix sums in f64).
fn box_blur_row(row: &mut [f32], r: usize, prefix: &mut [f64]) {
    let n = row.len();
    if r == 0 || n == 0 {
        return;
    }
    prefix[0] = 0.0;
    for (i, &v) in row.iter().enumerate() {
        prefix[i + 1] = prefix[i] + v as f64;
    }
    let (first, last) = (row[0] as f64, row[n - 1] as f64);
    let norm = 1.0 / (2 * r + 1) as f64;
    for (i, out) in row.iter_mut().enumerate() {
        let left = r.saturating_sub(i);
        let right = (i + r).saturating_sub(n - 1);
        let lo = i.saturating_sub(r);
        let hi = (i + r).min(n - 1);
        let sum = left as f64 * first + right as f64 * last + prefix[hi + 1] - prefix[lo];
        *out = (sum * norm) as f32;
    }
}

/// Area-weighted (box) resize of a row-major `w × h` plane to `width × height`: each output
/// sample averages the source samples it covers (linear interpolation when enlarging).
pub(crate) fn area_resize(data: &[f32], w: usize, h: usize, width: usize, height: usize) -> Result<Vec<f32>> {
    area_resize_with(data, w, h, width, height, |v| v)
}

/// [`area_resize`] of samples of any type, read as `value(sample)`; in parallel, its buffers
/// allocated fallibly.
fn area_resize_with<T: Copy + Sync>(
    data: &[T],
    w: usize,
    h: usize,
    width: usize,
    height: usize,
    value: impl Fn(T) -> f32 + Sync,
) -> Result<Vec<f32>> {
    let cols = box_weights(w, width);
    let rows = box_weights(h, height);
    let mut tmp = try_zeroed::<f32>(h * width, "resized plane")?;
    tmp.par_chunks_mut(width).enumerate().for_each(|(y, t)| {
        let src = &data[y * w..(y + 1) * w];
        for (x, taps) in cols.iter().enumerate() {
            t[x] = taps.iter().map(|&(i, wt)| value(src[i]) * wt).sum();
        }
    });
    let mut out = try_zeroed::<f32>(width * height, "resized plane")?;
    out.par_chunks_mut(width).zip(rows.par_iter()).for_each(|(o, taps)| {
        for (x, v) in o.iter_mut().enumerate() {
            *v = taps.iter().map(|&(i, wt)| tmp[i * width + x] * wt).sum();
        }
    });
    Ok(out)
}

fn nearest_map(n_in: usize, n_out: usize) -> Vec<usize> {
    (0..n_out).map(|x| (((x as f64 + 0.5) * n_in as f64 / n_out as f64).floor() as usize).min(n_in - 1)).collect()
}

/// For each output sample, the (source index, weight) pairs of a box filter.
fn box_weights(n_in: usize, n_out: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|o| {
            if scale <= 1.0 {
                // Upsampling: linear interpolation between sample centres.
                let c = ((o as f64 + 0.5) * scale - 0.5).clamp(0.0, (n_in - 1) as f64);
                let i0 = c.floor() as usize;
                let i1 = (i0 + 1).min(n_in - 1);
                let t = (c - i0 as f64) as f32;
                vec![(i0, 1.0 - t), (i1, t)]
            } else {
                let (a, b) = (o as f64 * scale, (o as f64 + 1.0) * scale);
                let mut taps = Vec::new();
                let mut i = a.floor() as usize;
                while (i as f64) < b && i < n_in {
                    let cover = (b.min(i as f64 + 1.0) - a.max(i as f64)) / scale;
                    if cover > 0.0 {
                        taps.push((i, cover as f32));
                    }
                    i += 1;
                }
                taps
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Result<()> {
        Ok(())
    }

    #[test]
    fn nearest_follows_the_pil_rule() {
        // 5 → 2: x=0 takes floor(0.5*2.5)=1, x=1 takes floor(1.5*2.5)=3
        let m = Mask::new(5, 1, vec![0.0, 0.6, 0.2, 0.3, 0.4]).unwrap();
        assert_eq!(m.resize_nearest(2, 1), vec![true, false]);
        assert_eq!(m.resize_nearest(5, 1), vec![false, true, false, false, false]);
    }

    #[test]
    fn one_half_is_outside_and_anything_above_is_inside() {
        let m = Mask::new(4, 1, vec![0.5, 0.5001, 127.0 / 255.0, 128.0 / 255.0]).unwrap();
        assert_eq!(m.resize_nearest(4, 1), vec![false, true, false, true]);
    }

    #[test]
    fn smooth_resize_preserves_mean_and_range() {
        let data: Vec<f32> = (0..35).map(|i| if i % 7 < 3 { 1.0 } else { 0.0 }).collect();
        let m = Mask::new(7, 5, data).unwrap();
        for (w, h) in [(3, 2), (1, 1), (14, 10)] {
            let r = m.resize_smooth(w, h).unwrap();
            assert!(r.iter().all(|v| (0.0..=1.0001).contains(v)));
        }
        let one = m.resize_smooth(1, 1).unwrap();
        assert!((one[0] - 15.0 / 35.0).abs() < 1e-5);
    }

    #[test]
    fn feathering_is_monotone_across_an_edge() {
        let data: Vec<f32> = (0..40 * 4).map(|i| if i % 40 < 20 { 1.0 } else { 0.0 }).collect();
        let m = Mask::new(40, 4, data).unwrap().feathered(40, 4, 6.0, &mut ok).unwrap();
        let row: Vec<f32> = (0..40).map(|i| m.value(i)).collect();
        assert!(row.windows(2).all(|w| w[1] <= w[0] + 1e-6));
        assert!(row[0] > 0.999 && row[39] < 0.001 && (row[19] - 0.5).abs() < 0.2);
    }

    #[test]
    fn box_cascade_matches_the_gaussian_spread() {
        for sigma in [1.0f32, 3.0, 10.0, 50.0] {
            let r = box_radii(sigma);
            let var: f64 = r.iter().map(|&r| ((2 * r + 1).pow(2) - 1) as f64 / 12.0).sum();
            assert!((var.sqrt() - sigma as f64).abs() < 0.5 + 0.02 * sigma as f64, "sigma {sigma}: {r:?}");
        }
        // A huge radius flattens the mask to its mean instead of failing or taking long.
        let m = Mask::new(8, 8, (0..64).map(|i| if i < 32 { 1.0 } else { 0.0 }).collect()).unwrap();
        let f = m.feathered(8, 8, 10_000.0, &mut ok).unwrap();
        assert!(f.data.iter().all(|&v| v.abs_diff(128) <= 2), "{:?}", f.data);
    }

    #[test]
    fn feathering_stops_when_cancelled() {
        let m = Mask::new(4, 4, vec![1.0; 16]).unwrap();
        let mut calls = 0;
        let mut cancel = || {
            calls += 1;
            if calls == 2 {
                Err(Error::Cancelled)
            } else {
                Ok(())
            }
        };
        assert!(matches!(m.feathered(64, 64, 5.0, &mut cancel), Err(Error::Cancelled)));
        assert_eq!(calls, 2);
    }

    #[test]
    fn nan_and_out_of_range_are_sanitised() {
        let m = Mask::new(3, 1, vec![f32::NAN, 2.0, -1.0]).unwrap();
        assert_eq!(m.data, vec![0, 255, 0]);
        assert!(Mask::new(0, 1, vec![]).is_err());
    }
}
