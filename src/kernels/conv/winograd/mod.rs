//! Winograd convolution for the wide layers: F(4×4, 3×3) (`f4`; 36 multiplications per 4×4
//! output tile and channel pair instead of 144). `transform` holds the jobs and the shared
//! row gathering, `pack` the transformed weights, `driver` the tiling and the batched products (run by the same
//! micro-kernels as the direct path, with a single tap).

pub(crate) mod bf16;
pub(crate) mod driver;
pub(crate) mod f4;
pub(crate) mod pack;
pub(crate) mod transform;

#[cfg(test)]
mod tests {
    use super::transform::{output, weight_inverse_of, weight_of, OutputJob};

    /// `Bᵀ` of F(4×4, 3×3), row-major 6².
    fn bt() -> Vec<f32> {
        vec![
            4., 0., -5., 0., 1., 0., //
            0., -4., -4., 1., 1., 0., //
            0., 4., -4., -1., 1., 0., //
            0., -2., -1., 2., 1., 0., //
            0., 2., -1., -2., 1., 0., //
            0., 4., 0., -5., 0., 1.,
        ]
    }

    fn kernel() -> Vec<f32> {
        (0..9).map(|i| (i as f32 * 0.37 - 1.1).sin()).collect()
    }

    #[test]
    fn weight_transforms_invert() {
        let g = kernel();
        for tile in [4] {
            let back = weight_inverse_of(tile, &weight_of(tile, &g));
            for (a, b) in g.iter().zip(back.iter()) {
                assert!((a - b).abs() < 1e-6, "F({tile}): {g:?} vs {back:?}");
            }
        }
    }

    /// One tile through all three transforms (the input transform written out as `Bᵀ d B`)
    /// equals the direct 3×3 correlation.
    #[test]
    fn one_tile_equals_direct() {
        let g = kernel();
        for tile in [4] {
            let n = tile + 2;
            let d: Vec<f32> = (0..n * n).map(|i| (i as f32 * 0.71 + 0.3).cos()).collect();
            let (u, b) = (weight_of(tile, &g), bt());
            let m: Vec<f32> = (0..n * n)
                .map(|xi| {
                    let (a, c) = (xi / n, xi % n);
                    let mut s = 0f32;
                    for k in 0..n {
                        for l in 0..n {
                            s += b[a * n + k] * d[n * k + l] * b[c * n + l];
                        }
                    }
                    s * u[xi]
                })
                .collect();
            let mut tmp = vec![0f32; tile * tile];
            output(&mut OutputJob {
                tile,
                m: &m,
                xi_stride: 1,
                base: 0,
                cols: 1,
                bias: 0.0,
                relu: false,
                tmp: &mut tmp,
            });
            for y in 0..tile {
                for x in 0..tile {
                    let mut want = 0f32;
                    for ky in 0..3 {
                        for kx in 0..3 {
                            want += d[n * (y + ky) + x + kx] * g[3 * ky + kx];
                        }
                    }
                    let got = tmp[tile * y + x];
                    assert!((got - want).abs() < 1e-4, "F({tile}) ({y},{x}): {got} vs {want}");
                }
            }
        }
    }
}
