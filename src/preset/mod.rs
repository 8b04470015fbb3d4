//! Style presets: TOML files that describe a look (style images with blend weights, levels,
//! alpha, colour preservation, style size) and, for textures, the output (size, seed,
//! iterations, tileable). The schema is documented in `presets/README.md`.
//!
//! ```no_run
//! use unistyle::preset::Preset;
//! use unistyle::style_cache::StyleEncoder;
//! use unistyle::{image_io, Model, Silent};
//! # fn main() -> unistyle::Result<()> {
//! let model = Model::load("weights/wct-vgg19.safetensors", &unistyle::Device::Cpu)?;
//! let preset = Preset::load("presets/starry-night.toml")?;
//! let mut encoder = StyleEncoder::new(&model, Some(preset.default_cache()));
//! let prepared = preset.settings.prepare(&mut encoder)?; // cache hit: no encoding
//! let stylizer = preset.settings.stylizer(&model, &prepared).build()?;
//! let content = image_io::load_picture("content.png".as_ref(), "content image")?;
//! image_io::save_picture(&stylizer.run(&content, &mut Silent)?, "out.png".as_ref())?;
//! # Ok(()) }
//! ```

mod load;
pub mod resolve;
pub mod schema;

use std::path::{Path, PathBuf};

pub use crate::job::{Job, Prepared, TextureJob};
pub use load::MAX_PRESET_BYTES;
pub use resolve::{SearchPath, STYLE_PATH_ENV};
pub use schema::SCHEMA_VERSION;

use crate::error::{Error, Result};
use crate::rules::JobKind;
use crate::style_cache::StyleCache;

/// A validated preset: every value in range, every file it names found.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// The file it was read from.
    pub path: PathBuf,
    /// `name`, else the file name without `.toml`; usable as a file name.
    pub name: String,
    /// `description` (one line; empty when not given).
    pub description: String,
    /// The job the preset describes, file names resolved.
    pub settings: Job,
}

/// What a preset is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetKind {
    /// No `[texture]` table: a stylization look.
    Stylize,
    /// Has a `[texture]` table; `unistyle render` renders these.
    Texture,
}

impl std::fmt::Display for PresetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PresetKind::Stylize => "stylize",
            PresetKind::Texture => "texture",
        })
    }
}

impl Preset {
    /// Reads and validates a preset; images are found beside it or on `$UNISTYLE_STYLE_PATH`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_with(path, &SearchPath::from_env())
    }

    /// As [`Preset::load`], with an explicit search path.
    pub fn load_with(path: impl AsRef<Path>, search: &SearchPath) -> Result<Self> {
        load::load(path.as_ref(), search)
    }

    /// Parses preset text; `path` names it in messages and anchors relative file names.
    pub fn parse(text: &str, path: impl AsRef<Path>, search: &SearchPath) -> Result<Self> {
        load::parse(text, path.as_ref(), search)
    }

    pub fn kind(&self) -> PresetKind {
        if self.settings.kind == JobKind::Texture {
            PresetKind::Texture
        } else {
            PresetKind::Stylize
        }
    }

    /// The job the preset describes, for [`Job::prepare`] and the builders.
    pub fn settings(&self) -> &Job {
        &self.settings
    }

    /// The style cache beside the preset file (`.unistyle-cache/`).
    pub fn default_cache(&self) -> StyleCache {
        StyleCache::beside(&self.path)
    }
}

/// Every `*.toml` file of `dir`, sorted by file name, each loaded (or its error).
pub fn scan_dir(dir: &Path, search: &SearchPath) -> Result<Vec<(PathBuf, Result<Preset>)>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        what: "preset folder",
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files
        .into_iter()
        .map(|f| {
            let r = Preset::load_with(&f, search);
            (f, r)
        })
        .collect())
}
