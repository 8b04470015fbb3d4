//! Parsers for list-valued flags, and the shared model/output plumbing of commands.

use std::path::Path;

use std::path::PathBuf;

use unistyle::rules::{self, Violation};
use unistyle::{
    device::parse_device, locate::locate_weights, Error, Job, JobKind, MaskInput, Model, Precision, Preset, Result,
    StyleCache, StyleEncoder, StyleInput,
};

use super::ModelArgs;

/// `--levels 3,2,1` → `Some([3, 2, 1])`; `""` → every level (`None`).
pub fn parse_levels(s: &str) -> Result<Option<Vec<usize>>> {
    unistyle::levels::parse_levels(s, "--levels")
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

/// A broken rule, named by its flag.
pub fn flagged(v: Violation) -> Error {
    let flag = v.param.flag();
    v.named(flag)
}

/// Checks the model flags that need no file: the tile size.
pub fn check_model_args(args: &ModelArgs) -> Result<()> {
    rules::tile_size(args.tile_size as i128).map_err(flagged)
}

/// `--precision`, read by the rule set's one parser; named by its flag when wrong.
pub fn precision_flag(args: &ModelArgs) -> Result<Option<Precision>> {
    args.precision.as_deref().map(|p| rules::precision(p).map_err(flagged)).transpose()
}

/// Lays the model flags that are part of a job (precision, tile size) over `job`.
pub fn overlay_model(args: &ModelArgs, job: &mut Job) -> Result<()> {
    if let Some(p) = precision_flag(args)? {
        job.precision = Some(p);
    }
    job.tile_size = Some(args.tile_size);
    Ok(())
}

/// Checks every rule on the job the command line (over the preset, if any) describes,
/// before anything is loaded; a broken rule is named by its flag.
pub fn check_job(job: &Job) -> Result<()> {
    job.check().map_err(flagged)?;
    job.check_texture_size()
}

/// Loads the model the flags point at.
pub fn load_model(args: &ModelArgs) -> Result<Model> {
    let device = parse_device(&args.device)?;
    let path = locate_weights(args.weights.as_deref(), "--weights")?;
    Model::load(&path, &device)
}

/// Where `p` is or would be: its folder resolved, its own name kept (it need not exist).
fn resolved(p: &Path) -> Option<std::path::PathBuf> {
    if let Ok(c) = p.canonicalize() {
        return Some(c);
    }
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(dir.canonicalize().ok()?.join(p.file_name()?))
}

/// Refuses to write over any of the inputs (same file by canonical path, or the same name
/// in the same folder for a file that does not exist yet but will be read).
pub fn check_output_not_input(out: &Path, inputs: &[&Path]) -> Result<()> {
    let Some(out_c) = resolved(out) else {
        return Ok(()); // its folder does not exist: checked with the output itself
    };
    for input in inputs {
        if resolved(input).is_some_and(|c| c == out_c) {
            return Err(Error::param(
                "--out",
                format!("'{}' is an input file; refusing to overwrite it", out.display()),
            ));
        }
    }
    Ok(())
}

/// Refuses a batch whose outputs name the same file twice (a later job would replace an
/// earlier one's result).
pub fn check_distinct_outputs(outputs: &[std::path::PathBuf]) -> Result<()> {
    let mut seen = std::collections::HashMap::new();
    for out in outputs {
        let Some(key) = resolved(out) else { continue };
        if let Some(first) = seen.insert(key, out) {
            return Err(Error::param(
                "render",
                format!(
                    "'{}' and '{}' are the same output file; refusing to overwrite one with the other",
                    first.display(),
                    out.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Style images, masks and blend weights, as the stylize and texture commands take them.
/// With `--preset`, each flag given replaces the preset's value.
#[derive(Debug, clap::Args)]
pub struct StyleArgs {
    /// Style image; repeat for several styles. With --preset: replaces the preset's styles
    /// (and its blend weights and masks).
    #[arg(long, value_name = "S.png", required_unless_present = "preset")]
    pub style: Vec<PathBuf>,
    /// Weights of the styles when several are blended without masks (normalised; default equal).
    #[arg(long, value_name = "0.3,0.7")]
    pub blend: Option<String>,
    /// Region mask (grayscale, any size; white = inside). With N styles give N-1 masks (the
    /// last style takes the rest) or N masks (uncovered pixels keep the content).
    #[arg(long, value_name = "M.png")]
    pub mask: Vec<PathBuf>,
    /// Soft region borders: blend regions over about this many pixels [default: 0].
    #[arg(long, value_name = "PX")]
    pub feather: Option<f32>,
    /// Downscale each style image so its longer side is at most N pixels.
    #[arg(long, value_name = "N")]
    pub style_size: Option<usize>,
}

impl StyleArgs {
    /// Lays the flags given over `s` (a preset's job, or the defaults).
    pub fn overlay(&self, s: &mut Job) -> Result<()> {
        if !self.style.is_empty() {
            // The preset's weights, masks and mask options were made for its own styles.
            s.styles = self.style.iter().cloned().map(StyleInput::File).collect();
            s.blend = None;
            s.masks.clear();
            s.feather = None;
            s.foreground_only = None;
        }
        if !self.mask.is_empty() {
            s.masks = self.mask.iter().cloned().map(MaskInput::File).collect();
            s.blend = None;
        }
        if let Some(b) = &self.blend {
            s.blend = Some(parse_floats("--blend", b)?);
        }
        if let Some(f) = self.feather {
            s.feather = Some(f);
        }
        if let Some(z) = self.style_size {
            s.style_size = Some(z);
        }
        Ok(())
    }
}

/// The preset and style-cache options of the stylize and texture commands.
#[derive(Debug, clap::Args)]
pub struct PresetArgs {
    /// Preset file (TOML, see presets/README.md); flags given on the command line override it.
    #[arg(long, value_name = "P.toml")]
    pub preset: Option<PathBuf>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

impl PresetArgs {
    /// Loads the preset, if one was given, and starts a job of `kind` from it.
    pub fn load(&self, kind: JobKind) -> Result<(Option<Preset>, Job)> {
        let preset = self.preset.as_deref().map(Preset::load).transpose()?;
        let mut job = preset.as_ref().map(|p| p.settings.clone()).unwrap_or_default();
        job.kind = kind;
        Ok((preset, job))
    }
}

/// Where the style cache lives.
#[derive(Debug, clap::Args)]
pub struct CacheArgs {
    /// Style cache folder [default: $UNISTYLE_CACHE_DIR, else .unistyle-cache/ beside the
    /// preset; without either, no cache].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Encode the styles afresh: read and write no style cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
    /// Tell on stderr how each style was obtained (cache hit, miss, rebuilt entry).
    #[arg(long, short)]
    pub verbose: bool,
}

impl CacheArgs {
    /// The cache to use; `preset_dir_cache` is the default beside the preset(s), if any.
    pub fn cache(&self, preset_dir_cache: Option<StyleCache>) -> Option<StyleCache> {
        if self.no_cache {
            return None;
        }
        self.cache_dir.clone().map(StyleCache::new).or_else(StyleCache::from_env).or(preset_dir_cache)
    }

    /// Prints what the encoder did (with --verbose).
    pub fn report(&self, encoder: &mut StyleEncoder<'_>) {
        for r in encoder.take_reports() {
            if self.verbose {
                eprintln!("{r}");
            }
        }
    }
}
