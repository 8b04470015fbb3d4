//! The settings of a stylization or texture job, as a preset describes them and the command
//! line overrides them, and their translation into encoded styles and builder calls.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::image_io;
use crate::model::{Model, MAX_LEVEL};
use crate::pipeline::texture::MAX_TEXTURE_SIDE;
use crate::pipeline::{EncodedStyle, Mask, Modes, StyleEncoding, Stylizer, StylizerBuilder, Texture, TextureBuilder, TransformKind};
use crate::style_cache::StyleEncoder;

/// Largest accepted `style_size`.
pub const MAX_STYLE_SIZE: usize = 32768;
/// Accepted `iterations` of a texture.
pub const MAX_ITERATIONS: usize = 100;
/// Largest accepted `feather` radius, in pixels.
pub const MAX_FEATHER: f64 = 10_000.0;

/// Everything a job takes besides the content image. `None` (or empty) means "not given":
/// the builders' defaults apply (alpha 1, all levels, 3 texture iterations, seed 0, …).
/// Names follow the preset keys, which are the command-line flags with `_` for `-`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// Style images (already resolved paths).
    pub styles: Vec<PathBuf>,
    /// Blend weights of the styles (no masks); default equal.
    pub blend: Option<Vec<f64>>,
    /// Region masks: N-1 (the last style takes the rest) or N for N styles.
    pub masks: Vec<PathBuf>,
    /// Soft region borders, in pixels.
    pub feather: Option<f32>,
    /// Longest side each style image is scaled down to before encoding.
    pub style_size: Option<usize>,
    /// Levels to run (coarse to fine whatever the order); default every level of the model.
    pub levels: Option<Vec<usize>>,
    pub alpha: Option<f64>,
    /// Per-level alpha overrides.
    pub level_alpha: Vec<(usize, f64)>,
    pub preserve_color: Option<bool>,
    pub foreground_only: Option<bool>,
    /// Swap content patches for style patches at the coarsest level.
    pub patch_swap: Option<bool>,
    /// `wct` (default) or `ost`.
    pub transform: Option<TransformKind>,
    /// Strength of the random variation, 0..1.
    pub variation: Option<f64>,
    /// Seed of the variation.
    pub seed: Option<u64>,
    /// Scales the style images are taken at (mixed).
    pub stroke_scale: Option<Vec<f64>>,
    /// Edge-preserving smoothing guided by the content.
    pub photo: Option<bool>,
    pub texture: TextureSettings,
}

/// The texture part of [`Settings`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextureSettings {
    /// Output size; default the init image's, else the first style's (after `style_size`).
    pub width: Option<usize>,
    pub height: Option<usize>,
    pub seed: Option<u64>,
    pub iterations: Option<usize>,
    pub tileable: Option<bool>,
    /// Start from this image instead of noise.
    pub init: Option<PathBuf>,
}

/// Styles encoded and masks loaded for one job; borrowed by the builders.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The encoded styles, in the order of [`Settings::styles`].
    pub styles: Vec<EncodedStyle>,
    /// Region masks, each with the index of its style.
    pub regions: Vec<(Mask, usize)>,
    /// Styles (index, weight) for the pixels no mask covers.
    pub global: Vec<(usize, f64)>,
    /// Levels to run, coarse to fine.
    pub levels: Vec<usize>,
}

fn range(name: &str, v: f64, min: f64, max: f64) -> Result<()> {
    Error::check_range(name, v, min, max)
}

