//! Every parameter rule of a stylization or texture job, written once.
//!
//! A front end (the command line, a preset file, the C ABI, a Rust builder) puts the values
//! it was given into a [`RawParams`] — numbers as given, before any narrowing, files only
//! counted — and calls [`RawParams::check`] before any heavy work (model load, style
//! encoding). A broken rule comes back as a [`Violation`] naming the [`Param`]; each front end
//! words it in its own terms: the CLI by its flag (`--feather`), a preset by file, line and
//! key, the C ABI by its option field (`unistyle_stylize_options.feather`). The builders call
//! the same rules, so a library user gets the same reasons, named by the preset keys.

use std::fmt;

use crate::model::{Precision, MAX_LEVEL};

/// Largest accepted `style_size`.
pub const MAX_STYLE_SIZE: usize = 32768;
/// Most passes of texture synthesis.
pub const MAX_ITERATIONS: usize = 100;
/// Largest accepted `feather` radius, in pixels.
pub const MAX_FEATHER: f64 = 10_000.0;
/// Smallest tile edge.
pub const MIN_TILE: usize = 16;
/// Most masks (regions) one job accepts. Each region keeps its own statistics at every level
/// (up to 2 MiB of f64 covariance at level 5) and, with feathering, a weight map as large as
/// the content; above this a job is refused rather than risk the host's memory.
pub const MAX_MASKS: usize = 64;
/// Most style images in one job or preset (one per mask region and one for the rest): each
/// is encoded and its statistics kept (a few MiB per style) before the job runs.
pub const MAX_STYLES: usize = MAX_MASKS + 1;
/// Largest texture side.
pub const MAX_TEXTURE_SIDE: usize = crate::image_io::MAX_SIDE;

/// A parameter of a job, as every front end has it under its own name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Param {
    /// The style images (their number).
    Style,
    /// The blend weights of the styles.
    Blend,
    /// The region masks (their number).
    Mask,
    /// Soft mask borders, in pixels.
    Feather,
    /// Longest side of each style image.
    StyleSize,
    /// The levels to run.
    Levels,
    /// The blend factor of every level.
    Alpha,
    /// The per-level alphas.
    LevelAlpha,
    /// Stylize only inside the masks.
    ForegroundOnly,
    /// Texture width.
    Width,
    /// Texture height.
    Height,
    /// Texture seed.
    Seed,
    /// Texture passes.
    Iterations,
    /// Tile edge.
    TileSize,
    /// Longest side of the content image.
    MaxSize,
    /// Arithmetic precision of the network (`f32`, `bf16`).
    Precision,
    /// Swap content patches for style patches.
    PatchSwap,
    /// The feature transform (`wct`, `ost`).
    Transform,
    /// Strength of the random variation.
    Variation,
    /// The scales the style is taken at.
    StrokeScale,
}

impl Param {
    /// Every parameter, for tables and tests.
    pub const ALL: [Param; 20] = [
        Param::Style,
        Param::Blend,
        Param::Mask,
        Param::Feather,
        Param::StyleSize,
        Param::Levels,
        Param::Alpha,
        Param::LevelAlpha,
        Param::ForegroundOnly,
        Param::Width,
        Param::Height,
        Param::Seed,
        Param::Iterations,
        Param::TileSize,
        Param::MaxSize,
        Param::Precision,
        Param::PatchSwap,
        Param::Transform,
        Param::Variation,
        Param::StrokeScale,
    ];

    /// The library's name: the preset key, which is also the builder method
    /// (`style_size`, `texture.width`).
    pub fn key(self) -> &'static str {
        match self {
            Param::Style => "style",
            Param::Blend => "blend",
            Param::Mask => "mask",
            Param::Feather => "feather",
            Param::StyleSize => "style_size",
            Param::Levels => "levels",
            Param::Alpha => "alpha",
            Param::LevelAlpha => "level_alpha",
            Param::ForegroundOnly => "foreground_only",
            Param::Width => "texture.width",
            Param::Height => "texture.height",
            Param::Seed => "texture.seed",
            Param::Iterations => "texture.iterations",
            Param::TileSize => "tile_size",
            Param::MaxSize => "max_size",
            Param::Precision => "precision",
            Param::PatchSwap => "patch_swap",
            Param::Transform => "transform",
            Param::Variation => "variation",
            Param::StrokeScale => "stroke_scale",
        }
    }

    /// The command-line flag (`--style-size`, `--width`).
    pub fn flag(self) -> String {
        let key = self.key();
        format!("--{}", key.strip_prefix("texture.").unwrap_or(key).replace('_', "-"))
    }
}

