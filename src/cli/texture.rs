//! `unistyle texture`.

use std::path::PathBuf;

use unistyle::{image_io, Error, Result, Texture};

use super::args::{check_output_not_input, encode_styles, load_model, parse_levels, StyleArgs};
use super::progress_bar::Bar;
use super::ModelArgs;

#[derive(Debug, clap::Args)]
pub struct TextureArgs {
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
    /// Seed of the starting noise; the same seed gives the same texture.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Passes of the multi-level pipeline, each starting from the previous result.
    #[arg(long, default_value_t = 3)]
    pub iterations: usize,
    /// Levels to run, coarse to fine (default: every level the weights have).
    #[arg(long, value_name = "3,2,1")]
    pub levels: Option<String>,
    /// Start from this image instead of noise.
    #[arg(long, value_name = "I.png")]
    pub init: Option<PathBuf>,
    /// Make the texture wrap around seamlessly (tiles without visible edges).
    #[arg(long)]
    pub tileable: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(a: TextureArgs) -> Result<()> {
    let levels = a.levels.as_deref().map(parse_levels).transpose()?;
    image_io::output_format(&a.out)?;
    let mut inputs: Vec<&std::path::Path> = a.styles.style.iter().map(|p| p.as_path()).collect();
    inputs.extend(a.styles.mask.iter().map(|p| p.as_path()));
    inputs.extend(a.init.as_deref());
    check_output_not_input(&a.out, &inputs)?;
    for (name, v) in [("--width", a.width), ("--height", a.height)] {
        if v == Some(0) {
            return Err(Error::param(name, "must be at least 1"));
        }
    }
    let assignment = a.styles.assign()?;
    if a.styles.mask.len() == a.styles.style.len() {
        return Err(Error::param("--mask", "a texture has no content to keep: give one mask fewer than styles"));
    }
    let init = a.init.as_deref().map(|p| image_io::load_picture(p, "init image")).transpose()?;
    let pictures = a.styles.load_pictures()?;
    let (dw, dh) = init.as_ref().map_or((pictures[0].width, pictures[0].height), |p| (p.width, p.height));
    let (width, height) = (a.width.unwrap_or(dw), a.height.unwrap_or(dh));

    let model = load_model(&a.model)?;
    let levels = levels.unwrap_or_else(|| model.levels());
    for &l in &levels {
        model.check_level(l)?;
    }
    let styles = encode_styles(&model, &pictures, &levels)?;
    let mut b = Texture::builder(&model)
        .size(width, height)
        .seed(a.seed)
        .iterations(a.iterations)
        .levels(levels)
        .tileable(a.tileable)
        .feather(a.styles.feather)
        .tile_size(a.model.tile_size);
    if let Some(i) = init {
        b = b.init(i);
    }
    for (mask, s) in assignment.regions {
        b = b.region(mask, &styles[s]);
    }
    for (s, w) in assignment.global {
        b = b.weighted_style(&styles[s], w);
    }
    let texture = b.build()?;
    let mut bar = Bar::new("synthesizing", a.model.quiet);
    let out = texture.run(&mut bar)?;
    bar.finish();
    image_io::save_picture(&out, &a.out)
}
