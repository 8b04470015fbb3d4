//! Texture synthesis (the paper's §4): start from uniform noise (or an init image), run the
//! multi-level pipeline with alpha 1, and feed the output back in for several iterations.
//! With `tileable`, every convolution and pooling wraps around, so the texture lives on a
//! torus and repeats seamlessly.

use super::mask::Mask;
use super::style::EncodedStyle;
use super::stylize::{StyleMix, Stylizer};
use crate::error::{Error, Result};
use crate::image_io::Picture;
use crate::model::{Border, Model, Precision};
use crate::progress::Progress;
use crate::rules::{self, Param, MAX_ITERATIONS};

/// Largest texture side accepted.
pub use crate::rules::MAX_TEXTURE_SIDE;

/// A validated texture job; build it with [`Texture::builder`].
#[derive(Debug, Clone)]
pub struct Texture<'a> {
    stylizer: Stylizer<'a>,
    width: usize,
    height: usize,
    /// Size synthesized at (tileable textures need sizes divisible by the pooling pyramid).
    work: (usize, usize),
    seed: u64,
    iterations: usize,
    init: Option<Picture>,
}

/// Parameters of a [`Texture`].
#[derive(Debug, Clone)]
pub struct TextureBuilder<'a> {
    model: &'a Model,
    styles: StyleMix<'a>,
    regions: Vec<(Mask, StyleMix<'a>)>,
    size: Option<(usize, usize)>,
    seed: u64,
    iterations: usize,
    levels: Option<Vec<usize>>,
    init: Option<Picture>,
    tileable: bool,
    feather: f32,
    tile: usize,
    precision: Precision,
}

impl<'a> Texture<'a> {
    /// Starts describing a texture synthesis with `model`; [`TextureBuilder::build`] checks it.
    pub fn builder(model: &'a Model) -> TextureBuilder<'a> {
        TextureBuilder {
            model,
            styles: Vec::new(),
            regions: Vec::new(),
            size: None,
            seed: 0,
            iterations: crate::rules::DEFAULT_ITERATIONS,
            levels: None,
            init: None,
            tileable: false,
            feather: 0.0,
            tile: super::tiling::DEFAULT_TILE,
            precision: Precision::F32,
        }
    }

    /// Output size.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Synthesizes the texture. Same parameters and seed → bit-identical output.
    pub fn run(&self, progress: &mut dyn Progress) -> Result<Picture> {
        let (ww, wh) = self.work;
        let start = match &self.init {
            Some(p) if (p.width, p.height) == (ww, wh) => Picture { alpha: None, ..p.clone() },
            Some(p) => Picture { alpha: None, ..p.resized(ww, wh) },
            None => uniform_noise(ww, wh, self.seed),
        };
        let (out, _) = self.stylizer.run_passes(&start, self.iterations, progress, None)?;
        Ok(if (ww, wh) == (self.width, self.height) { out } else { periodic_resize(&out, self.width, self.height) })
    }
}

impl<'a> TextureBuilder<'a> {
    /// Adds a texture style with weight 1 (several styles are interpolated).
    pub fn style(self, style: &'a EncodedStyle) -> Self {
        self.weighted_style(style, 1.0)
    }

    /// Adds a texture style with a blend weight (weights are normalised to sum to 1).
    pub fn weighted_style(mut self, style: &'a EncodedStyle, weight: f64) -> Self {
        self.styles.push((style, weight));
        self
    }

    /// Places `style` where `mask` (resized to the output) is > 0.5.
    pub fn region(mut self, mask: Mask, style: &'a EncodedStyle) -> Self {
        self.regions.push((mask, vec![(style, 1.0)]));
        self
    }

