//! Temporal smoothing of the content statistics over the frames of a clip.
//!
//! WCT whitens every frame with that frame's own covariance. Between consecutive frames the
//! covariance moves a little, the eigenvalues near the cut-off ([`EIGEN_EPS`]) come and go, and
//! the whitening `E D^-1/2 Eᵀ` amplifies the directions of smallest variance — where sensor
//! noise lives — so the result flickers. Per level and region, this keeps an exponential
//! moving average of the content mean and covariance (weight `keep` on the past), and builds
//! the whitening from the average with regularised eigenvalues `λ + δ` (`δ` a fraction of the
//! mean eigenvalue): every eigenpair is kept, so the rank is fixed and the map is a smooth
//! function of the averaged covariance — it cannot jump. A scene cut (the new covariance or
//! mean far from the average) restarts the average. Everything is f64.

use std::collections::HashMap;

use faer::Mat;

use super::stats::{Accumulator, Stats, EIGEN_EPS};
use crate::error::{Error, Result};

/// Relative change of covariance (Frobenius) or mean (in units of the feature standard
/// deviation) above which a frame counts as a new scene and the average restarts.
pub const SCENE_CUT: f64 = 0.6;

/// Ridge `δ` at stability 1, as a fraction of the mean eigenvalue (scaled by the stability).
pub const RIDGE_AT_FULL_STABILITY: f64 = 1e-3;

/// The smoothed moments of one (level, region) key.
#[derive(Debug, Clone)]
struct Smoothed {
    mean: Vec<f64>,
    /// Row-major C × C.
    cov: Vec<f64>,
}

/// Smoothed content statistics for each (level, region) of a clip.
#[derive(Debug, Clone)]
pub struct MomentSmoother {
    /// Weight of the past in the moving average, 0..1.
    keep: f64,
    /// Ridge as a fraction of the mean eigenvalue.
    ridge: f64,
    states: HashMap<(usize, usize), Smoothed>,
    cuts: usize,
}

impl MomentSmoother {
    /// A smoother for `stability` in 0..=1: the average keeps `stability` of the past per
    /// frame, and the eigenvalues are regularised by `stability · RIDGE_AT_FULL_STABILITY` of
    /// their mean.
    pub fn new(stability: f64) -> Result<Self> {
        Error::check_range("stability", stability, 0.0, 1.0)?;
        // At 1 the average would never move: the first frame's statistics forever.
        let keep = stability.min(0.98);
        Ok(Self { keep, ridge: stability * RIDGE_AT_FULL_STABILITY, states: HashMap::new(), cuts: 0 })
    }

    /// How many times the average restarted at a scene cut.
    pub fn scene_cuts(&self) -> usize {
        self.cuts
    }

    /// Folds this frame's moments (from `acc`) into the average of `key` and returns the
    /// statistics to whiten with.
    pub(crate) fn stats(&mut self, key: (usize, usize), acc: &Accumulator) -> Result<Stats> {
        let Some((mean, cov)) = acc.moments() else {
            return acc.finish();
        };
        let state = match self.states.get_mut(&key) {
            Some(s) if s.mean.len() == mean.len() && !is_cut(s, &mean, &cov) => {
                let (k, f) = (self.keep, 1.0 - self.keep);
                for (a, b) in s.mean.iter_mut().zip(&mean) {
                    *a = k * *a + f * b;
                }
                for (a, b) in s.cov.iter_mut().zip(&cov) {
                    *a = k * *a + f * b;
                }
                s
            }
            old => {
                if old.is_some() {
                    self.cuts += 1;
                }
                self.states.insert(key, Smoothed { mean, cov });
                self.states.get_mut(&key).expect("just inserted")
            }
        };
        regularised(acc.count(), &state.mean, &state.cov, self.ridge)
    }
}

/// Whether `(mean, cov)` is too far from the average `s` to belong to the same scene.
fn is_cut(s: &Smoothed, mean: &[f64], cov: &[f64]) -> bool {
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let diff: Vec<f64> = s.cov.iter().zip(cov).map(|(a, b)| a - b).collect();
    let scale = norm(&s.cov).max(norm(cov));
    if scale <= 0.0 {
        return false;
    }
    let c = mean.len();
    let trace: f64 = (0..c).map(|i| s.cov[i * c + i]).sum();
    let shift: f64 = s.mean.iter().zip(mean).map(|(a, b)| (a - b) * (a - b)).sum();
    norm(&diff) / scale > SCENE_CUT || (trace > 0.0 && shift / trace > SCENE_CUT * SCENE_CUT)
}

