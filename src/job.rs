//! One description of a whole job — a stylization or a texture — and one way to run it.
//!
//! Every front end translates its own syntax into a [`Job`]: the command line its flags, the
//! preset loader its TOML keys, the C ABI its option structs and handles. [`Job::check`] is
//! the one place the parameter rules ([`crate::rules`]) are applied to a job, before any
//! file or pixel is read; a broken rule comes back as a [`Violation`] that each front end
//! names in its own terms. [`Job::prepare`] then reads the inputs (encoding the styles,
//! through the style cache when they are files) and [`Job::stylizer`] / [`Job::texture`] are
//! the one translation of a job into the pipeline's builders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Result;
use crate::image_io::{self, Picture};
use crate::model::{Model, Precision};
use crate::pipeline::{
    EncodedStyle, Mask, Modes, StyleEncoding, Stylizer, StylizerBuilder, Texture, TextureBuilder, TransformKind,
};
use crate::progress::{Progress, Silent, Span};
use crate::rules::{JobKind, RawParams, Violation};
use crate::style_cache::StyleEncoder;

/// Where a style comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum StyleInput {
    /// An image file, encoded (through the style cache, if any) when the job is prepared.
    File(PathBuf),
    /// A style encoded already for every level of the model, with the picture it was encoded
    /// from: modes that take the style at other scales or need its feature maps encode that
    /// picture again.
    Encoded { style: Arc<EncodedStyle>, source: Arc<Picture> },
}

/// Where a region mask comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum MaskInput {
    /// A grayscale image file, read when the job is prepared.
    File(PathBuf),
    /// A mask in memory.
    Mask(Mask),
}

/// Where a picture (a texture's start image) comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum PictureInput {
    /// An image file, read when the texture builder is made.
    File(PathBuf),
    /// A picture in memory.
    Picture(Picture),
}

impl StyleInput {
    /// The file, for a style read from one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            StyleInput::File(p) => Some(p),
            StyleInput::Encoded { .. } => None,
        }
    }
}

impl MaskInput {
    /// The file, for a mask read from one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            MaskInput::File(p) => Some(p),
            MaskInput::Mask(_) => None,
        }
    }
}

impl PictureInput {
    /// The file, for a picture read from one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            PictureInput::File(p) => Some(p),
            PictureInput::Picture(_) => None,
        }
    }
}

/// Everything a job takes besides the content image. `None` (or empty) means "not given":
/// the builders' defaults apply (alpha 1, all levels, 3 texture iterations, seed 0, …),
/// which are the defaults of [`crate::rules::BOUNDS`]. Names follow the preset keys, which
/// are the command-line flags with `_` for `-`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Job {
    /// A stylization or a texture: which rules apply and which builder runs it.
    pub kind: JobKind,
    pub styles: Vec<StyleInput>,
    /// Blend weights of the styles (no masks); default equal.
    pub blend: Option<Vec<f64>>,
    /// Region masks: N-1 (the last style takes the rest) or N for N styles.
    pub masks: Vec<MaskInput>,
    /// Soft region borders, in pixels.
    pub feather: Option<f32>,
    /// Longest side each style image file is scaled down to before encoding.
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
    /// Largest tile edge processed at once; default [`crate::pipeline::DEFAULT_TILE`].
    pub tile_size: Option<usize>,
    /// Longest side the content is scaled down to (applied by the front end that reads the
    /// content); checked with the other rules.
    pub max_size: Option<usize>,
    pub texture: TextureJob,
}

/// The texture part of a [`Job`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextureJob {
    /// Output size; default the init image's, else the first style's (after `style_size`).
    pub width: Option<usize>,
    pub height: Option<usize>,
    pub seed: Option<u64>,
    pub iterations: Option<usize>,
    pub tileable: Option<bool>,
    /// Start from this image instead of noise.
    pub init: Option<PictureInput>,
}

/// A job's inputs read: styles encoded and masks loaded; borrowed by the builders.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The encoded styles, in the order of [`Job::styles`].
    pub styles: Vec<Arc<EncodedStyle>>,
    /// Region masks, each with the index of its style.
    pub regions: Vec<(Mask, usize)>,
    /// Styles (index, weight) for the pixels no mask covers.
    pub global: Vec<(usize, f64)>,
    /// Levels to run, coarse to fine.
    pub levels: Vec<usize>,
}

impl Job {
    /// An empty job of `kind` (no styles yet; every parameter at its default).
    pub fn new(kind: JobKind) -> Self {
        Job { kind, ..Job::default() }
    }

    /// The style images that are files.
    pub fn style_files(&self) -> Vec<&Path> {
        self.styles.iter().filter_map(StyleInput::file).collect()
    }

    /// Every file the job reads besides its content: styles, masks, the texture's init image.
    pub fn files(&self) -> Vec<&Path> {
        let mut files = self.style_files();
        files.extend(self.masks.iter().filter_map(MaskInput::file));
        files.extend(self.texture.init.as_ref().and_then(PictureInput::file));
        files
    }

    /// This job as the rules see it.
    pub fn raw(&self) -> RawParams {
        let t = &self.texture;
        let int = |v: Option<usize>| v.map(|v| v as i128);
        let texture = self.kind == JobKind::Texture;
        RawParams {
            kind: self.kind,
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
            tile_size: int(self.tile_size),
            max_size: int(self.max_size),
            patch_swap: self.patch_swap,
            ost: self.transform.map(|t| t == TransformKind::Ost),
            variation: self.variation,
            stroke_scale: self.stroke_scale.clone(),
        }
    }