impl Settings {
    /// Checks the combination without reading any file: numbers of styles, masks and blend
    /// weights, and every value's range. Errors name the setting by its preset key.
    pub fn validate(&self) -> Result<()> {
        let n = self.styles.len();
        if n == 0 {
            return Err(Error::param("style", "at least one style image is needed"));
        }
        if let Some(s) = self.style_size {
            if s == 0 || s > MAX_STYLE_SIZE {
                return Err(Error::param("style_size", format!("must be in 1..={MAX_STYLE_SIZE}, got {s}")));
            }
        }
        if let Some(f) = self.feather {
            range("feather", f as f64, 0.0, MAX_FEATHER)?;
        }
        if let Some(w) = &self.blend {
            if let Some((i, v)) = w.iter().enumerate().find(|(_, v)| !v.is_finite() || **v < 0.0) {
                return Err(Error::param("blend", format!("weight {} is {v}; weights must be finite and ≥ 0", i + 1)));
            }
            if w.iter().sum::<f64>() <= 0.0 {
                return Err(Error::param("blend", "the weights sum to 0"));
            }
        }
        // The placement rule of the CLI and the C ABI, checked on indices and paths.
        let indices: Vec<usize> = (0..n).collect();
        crate::place_styles(&indices, self.blend.as_deref(), self.masks.iter().collect())?;
        if let Some(levels) = &self.levels {
            if levels.is_empty() {
                return Err(Error::param("levels", "at least one level is needed"));
            }
            for (i, &l) in levels.iter().enumerate() {
                if !(1..=MAX_LEVEL).contains(&l) {
                    return Err(Error::param("levels", format!("{l} is not a level 1..{MAX_LEVEL}")));
                }
                if levels[..i].contains(&l) {
                    return Err(Error::param("levels", format!("level {l} is listed twice")));
                }
            }
        }
        if let Some(a) = self.alpha {
            range("alpha", a, 0.0, 1.0)?;
        }
        for &(l, a) in &self.level_alpha {
            range(&format!("alpha at level {l}"), a, 0.0, 1.0)?;
            if let Some(levels) = &self.levels {
                if !levels.contains(&l) {
                    return Err(Error::param("level_alpha", format!("level {l} is not among the levels being run")));
                }
            }
        }
        self.modes().validate_with_masks(self.masks.len())
    }

    /// The modes these settings ask for (defaults for what they do not give).
    pub fn modes(&self) -> Modes {
        let d = Modes::default();
        Modes {
            patch_swap: self.patch_swap.unwrap_or(d.patch_swap),
            transform: self.transform.unwrap_or(d.transform),
            variation: self.variation.unwrap_or(d.variation),
            seed: self.seed.unwrap_or(d.seed),
            stroke_scale: self.stroke_scale.clone().unwrap_or(d.stroke_scale),
            photo: self.photo.unwrap_or(d.photo),
        }
    }

    /// [`Settings::validate`] plus the texture settings and the rules particular to textures.
    pub fn validate_texture(&self) -> Result<()> {
        self.validate()?;
        let t = &self.texture;
        for (name, v) in [("width", t.width), ("height", t.height)] {
            if let Some(v) = v {
                range(name, v as f64, 1.0, MAX_TEXTURE_SIDE as f64)?;
            }
        }
        if let (Some(w), Some(h)) = (t.width, t.height) {
            image_io::check_size("texture size (width × height)", w, h)?;
        }
        if let Some(i) = t.iterations {
            range("iterations", i as f64, 1.0, MAX_ITERATIONS as f64)?;
        }
        if !self.masks.is_empty() && self.masks.len() == self.styles.len() {
            return Err(Error::param("mask", "a texture has no content to keep: give one mask fewer than styles"));
        }
        Ok(())
    }

    /// The levels to run: the given ones or every level of `model`, coarse to fine, each
    /// checked against the model.
    pub fn levels_for(&self, model: &Model) -> Result<Vec<usize>> {
        let mut levels = self.levels.clone().unwrap_or_else(|| model.levels());
        for &l in &levels {
            model.check_level(l)?;
        }
        levels.sort_unstable_by(|a, b| b.cmp(a));
        Ok(levels)
    }