    /// Adds styles and masks by the convention of [`super::stylize::place_styles`]
    /// (N−1 masks for N styles: a texture has no content to keep).
    pub fn place(mut self, styles: &[&'a EncodedStyle], weights: Option<&[f64]>, masks: Vec<Mask>) -> Result<Self> {
        let (regions, rest) = super::stylize::place_styles(styles, weights, masks)?;
        self.regions.extend(regions);
        self.styles.extend(rest);
        Ok(self)
    }

    /// Output size in pixels. Default: the init image's size.
    pub fn size(mut self, width: usize, height: usize) -> Self {
        self.size = Some((width, height));
        self
    }

    /// Seed of the uniform noise the synthesis starts from (when no init image is given). Default 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Passes of the multi-level pipeline (the paper uses 3).
    pub fn iterations(mut self, n: usize) -> Self {
        self.iterations = n;
        self
    }

    /// Levels to run; they are run coarse to fine whatever the order given.
    /// Default: every level the model has.
    pub fn levels(mut self, levels: impl Into<Vec<usize>>) -> Self {
        self.levels = Some(levels.into());
        self
    }

    /// Start from this image instead of noise (resized to the output size if needed).
    pub fn init(mut self, init: Picture) -> Self {
        self.init = Some(init);
        self
    }

    /// Wrap-around borders in every convolution and pooling: the result tiles seamlessly.
    pub fn tileable(mut self, on: bool) -> Self {
        self.tileable = on;
        self
    }

    /// Arithmetic precision of the network (see [`super::StylizerBuilder::precision`]).
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// Largest tile edge processed at once (see [`super::StylizerBuilder::tile_size`]).
    pub fn tile_size(mut self, pixels: usize) -> Self {
        self.tile = pixels;
        self
    }

    /// Soft borders between mask regions, in output pixels.
    pub fn feather(mut self, pixels: f32) -> Self {
        self.feather = pixels;
        self
    }

    /// Checks the parameters and the styles against the model.
    pub fn build(self) -> Result<Texture<'a>> {
        let (width, height) = match (self.size, &self.init) {
            (Some(s), _) => s,
            (None, Some(p)) => (p.width, p.height),
            (None, None) => return Err(Error::param("texture size", "give a width and height (or an init image)")),
        };
        rules::int_in(Param::Width, width as i128, 1, MAX_TEXTURE_SIDE as i128)?;
        rules::int_in(Param::Height, height as i128, 1, MAX_TEXTURE_SIDE as i128)?;
        crate::image_io::check_size("texture size", width, height)?;
        if let Some(init) = &self.init {
            init.check("init image")?;
        }
        rules::int_in(Param::Iterations, self.iterations as i128, 1, MAX_ITERATIONS as i128)?;
        // The styles outside the regions count as one more "style" that has no mask.
        let regions = self.regions.len();
        rules::masks(regions, regions + usize::from(!self.styles.is_empty()), true)?;
        let mut b = Stylizer::builder(self.model)
            .alpha(1.0)
            .feather(self.feather)
            .tile_size(self.tile)
            .precision(self.precision)
            .border(if self.tileable { Border::Circular } else { Border::Reflect });
        if let Some(l) = self.levels {
            b = b.levels(l);
        }
        for (s, w) in self.styles {
            b = b.weighted_style(s, w);
        }
        for (m, mix) in self.regions {
            b = b.region_mix(m, mix);
        }
        let stylizer = b.build()?;
        let work = if self.tileable {
            // Each pooling halves the size: keep it even down the pyramid so it stays periodic.
            let top = stylizer.levels().iter().copied().max().unwrap_or(1);
            let q = 1usize << (top - 1);
            (width.div_ceil(q) * q, height.div_ceil(q) * q)
        } else {
            (width, height)
        };
        if work != (width, height) {
            crate::image_io::check_size(
                "tileable texture size (rounded up to the coarsest level's pooling scale)",
                work.0,
                work.1,
            )?;
        }
        Ok(Texture { stylizer, width, height, work, seed: self.seed, iterations: self.iterations, init: self.init })
    }
}

/// Uniform noise in 0..1, planar RGB, from a SplitMix64 stream seeded by `seed`.
pub fn uniform_noise(width: usize, height: usize, seed: u64) -> Picture {
    let mut state = seed;
    let rgb = (0..3 * width * height)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    Picture { width, height, rgb, alpha: None, high_depth: false }
}

/// Bilinear resize that wraps around at the borders, so a periodic image stays periodic.
pub fn periodic_resize(p: &Picture, width: usize, height: usize) -> Picture {
    let taps = |n_in: usize, n_out: usize| -> Vec<(usize, usize, f32)> {
        (0..n_out)
            .map(|o| {
                let c = (o as f64 + 0.5) * n_in as f64 / n_out as f64 - 0.5;
                let f = c.floor();
                let i0 = (f as i64).rem_euclid(n_in as i64) as usize;
                ((i0), (i0 + 1) % n_in, (c - f) as f32)
            })
            .collect()
    };
    let (xs, ys) = (taps(p.width, width), taps(p.height, height));
    let n_in = p.width * p.height;
    let mut rgb = Vec::with_capacity(3 * width * height);
    for c in 0..3 {
        let plane = &p.rgb[c * n_in..(c + 1) * n_in];
        for &(y0, y1, ty) in &ys {
            for &(x0, x1, tx) in &xs {
                let at = |y: usize, x: usize| plane[y * p.width + x];
                let top = at(y0, x0) * (1.0 - tx) + at(y0, x1) * tx;
                let bottom = at(y1, x0) * (1.0 - tx) + at(y1, x1) * tx;
                rgb.push(top * (1.0 - ty) + bottom * ty);
            }
        }
    }
    Picture { width, height, rgb, alpha: None, high_depth: p.high_depth }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_seeded_uniform() {
        let a = uniform_noise(16, 16, 42);
        assert_eq!(a, uniform_noise(16, 16, 42));
        assert_ne!(a.rgb, uniform_noise(16, 16, 43).rgb);
        assert!(a.rgb.iter().all(|v| (0.0..1.0).contains(v)));
        let mean: f32 = a.rgb.iter().sum::<f32>() / a.rgb.len() as f32;
        assert!((mean - 0.5).abs() < 0.05);
    }

    #[test]
    fn periodic_resize_of_identity_size_is_exact() {
        let a = uniform_noise(8, 6, 1);
        assert_eq!(periodic_resize(&a, 8, 6).rgb, a.rgb);
        let b = periodic_resize(&a, 5, 9);
        assert_eq!((b.width, b.height), (5, 9));
    }
}
