//! Functions of symmetric positive semi-definite matrices (f64): powers through the
//! eigendecomposition, with the project's eigenvalue cut-off for negative powers.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self_adjoint_evd, self_adjoint_evd_scratch, ComputeEigenvectors};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

use super::stats::EIGEN_EPS;
use crate::error::{Error, Result};

/// `a · b`, single-threaded: the f64 maps must not depend on the thread count.
pub fn mul(a: &Mat<f64>, b: &Mat<f64>) -> Mat<f64> {
    let mut out = Mat::<f64>::zeros(a.nrows(), b.ncols());
    matmul(out.as_mut(), Accum::Replace, a.as_ref(), b.as_ref(), 1.0, Par::Seq);
    out
}

/// `E diag(f(λ)) Eᵀ` from eigenvectors (columns of `e`) and the values `f(λ)`.
pub fn from_eigen(e: MatRef<f64>, scale: &[f64]) -> Mat<f64> {
    let scaled = Mat::from_fn(e.nrows(), e.ncols(), |i, j| e[(i, j)] * scale[j]);
    let mut out = Mat::<f64>::zeros(e.nrows(), e.nrows());
    matmul(out.as_mut(), Accum::Replace, scaled.as_ref(), e.transpose(), 1.0, Par::Seq);
    out
}

/// `E diag(λ^p) Eᵀ` of the symmetric matrix `m`. Negative eigenvalues (rounding) count as 0;
/// for `p < 0` eigenvalues below [`EIGEN_EPS`] are dropped (a pseudo-inverse power).
/// Single-threaded throughout, so the result does not depend on the thread count.
pub fn power(m: &Mat<f64>, p: f64) -> Result<Mat<f64>> {
    let c = m.nrows();
    if m.col_iter().any(|col| col.iter().any(|v| !v.is_finite())) {
        return Err(Error::Linalg {
            what: "transport map".into(),
            reason: "a matrix holds NaN or infinite values".into(),
        });
    }
    // Symmetrise: products of symmetric matrices drift by rounding.
    let sym = Mat::from_fn(c, c, |i, j| 0.5 * (m[(i, j)] + m[(j, i)]));
    let (s, vectors) = eigh(&sym)?;
    let scale: Vec<f64> = s
        .iter()
        .map(|&v| {
            let v = v.max(0.0);
            if (p < 0.0 && v < EIGEN_EPS) || v == 0.0 {
                0.0
            } else {
                v.powf(p)
            }
        })
        .collect();
    Ok(from_eigen(vectors.as_ref(), &scale))
}

/// Eigenvalues (ascending) and eigenvectors (columns) of the symmetric matrix `m` (its lower
/// triangle is read), single-threaded so that they do not depend on the thread count.
pub fn eigh(m: &Mat<f64>) -> Result<(Vec<f64>, Mat<f64>)> {
    let c = m.nrows();
    let mut values = Diag::<f64>::zeros(c);
    let mut vectors = Mat::<f64>::zeros(c, c);
    let scratch = self_adjoint_evd_scratch::<f64>(c, ComputeEigenvectors::Yes, Par::Seq, Default::default());
    self_adjoint_evd(
        m.as_ref(),
        values.as_mut(),
        Some(vectors.as_mut()),
        Par::Seq,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    )
    .map_err(|e| Error::Linalg { what: "symmetric matrix".into(), reason: format!("{e:?}") })?;
    Ok((values.column_vector().iter().copied().collect(), vectors))
}

/// The identity matrix of size `c`.
#[cfg(test)]
pub(crate) fn identity(c: usize) -> Mat<f64> {
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
