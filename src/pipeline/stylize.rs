//! Multi-level stylization: for each level, coarse to fine, encode the current image,
//! whiten-and-colour its features with the styles' statistics (globally or per mask region),
//! blend by alpha, decode.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::colour::keep_content_colour;
use super::mask::{try_zeroed, Mask, MAX_MASKS};
use super::modes::Modes;
use super::photo::photo_smooth;
use super::regions::{LevelRegions, Rect, RegionPlan};
use super::style::EncodedStyle;
use super::tiling::{extract, paste, scale, Tile, TilePlan, DEFAULT_TILE};
use crate::error::{Error, Result};
use crate::image_io::Picture;
use crate::model::{Border, Model, Precision};
use crate::progress::{probed, step, Progress};
use crate::rules;
use crate::transform::temporal::MomentSmoother;

/// Smallest tile edge accepted by [`StylizerBuilder::tile_size`].
pub use crate::rules::MIN_TILE;

/// Wall time spent in each stage of a run (device-synchronised).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    /// Encoding the content at each level (both passes when tiled).
    pub content_encode: Duration,
    /// Statistics, eigendecompositions and the whitening/colouring transform.
    pub transform: Duration,
    /// Decoding back to pixels.
    pub decode: Duration,
}

/// Accumulates [`StageTimes`] through shared references inside one run.
#[derive(Default)]
struct Clock {
    encode: Cell<Duration>,
    transform: Cell<Duration>,
    decode: Cell<Duration>,
}

impl Clock {
    fn time<T>(&self, slot: &Cell<Duration>, device: &candle_core::Device, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let t = Instant::now();
        let out = f()?;
        device.synchronize()?;
        slot.set(slot.get() + t.elapsed());
        Ok(out)
    }

    fn times(&self) -> StageTimes {
        StageTimes { content_encode: self.encode.get(), transform: self.transform.get(), decode: self.decode.get() }
    }
}

/// Styles with weights; normalised to sum to 1 by [`StylizerBuilder::build`].
pub type StyleMix<'a> = Vec<(&'a EncodedStyle, f64)>;

/// A validated stylization job; build it with [`Stylizer::builder`].
#[derive(Debug, Clone)]
pub struct Stylizer<'a> {
    pub(crate) model: &'a Model,
    /// Style mix of each group: one per mask region (in mask order), then the remainder.
    pub(crate) groups: Vec<StyleMix<'a>>,
    pub(crate) masks: Vec<Mask>,
    pub(crate) levels: Vec<usize>,
    pub(crate) alpha: BTreeMap<usize, f64>,
    pub(crate) border: Border,
    pub(crate) feather: f32,
    pub(crate) foreground_only: bool,
    pub(crate) preserve_color: bool,
    pub(crate) tile: usize,
    /// Patch swap, transform kind, variation, photo mode (stroke scale is the styles' part).
    pub(crate) modes: Modes,
    pub(crate) precision: Precision,
}

/// Collects the parameters of a [`Stylizer`]; [`StylizerBuilder::build`] validates them.
#[derive(Debug, Clone)]
pub struct StylizerBuilder<'a> {
    model: &'a Model,
    styles: StyleMix<'a>,
    regions: Vec<(Mask, StyleMix<'a>)>,
    levels: Option<Vec<usize>>,
    alpha: f64,
    level_alpha: Vec<(usize, f64)>,
    border: Border,
    feather: f32,
    foreground_only: bool,
    preserve_color: bool,
    tile: usize,
    modes: Modes,
    precision: Precision,
}