/// Statistics of a covariance whose eigenvalues are all kept and raised by
/// `δ = ridge · mean eigenvalue` (`ridge` 0: the usual truncation at [`EIGEN_EPS`]).
pub(crate) fn regularised(count: usize, mean: &[f64], cov: &[f64], ridge: f64) -> Result<Stats> {
    let c = mean.len();
    if cov.iter().any(|v| !v.is_finite()) || mean.iter().any(|v| !v.is_finite()) {
        return Err(Error::Linalg {
            what: "smoothed feature covariance".into(),
            reason: "NaN or infinite values".into(),
        });
    }
    let m = Mat::from_fn(c, c, |i, j| 0.5 * (cov[i * c + j] + cov[j * c + i]));
    let (s, u) = super::symmetric::eigh(&m)?;
    let average = s.iter().map(|v| v.max(0.0)).sum::<f64>() / c.max(1) as f64;
    let delta = ridge * average;
    let mut eigenvalues = Vec::new();
    let mut eigenvectors = Vec::new();
    // faer sorts ascending; walk from the largest down.
    for j in (0..c).rev() {
        let v = s[j].max(0.0) + delta;
        if v < EIGEN_EPS || (delta == 0.0 && s[j] < EIGEN_EPS) {
            break;
        }
        eigenvalues.push(v);
        eigenvectors.extend((0..c).map(|i| u[(i, j)]));
    }
    Ok(Stats { count, mean: mean.to_vec(), eigenvalues, eigenvectors })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    fn frame(seed: u64, gain: f32) -> Tensor {
        let (c, n) = (4, 400);
        let mut s = seed;
        let v: Vec<f32> = (0..c * n)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = (s >> 40) as f32 / (1u64 << 24) as f32;
                // A fixed pattern per channel plus a little noise.
                gain * ((i % n) as f32 * 0.05 * (1 + i / n) as f32).sin() + 0.1 * noise + (i / n) as f32
            })
            .collect();
        Tensor::from_vec(v, (c, n), &Device::Cpu).unwrap()
    }

    fn acc(t: &Tensor) -> Accumulator {
        let mut a = Accumulator::new(t.dims2().unwrap().0);
        a.add(t).unwrap();
        a
    }

    #[test]
    fn no_ridge_and_one_frame_match_the_plain_statistics() {
        let a = acc(&frame(1, 1.0));
        let plain = a.finish().unwrap();
        let (mean, cov) = a.moments().unwrap();
        let r = regularised(a.count(), &mean, &cov, 0.0).unwrap();
        assert_eq!(r.eigenvalues.len(), plain.eigenvalues.len());
        let d = (r.whitening() - plain.whitening()).norm_max();
        assert!(d < 1e-9 * plain.whitening().norm_max(), "whitening differs by {d}");
    }

    #[test]
    fn average_moves_slowly_and_keeps_every_eigenvalue() {
        let mut s = MomentSmoother::new(0.8).unwrap();
        let first = s.stats((3, 0), &acc(&frame(1, 1.0))).unwrap();
        assert_eq!(first.eigenvalues.len(), 4, "the ridge keeps the full rank");
        let next = acc(&frame(2, 1.1));
        let raw = next.finish().unwrap();
        let smooth = s.stats((3, 0), &next).unwrap();
        let change = |x: &Stats| (x.whitening() - first.whitening()).norm_max();
        assert!(change(&smooth) < 0.5 * change(&raw), "{} vs {}", change(&smooth), change(&raw));
        assert!(smooth.eigenvalues.iter().all(|v| v.is_finite() && *v > 0.0));
        assert_eq!(s.scene_cuts(), 0);
    }

    #[test]
    fn a_scene_cut_restarts_the_average() {
        let mut s = MomentSmoother::new(0.9).unwrap();
        s.stats((1, 0), &acc(&frame(1, 1.0))).unwrap();
        let other = acc(&frame(5, 6.0));
        let got = s.stats((1, 0), &other).unwrap();
        assert_eq!(s.scene_cuts(), 1);
        let (mean, cov) = other.moments().unwrap();
        let fresh = regularised(other.count(), &mean, &cov, 0.9 * RIDGE_AT_FULL_STABILITY).unwrap();
        assert_eq!(got, fresh);
    }

    #[test]
    fn flat_frames_and_bad_stability_are_handled() {
        let flat = Tensor::ones((3, 9), candle_core::DType::F32, &Device::Cpu).unwrap();
        let mut s = MomentSmoother::new(0.5).unwrap();
        let st = s.stats((1, 0), &acc(&flat)).unwrap();
        assert!(st.eigenvalues.is_empty() && st.mean.iter().all(|v| v.is_finite()));
        for bad in [-0.1, 1.5, f64::NAN] {
            assert!(MomentSmoother::new(bad).is_err());
        }
    }
}
