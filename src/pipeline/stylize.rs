//! Multi-level stylization: for each level, coarse to fine, encode the current image,
//! whiten-and-colour its features with the styles' statistics, blend by alpha, decode.

use std::collections::BTreeMap;

use candle_core::Tensor;

use super::style::EncodedStyle;
use crate::error::{Error, Result};
use crate::image_io::Picture;
use crate::model::{Border, Model};
use crate::progress::{step, Progress};
use crate::transform::{blend, whiten_colour, WeightedStyle};

/// A validated stylization job; build it with [`Stylizer::builder`].
#[derive(Debug, Clone)]
pub struct Stylizer<'a> {
    model: &'a Model,
    styles: Vec<(&'a EncodedStyle, f64)>,
    levels: Vec<usize>,
    alpha: BTreeMap<usize, f64>,
    border: Border,
}

/// Collects the parameters of a [`Stylizer`]; [`StylizerBuilder::build`] validates them.
#[derive(Debug, Clone)]
pub struct StylizerBuilder<'a> {
    model: &'a Model,
    styles: Vec<(&'a EncodedStyle, f64)>,
    levels: Option<Vec<usize>>,
    alpha: f64,
    level_alpha: Vec<(usize, f64)>,
    border: Border,
}

impl<'a> Stylizer<'a> {
    pub fn builder(model: &'a Model) -> StylizerBuilder<'a> {
        StylizerBuilder {
            model,
            styles: Vec::new(),
            levels: None,
            alpha: 1.0,
            level_alpha: Vec::new(),
            border: Border::Reflect,
        }
    }

    /// The levels this job runs, in order (coarse to fine).
    pub fn levels(&self) -> &[usize] {
        &self.levels
    }

    /// The blend factor used at `level`.
    pub fn alpha_at(&self, level: usize) -> f64 {
        self.alpha.get(&level).copied().unwrap_or(1.0)
    }

    /// Stylizes `content`; its alpha channel is carried through unchanged.
    pub fn run(&self, content: &Picture, progress: &mut dyn Progress) -> Result<Picture> {
        step(progress, 0.0)?;
        let total = self.levels.len() as f32;
        let mut x = content.to_tensor(self.model.device())?;
        for (i, &level) in self.levels.iter().enumerate() {
            x = self.run_level(&x, level)?;
            step(progress, (i + 1) as f32 / total)?;
        }
        let mut out = Picture::from_tensor(&x)?;
        out.alpha = content.alpha.clone();
        out.high_depth = content.high_depth;
        Ok(out)
    }

    /// One level on a `[1, 3, H, W]` image: encode, transform, blend, decode.
    pub fn run_level(&self, image: &Tensor, level: usize) -> Result<Tensor> {
        let (_, _, h, w) = image.dims4()?;
        let taps = self.model.encode(image, level, self.border)?;
        let features = &taps[level - 1];
        let alpha = self.alpha_at(level);
        let mixed = if alpha <= 0.0 {
            features.clone()
        } else {
            let (_, c, fh, fw) = features.dims4()?;
            let flat = features.reshape((c, fh * fw))?;
            let styles: Vec<WeightedStyle> = self
                .styles
                .iter()
                .map(|(s, weight)| WeightedStyle {
                    stats: s.stats(level).expect("checked in build"),
                    weight: *weight,
                })
                .collect();
            let coloured = whiten_colour(&flat, &styles)?;
            blend(&coloured, &flat, alpha)?.reshape((1, c, fh, fw))?
        };
        self.model.decode(level, &mixed, h, w, self.border)
    }
}

impl<'a> StylizerBuilder<'a> {
    /// Adds a style with weight 1.
    pub fn style(self, style: &'a EncodedStyle) -> Self {
        self.weighted_style(style, 1.0)
    }

    /// Adds a style with a blend weight (weights are normalised to sum to 1).
    pub fn weighted_style(mut self, style: &'a EncodedStyle, weight: f64) -> Self {
        self.styles.push((style, weight));
        self
    }

    /// Levels to run; they are run coarse to fine whatever the order given.
    /// Default: every level the model has.
    pub fn levels(mut self, levels: impl Into<Vec<usize>>) -> Self {
        self.levels = Some(levels.into());
        self
    }

    /// Blend factor between stylized (1) and content (0) features, for every level.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Overrides alpha at one level.
    pub fn level_alpha(mut self, level: usize, alpha: f64) -> Self {
        self.level_alpha.push((level, alpha));
        self
    }

    /// How the network treats image borders (reflection; circular for tileable output).
    pub fn border(mut self, border: Border) -> Self {
        self.border = border;
        self
    }

    /// Checks every parameter against the model and the styles.
    pub fn build(self) -> Result<Stylizer<'a>> {
        let mut levels = self.levels.unwrap_or_else(|| self.model.levels());
        if levels.is_empty() {
            return Err(Error::param("levels", "at least one level is needed"));
        }
        levels.sort_unstable_by(|a, b| b.cmp(a));
        if levels.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::param("levels", "a level is listed twice"));
        }
        for &l in &levels {
            self.model.check_level(l)?;
        }
        Error::check_range("alpha", self.alpha, 0.0, 1.0)?;
        let mut alpha: BTreeMap<usize, f64> = levels.iter().map(|&l| (l, self.alpha)).collect();
        for (l, a) in self.level_alpha {
            Error::check_range(&format!("alpha at level {l}"), a, 0.0, 1.0)?;
            match alpha.get_mut(&l) {
                Some(v) => *v = a,
                None => {
                    return Err(Error::param(
                        "level alpha",
                        format!("level {l} is not among the levels being run"),
                    ))
                }
            }
        }
        let styles = normalise_weights(self.styles)?;
        for (i, (s, _)) in styles.iter().enumerate() {
            if let Some(l) = levels.iter().find(|&&l| s.stats(l).is_none()) {
                return Err(Error::param(
                    format!("style {}", i + 1),
                    format!("it was not encoded for level {l}"),
                ));
            }
        }
        Ok(Stylizer {
            model: self.model,
            styles,
            levels,
            alpha,
            border: self.border,
        })
    }
}

/// Checks weights (finite, ≥ 0, positive sum) and scales them to sum to 1.
pub(crate) fn normalise_weights<T>(items: Vec<(T, f64)>) -> Result<Vec<(T, f64)>> {
    if items.is_empty() {
        return Err(Error::param("style", "at least one style is needed"));
    }
    for (i, (_, w)) in items.iter().enumerate() {
        if !w.is_finite() || *w < 0.0 {
            return Err(Error::param(
                "blend",
                format!("weight {} is {w}; weights must be finite and ≥ 0", i + 1),
            ));
        }
    }
    let sum: f64 = items.iter().map(|(_, w)| w).sum();
    if sum <= 0.0 {
        return Err(Error::param("blend", "the weights sum to 0"));
    }
    Ok(items.into_iter().map(|(t, w)| (t, w / sum)).collect())
}
