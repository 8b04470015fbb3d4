//! Winograd F(2×2, 3×3) convolution for the wide layers: 16 multiplications per 2×2 output
//! tile and channel pair instead of 36. `transform` holds the three transforms, `pack` the
//! transformed weights, `driver` the tiling and the batched products (run by the same
//! micro-kernels as the direct path, with a single tap).

pub(crate) mod driver;
pub(crate) mod pack;
pub(crate) mod transform;
