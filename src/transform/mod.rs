//! The whitening-and-colouring transform (WCT) on feature matrices, independent of the network.
//!
//! Content features `f_c` (C×N) are centred, whitened with their own covariance
//! (`E_c D_c^-1/2 E_cᵀ`), coloured with a style's (`E_s D_s^1/2 E_sᵀ`, plus the style mean),
//! and blended with the un-centred content features by `alpha`. All matrix work is in f64.

pub mod stats;

use candle_core::{DType, Device, Tensor};
use faer::Mat;

pub use stats::{Accumulator, Stats, EIGEN_EPS};

use crate::error::{Error, Result};

/// One style's share of a transform: its statistics and a (normalised) weight.
#[derive(Debug, Clone, Copy)]
pub struct WeightedStyle<'a> {
    pub stats: &'a Stats,
    pub weight: f64,
}

/// The affine map `x ↦ T (x − m_c) + m_s` that whitens with one content statistics and colours
/// with a weighted mix of styles: `T = (Σ wᵢ Colᵢ) · W_c`, `m_s = Σ wᵢ mᵢ`. Kept in f64.
#[derive(Debug, Clone)]
pub struct Affine {
    matrix: Tensor,
    content_mean: Tensor,
    style_mean: Tensor,
}

impl Affine {
    /// Builds the map on `device`. Degenerate statistics are defined: with no usable content
    /// eigenvalue (flat region, one pixel) everything maps to the style mean.
    pub fn whiten_colour(content: &Stats, styles: &[WeightedStyle], device: &Device) -> Result<Self> {
        let c = content.channels();
        if styles.is_empty() {
            return Err(Error::param("styles", "at least one style is needed"));
        }
        for s in styles {
            if s.stats.channels() != c {
                return Err(Error::param(
                    "style statistics",
                    format!("{} channels, content features have {c}", s.stats.channels()),
                ));
            }
        }
        let whitening = content.whitening();
        let mut colouring = Mat::<f64>::zeros(c, c);
        let mut mean = vec![0f64; c];
        for s in styles {
            colouring += s.stats.colouring() * faer::Scale(s.weight);
            for (m, v) in mean.iter_mut().zip(&s.stats.mean) {
                *m += s.weight * v;
            }
        }
        let t = &colouring * &whitening;
        let matrix = (0..c * c).map(|k| t[(k / c, k % c)]).collect::<Vec<f64>>();
        Ok(Self {
            matrix: Tensor::from_vec(matrix, (c, c), device)?,
            content_mean: Tensor::from_slice(&content.mean, (c, 1), device)?,
            style_mean: Tensor::from_vec(mean, (c, 1), device)?,
        })
    }

    /// Applies the map to `[C, N]` features (any float dtype); returns f32.
    pub fn apply(&self, features: &Tensor) -> Result<Tensor> {
        let (_, n) = features.dims2()?;
        if n == 0 {
            return Ok(features.to_dtype(DType::F32)?);
        }
        // The map is built in f64 from f64 statistics; applied in f32 (the features' own
        // precision), which keeps the golden outputs above 100 dB and halves the memory traffic.
        let centred = features.to_dtype(DType::F32)?.broadcast_sub(&self.content_mean.to_dtype(DType::F32)?)?;
        let out = self.matrix.to_dtype(DType::F32)?.matmul(&centred)?;
        Ok(out.broadcast_add(&self.style_mean.to_dtype(DType::F32)?)?)
    }
}

/// Whitens `content` (`[C, N]`) with its own statistics and colours it with the weighted mix
/// of styles. Returns f32 `[C, N]` (not yet alpha-blended); an empty set stays empty.
pub fn whiten_colour(content: &Tensor, styles: &[WeightedStyle]) -> Result<Tensor> {
    let stats = Stats::of(content)?;
    Affine::whiten_colour(&stats, styles, content.device())?.apply(content)
}

/// `alpha · transformed + (1 − alpha) · content`, computed in f32.
pub fn blend(transformed: &Tensor, content: &Tensor, alpha: f64) -> Result<Tensor> {
    if alpha >= 1.0 {
        return Ok(transformed.clone());
    }
    if alpha <= 0.0 {
        return Ok(content.to_dtype(DType::F32)?);
    }
    let content = content.to_dtype(DType::F32)?;
    Ok(((transformed * alpha)? + (content * (1.0 - alpha))?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn features(c: usize, n: usize, seed: u64) -> Tensor {
        let mut s = seed;
        let v: Vec<f32> = (0..c * n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 33) as f32 / (1u64 << 31) as f32) * 4.0
            })
            .collect();
        Tensor::from_vec(v, (c, n), &Device::Cpu).unwrap()
    }

    #[test]
    fn output_takes_the_style_statistics() {
        let content = features(4, 500, 1);
        let style = features(4, 300, 2);
        let style = (style.clone() + style.narrow(0, 0, 1).unwrap().broadcast_as((4, 300)).unwrap()).unwrap();
        let ss = Stats::of(&style).unwrap();
        let out = whiten_colour(&content, &[WeightedStyle { stats: &ss, weight: 1.0 }]).unwrap();
        let os = Stats::of(&out).unwrap();
        for (a, b) in os.mean.iter().zip(&ss.mean) {
            assert!((a - b).abs() < 1e-4, "mean {a} vs {b}");
        }
        let (ca, cb) = (os.matrix_power(1.0), ss.matrix_power(1.0));
        let diff = (&ca - &cb).norm_max();
        assert!(diff < 1e-3 * cb.norm_max(), "covariance differs by {diff}");
    }

    #[test]
    fn flat_content_gives_style_mean_without_nan() {
        let content = Tensor::ones((3, 16), DType::F32, &Device::Cpu).unwrap();
        let ss = Stats::of(&features(3, 50, 3)).unwrap();
        let out = whiten_colour(&content, &[WeightedStyle { stats: &ss, weight: 1.0 }]).unwrap();
        let v: Vec<Vec<f32>> = out.to_vec2().unwrap();
        for (row, m) in v.iter().zip(&ss.mean) {
            for x in row {
                assert!(x.is_finite() && (*x as f64 - m).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn alpha_zero_returns_content() {
        let c = features(2, 10, 4);
        let t = features(2, 10, 5);
        let b = blend(&t, &c, 0.0).unwrap();
        let d: f32 = (b - &c).unwrap().abs().unwrap().sum_all().unwrap().to_scalar().unwrap();
        assert_eq!(d, 0.0);
    }
}
