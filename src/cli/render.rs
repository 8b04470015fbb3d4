//! `unistyle render DIR --out-dir D`: every texture preset of a folder, one progress bar,
//! each distinct style encoded once.

use std::collections::HashMap;
use std::path::PathBuf;

use unistyle::preset::{scan_dir, SearchPath};
use unistyle::style_cache::CACHE_DIR_NAME;
use unistyle::{image_io, Error, PresetKind, Progress, Result, StyleCache, StyleEncoder};

use super::args::{
    check_distinct_outputs, check_model_args, check_output_not_input, load_model, precision_flag, CacheArgs,
};
use super::progress_bar::Bar;
use super::ModelArgs;

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// Folder of presets; each texture preset (one with a [texture] table) is rendered.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Folder the textures are written to, as <preset name>.png (created if missing).
    #[arg(long, value_name = "D")]
    pub out_dir: PathBuf,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(a: RenderArgs) -> Result<()> {
    // Every preset must be valid before anything is rendered.
    let mut presets = Vec::new();
    for (_, r) in scan_dir(&a.dir, &SearchPath::from_env())? {
        let p = r?;
        if p.kind() == PresetKind::Texture {
            p.settings.validate()?;
            presets.push(p);
        } else if a.cache.verbose {
            eprintln!("skipping '{}': not a texture preset", p.path.display());
        }
    }
    if presets.is_empty() {
        return Err(Error::param(
            "render",
            format!("no texture presets (with a [texture] table) in '{}'", a.dir.display()),
        ));
    }
    let mut names: HashMap<&str, &PathBuf> = HashMap::new();
    for p in &presets {
        if let Some(other) = names.insert(&p.name, &p.path) {
            return Err(Error::param(
                "name",
                format!("'{}' and '{}' are both named '{}'", other.display(), p.path.display(), p.name),
            ));
        }
    }
    let outputs: Vec<PathBuf> = presets.iter().map(|p| a.out_dir.join(format!("{}.png", p.name))).collect();
    // No output may replace an input of any job of the batch (a later job would read what an
    // earlier one wrote) nor another job's output.
    let mut inputs: Vec<&std::path::Path> = Vec::new();
    for p in &presets {
        inputs.extend(p.settings.files());
        inputs.push(&p.path);
    }
    for out in &outputs {
        check_output_not_input(out, &inputs)?;
    }
    check_distinct_outputs(&outputs)?;
    check_model_args(&a.model)?;
    let precision = precision_flag(&a.model)?;
    // --precision replaces each preset's precision.
    for p in &mut presets {
        p.settings.precision = precision.or(p.settings.precision);
    }
    let model = load_model(&a.model)?;
    for p in &presets {
        p.settings.levels_for(&model).map_err(|e| Error::Preset {
            path: p.path.clone(),
            line: None,
            key: "levels".into(),
            reason: e.to_string(),
        })?;
    }
    std::fs::create_dir_all(&a.out_dir).map_err(|source| Error::Io {
        what: "output folder",
        path: a.out_dir.clone(),
        source,
    })?;
    // Every output must be writable before anything is rendered.
    for out in &outputs {
        image_io::check_output(out)?;
    }
    let mut encoder = StyleEncoder::new(&model, a.cache.cache(Some(StyleCache::new(a.dir.join(CACHE_DIR_NAME)))));
    encoder.set_progress(Box::new(super::interrupt::cancel_check));
    let total = presets.len() as f32;
    let mut bar = Bar::new("rendering", a.model.quiet);
    for (i, (p, out)) in presets.iter().zip(&outputs).enumerate() {
        bar.set_message(&format!("{} ({}/{})", p.name, i + 1, presets.len()));
        let in_preset = |e: Error| match e {
            Error::Cancelled | Error::Preset { .. } => e,
            e => Error::Preset { path: p.path.clone(), line: None, key: String::new(), reason: e.to_string() },
        };
        let prepared = p.settings.prepare(&mut encoder);
        a.cache.report(&mut encoder);
        let prepared = prepared.map_err(in_preset)?;
        let texture = p.settings.texture(&model, &prepared).and_then(|b| b.build()).map_err(in_preset)?;
        let mut sub = |f: f32| bar.report((i as f32 + f) / total);
        let picture = texture.run(&mut sub)?;
        image_io::save_picture_unless(&picture, out, &|| !super::interrupt::keep_going())?;
        if a.cache.verbose {
            eprintln!("wrote '{}'", out.display());
        }
    }
    bar.finish();
    if !a.model.quiet {
        println!("{} textures written to '{}'", presets.len(), a.out_dir.display());
    }
    Ok(())
}
