//! Feature statistics in f64: per-channel mean and the eigendecomposition of the covariance,
//! truncated to eigenvalues ≥ [`EIGEN_EPS`].

use candle_core::{DType, Tensor, D};
use faer::{Mat, MatRef};

use crate::error::{Error, Result};
use crate::kernels::host::with_cpu_f32;

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
    /// Number of channels C.
    pub fn channels(&self) -> usize {
        self.mean.len()
    }

    /// Statistics of `features` (`[C, N]`, any float dtype), computed in f64.
    pub fn of(features: &Tensor) -> Result<Self> {
        let mut acc = Accumulator::new(features.dims2()?.0);
        acc.add(features)?;
        acc.finish()
    }

    /// `E diag(λ^p) Eᵀ` over the kept eigenpairs (C × C); zero when nothing was kept.
    /// Single-threaded, so the result does not depend on the thread count.
    pub fn matrix_power(&self, p: f64) -> Mat<f64> {
        let c = self.channels();
        let e = MatRef::from_column_major_slice(&self.eigenvectors, c, self.eigenvalues.len());
        let scale: Vec<f64> = self.eigenvalues.iter().map(|v| v.powf(p)).collect();
        super::symmetric::from_eigen(e, &scale)
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

/// Feature values per batch when the statistics are not taken by the CPU kernel: a GPU's
/// f64 copy of a batch (and its centred copy) stays within 64 MiB each, as does the host's
/// widened copy on Metal.
const DEVICE_CHUNK_VALUES: usize = 1 << 23;

/// Mean and covariance accumulated over batches of feature vectors (tiles of an image), in
/// f64, merged with Chan et al.'s pairwise update so that the result does not depend on how
/// the pixels were split beyond rounding.
#[derive(Debug, Clone)]
pub(crate) struct Accumulator {
    channels: usize,
    count: usize,
    mean: Vec<f64>,
    /// Sum of centred outer products, row-major C × C.
    m2: Vec<f64>,
}

impl Accumulator {
    pub fn new(channels: usize) -> Self {
        Self { channels, count: 0, mean: vec![0.0; channels], m2: vec![0.0; channels * channels] }
    }

    /// Number of feature vectors added so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Adds a `[C, N]` batch.
    pub fn add(&mut self, features: &Tensor) -> Result<()> {
        let (c, n) = features.dims2()?;
        if c != self.channels {
            return Err(Error::Tensor(format!("statistics of {} channels fed {c}", self.channels)));
        }
        if n == 0 {
            return Ok(());
        }
        // Off the CPU's own kernels the f64 copies a batch needs are bounded: wide feature
        // maps are taken in column chunks, merged as any two batches are.
        let chunk = if crate::kernels::cpu_kernels(features.device()) { n } else { DEVICE_CHUNK_VALUES / c.max(1) };
        self.add_in_chunks(features, chunk.max(1))
    }

    /// Adds a `[C, N]` batch `chunk` columns at a time.
    fn add_in_chunks(&mut self, features: &Tensor, chunk: usize) -> Result<()> {
        let (c, n) = features.dims2()?;
        if n > chunk {
            let mut start = 0;
            while start < n {
                let len = chunk.min(n - start);
                self.add_in_chunks(&features.narrow(1, start, len)?, chunk)?;
                start += len;
            }
            return Ok(());
        }
        let (mean, m2) = batch_moments(features, c, n)?;
        if self.count == 0 {
            (self.count, self.mean, self.m2) = (n, mean, m2);
            return Ok(());
        }
        let (na, nb) = (self.count as f64, n as f64);
        let total = na + nb;
        let delta: Vec<f64> = mean.iter().zip(&self.mean).map(|(b, a)| b - a).collect();
        let w = na * nb / total;
        for i in 0..c {
            for j in 0..c {
                self.m2[i * c + j] += m2[i * c + j] + delta[i] * delta[j] * w;
            }
        }
        for (m, d) in self.mean.iter_mut().zip(&delta) {
            *m += d * nb / total;
        }
        self.count += n;
        Ok(())
    }

    /// The mean and the covariance `M2 / (N − 1)` (row-major), when at least two vectors
    /// were added.
    pub fn moments(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        if self.count < 2 {
            return None;
        }
        let scale = 1.0 / (self.count as f64 - 1.0);
        Some((self.mean.clone(), self.m2.iter().map(|v| v * scale).collect()))
    }

    /// Mean and truncated eigendecomposition of the covariance `M2 / (N − 1)`.
    pub fn finish(&self) -> Result<Stats> {
        let (eigenvalues, eigenvectors) = if self.count < 2 {
            (vec![], vec![])
        } else {
            let scale = 1.0 / (self.count as f64 - 1.0);
            let cov: Vec<f64> = self.m2.iter().map(|v| v * scale).collect();
            eigen_truncated(&cov, self.channels)?
        };
        Ok(Stats { count: self.count, mean: self.mean.clone(), eigenvalues, eigenvectors })
    }
}

/// Mean and sum of centred outer products (row-major C × C) of one `[C, N]` batch, in f64.
fn batch_moments(features: &Tensor, c: usize, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if let Some(m) = with_cpu_f32(features, |x| moments_f32(x, c, n))? {
        return m;
    }
    if crate::device::has_f64(features.device()) {
        moments_on_device(features)
    } else {
        moments_downloaded(features, c, n)
    }
}

/// [`batch_moments`] as f64 tensor operations on the features' own device (CUDA: the cast,
/// the row sums and cuBLAS's DGEMM are f64 throughout, so nothing is computed in f32).
#[inline(never)]
fn moments_on_device(features: &Tensor) -> Result<(Vec<f64>, Vec<f64>)> {
    let f = features.to_dtype(DType::F64)?;
    let mean_t = f.mean_keepdim(D::Minus1)?;
    let centred = f.broadcast_sub(&mean_t)?;
    let mean: Vec<f64> = mean_t.flatten_all()?.to_vec1()?;
    let m2: Vec<f64> = centred.matmul(&centred.t()?)?.flatten_all()?.to_vec1()?;
    Ok((mean, m2))
}

/// [`batch_moments`] for devices without f64 (Metal): the f32 values are downloaded and
/// widened to f64 on the host.
#[inline(never)]
fn moments_downloaded(features: &Tensor, c: usize, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let values: Vec<f32> = features.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
    moments_f32(&values, c, n)
}

/// [`batch_moments`] on row-major f32 values (`kernels::stats::moments`); a large batch's
/// sums take long enough that a cancel reaches into them (`progress::watched`).
fn moments_f32(x: &[f32], c: usize, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    /// Below this many values the sums take a few milliseconds: no watch needed.
    const WATCHED_VALUES: usize = 1 << 20;
    if x.len() < WATCHED_VALUES {
        return Ok(crate::kernels::stats::moments(x, c, n));
    }
    crate::progress::watched(|| Ok(crate::kernels::stats::moments(x, c, n)))
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
    let (s, u) = super::symmetric::eigh(&m).map_err(|e| match e {
        Error::Linalg { reason, .. } => Error::Linalg { what: "feature covariance".into(), reason },
        e => e,
    })?;
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
    fn batches_merge_to_the_whole() {
        let n = 301;
        let data: Vec<f32> = (0..3 * n).map(|i| ((i * 7919) % 97) as f32 * 0.1 + (i % 3) as f32).collect();
        let t = Tensor::from_vec(data, (3, n), &Device::Cpu).unwrap();
        let whole = Stats::of(&t).unwrap();
        let mut acc = Accumulator::new(3);
        for (a, len) in [(0, 1), (1, 100), (101, 0), (101, 200)] {
            acc.add(&t.narrow(1, a, len).unwrap()).unwrap();
        }
        let parts = acc.finish().unwrap();
        assert_eq!(parts.count, whole.count);
        for (a, b) in parts.mean.iter().zip(&whole.mean) {
            assert!((a - b).abs() < 1e-12);
        }
        for (a, b) in parts.eigenvalues.iter().zip(&whole.eigenvalues) {
            assert!((a - b).abs() < 1e-9 * b.abs().max(1.0));
        }
    }

    #[test]
    fn every_device_path_gives_the_same_moments() {
        // The CPU kernel, the f64 tensor path (CUDA) and the download-and-widen path (Metal),
        // all run here on CPU tensors.
        let (c, n) = (5, 2 * 1024 + 77);
        let data: Vec<f32> = (0..c * n).map(|i| ((i * 7919) % 257) as f32 * 0.01 + (i / n) as f32 * 3.0).collect();
        let t = Tensor::from_vec(data.clone(), (c, n), &Device::Cpu).unwrap();
        let (mean, m2) = moments_f32(&data, c, n).unwrap();
        for (name, (m, v)) in
            [("on device", moments_on_device(&t).unwrap()), ("downloaded", moments_downloaded(&t, c, n).unwrap())]
        {
            for (a, b) in m.iter().zip(&mean) {
                assert!((a - b).abs() < 1e-12 * b.abs().max(1.0), "{name}: mean {a} vs {b}");
            }
            for (a, b) in v.iter().zip(&m2) {
                assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{name}: m2 {a} vs {b}");
            }
        }
    }

    #[test]
    fn column_chunks_merge_to_the_whole() {
        let (c, n) = (4, 1000);
        let data: Vec<f32> = (0..c * n).map(|i| ((i * 7919) % 263) as f32 * 0.02 + (i / n) as f32).collect();
        let t = Tensor::from_vec(data, (c, n), &Device::Cpu).unwrap();
        let (mean, cov) = {
            let mut a = Accumulator::new(c);
            a.add(&t).unwrap();
            a.moments().unwrap()
        };
        for chunk in [1, 7, 999, 1000, 4096] {
            let mut a = Accumulator::new(c);
            a.add_in_chunks(&t, chunk).unwrap();
            assert_eq!(a.count(), n);
            let (m, v) = a.moments().unwrap();
            for (x, y) in m.iter().zip(&mean).chain(v.iter().zip(&cov)) {
                assert!((x - y).abs() < 1e-9 * y.abs().max(1.0), "chunk {chunk}: {x} vs {y}");
            }
        }
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
