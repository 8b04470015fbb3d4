//! Tiled processing for images too large to run whole: a level is processed tile by tile,
//! each tile extended by a halo that covers the receptive field of encoder and decoder, so
//! the tile's core comes out as it would from the whole image. Tile origins are aligned to
//! the level's pooling scale so pooling windows line up with the whole image's.

use candle_core::{Device, Tensor};

use crate::error::Result;
use crate::model::architecture::{decoder_plan, encoder_segment, Step};
use crate::model::Border;

/// Default edge of a tile's core in pixels.
pub const DEFAULT_TILE: usize = 1024;

/// Largest edge of a style tile's core: a style is only encoded for its statistics, so
/// small tiles cost little (their halos add ~15 % of encoder work) and bound its memory
/// whatever the job's tile size (a 3000² style: 1.70 GB peak with 1024 tiles, 0.57 GB with
/// 512, on the AVX-512 path).
pub const STYLE_TILE: usize = 512;

/// Pixels of the input that influence one output pixel of `encode → decode` at `level`,
/// on each side (the receptive-field radius), in image pixels.
pub fn halo(level: usize) -> usize {
    radius((1..=level).flat_map(encoder_segment).chain(decoder_plan(level)))
}

/// Pixels of the input that influence one feature of the encoder at `level`, on each side:
/// the halo a style tile needs (styles are only encoded, never decoded).
pub fn encoder_halo(level: usize) -> usize {
    radius((1..=level).flat_map(encoder_segment))
}

/// Receptive-field radius, in image pixels, of a sequence of network steps.
fn radius(steps: impl Iterator<Item = Step>) -> usize {
    let mut radius = 0;
    let mut scale = 1;
    for s in steps {
        match s {
            Step::Conv(_) => radius += scale,
            Step::Pool => {
                radius += scale;
                scale *= 2;
            }
            Step::Up => scale /= 2,
            Step::Tap(_) => {}
        }
    }
    radius
}

/// Pooling scale of level `level` (feature pixel = `scale` image pixels).
pub fn scale(level: usize) -> usize {
    1 << (level - 1)
}

/// A tile: its core (written to the output) and the extended region it is computed from.
/// Extended coordinates may lie outside the image for circular borders (they wrap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Core `[x0, x1) × [y0, y1)` in image pixels.
    pub x0: usize,
    pub x1: usize,
    pub y0: usize,
    pub y1: usize,
    /// Extended region origin and size.
    pub ex: isize,
    pub ey: isize,
    pub ew: usize,
    pub eh: usize,
}

impl Tile {
    /// The core's feature-map rectangle `(fx0, fy0, fw, fh)` in whole-image feature coordinates.
    pub fn core_features(&self, s: usize) -> (usize, usize, usize, usize) {
        let (fx0, fy0) = (self.x0 / s, self.y0 / s);
        (fx0, fy0, self.x1.div_ceil(s) - fx0, self.y1.div_ceil(s) - fy0)
    }

    /// Offset of the core features inside the extended tile's features.
    pub fn core_offset_features(&self, s: usize) -> (usize, usize) {
        (((self.x0 as isize - self.ex) as usize) / s, ((self.y0 as isize - self.ey) as usize) / s)
    }
}

/// How a level is split into tiles.
#[derive(Debug, Clone)]
pub struct TilePlan {
    pub tiles: Vec<Tile>,
    /// Border mode to run the network with on each tile.
    pub border: Border,
}

impl TilePlan {
    /// Splits a `width × height` image for `level` into cores of about `tile` pixels.
    /// A single tile covering everything runs with `border` as given; otherwise halos are
    /// clamped at the image edge (reflection) or wrap around (circular).
    pub fn new(width: usize, height: usize, level: usize, tile: usize, border: Border) -> Self {
        Self::with_halo(width, height, level, tile, border, halo(level))
    }

    /// As [`TilePlan::new`] for encoding only (styles): the halos cover the encoder's
    /// receptive field at `level`, which also covers every lower level's.
    pub fn for_encoder(width: usize, height: usize, level: usize, tile: usize) -> Self {
        Self::with_halo(width, height, level, tile, Border::Reflect, encoder_halo(level))
    }

    fn with_halo(width: usize, height: usize, level: usize, tile: usize, border: Border, halo: usize) -> Self {
        let s = scale(level);
        let core = (tile.max(s) / s) * s;
        if width <= core && height <= core {
            let t = Tile { x0: 0, x1: width, y0: 0, y1: height, ex: 0, ey: 0, ew: width, eh: height };
            return Self { tiles: vec![t], border };
        }
        // One extra feature pixel of margin for the pooling/upsampling alignment.
        let h = (halo + s).div_ceil(s) * s;
        let mut tiles = Vec::new();
        for y0 in (0..height).step_by(core) {
            for x0 in (0..width).step_by(core) {
                let (x1, y1) = ((x0 + core).min(width), (y0 + core).min(height));
                let (ex, ey, ex1, ey1) = match border {
                    Border::Reflect => (
                        x0.saturating_sub(h) as isize,
                        y0.saturating_sub(h) as isize,
                        (x1 + h).min(width) as isize,
                        (y1 + h).min(height) as isize,
                    ),
                    Border::Circular => {
                        (x0 as isize - h as isize, y0 as isize - h as isize, (x1 + h) as isize, (y1 + h) as isize)
                    }
                };
                tiles.push(Tile { x0, x1, y0, y1, ex, ey, ew: (ex1 - ex) as usize, eh: (ey1 - ey) as usize });
            }
        }
        Self { tiles, border: Border::Reflect }
    }

