//! The settings of a stylization or texture job, as a preset describes them and the command
//! line overrides them, and their translation into encoded styles and builder calls.

use std::path::PathBuf;

use crate::error::Result;
use crate::image_io;
use crate::model::{Model, Precision};
use crate::pipeline::{
    EncodedStyle, Mask, Modes, StyleEncoding, Stylizer, StylizerBuilder, Texture, TextureBuilder, TransformKind,
};
use crate::rules::{JobKind, RawParams, Violation};
use crate::style_cache::StyleEncoder;

pub use crate::rules::{MAX_FEATHER, MAX_ITERATIONS, MAX_STYLE_SIZE};

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
    /// Arithmetic precision of the network; default f32.
    pub precision: Option<Precision>,
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

impl Settings {
    /// These settings as the rules see them, for a job of `kind`.
    pub fn raw(&self, kind: JobKind) -> RawParams {
        let t = &self.texture;
        let int = |v: Option<usize>| v.map(|v| v as i128);
        let texture = kind == JobKind::Texture;
        RawParams {
            kind,
            styles: self.styles.len(),
            masks: self.masks.len(),
            blend: self.blend.clone(),
            feather: self.feather.map(f64::from),
            foreground_only: self.foreground_only,
            style_size: int(self.style_size),
            levels: self.levels.as_ref().map(|ls| ls.iter().map(|&l| l as i128).collect()),
            alpha: self.alpha,
            level_alpha: self.level_alpha.iter().map(|&(l, a)| (l as i128, a)).collect(),
            width: int(t.width).filter(|_| texture),
            height: int(t.height).filter(|_| texture),
            seed: t.seed.map(i128::from).filter(|_| texture),
            iterations: int(t.iterations).filter(|_| texture),
            tile_size: None,
            max_size: None,
        }
    }

    /// Checks every rule for a job of `kind` without reading any file.
    pub fn check(&self, kind: JobKind) -> Result<(), Violation> {
        self.raw(kind).check()
    }

    /// [`Settings::check`] for a stylization, and the modes' rules
    /// ([`crate::pipeline::modes`]); the error names the setting by its preset key.
    pub fn validate(&self) -> Result<()> {
        self.check(JobKind::Stylize)?;
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

    /// [`Settings::check`] for a texture, and its size against the pixel limit.
    pub fn validate_texture(&self) -> Result<()> {
        self.check(JobKind::Texture)?;
        self.check_texture_size()
    }

    /// The texture's size (when both sides are given) against the pixel limit.
    pub fn check_texture_size(&self) -> Result<()> {
        if let (Some(w), Some(h)) = (self.texture.width, self.texture.height) {
            image_io::check_size("texture size (width × height)", w, h)?;
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
        let regions =
            placed.into_iter().map(|(path, mix)| Ok((Mask::load(&path)?, mix[0].0))).collect::<Result<Vec<_>>>()?;
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
        if let Some(p) = self.precision {
            b = b.precision(p);
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
        if let Some(p) = self.precision {
            b = b.precision(p);
        }
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