/// A broken rule: the parameter, which entry of it when it is a list (a level, a blend
/// weight, a per-level alpha; 0-based, in the order given) and, in words that follow any
/// name for the parameter, what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub param: Param,
    pub index: Option<usize>,
    pub reason: String,
}

impl Violation {
    fn new(param: Param, reason: impl Into<String>) -> Self {
        Violation { param, index: None, reason: reason.into() }
    }

    fn at(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }

    /// As an [`crate::Error::Parameter`] named `name` (the front end's name for the parameter).
    pub fn named(self, name: impl Into<String>) -> crate::Error {
        crate::Error::param(name, self.reason)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.param.key(), self.reason)
    }
}

/// A library caller gets the parameter named by its preset key / builder method.
impl From<Violation> for crate::Error {
    fn from(v: Violation) -> Self {
        let key = v.param.key();
        v.named(key)
    }
}

/// Result of one rule.
pub type Rule = Result<(), Violation>;

/// `min ≤ v ≤ max` for a float (NaN and infinities refused).
pub fn float_in(param: Param, v: f64, min: f64, max: f64) -> Rule {
    if v.is_finite() && v >= min && v <= max {
        Ok(())
    } else {
        Err(Violation::new(param, format!("must be in {min}..={max}, got {v}")))
    }
}

/// `min ≤ v ≤ max` for an integer of any width (a `max` beyond `i64` is not spelled out).
pub fn int_in(param: Param, v: i128, min: i128, max: i128) -> Rule {
    let huge = max > i64::MAX as i128;
    if (min..=max).contains(&v) {
        Ok(())
    } else if huge && v < min {
        Err(Violation::new(param, format!("must be ≥ {min}, got {v}")))
    } else {
        Err(Violation::new(param, format!("must be in {min}..={max}, got {v}")))
    }
}

/// At least one style, at most [`MAX_STYLES`].
pub fn styles(n: usize) -> Rule {
    if n == 0 {
        return Err(Violation::new(Param::Style, "at least one style image is needed"));
    }
    if n > MAX_STYLES {
        return Err(Violation::new(
            Param::Style,
            format!("{n} style images given; at most {MAX_STYLES} are supported"),
        ));
    }
    Ok(())
}

/// Blend weights: one per style, only without masks.
pub fn blend_count(weights: usize, styles: usize, masks: usize) -> Rule {
    if weights != styles {
        return Err(Violation::new(Param::Blend, format!("{weights} weights for {styles} styles")));
    }
    if masks > 0 {
        return Err(Violation::new(Param::Blend, "blends styles globally; with masks each region has its own style"));
    }
    Ok(())
}

/// Blend weights: finite, ≥ 0, not all 0.
pub fn blend_values(weights: &[f64]) -> Rule {
    if let Some((i, v)) = weights.iter().enumerate().find(|(_, v)| !v.is_finite() || **v < 0.0) {
        return Err(
            Violation::new(Param::Blend, format!("weight {} is {v}; weights must be finite and ≥ 0", i + 1)).at(i)
        );
    }
    if !weights.iter().any(|&w| w > 0.0) {
        return Err(Violation::new(Param::Blend, "the weights sum to 0"));
    }
    Ok(())
}

/// With N styles: no mask, N−1 masks (the last style takes the rest) or N masks (the rest
/// keeps the content — which a texture does not have).
pub fn masks(masks: usize, styles: usize, texture: bool) -> Rule {
    if masks == 0 {
        return Ok(());
    }
    if masks + 1 != styles && masks != styles {
        let fewer = styles.saturating_sub(1);
        return Err(Violation::new(
            Param::Mask,
            format!("{styles} styles need {fewer} or {styles} masks, got {masks}"),
        ));
    }
    if texture && masks == styles {
        return Err(Violation::new(Param::Mask, "a texture has no content to keep: give one mask fewer than styles"));
    }
    Ok(())
}

/// Feather radius in range; it softens mask borders, so it needs a mask.
pub fn feather(pixels: f64, masks: usize) -> Rule {
    float_in(Param::Feather, pixels, 0.0, MAX_FEATHER)?;
    if pixels > 0.0 && masks == 0 {
        return Err(Violation::new(Param::Feather, "softens mask borders, so it needs a mask"));
    }
    Ok(())
}