    /// Checks every parameter rule, reading no file: the one check of a job. The broken rule
    /// comes back for the front end to name in its own terms.
    pub fn check(&self) -> Result<(), Violation> {
        self.raw().check()
    }

    /// [`Job::check`], the broken rule named by its preset key, and a texture's size against
    /// the pixel limit.
    pub fn validate(&self) -> Result<()> {
        self.check()?;
        self.check_texture_size()
    }

    /// The texture's size (when both sides are given) against the pixel limit.
    pub fn check_texture_size(&self) -> Result<()> {
        if self.kind != JobKind::Texture {
            return Ok(());
        }
        if let (Some(w), Some(h)) = (self.texture.width, self.texture.height) {
            image_io::check_size("texture size (width × height)", w, h)?;
        }
        Ok(())
    }

    /// The modes this job asks for (defaults for what it does not give).
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

    /// How the styles must be encoded for this job run at `levels`.
    pub fn style_encoding(&self, levels: &[usize]) -> StyleEncoding {
        let modes = self.modes();
        StyleEncoding::for_job(&modes.stroke_scale, modes.patch_swap, levels)
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

    /// Validates the job, loads its masks and encodes its styles through `encoder` (and its
    /// cache, if any).
    pub fn prepare(&self, encoder: &mut StyleEncoder<'_>) -> Result<Prepared> {
        self.prepare_with(encoder, &mut Silent)
    }

    /// As [`Job::prepare`]; styles given encoded that the job's modes need encoded again
    /// report on `progress` (each its share of 0..1, cancellable after every tile).
    pub fn prepare_with(&self, encoder: &mut StyleEncoder<'_>, progress: &mut dyn Progress) -> Result<Prepared> {
        self.validate()?;
        if let Some(t) = self.tile_size {
            encoder.set_tile_size(t);
        }
        let model = encoder.model();
        let levels = self.levels_for(model)?;
        let indices: Vec<usize> = (0..self.styles.len()).collect();
        let (placed, global) = crate::pipeline::place_styles(&indices, self.blend.as_deref(), self.masks.clone())?;
        let regions = placed
            .into_iter()
            .map(|(input, mix)| {
                let mask = match input {
                    MaskInput::File(path) => Mask::load(&path)?,
                    MaskInput::Mask(m) => m,
                };
                Ok((mask, mix[0].0))
            })
            .collect::<Result<Vec<_>>>()?;
        let encoding = self.style_encoding(&levels);
        let count = self.styles.len() as f32;
        let mut styles = Vec::with_capacity(self.styles.len());
        for (i, input) in self.styles.iter().enumerate() {
            styles.push(match input {
                StyleInput::File(path) => Arc::new(encoder.encode_with(path, self.style_size, &levels, &encoding)?),
                StyleInput::Encoded { style, .. } if encoding.is_plain() => Arc::clone(style),
                StyleInput::Encoded { source, .. } => {
                    let from = i as f32 / count;
                    let mut part = Span { inner: &mut *progress, from, to: from + 1.0 / count };
                    Arc::new(encoder.encode_picture(source, &model.levels(), &encoding, &mut part)?)
                }
            });
        }
        Ok(Prepared { styles, regions, global, levels })
    }

    /// The stylizer builder of this job for `model`: the one translation of a job into the
    /// pipeline (texture settings are ignored); add anything else, then `build`.
    pub fn stylizer<'a>(&self, model: &'a Model, p: &'a Prepared) -> StylizerBuilder<'a> {
        let mut b = Stylizer::builder(model).levels(p.levels.clone());
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
        if let Some(t) = self.tile_size {
            b = b.tile_size(t);
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

    /// The texture builder of this job for `model` (stylization-only settings — alpha,
    /// level_alpha, preserve_color, foreground_only, the modes — are ignored). Reads the
    /// init image, and the first style's header for the default size.
    pub fn texture<'a>(&self, model: &'a Model, p: &'a Prepared) -> Result<TextureBuilder<'a>> {
        self.validate()?;
        let t = &self.texture;
        let init = match &t.init {
            Some(PictureInput::File(path)) => Some(image_io::load_picture(path, "init image")?),
            Some(PictureInput::Picture(p)) => Some(p.clone()),
            None => None,
        };
        let (width, height) = match (t.width, t.height) {
            (Some(w), Some(h)) => (w, h),
            (w, h) => {
                let (dw, dh) = match (&init, &self.styles[0]) {
                    (Some(i), _) => (i.width, i.height),
                    (None, StyleInput::File(path)) => {
                        let (w, h) = image_io::image_size(path, "style image")?;
                        image_io::fitted_size(w, h, self.style_size.unwrap_or(0))
                    }
                    (None, StyleInput::Encoded { source, .. }) => (source.width, source.height),
                };
                (w.unwrap_or(dw), h.unwrap_or(dh))
            }
        };
        let mut b = Texture::builder(model).size(width, height).levels(p.levels.clone());
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
        if let Some(ts) = self.tile_size {
            b = b.tile_size(ts);
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
}