    /// Loads the masks and encodes the styles through `encoder` (and its cache, if any).
    pub fn prepare(&self, encoder: &mut StyleEncoder<'_>) -> Result<Prepared> {
        self.validate()?;
        let levels = self.levels_for(encoder.model())?;
        let indices: Vec<usize> = (0..self.styles.len()).collect();
        let (placed, global) = crate::place_styles(&indices, self.blend.as_deref(), self.masks.clone())?;
        let regions = placed
            .into_iter()
            .map(|(path, mix)| Ok((Mask::load(&path)?, mix[0].0)))
            .collect::<Result<Vec<_>>>()?;
        let modes = self.modes();
        let encoding = StyleEncoding::for_job(&modes.stroke_scale, modes.patch_swap, &levels);
        let styles = self
            .styles
            .iter()
            .map(|p| encoder.encode_with(p, self.style_size, &levels, &encoding))
            .collect::<Result<Vec<_>>>()?;
        Ok(Prepared { styles, regions, global, levels })
    }

    /// Sets everything these settings give on a stylizer builder (texture settings are ignored).
    pub fn apply_to_stylizer<'a>(&self, mut b: StylizerBuilder<'a>, p: &'a Prepared) -> StylizerBuilder<'a> {
        b = b.levels(p.levels.clone());
        if let Some(a) = self.alpha {
            b = b.alpha(a);
        }
        for &(l, a) in &self.level_alpha {
            b = b.level_alpha(l, a);
        }
        if let Some(f) = self.feather {
            b = b.feather(f);
        }
        if let Some(on) = self.preserve_color {
            b = b.preserve_color(on);
        }
        if let Some(on) = self.foreground_only {
            b = b.foreground_only(on);
        }
        b = b.modes(self.modes());
        for (mask, s) in &p.regions {
            b = b.region(mask.clone(), &p.styles[*s]);
        }
        for &(s, w) in &p.global {
            b = b.weighted_style(&p.styles[s], w);
        }
        b
    }

    /// A stylizer builder for `model` with these settings; add anything else, then `build`.
    pub fn stylizer<'a>(&self, model: &'a Model, p: &'a Prepared) -> StylizerBuilder<'a> {
        self.apply_to_stylizer(Stylizer::builder(model), p)
    }

    /// Sets everything these settings give on a texture builder (stylization-only settings —
    /// alpha, level_alpha, preserve_color, foreground_only — are ignored). Loads the init
    /// image, and reads the first style's header for the default size.
    pub fn apply_to_texture<'a>(&self, mut b: TextureBuilder<'a>, p: &'a Prepared) -> Result<TextureBuilder<'a>> {
        self.validate_texture()?;
        let t = &self.texture;
        let init = t.init.as_deref().map(|i| image_io::load_picture(i, "init image")).transpose()?;
        let (width, height) = match (t.width, t.height) {
            (Some(w), Some(h)) => (w, h),
            (w, h) => {
                let (dw, dh) = match &init {
                    Some(i) => (i.width, i.height),
                    None => {
                        let (w, h) = image_io::image_size(&self.styles[0], "style image")?;
                        image_io::fitted_size(w, h, self.style_size.unwrap_or(0))
                    }
                };
                (w.unwrap_or(dw), h.unwrap_or(dh))
            }
        };
        b = b.size(width, height).levels(p.levels.clone());
        if let Some(s) = t.seed {
            b = b.seed(s);
        }
        if let Some(i) = t.iterations {
            b = b.iterations(i);
        }
        if let Some(on) = t.tileable {
            b = b.tileable(on);
        }
        if let Some(f) = self.feather {
            b = b.feather(f);
        }
        if let Some(i) = init {
            b = b.init(i);
        }
        for (mask, s) in &p.regions {
            b = b.region(mask.clone(), &p.styles[*s]);
        }
        for &(s, w) in &p.global {
            b = b.weighted_style(&p.styles[s], w);
        }
        Ok(b)
    }

    /// A texture builder for `model` with these settings; add anything else, then `build`.
    pub fn texture<'a>(&self, model: &'a Model, p: &'a Prepared) -> Result<TextureBuilder<'a>> {
        self.apply_to_texture(Texture::builder(model), p)
    }
}