/// Foreground-only keeps the pixels outside the masks: every style needs its own mask.
pub fn foreground_only(on: bool, masks: usize, styles: usize) -> Rule {
    if on && masks == 0 {
        return Err(Violation::new(Param::ForegroundOnly, "keeps the pixels outside the masks, so it needs a mask"));
    }
    if on && masks != styles {
        return Err(Violation::new(
            Param::ForegroundOnly,
            format!("every style needs its own mask ({styles} styles, {masks} masks)"),
        ));
    }
    Ok(())
}

/// A set of levels: at least one, each 1..=5, none twice.
pub fn levels(levels: &[i128]) -> Rule {
    if levels.is_empty() {
        return Err(Violation::new(Param::Levels, "at least one level is needed"));
    }
    for (i, &l) in levels.iter().enumerate() {
        int_in(Param::Levels, l, 1, MAX_LEVEL as i128).map_err(|v| v.at(i))?;
        if levels[..i].contains(&l) {
            return Err(Violation::new(Param::Levels, format!("level {l} is listed twice")).at(i));
        }
    }
    Ok(())
}

/// The blend factor: 0 keeps the content, 1 is fully stylized.
pub fn alpha(a: f64) -> Rule {
    float_in(Param::Alpha, a, 0.0, 1.0)
}

/// Per-level alphas: each a level 1..=5 (among `levels` when given, none twice) with an
/// alpha in 0..=1.
pub fn level_alphas(entries: &[(i128, f64)], levels: Option<&[i128]>) -> Rule {
    for (index, &(level, a)) in entries.iter().enumerate() {
        let bad = |reason: String| Err(Violation::new(Param::LevelAlpha, reason).at(index));
        if !(1..=MAX_LEVEL as i128).contains(&level) {
            return bad(format!("{level} is not a level 1..={MAX_LEVEL}"));
        }
        if levels.is_some_and(|ls| !ls.contains(&level)) {
            return bad(format!("level {level} is not among the levels being run"));
        }
        if entries[..index].iter().any(|&(l, _)| l == level) {
            return bad(format!("level {level} is given twice"));
        }
        if !(a.is_finite() && (0.0..=1.0).contains(&a)) {
            return bad(format!("alpha at level {level} must be in 0..=1, got {a}"));
        }
    }
    Ok(())
}

/// Tiles are at least [`MIN_TILE`] pixels wide.
pub fn tile_size(pixels: i128) -> Rule {
    if pixels < MIN_TILE as i128 {
        return Err(Violation::new(Param::TileSize, format!("must be at least {MIN_TILE} pixels, got {pixels}")));
    }
    Ok(())
}

/// A content size limit of at least one pixel.
pub fn max_size(pixels: i128) -> Rule {
    if pixels < 1 {
        return Err(Violation::new(Param::MaxSize, format!("must be at least 1, got {pixels}")));
    }
    Ok(())
}

/// The precision called `name` (`f32` or `bf16`, any case): the one reading of the
/// command line's `--precision` and a preset's `precision` key.
pub fn precision(name: &str) -> Result<Precision, Violation> {
    name.parse().map_err(|reason: String| Violation::new(Param::Precision, reason))
}

/// Strength of the random variation: 0 (none) to [`MAX_VARIATION`].
pub fn variation(v: f64) -> Rule {
    float_in(Param::Variation, v, 0.0, MAX_VARIATION)
}

/// Stroke scales: one to [`MAX_STROKE_SCALES`], each in
/// [`STROKE_SCALE_MIN`]..=[`STROKE_SCALE_MAX`], none repeated.
pub fn stroke_scales(scales: &[f64]) -> Rule {
    if scales.is_empty() || scales.len() > MAX_STROKE_SCALES {
        return Err(Violation::new(
            Param::StrokeScale,
            format!("give 1 to {MAX_STROKE_SCALES} scales, got {}", scales.len()),
        ));
    }
    for (i, &s) in scales.iter().enumerate() {
        float_in(Param::StrokeScale, s, STROKE_SCALE_MIN, STROKE_SCALE_MAX).map_err(|v| v.at(i))?;
        if scales[..i].contains(&s) {
            return Err(Violation::new(Param::StrokeScale, format!("{s} is given twice")).at(i));
        }
    }
    Ok(())
}

/// Patch swap colours the swapped patches itself (no optimal transport) and works on the
/// whole image (no masks).
pub fn patch_swap(on: bool, ost: bool, masks: usize) -> Rule {
    if on && ost {
        return Err(Violation::new(
            Param::Transform,
            "ost cannot be combined with patch swap, which colours the swapped patches itself",
        ));
    }
    if on && masks > 0 {
        return Err(Violation::new(Param::PatchSwap, "works on the whole image; it cannot be combined with masks"));
    }
    Ok(())
}

