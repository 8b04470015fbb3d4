//! Previews: a stylization run on a downsampled copy of the host's pixels, so a host can show
//! the look of its current settings quickly before running at full size.

use super::mask::{area_resize, Mask};
use super::stylize::Stylizer;
use crate::error::{Error, Result};
use crate::image_io::{check_size, Picture};
use crate::progress::Progress;

/// `picture` resized to `width × height` by area average (alpha too).
pub fn area_downsample(picture: &Picture, width: usize, height: usize) -> Result<Picture> {
    let (w, h) = (picture.width, picture.height);
    let n = w * h;
    let mut rgb = Vec::with_capacity(3 * width * height);
    for c in 0..3 {
        rgb.extend(area_resize(&picture.rgb[c * n..(c + 1) * n], w, h, width, height)?);
    }
    Ok(Picture {
        width,
        height,
        rgb,
        alpha: picture.alpha.as_ref().map(|a| area_resize(a, w, h, width, height)).transpose()?,
        high_depth: picture.high_depth,
    })
}

impl Stylizer<'_> {
    /// Stylizes a `width × height` preview of `content` (aspect is the caller's choice; see
    /// [`crate::image_io::fitted_size`] for a longest side): the content and the masks are
    /// downsampled by area average and the feather radius scales with the picture, so the
    /// preview approximates the full run downscaled.
    pub fn preview(
        &self,
        content: &Picture,
        width: usize,
        height: usize,
        progress: &mut dyn Progress,
    ) -> Result<Picture> {
        if width == 0 || height == 0 {
            return Err(Error::param("preview size", format!("{width}×{height} is empty")));
        }
        check_size("preview", width, height)?;
        content.check("content")?;
        let small = area_downsample(content, width, height)?;
        let scale = ((width * height) as f64 / (content.width * content.height) as f64).sqrt();
        let masks = self
            .masks
            .iter()
            .map(|m| Mask::new(width, height, m.resize_smooth(width, height)?))
            .collect::<Result<Vec<_>>>()?;
        let preview = Stylizer {
            model: self.model,
            groups: self.groups.clone(),
            masks,
            levels: self.levels.clone(),
            alpha: self.alpha.clone(),
            border: self.border,
            feather: (self.feather as f64 * scale) as f32,
            foreground_only: self.foreground_only,
            preserve_color: self.preserve_color,
            tile: self.tile,
            modes: self.modes.clone(),
            precision: self.precision,
        };
        preview.run(&small, progress)
    }
}
