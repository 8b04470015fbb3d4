//! `unistyle stylize`.

use std::path::PathBuf;

use unistyle::{image_io, Error, Result, Stylizer};

use super::args::{check_output_not_input, encode_styles, load_model, parse_level_alpha, parse_levels, StyleArgs};
use super::progress_bar::Bar;
use super::ModelArgs;

#[derive(Debug, clap::Args)]
pub struct StylizeArgs {
    /// Content image.
    #[arg(long, value_name = "C.png")]
    pub content: PathBuf,
    #[command(flatten)]
    pub styles: StyleArgs,
    /// Output image; the format follows the extension (png, jpg, tif, bmp, webp).
    #[arg(long, value_name = "O.png")]
    pub out: PathBuf,
    /// Levels to run, coarse to fine (default: every level the weights have).
    #[arg(long, value_name = "3,2,1")]
    pub levels: Option<String>,
    /// Stylization strength: 0 keeps the content, 1 is fully stylized.
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    /// Per-level alpha overrides, e.g. 3=0.8,1=0.4.
    #[arg(long, value_name = "L=A,…")]
    pub level_alpha: Option<String>,
    /// Keep the content's colours; transfer only the style's lightness structure.
    #[arg(long)]
    pub preserve_color: bool,
    /// Stylize only inside the masks; keep the original pixels outside.
    #[arg(long)]
    pub foreground_only: bool,
    /// Downscale the content so its longer side is at most N pixels.
    #[arg(long, value_name = "N")]
    pub max_size: Option<usize>,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(a: StylizeArgs) -> Result<()> {
    // Cheap checks first: nothing heavy runs on parameters that will be refused.
    Error::check_range("--alpha", a.alpha, 0.0, 1.0)?;
    let levels = a.levels.as_deref().map(parse_levels).transpose()?;
    let level_alpha = a.level_alpha.as_deref().map(parse_level_alpha).transpose()?.unwrap_or_default();
    image_io::output_format(&a.out)?;
    let mut inputs = vec![a.content.as_path()];
    inputs.extend(a.styles.style.iter().map(|p| p.as_path()));
    inputs.extend(a.styles.mask.iter().map(|p| p.as_path()));
    check_output_not_input(&a.out, &inputs)?;
    if a.max_size == Some(0) {
        return Err(Error::param("--max-size", "must be at least 1"));
    }
    let assignment = a.styles.assign()?;

    let mut content = image_io::load_picture(&a.content, "content image")?;
    if let Some(m) = a.max_size {
        content = content.fit_within(m);
    }
    let pictures = a.styles.load_pictures()?;

    let model = load_model(&a.model)?;
    let levels = levels.unwrap_or_else(|| model.levels());
    for &l in &levels {
        model.check_level(l)?;
    }
    let styles = encode_styles(&model, &pictures, &levels)?;
    let mut b = Stylizer::builder(&model)
        .levels(levels)
        .alpha(a.alpha)
        .feather(a.styles.feather)
        .preserve_color(a.preserve_color)
        .foreground_only(a.foreground_only)
        .tile_size(a.model.tile_size);
    for (l, al) in level_alpha {
        b = b.level_alpha(l, al);
    }
    for (mask, s) in assignment.regions {
        b = b.region(mask, &styles[s]);
    }
    for (s, w) in assignment.global {
        b = b.weighted_style(&styles[s], w);
    }
    let stylizer = b.build()?;
    let mut bar = Bar::new("stylizing", a.model.quiet);
    let out = stylizer.run(&content, &mut bar)?;
    bar.finish();
    image_io::save_picture(&out, &a.out)
}
