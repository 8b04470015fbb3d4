//! Entry points for the fuzz targets (`fuzz/`) and regression tests: the C ABI's
//! image-descriptor validation and conversions, reachable without a model. Not a stable API.

pub use super::image::{IMAGE_V1_SIZE, MAX_SIDE};

use super::image::{check, UnistyleImage};
use super::status::{Fail, Status, UNISTYLE_ERR_INVALID};
use crate::image_io::Picture;

/// The status and message of a rejected descriptor.
pub type Rejection = (Status, String);

fn rejection(f: Fail) -> Rejection {
    (f.0, f.1)
}

/// Validates `d` as every entry point taking a `unistyle_image` does.
///
/// # Safety
/// `d` must be NULL or point to a readable descriptor. `d.data` is not read.
pub unsafe fn check_image(d: *const UnistyleImage) -> Result<(), Rejection> {
    // SAFETY: forwarded from the caller.
    unsafe { check(d, "image") }.map(|_| ()).map_err(rejection)
}

/// Validates `d` and copies its pixels out, as `unistyle_stylize` does with its input.
///
/// # Safety
/// As [`check_image`]; if `d` passes validation, `d.data` must point to at least
/// `stride × (height − 1) + width × channels × sample size` readable bytes.
pub unsafe fn image_to_picture(d: *const UnistyleImage) -> Result<Picture, Rejection> {
    // SAFETY: forwarded from the caller.
    unsafe { check(d, "image").and_then(|c| c.to_picture("image")) }.map_err(rejection)
}

/// Validates `d` and reads it as a mask, as the options' `masks` are read. Returns the
/// mask's samples.
///
/// # Safety
/// As [`image_to_picture`].
pub unsafe fn image_to_mask(d: *const UnistyleImage) -> Result<Vec<f32>, Rejection> {
    // SAFETY: forwarded from the caller.
    unsafe { check(d, "mask").and_then(|c| c.to_mask("mask")) }
        .map(|m| m.data.into_iter().map(|v| v as f32 / 255.0).collect())
        .map_err(rejection)
}

/// Validates `d` and writes `p` into it, as results are written to the output descriptor.
/// `p` must have the descriptor's size.
///
/// # Safety
/// As [`image_to_picture`], the bytes writable.
pub unsafe fn picture_to_image(p: &Picture, d: *const UnistyleImage) -> Result<(), Rejection> {
    // SAFETY: forwarded from the caller.
    let c = unsafe { check(d, "output") }.map_err(rejection)?;
    if (c.width(), c.height()) != (p.width, p.height) {
        return Err((UNISTYLE_ERR_INVALID, "picture and descriptor sizes differ".into()));
    }
    // SAFETY: forwarded from the caller; sizes match.
    unsafe { c.write_picture(p) };
    Ok(())
}