impl<'a> Stylizer<'a> {
    /// Starts describing a stylization with `model`; [`StylizerBuilder::build`] checks it.
    pub fn builder(model: &'a Model) -> StylizerBuilder<'a> {
        StylizerBuilder {
            model,
            styles: Vec::new(),
            regions: Vec::new(),
            levels: None,
            alpha: rules::DEFAULT_ALPHA,
            level_alpha: Vec::new(),
            border: Border::Reflect,
            feather: 0.0,
            foreground_only: false,
            preserve_color: false,
            tile: DEFAULT_TILE,
            modes: Modes::default(),
            precision: Precision::F32,
        }
    }

    /// The levels this job runs, in order (coarse to fine).
    pub fn levels(&self) -> &[usize] {
        &self.levels
    }

    /// The blend factor used at `level`.
    pub fn alpha_at(&self, level: usize) -> f64 {
        self.alpha.get(&level).copied().unwrap_or(rules::DEFAULT_ALPHA)
    }

    /// Stylizes `content`; its alpha channel is carried through unchanged.
    pub fn run(&self, content: &Picture, progress: &mut dyn Progress) -> Result<Picture> {
        Ok(self.run_passes(content, 1, progress, None)?.0)
    }

    /// As [`Stylizer::run`], also returning the time spent per stage.
    pub fn run_timed(&self, content: &Picture, progress: &mut dyn Progress) -> Result<(Picture, StageTimes)> {
        self.run_passes(content, 1, progress, None)
    }

    /// Runs the whole multi-level pipeline `passes` times, each pass starting from the
    /// previous output (texture synthesis iterates this way). A clip's `smoother` replaces
    /// the content statistics by their averages over the clip's frames.
    pub(crate) fn run_passes(
        &self,
        content: &Picture,
        passes: usize,
        progress: &mut dyn Progress,
        mut smoother: Option<&mut MomentSmoother>,
    ) -> Result<(Picture, StageTimes)> {
        content.check("content image")?;
        self.check_memory(content.width, content.height)?;
        step(progress, 0.0)?;
        let clock = Clock::default();
        let plan = RegionPlan::new(self, content.width, content.height, &mut || step(progress, 0.0))?;
        let total = (passes * self.levels.len()) as f32;
        let mut done = 0.0;
        // The first level reads the content directly: no full-size copy is made.
        let mut x: Option<Picture> = None;
        for _ in 0..passes {
            for &level in &self.levels {
                let mut tile_progress = |f: f32| step(progress, (done + f) / total);
                let image = x.as_ref().unwrap_or(content);
                let next = self.run_level(image, level, &plan, &clock, smoother.as_deref_mut(), &mut tile_progress)?;
                x = Some(next);
                done += 1.0;
                step(progress, done / total)?;
            }
        }
        let mut x = x.expect("at least one level runs");
        if self.modes.photo {
            photo_smooth(&mut x.rgb, &content.rgb, x.width, x.height, &mut || step(progress, 1.0))?;
        }
        if self.preserve_color {
            keep_content_colour(&mut x.rgb, &content.rgb);
        }
        if self.foreground_only {
            plan.composite_foreground(&mut x.rgb, &content.rgb);
        }
        x.alpha = content.alpha.clone();
        x.high_depth = content.high_depth;
        Ok((x, clock.times()))
    }

    /// One level: encode, transform, blend, decode — tile by tile when the image is larger
    /// than the tile size (statistics first over every tile, then the transform).
    fn run_level(
        &self,
        image: &Picture,
        level: usize,
        plan: &RegionPlan,
        clock: &Clock,
        smoother: Option<&mut MomentSmoother>,
        progress: &mut dyn FnMut(f32) -> Result<()>,
    ) -> Result<Picture> {
        let (w, h) = (image.width, image.height);
        let dev = self.model.device();
        let tiles = TilePlan::new(w, h, level, self.tile, self.border);
        let s = scale(level);
        let alpha = self.alpha_at(level);
        let mut out = try_zeroed::<f32>(3 * w * h, "result image")?;
        let encode = |t: &Tile| -> Result<_> {
            clock.time(&clock.encode, dev, || {
                let x = extract(&image.rgb, w, h, t, dev)?;
                let f = self.model.encode_level(&x, level, tiles.border, self.precision)?;
                let (_, c, fh, fw) = f.dims4()?;
                Ok((f.reshape((c, fh * fw))?, c, fw, fh))
            })
        };
        let mut decode = |t: &Tile, features: candle_core::Tensor, fw: usize, fh: usize| -> Result<()> {
            let c = features.dims2()?.0;
            let img = clock.time(&clock.decode, dev, || {
                let f = features.reshape((1, c, fh, fw))?;
                self.model.decode_with(level, &f, t.eh, t.ew, tiles.border, self.precision)
            })?;
            paste(&img, t, &mut out, w, h)
        };
        let count = tiles.tiles.len() as f32;
        if alpha <= 0.0 {
            for (i, t) in tiles.tiles.iter().enumerate() {
                let at = i as f32 / count;
                let (f, _, fw, fh) = probed(&mut || progress(at), || encode(t))?;
                probed(&mut || progress(at), || decode(t, f, fw, fh))?;
                progress((i + 1) as f32 / count)?;
            }
        } else {
            let ext_rect =
                |t: &Tile, fw: usize, fh: usize| Rect { x: t.ex / s as isize, y: t.ey / s as isize, w: fw, h: fh };
            let (fw_all, fh_all) = (w.div_ceil(s), h.div_ceil(s));
            let mut regions: Option<LevelRegions> = None;
            let mut cached = None;
            // Pass 1: statistics of every tile's core.
            for (i, t) in tiles.tiles.iter().enumerate() {
                let at = 0.5 * i as f32 / count;
                let (f, c, fw, fh) = probed(&mut || progress(at), || encode(t))?;
                if regions.is_none() {
                    regions = Some(LevelRegions::new(self, plan, level, c, fw_all, fh_all)?);
                }
                let r = regions.as_mut().expect("just set");
                let (cx, cy, cw, ch) = t.core_features(s);
                let (ox, oy) = t.core_offset_features(s);
                let core = if (cw, ch) == (fw, fh) {
                    f.clone()
                } else {
                    f.reshape((c, fh, fw))?.narrow(1, oy, ch)?.narrow(2, ox, cw)?.reshape((c, cw * ch))?
                };
                clock.time(&clock.transform, dev, || {
                    r.accumulate(&core, Rect { x: cx as isize, y: cy as isize, w: cw, h: ch })
                })?;
                if tiles.is_whole() {
                    cached = Some((f, fw, fh));
                }
                progress(0.5 * (i + 1) as f32 / count)?;
            }
            let mut regions = regions.expect("at least one tile");
            let swap_here = self.modes.patch_swap && level == self.levels[0];
            clock.time(&clock.transform, dev, || regions.finish(dev, smoother))?;
            // Pass 2: transform and decode (a single tile reuses its features).
            for (i, t) in tiles.tiles.iter().enumerate() {
                let at = 0.5 + 0.5 * i as f32 / count;
                let (f, fw, fh) = match cached.take() {
                    Some(c) => c,
                    None => {
                        let (f, _, fw, fh) = probed(&mut || progress(at), || encode(t))?;
                        (f, fw, fh)
                    }
                };
                let mixed = clock.time(&clock.transform, dev, || {
                    if swap_here {
                        let done = 0.5 + 0.5 * i as f32 / count;
                        let mut tick = |f: f32| progress(done + 0.5 * f / count);
                        super::patch_swap::swap(self, level, regions.content_stats(), &f, fw, fh, &mut tick)
                    } else {
                        regions.apply_owned(f, ext_rect(t, fw, fh))
                    }
                })?;
                // The swap's ticks may have reported up to the tile's end already.
                let end = 0.5 + 0.5 * (i + 1) as f32 / count;
                probed(&mut || progress(end), || decode(t, mixed, fw, fh))?;
                progress(end)?;
            }
        }
        Ok(Picture { width: w, height: h, rgb: out, alpha: None, high_depth: image.high_depth })
    }
}

impl<'a> StylizerBuilder<'a> {
    /// Adds a style with weight 1 (several styles are interpolated).
    pub fn style(self, style: &'a EncodedStyle) -> Self {
        self.weighted_style(style, 1.0)
    }