/// The range and default of one numeric parameter, as an editor's control needs them: the
/// plug-ins build their sliders and spin boxes from this table (through
/// `unistyle_param_bounds` and the Python binding), so no front end writes a bound of its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// The preset key (`alpha`, `texture.width`, `stroke_scale`).
    pub key: &'static str,
    pub min: f64,
    pub max: f64,
    /// The library's default (what a job gets when the parameter is not given).
    pub default: f64,
    /// Whether only whole numbers are accepted.
    pub integer: bool,
}

const fn bound(key: &'static str, min: f64, max: f64, default: f64, integer: bool) -> Bound {
    Bound { key, min, max, default, integer }
}

/// Largest perturbation strength (`variation`): 1 is a fully random rotation.
pub const MAX_VARIATION: f64 = 1.0;
/// Smallest and largest stroke scale: the style image is resampled by this factor.
pub const STROKE_SCALE_MIN: f64 = 0.125;
pub const STROKE_SCALE_MAX: f64 = 8.0;
/// Most stroke scales mixed in one style.
pub const MAX_STROKE_SCALES: usize = 4;
/// The alpha a job gets when none is given: fully stylized.
pub const DEFAULT_ALPHA: f64 = 1.0;
/// The passes a texture gets when none are given (the paper's 3).
pub const DEFAULT_ITERATIONS: usize = 3;
/// The stroke scale a job gets when none is given: the style as it is.
pub const DEFAULT_STROKE_SCALE: f64 = 1.0;
/// The size of a texture when a host gives none (the plug-ins' dialogs start there).
pub const DEFAULT_TEXTURE_SIDE: usize = 512;
/// The stability `unistyle frames` and the hosts use unless told otherwise (chosen by
/// `examples/temporal_stability.rs`, see docs/animation.md).
pub const DEFAULT_STABILITY: f64 = 0.6;

/// Every numeric parameter's range: the same numbers the rules above and the modes' rules
/// check (`tests` below hold each bound against its rule).
pub const BOUNDS: [Bound; 11] = [
    bound("alpha", 0.0, 1.0, DEFAULT_ALPHA, false),
    bound("feather", 0.0, MAX_FEATHER, 0.0, false),
    bound("style_size", 1.0, MAX_STYLE_SIZE as f64, MAX_STYLE_SIZE as f64, true),
    bound("variation", 0.0, MAX_VARIATION, 0.0, false),
    bound("seed", 0.0, u64::MAX as f64, 0.0, true),
    bound("stroke_scale", STROKE_SCALE_MIN, STROKE_SCALE_MAX, DEFAULT_STROKE_SCALE, false),
    bound("texture.width", 1.0, MAX_TEXTURE_SIDE as f64, DEFAULT_TEXTURE_SIDE as f64, true),
    bound("texture.height", 1.0, MAX_TEXTURE_SIDE as f64, DEFAULT_TEXTURE_SIDE as f64, true),
    bound("texture.seed", 0.0, u64::MAX as f64, 0.0, true),
    bound("texture.iterations", 1.0, MAX_ITERATIONS as f64, DEFAULT_ITERATIONS as f64, true),
    bound("stability", 0.0, 1.0, DEFAULT_STABILITY, false),
];

/// The bound of the parameter whose preset key is `key` (`texture.` may be left out of the
/// texture keys: `width`, `iterations`; `-` may stand for `_`); `None` for a key without a
/// numeric range.
pub fn bound_of(key: &str) -> Option<Bound> {
    // The plug-ins' argument names spell `_` as `-` (`stroke-scale`).
    let key = key.trim().replace('-', "_");
    let exact = BOUNDS.iter().find(|b| b.key == key);
    exact.or_else(|| BOUNDS.iter().find(|b| b.key.strip_prefix("texture.") == Some(key.as_str()))).copied()
}

/// Whether a job stylizes a content image or synthesizes a texture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobKind {
    #[default]
    Stylize,
    Texture,
}

/// Every parameter of a job as a front end was given it (`None` = not given, the default
/// applies): integers unnarrowed, so that `-1` or `2^40` is reported as given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawParams {
    pub kind: JobKind,
    /// Number of style images.
    pub styles: usize,
    /// Number of region masks.
    pub masks: usize,
    pub blend: Option<Vec<f64>>,
    pub feather: Option<f64>,
    pub foreground_only: Option<bool>,
    pub style_size: Option<i128>,
    pub levels: Option<Vec<i128>>,
    pub alpha: Option<f64>,
    /// (level, alpha) pairs, in the order given.
    pub level_alpha: Vec<(i128, f64)>,
    pub width: Option<i128>,
    pub height: Option<i128>,
    pub seed: Option<i128>,
    pub iterations: Option<i128>,
    pub tile_size: Option<i128>,
    pub max_size: Option<i128>,
    pub patch_swap: Option<bool>,
    /// Whether the optimal-transport colouring is asked for.
    pub ost: Option<bool>,
    pub variation: Option<f64>,
    pub stroke_scale: Option<Vec<f64>>,
}

