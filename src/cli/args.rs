//! Parsers for list-valued flags, and the shared model/output plumbing of commands.

use std::path::Path;

use std::path::PathBuf;

use unistyle::{device::parse_device, image_io, locate::locate_weights, EncodedStyle, Error, Mask, Model, Picture, Result};

use super::ModelArgs;

/// `3,2,1` → `[3, 2, 1]`.
pub fn parse_levels(s: &str) -> Result<Vec<usize>> {
    s.split(',')
        .map(|t| {
            let t = t.trim();
            t.parse::<usize>()
                .ok()
                .filter(|l| (1..=unistyle::model::MAX_LEVEL).contains(l))
                .ok_or_else(|| Error::param("--levels", format!("'{t}' is not a level 1..5 (in '{s}')")))
        })
        .collect()
}

/// `3=0.8,1=0.4` → `[(3, 0.8), (1, 0.4)]`.
pub fn parse_level_alpha(s: &str) -> Result<Vec<(usize, f64)>> {
    s.split(',')
        .map(|t| {
            let bad = || Error::param("--level-alpha", format!("'{t}' is not LEVEL=ALPHA (in '{s}')"));
            let (l, a) = t.trim().split_once('=').ok_or_else(bad)?;
            Ok((l.trim().parse().map_err(|_| bad())?, a.trim().parse().map_err(|_| bad())?))
        })
        .collect()
}

/// `0.3,0.7` → `[0.3, 0.7]`.
pub fn parse_floats(flag: &str, s: &str) -> Result<Vec<f64>> {
    s.split(',')
        .map(|t| {
            t.trim()
                .parse::<f64>()
                .map_err(|_| Error::param(flag, format!("'{}' is not a number (in '{s}')", t.trim())))
        })
        .collect()
}

/// Loads the model the flags point at.
pub fn load_model(args: &ModelArgs) -> Result<Model> {
    let device = parse_device(&args.device)?;
    let path = locate_weights(args.weights.as_deref())?;
    Model::load(&path, &device)
}

/// Refuses to write over any of the inputs (same file by canonical path).
pub fn check_output_not_input(out: &Path, inputs: &[&Path]) -> Result<()> {
    let Ok(out_c) = out.canonicalize() else {
        return Ok(()); // does not exist yet
    };
    for input in inputs {
        if input.canonicalize().is_ok_and(|c| c == out_c) {
            return Err(Error::param(
                "--out",
                format!("'{}' is an input file; refusing to overwrite it", out.display()),
            ));
        }
    }
    Ok(())
}

/// Style images, masks and blend weights, as the stylize and texture commands take them.
#[derive(Debug, clap::Args)]
pub struct StyleArgs {
    /// Style image; repeat for several styles.
    #[arg(long, value_name = "S.png", required = true)]
    pub style: Vec<PathBuf>,
    /// Weights of the styles when several are blended without masks (normalised; default equal).
    #[arg(long, value_name = "0.3,0.7")]
    pub blend: Option<String>,
    /// Region mask (grayscale, any size; white = inside). With N styles give N-1 masks (the
    /// last style takes the rest) or N masks (uncovered pixels keep the content).
    #[arg(long, value_name = "M.png")]
    pub mask: Vec<PathBuf>,
    /// Soft region borders: blend regions over about this many pixels.
    #[arg(long, value_name = "PX", default_value_t = 0.0)]
    pub feather: f32,
    /// Downscale each style image so its longer side is at most N pixels.
    #[arg(long, value_name = "N")]
    pub style_size: Option<usize>,
}

/// How styles map to regions (style indices), by the library's [`unistyle::place_styles`].
pub struct Assignment {
    pub regions: Vec<(Mask, usize)>,
    pub global: Vec<(usize, f64)>,
}

impl StyleArgs {
    /// Checks the flag combination (before anything heavy runs) and loads the masks.
    pub fn assign(&self) -> Result<Assignment> {
        if self.style_size == Some(0) {
            return Err(Error::param("--style-size", "must be at least 1"));
        }
        Error::check_range("--feather", self.feather as f64, 0.0, 10_000.0)?;
        let weights = self.blend.as_deref().map(|b| parse_floats("--blend", b)).transpose()?;
        let indices: Vec<usize> = (0..self.style.len()).collect();
        let (regions, global) = unistyle::place_styles(&indices, weights.as_deref(), self.mask.clone())
            .map_err(|e| match e {
                Error::Parameter { name, reason } => Error::param(format!("--{name}"), reason),
                e => e,
            })?;
        let regions = regions
            .into_iter()
            .map(|(path, mix)| Ok((Mask::load(&path)?, mix[0].0)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Assignment { regions, global })
    }

    /// Loads the style images (downscaled by `--style-size`).
    pub fn load_pictures(&self) -> Result<Vec<Picture>> {
        self.style
            .iter()
            .map(|p| {
                let s = image_io::load_picture(p, "style image")?;
                Ok(match self.style_size {
                    Some(m) => s.fit_within(m),
                    None => s,
                })
            })
            .collect()
    }
}

/// Encodes every style once for `levels`.
pub fn encode_styles(model: &Model, pictures: &[Picture], levels: &[usize]) -> Result<Vec<EncodedStyle>> {
    pictures.iter().map(|s| EncodedStyle::encode(model, s, levels)).collect()
}