    /// Adds a style with a blend weight (weights are normalised to sum to 1). With masks,
    /// these styles colour the pixels no mask covers.
    pub fn weighted_style(mut self, style: &'a EncodedStyle, weight: f64) -> Self {
        self.styles.push((style, weight));
        self
    }

    /// Adds a mask region (mask > 0.5) coloured with one style. Earlier regions win where
    /// masks overlap.
    pub fn region(self, mask: Mask, style: &'a EncodedStyle) -> Self {
        self.region_mix(mask, vec![(style, 1.0)])
    }

    /// Adds a mask region coloured with a weighted blend of styles.
    pub fn region_mix(mut self, mask: Mask, styles: StyleMix<'a>) -> Self {
        self.regions.push((mask, styles));
        self
    }

    /// Adds styles and masks by the convention of [`place_styles`].
    pub fn place(mut self, styles: &[&'a EncodedStyle], weights: Option<&[f64]>, masks: Vec<Mask>) -> Result<Self> {
        let (regions, rest) = place_styles(styles, weights, masks)?;
        self.regions.extend(regions);
        self.styles.extend(rest);
        Ok(self)
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

    /// Soft region borders: masks are blurred over about `pixels` (at content resolution)
    /// and the regions' transformed features are mixed by the smoothed weights.
    pub fn feather(mut self, pixels: f32) -> Self {
        self.feather = pixels;
        self
    }

    /// Apply the styles inside the masks only; outside, the original pixels are kept
    /// (blended across the mask edge).
    pub fn foreground_only(mut self, on: bool) -> Self {
        self.foreground_only = on;
        self
    }

    /// Largest tile edge (pixels) processed at once; larger images are processed in tiles
    /// with overlapping halos, which bounds memory. Default [`DEFAULT_TILE`].
    pub fn tile_size(mut self, pixels: usize) -> Self {
        self.tile = pixels;
        self
    }

    /// Arithmetic precision of the network (default f32; bf16 is faster where the CPU has
    /// AMX or `avx512_bf16`, see [`Precision`]).
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// Keep the content's colours: only the lightness of the result is stylized.
    pub fn preserve_color(mut self, on: bool) -> Self {
        self.preserve_color = on;
        self
    }

    /// The modes beyond plain WCT (patch swap, transform kind, variation and seed, photo
    /// mode); their stroke scale is applied when the styles are encoded
    /// ([`super::style::StyleEncoding`]) and only checked here.
    pub fn modes(mut self, modes: Modes) -> Self {
        self.modes = modes;
        self
    }

    /// Checks every parameter against the model and the styles.
    pub fn build(self) -> Result<Stylizer<'a>> {
        let mut levels = self.levels.unwrap_or_else(|| self.model.levels());
        let given: Vec<i128> = levels.iter().map(|&l| l as i128).collect();
        rules::levels(&given)?;
        for &l in &levels {
            self.model.check_level(l)?;
        }
        levels.sort_unstable_by(|a, b| b.cmp(a));
        rules::alpha(self.alpha)?;
        let level_alpha: Vec<(i128, f64)> = self.level_alpha.iter().map(|&(l, a)| (l as i128, a)).collect();
        rules::level_alphas(&level_alpha, Some(&given))?;
        let mut alpha: BTreeMap<usize, f64> = levels.iter().map(|&l| (l, self.alpha)).collect();
        alpha.extend(self.level_alpha.iter().copied());
        let regions = self.regions.len();
        rules::feather(self.feather as f64, regions)?;
        // The styles outside the regions count as one more "style" that has no mask.
        rules::foreground_only(self.foreground_only, regions, regions + usize::from(!self.styles.is_empty()))?;
        rules::tile_size(self.tile as i128)?;
        self.modes.validate_with_masks(regions)?;
        if self.regions.len() > MAX_MASKS {
            return Err(Error::Limits {
                what: "masks".into(),
                reason: format!("{} masks given; at most {MAX_MASKS} regions are supported", self.regions.len()),
            });
        }
        let mut masks = Vec::with_capacity(self.regions.len());
        let mut groups = Vec::with_capacity(self.regions.len() + 1);
        for (i, (mask, mix)) in self.regions.into_iter().enumerate() {
            masks.push(mask);
            groups.push(normalise_weights(mix).map_err(|e| match e {
                Error::Parameter { name, reason } => Error::param(format!("region {} {name}", i + 1), reason),
                e => e,
            })?);
        }
        if !self.styles.is_empty() || groups.is_empty() {
            groups.push(normalise_weights(self.styles)?);
        }
        for (g, mix) in groups.iter().enumerate() {
            for (s, _) in mix {
                if let Some(l) = levels.iter().find(|&&l| s.stats(l).is_none()) {
                    return Err(Error::param(format!("style {}", g + 1), format!("it was not encoded for level {l}")));
                }
            }
        }
        if self.modes.patch_swap {
            for (g, mix) in groups.iter().enumerate() {
                if let Some(i) = mix.iter().position(|(s, _)| s.features(levels[0]).is_none()) {
                    return Err(Error::param(
                        "patch_swap",
                        format!(
                            "style {} was encoded without its level-{} feature maps (encode it with patch swap on)",
                            g + i + 1,
                            levels[0]
                        ),
                    ));
                }
            }
        }
        Ok(Stylizer {
            model: self.model,
            groups,
            masks,
            levels,
            alpha,
            border: self.border,
            feather: self.feather,
            foreground_only: self.foreground_only,
            preserve_color: self.preserve_color,
            tile: self.tile,
            modes: self.modes,
            precision: self.precision,
        })
    }
}

/// Places styles by the masks given, the convention of the CLI and the C ABI. With N styles:
/// no mask → the styles are blended by `weights` everywhere; N−1 masks → style i inside mask
/// i, the last style elsewhere; N masks → style i inside mask i, uncovered pixels keep the
/// content. `weights` (one per style) only apply without masks. Returns the regions and the
/// styles for everything outside them.
/// Generic over the style and mask types so callers can validate before loading anything.
#[allow(clippy::type_complexity)]
pub fn place_styles<S: Copy, M>(
    styles: &[S],
    weights: Option<&[f64]>,
    masks: Vec<M>,
) -> Result<(Vec<(M, Vec<(S, f64)>)>, Vec<(S, f64)>)> {
    let (n, m) = (styles.len(), masks.len());
    rules::styles(n)?;
    if let Some(w) = weights {
        rules::blend_count(w.len(), n, m)?;
    }
    rules::masks(m, n, false)?;
    if m == 0 {
        let w = weights.map_or_else(|| vec![1.0; n], |w| w.to_vec());
        return Ok((vec![], styles.iter().copied().zip(w).collect()));
    }
    if m > MAX_MASKS {
        return Err(Error::Limits {
            what: "masks".into(),
            reason: format!("{m} masks given; at most {MAX_MASKS} regions are supported"),
        });
    }
    let regions = masks.into_iter().zip(styles).map(|(mask, s)| (mask, vec![(*s, 1.0)])).collect();
    let rest = if m + 1 == n { vec![(styles[n - 1], 1.0)] } else { vec![] };
    Ok((regions, rest))
}

/// Checks weights (finite, ≥ 0, positive sum) and scales them to sum to 1.
pub(crate) fn normalise_weights<T>(items: Vec<(T, f64)>) -> Result<Vec<(T, f64)>> {
    rules::styles(items.len())?;
    let weights: Vec<f64> = items.iter().map(|(_, w)| *w).collect();
    rules::blend_values(&weights)?;
    // Scaled by the largest first: huge finite weights would otherwise sum to infinity
    // and all normalise to 0.
    let max = weights.iter().copied().fold(0.0, f64::max);
    let sum: f64 = items.iter().map(|(_, w)| w / max).sum();
    Ok(items.into_iter().map(|(t, w)| (t, w / max / sum)).collect())
}

#[cfg(test)]
mod tests {
    use super::normalise_weights;

    #[test]
    fn weights_normalise_to_one_even_when_their_sum_overflows() {
        for w in [[0.7, 0.3], [1e308, 1e308], [f64::MAX, f64::MAX / 4.0], [5e-324, 0.0]] {
            let n = normalise_weights(vec![((), w[0]), ((), w[1])]).unwrap();
            let sum: f64 = n.iter().map(|(_, v)| v).sum();
            assert!((sum - 1.0).abs() < 1e-12 && n.iter().all(|(_, v)| v.is_finite()), "{w:?} -> {n:?}");
        }
        let n = normalise_weights(vec![((), 1e308), ((), 1e308)]).unwrap();
        assert_eq!((n[0].1, n[1].1), (0.5, 0.5));
        assert!(normalise_weights(vec![((), 0.0), ((), 0.0)]).is_err());
        assert!(normalise_weights(vec![((), f64::INFINITY)]).is_err());
    }
}
