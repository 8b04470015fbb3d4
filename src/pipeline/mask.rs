//! Region masks: grayscale images of any size, resized to each feature map (nearest, the
//! paper's rule) or smoothly (feathered, for soft region borders).

use std::path::Path;

use crate::error::{Error, Result};
use crate::image_io::{decode_file, DecodeLimits};

/// A grayscale mask with values in 0..1; > 0.5 is inside.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major values, `width × height`, 0..1 (> 0.5 is inside).
    pub data: Vec<f32>,
}

impl Mask {
    /// A mask from row-major samples; NaN counts as outside, values are clamped to 0..1.
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> Result<Self> {
        if width == 0 || height == 0 || data.len() != width * height {
            return Err(Error::param(
                "mask",
                format!("{} samples do not make a {width}×{height} mask", data.len()),
            ));
        }
        let data = data.into_iter().map(|v| if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) }).collect();
        Ok(Self { width, height, data })
    }

    /// Loads an image file as a mask (its luminance; colour images are converted).
    pub fn load(path: &Path) -> Result<Self> {
        let img = decode_file(path, "mask image", DecodeLimits::default())?;
        let luma = img.to_luma32f();
        Self::new(img.width() as usize, img.height() as usize, luma.into_raw())
    }

    /// Nearest-neighbour resize: output pixel x takes source pixel ⌊(x + ½)·in/out⌋ per axis.
    pub fn resize_nearest(&self, width: usize, height: usize) -> Vec<f32> {
        let xs = nearest_map(self.width, width);
        let ys = nearest_map(self.height, height);
        let mut out = Vec::with_capacity(width * height);
        for &y in &ys {
            let row = &self.data[y * self.width..(y + 1) * self.width];
            out.extend(xs.iter().map(|&x| row[x]));
        }
        out
    }

    /// Area-weighted (box) resize, for soft weights: each output pixel averages the source
    /// pixels it covers, so thin borders are not lost when shrinking.
    pub fn resize_smooth(&self, width: usize, height: usize) -> Vec<f32> {
        area_resize(&self.data, self.width, self.height, width, height)
    }

    /// The mask at `width × height` (nearest) blurred with a Gaussian of standard deviation
    /// `radius / 2` pixels: a soft edge about `radius` pixels wide on each side.
    pub fn feathered(&self, width: usize, height: usize, radius: f32) -> Mask {
        let data = self.resize_nearest(width, height);
        let sigma = radius / 2.0;
        if sigma <= 0.0 {
            return Mask { width, height, data };
        }
        let kernel = gaussian_kernel(sigma);
        let r = (kernel.len() / 2) as isize;
        let clamp = |i: isize, n: usize| i.clamp(0, n as isize - 1) as usize;
        let mut tmp = vec![0f32; width * height];
        for y in 0..height {
            for x in 0..width {
                tmp[y * width + x] = kernel
                    .iter()
                    .enumerate()
                    .map(|(k, w)| w * data[y * width + clamp(x as isize + k as isize - r, width)])
                    .sum();
            }
        }
        let mut out = vec![0f32; width * height];
        for y in 0..height {
            for x in 0..width {
                out[y * width + x] = kernel
                    .iter()
                    .enumerate()
                    .map(|(k, w)| w * tmp[clamp(y as isize + k as isize - r, height) * width + x])
                    .sum();
            }
        }
        Mask { width, height, data: out }
    }
}

/// Area-weighted (box) resize of a row-major `w × h` plane to `width × height`: each output
/// sample averages the source samples it covers (linear interpolation when enlarging).
pub(crate) fn area_resize(data: &[f32], w: usize, h: usize, width: usize, height: usize) -> Vec<f32> {
    let cols = box_weights(w, width);
    let rows = box_weights(h, height);
    let mut tmp = vec![0f32; h * width];
    for y in 0..h {
        let src = &data[y * w..(y + 1) * w];
        for (x, taps) in cols.iter().enumerate() {
            tmp[y * width + x] = taps.iter().map(|&(i, wt)| src[i] * wt).sum();
        }
    }
    let mut out = vec![0f32; width * height];
    for (y, taps) in rows.iter().enumerate() {
        for x in 0..width {
            out[y * width + x] = taps.iter().map(|&(i, wt)| tmp[i * width + x] * wt).sum();
        }
    }
    out
}

fn nearest_map(n_in: usize, n_out: usize) -> Vec<usize> {
    (0..n_out)
        .map(|x| (((x as f64 + 0.5) * n_in as f64 / n_out as f64).floor() as usize).min(n_in - 1))
        .collect()
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

fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil().max(1.0) as isize;
    let k: Vec<f32> = (-r..=r).map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let sum: f32 = k.iter().sum();
    k.into_iter().map(|v| v / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_follows_the_pil_rule() {
        // 5 → 2: x=0 takes floor(0.5*2.5)=1, x=1 takes floor(1.5*2.5)=3
        let m = Mask::new(5, 1, vec![0.0, 0.1, 0.2, 0.3, 0.4]).unwrap();
        assert_eq!(m.resize_nearest(2, 1), vec![0.1, 0.3]);
        assert_eq!(m.resize_nearest(5, 1), m.data);
    }

    #[test]
    fn smooth_resize_preserves_mean_and_range() {
        let data: Vec<f32> = (0..35).map(|i| if i % 7 < 3 { 1.0 } else { 0.0 }).collect();
        let m = Mask::new(7, 5, data).unwrap();
        for (w, h) in [(3, 2), (1, 1), (14, 10)] {
            let r = m.resize_smooth(w, h);
            assert!(r.iter().all(|v| (0.0..=1.0001).contains(v)));
        }
        let one = m.resize_smooth(1, 1);
        assert!((one[0] - 15.0 / 35.0).abs() < 1e-5);
    }

    #[test]
    fn feathering_is_monotone_across_an_edge() {
        let data: Vec<f32> = (0..40 * 4).map(|i| if i % 40 < 20 { 1.0 } else { 0.0 }).collect();
        let m = Mask::new(40, 4, data).unwrap().feathered(40, 4, 6.0);
        let row = &m.data[..40];
        assert!(row.windows(2).all(|w| w[1] <= w[0] + 1e-6));
        assert!(row[0] > 0.999 && row[39] < 0.001 && (row[19] - 0.5).abs() < 0.2);
    }

    #[test]
    fn nan_and_out_of_range_are_sanitised() {
        let m = Mask::new(3, 1, vec![f32::NAN, 2.0, -1.0]).unwrap();
        assert_eq!(m.data, vec![0.0, 1.0, 0.0]);
        assert!(Mask::new(0, 1, vec![]).is_err());
    }
}
