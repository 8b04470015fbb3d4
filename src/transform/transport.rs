//! Optimal-transport colouring (Mroueh 2019, "Wasserstein style transfer"): the closed-form
//! map between the content Gaussian `N(m_c, Σc)` and the style Gaussian `N(m_s, Σs)`,
//! `T = Σc^-½ (Σc^½ Σs Σc^½)^½ Σc^-½`, which moves the features the least of all maps that
//! give them the style's covariance. With several styles the target is their Wasserstein
//! barycentre (weighted mean of the means; the covariance by the fixed-point iteration of
//! Álvarez-Esteban et al. 2016).

use faer::Mat;

use super::symmetric::{mul, power};
use super::{Stats, WeightedStyle};
use crate::error::Result;

/// Iterations of the barycentre fixed point at most; it stops earlier once converged.
const BARYCENTRE_ITERATIONS: usize = 50;
/// Relative change (max norm) under which the barycentre iteration stops.
const BARYCENTRE_TOLERANCE: f64 = 1e-10;

/// The covariance and mean of the styles' Gaussian (the barycentre for several styles).
pub fn target(styles: &[WeightedStyle]) -> Result<(Mat<f64>, Vec<f64>)> {
    let c = styles[0].stats.channels();
    let mut mean = vec![0f64; c];
    for s in styles {
        for (m, v) in mean.iter_mut().zip(&s.stats.mean) {
            *m += s.weight * v;
        }
    }
    let covs: Vec<Mat<f64>> = styles.iter().map(|s| s.stats.matrix_power(1.0)).collect();
    if styles.len() == 1 {
        return Ok((covs.into_iter().next().expect("one style"), mean));
    }
    let mut bary = Mat::<f64>::zeros(c, c);
    for (s, cov) in styles.iter().zip(&covs) {
        bary += cov * faer::Scale(s.weight);
    }
    for _ in 0..BARYCENTRE_ITERATIONS {
        let root = power(&bary, 0.5)?;
        let inv_root = power(&bary, -0.5)?;
        let mut sum = Mat::<f64>::zeros(c, c);
        for (s, cov) in styles.iter().zip(&covs) {
            sum += power(&mul(&mul(&root, cov), &root), 0.5)? * faer::Scale(s.weight);
        }
        let next = mul(&mul(&inv_root, &mul(&sum, &sum)), &inv_root);
        let change = (&next - &bary).norm_max() / bary.norm_max().max(f64::MIN_POSITIVE);
        bary = next;
        if change < BARYCENTRE_TOLERANCE {
            break;
        }
    }
    Ok((bary, mean))
}

/// The linear part `T` of the transport map from `content` to the styles' Gaussian, and the
/// target mean; the map is `x ↦ T (x − m_c) + m_s`.
pub fn transport(content: &Stats, styles: &[WeightedStyle]) -> Result<(Mat<f64>, Vec<f64>)> {
    let (sigma_s, mean) = target(styles)?;
    let root_c = content.matrix_power(0.5);
    let inv_root_c = content.matrix_power(-0.5);
    let middle = power(&mul(&mul(&root_c, &sigma_s), &root_c), 0.5)?;
    Ok((mul(&mul(&inv_root_c, &middle), &inv_root_c), mean))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::symmetric::identity;

    fn stats_of(cov: [[f64; 3]; 3], mean: [f64; 3]) -> Stats {
        let m = Mat::from_fn(3, 3, |i, j| cov[i][j]);
        let evd = m.self_adjoint_eigen(faer::Side::Lower).unwrap();
        let (u, s) = (evd.U(), evd.S().column_vector());
        let mut eigenvalues = Vec::new();
        let mut eigenvectors = Vec::new();
        for j in (0..3).rev() {
            eigenvalues.push(s[j]);
            eigenvectors.extend((0..3).map(|i| u[(i, j)]));
        }
        Stats { count: 100, mean: mean.to_vec(), eigenvalues, eigenvectors }
    }

    const A: [[f64; 3]; 3] = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
    const B: [[f64; 3]; 3] = [[1.0, -0.3, 0.0], [-0.3, 2.0, 0.7], [0.0, 0.7, 5.0]];

    #[test]
    fn identical_gaussians_give_the_identity() {
        let s = stats_of(A, [1.0, 2.0, 3.0]);
        let (t, m) = transport(&s, &[WeightedStyle { stats: &s, weight: 1.0 }]).unwrap();
        assert!((&t - identity(3)).norm_max() < 1e-12, "{t:?}");
        assert_eq!(m, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn the_map_is_symmetric_and_pushes_the_content_covariance_to_the_style() {
        let (c, s) = (stats_of(A, [0.0; 3]), stats_of(B, [0.0; 3]));
        let (t, _) = transport(&c, &[WeightedStyle { stats: &s, weight: 1.0 }]).unwrap();
        assert!((&t - t.transpose()).norm_max() < 1e-10, "a transport map between Gaussians is symmetric");
        let pushed = &t * c.matrix_power(1.0) * t.transpose();
        assert!((&pushed - s.matrix_power(1.0)).norm_max() < 1e-9);
    }

    #[test]
    fn barycentre_of_one_style_twice_is_that_style() {
        let s = stats_of(B, [1.0, 0.0, -1.0]);
        let (bary, m) =
            target(&[WeightedStyle { stats: &s, weight: 0.5 }, WeightedStyle { stats: &s, weight: 0.5 }]).unwrap();
        assert!((&bary - s.matrix_power(1.0)).norm_max() < 1e-9);
        assert!((m[2] + 1.0).abs() < 1e-12);
        // Two different styles: the barycentre satisfies its fixed-point equation.
        let (a, b) = (stats_of(A, [0.0; 3]), stats_of(B, [0.0; 3]));
        let w = [WeightedStyle { stats: &a, weight: 0.3 }, WeightedStyle { stats: &b, weight: 0.7 }];
        let (bary, _) = target(&w).unwrap();
        let root = power(&bary, 0.5).unwrap();
        let sum = power(&(&root * a.matrix_power(1.0) * &root), 0.5).unwrap() * faer::Scale(0.3)
            + power(&(&root * b.matrix_power(1.0) * &root), 0.5).unwrap() * faer::Scale(0.7);
        assert!((&sum - &bary).norm_max() < 1e-8);
    }
}
