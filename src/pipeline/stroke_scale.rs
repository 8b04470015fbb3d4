//! Stroke scale: the style image is resampled by a factor before it is encoded, so the size
//! of its brush strokes relative to the content is the user's choice rather than a
//! consequence of the style file's resolution (2 = strokes twice as large). Several scales
//! may be mixed: their features are pooled into one set of statistics.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::image_io::{check_size, Picture};

/// Smallest side a rescaled style may have: the coarsest level still gets a few pixels.
pub const MIN_SCALED_SIDE: usize = 16;

/// The size of `picture` taken at `scale`, refused when too small or too large.
pub fn scaled_size(picture: &Picture, scale: f64) -> Result<(usize, usize)> {
    if scale == 1.0 {
        return Ok((picture.width, picture.height));
    }
    let side = |v: usize| (v as f64 * scale).round().max(1.0) as usize;
    let (w, h) = (side(picture.width), side(picture.height));
    if w.min(h) < MIN_SCALED_SIDE {
        return Err(Error::param(
            "stroke_scale",
            format!(
                "{scale} turns the {}×{} style into {w}×{h}; the shorter side must stay at least {MIN_SCALED_SIDE} pixels",
                picture.width, picture.height
            ),
        ));
    }
    check_size("style image at its stroke scale", w, h)?;
    Ok((w, h))
}

/// Memory [`rescale`] (or [`Picture::resized_with`]) needs to make a `width × height` copy of
/// `picture`: the copy and one plane's intermediate rows (source height × new width), plus
/// the filter taps. 0 when no copy is made.
pub fn rescale_bytes(picture: &Picture, width: usize, height: usize) -> u64 {
    if (width, height) == (picture.width, picture.height) {
        return 0;
    }
    let n = (width * height) as u64;
    let planes = 3 + u64::from(picture.alpha.is_some());
    let taps = 64 * (width + height) as u64 * (picture.width.div_ceil(width) + picture.height.div_ceil(height)) as u64;
    4 * (planes * n + picture.height as u64 * width as u64) + taps
}

/// `picture` resampled by `scale` (1 borrows it as is); `tick` is called after every band of
/// rows.
pub fn rescale<'a>(
    picture: &'a Picture,
    scale: f64,
    tick: &mut dyn FnMut(f32) -> Result<()>,
) -> Result<Cow<'a, Picture>> {
    let (w, h) = scaled_size(picture, scale)?;
    if (w, h) == (picture.width, picture.height) {
        return Ok(Cow::Borrowed(picture));
    }
    Ok(Cow::Owned(picture.resized_with(w, h, tick)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_both_sides_and_refuses_tiny_results() {
        let p = Picture::from_planar(40, 20, vec![0.5; 3 * 800]).unwrap();
        let big = rescale(&p, 2.0, &mut |_| Ok(())).unwrap();
        assert_eq!((big.width, big.height), (80, 40));
        assert_eq!(*rescale(&p, 1.0, &mut |_| Ok(())).unwrap(), p);
        assert!(rescale(&p, 0.5, &mut |_| Ok(())).unwrap_err().to_string().contains("stroke_scale"));
        // The banded resampler agrees with the image crate's Catmull-Rom, up and down.
        let p = Picture::from_planar(40, 20, (0..2400).map(|i| ((i * 37) % 101) as f32 / 100.0).collect()).unwrap();
        for (w, h) in [(80, 40), (17, 9), (130, 33)] {
            let (a, b) = (p.resized(w, h), p.resized_with(w, h, &mut |_| Ok(())).unwrap());
            let worst = a.rgb.iter().zip(&b.rgb).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
            assert!(worst < 1e-3, "{w}×{h}: differs by {worst}");
        }
    }
}
