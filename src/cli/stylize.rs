//! `unistyle stylize`.

use std::path::PathBuf;

use unistyle::{image_io, Error, EncodedStyle, Result, Stylizer};

use super::args::{check_output_not_input, load_model, parse_floats, parse_level_alpha, parse_levels};
use super::progress_bar::Bar;
use super::ModelArgs;

#[derive(Debug, clap::Args)]
pub struct StylizeArgs {
    /// Content image.
    #[arg(long, value_name = "C.png")]
    pub content: PathBuf,
    /// Style image; repeat for several styles.
    #[arg(long, value_name = "S.png", required = true)]
    pub style: Vec<PathBuf>,
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
    /// Weights of the styles when several are given (normalised; default equal).
    #[arg(long, value_name = "0.3,0.7")]
    pub blend: Option<String>,
    /// Downscale the content so its longer side is at most N pixels.
    #[arg(long, value_name = "N")]
    pub max_size: Option<usize>,
    /// Downscale each style image so its longer side is at most N pixels.
    #[arg(long, value_name = "N")]
    pub style_size: Option<usize>,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(a: StylizeArgs) -> Result<()> {
    // Cheap checks first: nothing heavy runs on parameters that will be refused.
    Error::check_range("--alpha", a.alpha, 0.0, 1.0)?;
    let levels = a.levels.as_deref().map(parse_levels).transpose()?;
    let level_alpha = a.level_alpha.as_deref().map(parse_level_alpha).transpose()?.unwrap_or_default();
    let weights = match a.blend.as_deref() {
        Some(b) => {
            let w = parse_floats("--blend", b)?;
            if w.len() != a.style.len() {
                return Err(Error::param(
                    "--blend",
                    format!("{} weights for {} styles", w.len(), a.style.len()),
                ));
            }
            w
        }
        None => vec![1.0; a.style.len()],
    };
    image_io::output_format(&a.out)?;
    let mut inputs = vec![a.content.as_path()];
    inputs.extend(a.style.iter().map(|p| p.as_path()));
    check_output_not_input(&a.out, &inputs)?;
    if a.max_size == Some(0) || a.style_size == Some(0) {
        return Err(Error::param("--max-size/--style-size", "must be at least 1"));
    }

    let mut content = image_io::load_picture(&a.content, "content image")?;
    if let Some(m) = a.max_size {
        content = content.fit_within(m);
    }
    let style_pictures = a
        .style
        .iter()
        .map(|p| {
            let s = image_io::load_picture(p, "style image")?;
            Ok(match a.style_size {
                Some(m) => s.fit_within(m),
                None => s,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let model = load_model(&a.model)?;
    let levels = levels.unwrap_or_else(|| model.levels());
    for &l in &levels {
        model.check_level(l)?;
    }
    let styles = style_pictures
        .iter()
        .map(|s| EncodedStyle::encode(&model, s, &levels))
        .collect::<Result<Vec<_>>>()?;
    let mut builder = Stylizer::builder(&model).levels(levels).alpha(a.alpha);
    for (l, al) in level_alpha {
        builder = builder.level_alpha(l, al);
    }
    for (s, w) in styles.iter().zip(weights) {
        builder = builder.weighted_style(s, w);
    }
    let stylizer = builder.build()?;
    let mut bar = Bar::new("stylizing", a.model.quiet);
    let out = stylizer.run(&content, &mut bar)?;
    bar.finish();
    image_io::save_picture(&out, &a.out)
}
