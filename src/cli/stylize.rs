//! `unistyle stylize`.

use std::path::{Path, PathBuf};

use unistyle::pipeline::parse_transform;
use unistyle::{image_io, Job, JobKind, Preset, Result, StyleEncoder, Stylizer};

use super::args::{
    check_job, check_output_not_input, load_model, overlay_model, parse_floats, parse_level_alpha, parse_levels,
    PresetArgs, StyleArgs,
};
use super::progress_bar::Bar;
use super::ModelArgs;

#[derive(Debug, clap::Args)]
pub struct StylizeArgs {
    /// Content image.
    #[arg(long, value_name = "C.png")]
    pub content: PathBuf,
    /// Output image; the format follows the extension (png, jpg, tif, bmp, webp).
    #[arg(long, value_name = "O.png")]
    pub out: PathBuf,
    #[command(flatten)]
    pub options: StylizeOptions,
}

/// Everything a stylization takes besides its input and output: the preset, styles, masks,
/// modes and model flags (shared by `stylize` and `frames`).
#[derive(Debug, clap::Args)]
pub struct StylizeOptions {
    #[command(flatten)]
    pub preset: PresetArgs,
    #[command(flatten)]
    pub styles: StyleArgs,
    /// Levels to run, coarse to fine (default: every level the weights have).
    #[arg(long, value_name = "3,2,1")]
    pub levels: Option<String>,
    /// Stylization strength: 0 keeps the content, 1 is fully stylized [default: 1]. Replaces
    /// a preset's alpha and, unless --level-alpha is given too, its per-level alphas.
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Per-level alpha overrides, e.g. 3=0.8,1=0.4.
    #[arg(long, value_name = "L=A,…")]
    pub level_alpha: Option<String>,
    /// Keep the content's colours; transfer only the style's lightness structure
    /// (--preserve-color=false turns a preset's off).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub preserve_color: Option<bool>,
    /// Stylize only inside the masks; keep the original pixels outside.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub foreground_only: Option<bool>,
    /// Swap each content patch for the best-matching style patch at the coarsest level
    /// (keeps brush strokes and motifs; no masks).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub patch_swap: Option<bool>,
    /// Feature transform: wct (whitening and colouring) or ost (optimal transport, moves the
    /// content the least) [default: wct].
    #[arg(long, value_name = "wct|ost")]
    pub transform: Option<String>,
    /// Random variation strength 0..1 (0 = plain output); see --seed [default: 0].
    #[arg(long, value_name = "STRENGTH")]
    pub variation: Option<f64>,
    /// Seed of the variation: the same seed gives bit-identical output [default: 0].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Take the style at this scale (2 = strokes twice as large); several comma-separated
    /// scales are mixed, e.g. 0.5,1 [default: 1].
    #[arg(long, value_name = "F")]
    pub stroke_scale: Option<String>,
    /// Photo mode: edge-preserving smoothing guided by the content, so a photo stays a photo.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub photo: Option<bool>,
    /// Downscale the content so its longer side is at most N pixels.
    #[arg(long, value_name = "N")]
    pub max_size: Option<usize>,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(a: StylizeArgs) -> Result<()> {
    let o = &a.options;
    let (preset, job) = o.job()?;
    let mut inputs = vec![a.content.as_path()];
    inputs.extend(o.inputs(&job));
    check_output_not_input(&a.out, &inputs)?;
    image_io::check_output(&a.out)?;

    let mut content = image_io::load_picture(&a.content, "content image")?;
    if let Some(m) = job.max_size {
        content = content.fit_within(m);
    }
    o.with_stylizer(preset.as_ref(), &job, |stylizer| {
        let mut bar = Bar::new("stylizing", o.model.quiet);
        let out = stylizer.run(&content, &mut bar)?;
        bar.finish();
        image_io::save_picture_unless(&out, &a.out, &|| !super::interrupt::keep_going())
    })
}

impl StylizeOptions {
    /// The job: the preset (if any) with the flags laid over it, every rule checked before
    /// anything heavy runs: nothing is loaded on parameters that will be refused.
    pub fn job(&self) -> Result<(Option<Preset>, Job)> {
        let (preset, mut settings) = self.preset.load(JobKind::Stylize)?;
        self.styles.overlay(&mut settings)?;
        if let Some(l) = &self.levels {
            let levels = parse_levels(l)?;
            if let Some(levels) = &levels {
                settings.level_alpha.retain(|(l, _)| levels.contains(l));
            }
            settings.levels = levels;
        }
        if let Some(alpha) = self.alpha {
            settings.alpha = Some(alpha);
            settings.level_alpha.clear();
        }
        if let Some(la) = &self.level_alpha {
            for (l, alpha) in parse_level_alpha(la)? {
                settings.level_alpha.retain(|(x, _)| *x != l);
                settings.level_alpha.push((l, alpha));
            }
        }
        if self.preserve_color.is_some() {
            settings.preserve_color = self.preserve_color;
        }
        if self.foreground_only.is_some() {
            settings.foreground_only = self.foreground_only;
        }
        if self.patch_swap.is_some() {
            settings.patch_swap = self.patch_swap;
        }
        if let Some(t) = &self.transform {
            settings.transform = Some(parse_transform("--transform", t)?);
        }
        if self.variation.is_some() {
            settings.variation = self.variation;
        }
        if self.seed.is_some() {
            settings.seed = self.seed;
        }
        if let Some(s) = &self.stroke_scale {
            settings.stroke_scale = Some(parse_floats("--stroke-scale", s)?);
        }
        if self.photo.is_some() {
            settings.photo = self.photo;
        }
        settings.max_size = self.max_size.or(settings.max_size);
        overlay_model(&self.model, &mut settings)?;
        check_job(&settings)?;
        Ok((preset, settings))
    }

    /// The files the job reads besides its content: styles, masks, the preset.
    pub fn inputs<'s>(&'s self, job: &'s Job) -> Vec<&'s Path> {
        let mut inputs = job.files();
        inputs.extend(self.preset.preset.as_deref());
        inputs
    }

    /// Loads the model, encodes the styles once (through the cache) and hands `f` the
    /// stylizer the job describes.
    pub fn with_stylizer<T>(
        &self,
        preset: Option<&Preset>,
        job: &Job,
        f: impl FnOnce(Stylizer<'_>) -> Result<T>,
    ) -> Result<T> {
        let model = load_model(&self.model)?;
        let cache = self.preset.cache.cache(preset.map(|p| p.default_cache()));
        let mut encoder = StyleEncoder::new(&model, cache);
        encoder.set_progress(Box::new(super::interrupt::cancel_check));
        let prepared = job.prepare(&mut encoder);
        self.preset.cache.report(&mut encoder);
        let prepared = prepared?;
        f(job.stylizer(&model, &prepared).build()?)
    }
}
