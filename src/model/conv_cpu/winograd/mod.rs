//! Winograd convolution for the wide layers: F(4×4, 3×3) (`f4`; 36 multiplications per 4×4
//! output tile and channel pair instead of 144) and F(2×2, 3×3) (`transform`; 16 instead of
//! 36). `transform` holds the shared row gathering and the F(2×2) transforms, `pack` the
//! transformed weights, `driver` the tiling and the batched products (run by the same
//! micro-kernels as the direct path, with a single tap).

pub(crate) mod driver;
pub(crate) mod f4;
pub(crate) mod pack;
pub(crate) mod transform;