    pub fn is_whole(&self) -> bool {
        self.tiles.len() == 1
    }
}

/// Copies the extended region of `tile` out of planar `[3, height, width]` RGB (wrapping
/// coordinates outside the image) as a `[1, 3, eh, ew]` tensor.
pub fn extract(rgb: &[f32], width: usize, height: usize, tile: &Tile, device: &Device) -> Result<Tensor> {
    let n = width * height;
    let mut out = Vec::new();
    out.try_reserve_exact(3 * tile.ew * tile.eh).map_err(|_| crate::Error::Limits {
        what: "tile".into(),
        reason: format!("not enough memory for a {}×{} tile", tile.ew, tile.eh),
    })?;
    for c in 0..3 {
        let plane = &rgb[c * n..(c + 1) * n];
        for j in 0..tile.eh {
            let y = (tile.ey + j as isize).rem_euclid(height as isize) as usize;
            let row = &plane[y * width..(y + 1) * width];
            if tile.ex >= 0 && tile.ex as usize + tile.ew <= width {
                out.extend_from_slice(&row[tile.ex as usize..tile.ex as usize + tile.ew]);
            } else {
                out.extend((0..tile.ew).map(|i| row[(tile.ex + i as isize).rem_euclid(width as isize) as usize]));
            }
        }
    }
    Ok(Tensor::from_vec(out, (1, 3, tile.eh, tile.ew), device)?)
}

/// Writes the core of a decoded extended tile (`[1, 3, eh, ew]`) into planar RGB.
pub fn paste(decoded: &Tensor, tile: &Tile, rgb: &mut [f32], width: usize, height: usize) -> Result<()> {
    debug_assert_eq!(rgb.len(), 3 * width * height);
    // On the CPU the decoded values are read in place (no copy of the tile).
    if let Some(()) = crate::kernels::host::with_cpu_f32(decoded, |data| paste_values(data, tile, rgb, width))? {
        return Ok(());
    }
    let data: Vec<f32> = decoded.flatten_all()?.to_vec1()?;
    paste_values(&data, tile, rgb, width);
    Ok(())
}

fn paste_values(data: &[f32], tile: &Tile, rgb: &mut [f32], width: usize) {
    let n = rgb.len() / 3;
    let (ox, oy) = ((tile.x0 as isize - tile.ex) as usize, (tile.y0 as isize - tile.ey) as usize);
    let cw = tile.x1 - tile.x0;
    for c in 0..3 {
        for y in tile.y0..tile.y1 {
            let src = c * tile.ew * tile.eh + (y - tile.y0 + oy) * tile.ew + ox;
            let dst = c * n + y * width + tile.x0;
            rgb[dst..dst + cw].copy_from_slice(&data[src..src + cw]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halos_cover_the_receptive_field() {
        // level 1: conv1_1 in the encoder, conv1_1 in the decoder
        assert_eq!(halo(1), 2);
        // level 3: encoder 1+1+1+2+2+2+4, decoder 4+2+2+1+1
        assert_eq!(halo(3), 13 + 10);
        assert!(halo(5) > halo(4) && halo(4) > halo(3));
    }

    #[test]
    fn tiles_partition_the_image() {
        for border in [Border::Reflect, Border::Circular] {
            let plan = TilePlan::new(300, 170, 3, 64, border);
            let mut cover = vec![0u8; 300 * 170];
            for t in &plan.tiles {
                assert_eq!(t.x0 % 4, 0);
                assert_eq!((t.x0 as isize - t.ex) % 4, 0);
                for y in t.y0..t.y1 {
                    for x in t.x0..t.x1 {
                        cover[y * 300 + x] += 1;
                    }
                }
            }
            assert!(cover.iter().all(|&c| c == 1));
            // feature cores partition the feature map too
            let (fw, fh) = (300usize.div_ceil(4), 170usize.div_ceil(4));
            let mut fcover = vec![0u8; fw * fh];
            for t in &plan.tiles {
                let (fx, fy, w, h) = t.core_features(4);
                for y in fy..fy + h {
                    for x in fx..fx + w {
                        fcover[y * fw + x] += 1;
                    }
                }
            }
            assert!(fcover.iter().all(|&c| c == 1));
        }
        assert!(TilePlan::new(64, 64, 3, 64, Border::Circular).is_whole());
    }

    #[test]
    fn extract_wraps_and_paste_round_trips() {
        let (w, h) = (10, 6);
        let rgb: Vec<f32> = (0..3 * w * h).map(|i| i as f32).collect();
        let t = Tile { x0: 0, x1: 4, y0: 0, y1: 4, ex: -2, ey: -2, ew: 8, eh: 8 };
        let e = extract(&rgb, w, h, &t, &Device::Cpu).unwrap();
        let v: Vec<f32> = e.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(v[0], rgb[4 * w + 8]); // (-2,-2) wraps to (8,4)
        let mut out = vec![0f32; 3 * w * h];
        paste(&e, &t, &mut out, w, h).unwrap();
        assert_eq!(out[w + 1], rgb[w + 1]);
        assert_eq!(out[2 * w * h + 3 * w + 3], rgb[2 * w * h + 3 * w + 3]);
    }
}
