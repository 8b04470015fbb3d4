//! Stroke scale: the style image is resampled by a factor before it is encoded, so the size
//! of its brush strokes relative to the content is the user's choice rather than a
//! consequence of the style file's resolution (2 = strokes twice as large). Several scales
//! may be mixed: their features are pooled into one set of statistics.

use crate::error::{Error, Result};
use crate::image_io::{check_size, Picture};

/// Smallest side a rescaled style may have: the coarsest level still gets a few pixels.
pub const MIN_SCALED_SIDE: usize = 16;

/// `picture` resampled by `scale` (1 returns it as is).
pub fn rescale(picture: &Picture, scale: f64) -> Result<Picture> {
    if scale == 1.0 {
        return Ok(picture.clone());
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
    Ok(picture.resized(w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_both_sides_and_refuses_tiny_results() {
        let p = Picture::from_planar(40, 20, vec![0.5; 3 * 800]).unwrap();
        let big = rescale(&p, 2.0).unwrap();
        assert_eq!((big.width, big.height), (80, 40));
        assert_eq!(rescale(&p, 1.0).unwrap(), p);
        assert!(rescale(&p, 0.5).unwrap_err().to_string().contains("stroke_scale"));
    }
}
