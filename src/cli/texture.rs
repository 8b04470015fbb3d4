//! `unistyle texture`.

use std::path::PathBuf;

use unistyle::{image_io, JobKind, PictureInput, Result, StyleEncoder};

use super::args::{check_job, check_output_not_input, load_model, overlay_model, parse_levels, PresetArgs, StyleArgs};
use super::progress_bar::Bar;
use super::ModelArgs;

#[derive(Debug, clap::Args)]
pub struct TextureArgs {
    #[command(flatten)]
    pub preset: PresetArgs,
    #[command(flatten)]
    pub styles: StyleArgs,
    /// Output image; the format follows the extension.
    #[arg(long, value_name = "T.png")]
    pub out: PathBuf,
    /// Output width (default: the init image's, else the first style's).
    #[arg(long)]
    pub width: Option<usize>,
    /// Output height (default: the init image's, else the first style's).
    #[arg(long)]
    pub height: Option<usize>,
    /// Seed of the starting noise; the same seed gives the same texture [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Passes of the multi-level pipeline, each starting from the previous result [default: 3].
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Levels to run, coarse to fine (default: every level the weights have).
    #[arg(long, value_name = "3,2,1")]
    pub levels: Option<String>,
    /// Start from this image instead of noise.
    #[arg(long, value_name = "I.png")]
    pub init: Option<PathBuf>,
    /// Make the texture wrap around seamlessly (tiles without visible edges);
    /// --tileable=false turns a preset's off.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tileable: Option<bool>,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(a: TextureArgs) -> Result<()> {
    let (preset, mut settings) = a.preset.load(JobKind::Texture)?;
    a.styles.overlay(&mut settings)?;
    if let Some(l) = &a.levels {
        settings.levels = parse_levels(l)?;
    }
    let t = &mut settings.texture;
    t.width = a.width.or(t.width);
    t.height = a.height.or(t.height);
    t.seed = a.seed.or(t.seed);
    t.iterations = a.iterations.or(t.iterations);
    t.tileable = a.tileable.or(t.tileable);
    t.init = a.init.clone().map(PictureInput::File).or(t.init.take());
    // Texture synthesis always runs at alpha 1 on the whole image.
    settings.alpha = None;
    settings.level_alpha.clear();
    overlay_model(&a.model, &mut settings)?;
    check_job(&settings)?;
    let mut inputs = settings.files();
    inputs.extend(a.preset.preset.as_deref());
    check_output_not_input(&a.out, &inputs)?;
    image_io::check_output(&a.out)?;

    let model = load_model(&a.model)?;
    let cache = a.preset.cache.cache(preset.as_ref().map(|p| p.default_cache()));
    let mut encoder = StyleEncoder::new(&model, cache);
    encoder.set_progress(Box::new(super::interrupt::cancel_check));
    let prepared = settings.prepare(&mut encoder);
    a.preset.cache.report(&mut encoder);
    let prepared = prepared?;
    let texture = settings.texture(&model, &prepared)?.build()?;
    let mut bar = Bar::new("synthesizing", a.model.quiet);
    let out = texture.run(&mut bar)?;
    bar.finish();
    image_io::save_picture_unless(&out, &a.out, &|| !super::interrupt::keep_going())
}
