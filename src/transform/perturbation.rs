//! Deep feature perturbation (Wang et al., CVPR 2020): a random orthogonal matrix inserted
//! between whitening and colouring. Whitened features stay white under any rotation, so the
//! output keeps the style's statistics while its spatial arrangement of colours and strokes
//! changes: one seed, one variation, reproducible bit for bit.

use faer::Mat;

/// One SplitMix64 step.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one transform of a run: the user's seed mixed with the level and the region
/// group, so that every level and region gets its own rotation.
pub fn derive_seed(seed: u64, level: usize, group: usize) -> u64 {
    let mut s = seed ^ ((level as u64) << 48) ^ ((group as u64) << 32);
    splitmix(&mut s)
}

/// Standard normal samples (Box–Muller on SplitMix64), deterministic in `seed`.
fn gaussians(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    let mut uniform = || ((splitmix(&mut state) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let (u, v) = (uniform(), uniform());
        let r = (-2.0 * u.ln()).sqrt();
        let a = std::f64::consts::TAU * v;
        out.push(r * a.cos());
        out.push(r * a.sin());
    }
    out.truncate(n);
    out
}

/// A random `c × c` orthogonal matrix, uniformly distributed (Haar): Gram–Schmidt (twice,
/// for orthogonality to rounding) on the columns of a Gaussian matrix.
pub fn random_orthogonal(c: usize, seed: u64) -> Mat<f64> {
    let g = gaussians(c * c, seed);
    let mut q = Mat::from_fn(c, c, |i, j| g[j * c + i]);
    for j in 0..c {
        for _ in 0..2 {
            for k in 0..j {
                let dot: f64 = (0..c).map(|i| q[(i, k)] * q[(i, j)]).sum();
                for i in 0..c {
                    let v = q[(i, k)];
                    q[(i, j)] -= dot * v;
                }
            }
        }
        let norm = (0..c).map(|i| q[(i, j)] * q[(i, j)]).sum::<f64>().sqrt();
        for i in 0..c {
            q[(i, j)] /= norm;
        }
    }
    q
}

/// `(1 − λ) I + λ Q`: the perturbation of strength `λ` applied to whitened features.
#[cfg(test)]
pub(crate) fn perturbation(c: usize, strength: f64, seed: u64) -> Mat<f64> {
    let q = random_orthogonal(c, seed);
    Mat::from_fn(c, c, |i, j| strength * q[(i, j)] + if i == j { 1.0 - strength } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::symmetric::identity;

    #[test]
    fn orthogonal_and_seeded() {
        let q = random_orthogonal(40, 7);
        assert!((q.transpose() * &q - identity(40)).norm_max() < 1e-12);
        assert_eq!(random_orthogonal(40, 7), q, "same seed, same matrix");
        assert!((random_orthogonal(40, 8) - &q).norm_max() > 0.1, "another seed, another matrix");
        assert_eq!(perturbation(5, 0.0, 3), identity(5));
        assert_ne!(derive_seed(1, 3, 0), derive_seed(1, 2, 0));
        assert_ne!(derive_seed(1, 3, 0), derive_seed(1, 3, 1));
    }
}