impl RawParams {
    /// Checks every rule; the first broken one is returned. Reads no file.
    pub fn check(&self) -> Rule {
        let texture = self.kind == JobKind::Texture;
        styles(self.styles)?;
        if let Some(s) = self.style_size {
            int_in(Param::StyleSize, s, 1, MAX_STYLE_SIZE as i128)?;
        }
        if let Some(w) = &self.blend {
            blend_count(w.len(), self.styles, self.masks)?;
            blend_values(w)?;
        }
        masks(self.masks, self.styles, texture)?;
        if let Some(f) = self.feather {
            feather(f, self.masks)?;
        }
        foreground_only(self.foreground_only == Some(true), self.masks, self.styles)?;
        if let Some(ls) = &self.levels {
            levels(ls)?;
        }
        if let Some(a) = self.alpha {
            alpha(a)?;
        }
        level_alphas(&self.level_alpha, self.levels.as_deref())?;
        for (param, v) in [(Param::Width, self.width), (Param::Height, self.height)] {
            if let Some(v) = v {
                int_in(param, v, 1, MAX_TEXTURE_SIDE as i128)?;
            }
        }
        if let Some(s) = self.seed {
            int_in(Param::Seed, s, 0, u64::MAX as i128)?;
        }
        if let Some(i) = self.iterations {
            int_in(Param::Iterations, i, 1, MAX_ITERATIONS as i128)?;
        }
        if let Some(t) = self.tile_size {
            tile_size(t)?;
        }
        if let Some(m) = self.max_size {
            max_size(m)?;
        }
        if let Some(v) = self.variation {
            variation(v)?;
        }
        if let Some(s) = &self.stroke_scale {
            stroke_scales(s)?;
        }
        patch_swap(self.patch_swap == Some(true), self.ost == Some(true), self.masks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawParams {
        RawParams { styles: 1, ..Default::default() }
    }

    #[test]
    fn names_follow_the_preset_keys_and_flags() {
        assert_eq!(Param::StyleSize.flag(), "--style-size");
        assert_eq!(Param::Width.flag(), "--width");
        assert_eq!(Param::LevelAlpha.flag(), "--level-alpha");
        let e: crate::Error = Violation::new(Param::Iterations, "x").into();
        assert_eq!(e.to_string(), "texture.iterations: x");
        assert_eq!(Param::Precision.flag(), "--precision");
    }

    #[test]
    fn precision_by_name() {
        assert_eq!(precision(" BF16 "), Ok(Precision::Bf16));
        let v = precision("fp16").unwrap_err();
        assert_eq!(v.param, Param::Precision);
        assert!(v.reason.contains("'fp16' is not a precision (f32 or bf16)"), "{v}");
    }

    #[test]
    fn each_rule_names_its_parameter() {
        let cases: Vec<(RawParams, Param, &str)> = vec![
            (RawParams::default(), Param::Style, "at least one"),
            (RawParams { feather: Some(5.0), ..raw() }, Param::Feather, "needs a mask"),
            (RawParams { feather: Some(-1.0), ..raw() }, Param::Feather, "got -1"),
            (RawParams { levels: Some(vec![3, 3]), ..raw() }, Param::Levels, "twice"),
            (RawParams { levels: Some(vec![-2]), ..raw() }, Param::Levels, "got -2"),
            (RawParams { level_alpha: vec![(3, 0.5), (2, 7.0)], ..raw() }, Param::LevelAlpha, "got 7"),
            (RawParams { seed: Some(-1), ..raw() }, Param::Seed, "got -1"),
            (RawParams { styles: 2, masks: 2, kind: JobKind::Texture, ..raw() }, Param::Mask, "no content"),
            (RawParams { blend: Some(vec![0.0]), ..raw() }, Param::Blend, "sum to 0"),
        ];
        for (p, param, words) in cases {
            let v = p.check().unwrap_err();
            assert_eq!(v.param, param, "{p:?}");
            assert!(v.reason.contains(words), "{p:?}: {}", v.reason);
        }
        assert!(RawParams { styles: 2, masks: 1, feather: Some(3.0), ..raw() }.check().is_ok());
    }
}
