//! `unistyle stylize`.

use std::path::PathBuf;

use unistyle::pipeline::parse_transform;
use unistyle::{image_io, JobKind, Result, StyleEncoder};

use super::args::{
    check_modes, check_output_not_input, check_rules, load_model, parse_floats, parse_level_alpha, parse_levels,
    precision_flag, PresetArgs, StyleArgs,
};
use super::progress_bar::Bar;
use super::ModelArgs;

#[derive(Debug, clap::Args)]
pub struct StylizeArgs {
    /// Content image.
    #[arg(long, value_name = "C.png")]
    pub content: PathBuf,
    #[command(flatten)]
    pub preset: PresetArgs,
    #[command(flatten)]
    pub styles: StyleArgs,
    /// Output image; the format follows the extension (png, jpg, tif, bmp, webp).
    #[arg(long, value_name = "O.png")]
    pub out: PathBuf,
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
    // Cheap checks first: nothing heavy runs on parameters that will be refused.
    let (preset, mut settings) = a.preset.load()?;
    a.styles.overlay(&mut settings)?;
    if let Some(l) = &a.levels {
        let levels = parse_levels(l)?;
        if let Some(levels) = &levels {
            settings.level_alpha.retain(|(l, _)| levels.contains(l));
        }
        settings.levels = levels;
    }
    if let Some(alpha) = a.alpha {
        settings.alpha = Some(alpha);
        settings.level_alpha.clear();
    }
    if let Some(la) = &a.level_alpha {
        for (l, alpha) in parse_level_alpha(la)? {
            settings.level_alpha.retain(|(x, _)| *x != l);
            settings.level_alpha.push((l, alpha));
        }
    }
    if a.preserve_color.is_some() {
        settings.preserve_color = a.preserve_color;
    }
    if a.foreground_only.is_some() {
        settings.foreground_only = a.foreground_only;
    }
    if a.patch_swap.is_some() {
        settings.patch_swap = a.patch_swap;
    }
    if let Some(t) = &a.transform {
        settings.transform = Some(parse_transform("--transform", t)?);
    }
    if a.variation.is_some() {
        settings.variation = a.variation;
    }
    if a.seed.is_some() {
        settings.seed = a.seed;
    }
    if let Some(s) = &a.stroke_scale {
        settings.stroke_scale = Some(parse_floats("--stroke-scale", s)?);
    }
    if a.photo.is_some() {
        settings.photo = a.photo;
    }
    if let Some(p) = precision_flag(&a.model)? {
        settings.precision = Some(p);
    }
    check_rules(&settings, JobKind::Stylize, &a.model, a.max_size)?;
    check_modes(&settings)?;
    let mut inputs = vec![a.content.as_path()];
    inputs.extend(settings.styles.iter().chain(&settings.masks).map(|p| p.as_path()));
    inputs.extend(a.preset.preset.as_deref());
    check_output_not_input(&a.out, &inputs)?;
    image_io::check_output(&a.out)?;

    let mut content = image_io::load_picture(&a.content, "content image")?;
    if let Some(m) = a.max_size {
        content = content.fit_within(m);
    }
    let model = load_model(&a.model)?;
    let cache = a.preset.cache.cache(preset.as_ref().map(|p| p.default_cache()));
    let mut encoder = StyleEncoder::new(&model, cache);
    encoder.set_progress(Box::new(super::interrupt::cancel_check));
    encoder.set_tile_size(a.model.tile_size);
    let prepared = settings.prepare(&mut encoder);
    a.preset.cache.report(&mut encoder);
    let prepared = prepared?;
    let stylizer = settings.stylizer(&model, &prepared).tile_size(a.model.tile_size).build()?;
    let mut bar = Bar::new("stylizing", a.model.quiet);
    let out = stylizer.run(&content, &mut bar)?;
    bar.finish();
    image_io::save_picture_unless(&out, &a.out, &|| !super::interrupt::keep_going())
}
