//! Functions of symmetric positive semi-definite matrices (f64): powers through the
//! eigendecomposition, with the project's eigenvalue cut-off for negative powers.

use faer::{Mat, Side};

use super::stats::EIGEN_EPS;
use crate::error::{Error, Result};

/// `E diag(λ^p) Eᵀ` of the symmetric matrix `m`. Negative eigenvalues (rounding) count as 0;
/// for `p < 0` eigenvalues below [`EIGEN_EPS`] are dropped (a pseudo-inverse power).
pub fn power(m: &Mat<f64>, p: f64) -> Result<Mat<f64>> {
    let c = m.nrows();
    if m.col_iter().any(|col| col.iter().any(|v| !v.is_finite())) {
        return Err(Error::Linalg { what: "transport map".into(), reason: "a matrix holds NaN or infinite values".into() });
    }
    // Symmetrise: products of symmetric matrices drift by rounding.
    let sym = Mat::from_fn(c, c, |i, j| 0.5 * (m[(i, j)] + m[(j, i)]));
    let evd = sym
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| Error::Linalg { what: "transport map".into(), reason: format!("{e:?}") })?;
    let (u, s) = (evd.U(), evd.S());
    let s = s.column_vector();
    let scale: Vec<f64> = (0..c)
        .map(|j| {
            let v = s[j].max(0.0);
            if p < 0.0 && v < EIGEN_EPS {
                0.0
            } else if v == 0.0 {
                0.0
            } else {
                v.powf(p)
            }
        })
        .collect();
    let scaled = Mat::from_fn(c, c, |i, j| u[(i, j)] * scale[j]);
    Ok(&scaled * u.transpose())
}

/// The identity matrix of size `c`.
pub fn identity(c: usize) -> Mat<f64> {
    Mat::from_fn(c, c, |i, j| if i == j { 1.0 } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_root_squares_back() {
        let a = Mat::from_fn(3, 3, |i, j| [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]][i][j]);
        let r = power(&a, 0.5).unwrap();
        assert!((&r * &r - &a).norm_max() < 1e-12);
        let inv = power(&a, -1.0).unwrap();
        assert!((&inv * &a - identity(3)).norm_max() < 1e-12);
    }
}
