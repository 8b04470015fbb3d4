//! Feature statistics in f64: per-channel mean and the eigendecomposition of the covariance,
//! truncated to eigenvalues ≥ [`EIGEN_EPS`].

use candle_core::{DType, Tensor, D};
use faer::{Mat, Side};

use crate::error::{Error, Result};

/// Eigenvalues below this are dropped (content and style counted separately), as in the paper's code.
pub const EIGEN_EPS: f64 = 1e-5;

/// Mean and truncated covariance eigendecomposition of a `[C, N]` feature set.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Number of feature vectors (pixels) the statistics were taken over.
    pub count: usize,
    /// Per-channel mean, length C.
    pub mean: Vec<f64>,
    /// Kept eigenvalues, descending.
    pub eigenvalues: Vec<f64>,
    /// Kept eigenvectors, column-major C × k (column j belongs to `eigenvalues[j]`).
    pub eigenvectors: Vec<f64>,
}

impl Stats {
    pub fn channels(&self) -> usize {
        self.mean.len()
    }

    /// Statistics of `features` (`[C, N]`, any float dtype), computed in f64.
    pub fn of(features: &Tensor) -> Result<Self> {
        let (c, n) = features.dims2()?;
        let f = features.to_dtype(DType::F64)?;
        if n == 0 {
            return Ok(Stats {
                count: 0,
                mean: vec![0.0; c],
                eigenvalues: vec![],
                eigenvectors: vec![],
            });
        }
        let mean = f.mean_keepdim(D::Minus1)?;
        let centred = f.broadcast_sub(&mean)?;
        let mean: Vec<f64> = mean.flatten_all()?.to_vec1()?;
        let (eigenvalues, eigenvectors) = if n < 2 {
            (vec![], vec![])
        } else {
            let cov = centred.matmul(&centred.t()?)?.affine(1.0 / (n as f64 - 1.0), 0.0)?;
            let cov: Vec<f64> = cov.flatten_all()?.to_vec1()?;
            eigen_truncated(&cov, c)?
        };
        Ok(Stats {
            count: n,
            mean,
            eigenvalues,
            eigenvectors,
        })
    }

    /// `E diag(λ^p) Eᵀ` over the kept eigenpairs (C × C); zero when nothing was kept.
    pub fn matrix_power(&self, p: f64) -> Mat<f64> {
        let c = self.channels();
        let k = self.eigenvalues.len();
        let e = Mat::from_fn(c, k, |i, j| self.eigenvectors[j * c + i]);
        let scaled = Mat::from_fn(c, k, |i, j| e[(i, j)] * self.eigenvalues[j].powf(p));
        &scaled * e.transpose()
    }

    /// The whitening matrix `E D^-1/2 Eᵀ`.
    pub fn whitening(&self) -> Mat<f64> {
        self.matrix_power(-0.5)
    }

    /// The colouring matrix `E D^1/2 Eᵀ`.
    pub fn colouring(&self) -> Mat<f64> {
        self.matrix_power(0.5)
    }
}

/// Symmetric eigendecomposition of the row-major `c × c` matrix `cov`, keeping eigenvalues
/// ≥ [`EIGEN_EPS`] in descending order.
fn eigen_truncated(cov: &[f64], c: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if cov.iter().any(|v| !v.is_finite()) {
        return Err(Error::Linalg {
            what: "feature covariance".into(),
            reason: "it contains NaN or infinite values".into(),
        });
    }
    let m = Mat::from_fn(c, c, |i, j| cov[i * c + j]);
    let evd = m.self_adjoint_eigen(Side::Lower).map_err(|e| Error::Linalg {
        what: "feature covariance".into(),
        reason: format!("{e:?}"),
    })?;
    let (u, s) = (evd.U(), evd.S());
    let s = s.column_vector();
    // faer sorts ascending; walk from the largest down and stop at the threshold.
    let mut values = Vec::new();
    let mut vectors = Vec::new();
    for j in (0..c).rev() {
        let v = s[j];
        if v < EIGEN_EPS {
            break;
        }
        values.push(v);
        vectors.extend((0..c).map(|i| u[(i, j)]));
    }
    Ok((values, vectors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn recovers_known_covariance() {
        // Two channels: x and 2x+noise-free => rank 1 covariance.
        let n = 100;
        let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut data = x.clone();
        data.extend(x.iter().map(|v| 2.0 * v + 3.0));
        let t = Tensor::from_vec(data, (2, n), &Device::Cpu).unwrap();
        let s = Stats::of(&t).unwrap();
        assert_eq!(s.eigenvalues.len(), 1, "rank-1 covariance keeps one eigenvalue");
        let xm: f64 = x.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var: f64 = x.iter().map(|&v| (v as f64 - xm).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        assert!((s.eigenvalues[0] - 5.0 * var).abs() < 1e-5 * var.max(1.0));
        assert!((s.mean[1] - (2.0 * xm + 3.0)).abs() < 1e-6);
    }

    #[test]
    fn flat_and_single_pixel_have_no_eigenvalues() {
        let flat = Tensor::ones((4, 9), DType::F32, &Device::Cpu).unwrap();
        assert!(Stats::of(&flat).unwrap().eigenvalues.is_empty());
        let one = Tensor::ones((4, 1), DType::F32, &Device::Cpu).unwrap();
        let s = Stats::of(&one).unwrap();
        assert!(s.eigenvalues.is_empty());
        assert!(s.whitening().norm_l2() == 0.0);
    }
}
