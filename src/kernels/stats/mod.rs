//! The transform's passes over feature maps: the f64 mean and centred cross-products
//! (`moments`) and the f32 affine map (`map_apply`), as register-tiled kernels of the
//! configured family (AVX-512 intrinsics in `avx512`; AVX2 intrinsics for the cross-products
//! in `avx2`; elsewhere a portable version of the same blocking, compiled for AVX2 + FMA where
//! the CPU has them).

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
pub(crate) mod map_apply;
pub(crate) mod moments;

pub(crate) use map_apply::PackedMap;
pub(crate) use moments::moments;
