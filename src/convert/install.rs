//! `unistyle weights install`: puts a weights file where every front end finds it without
//! being told — the per-user weights folder ([`crate::locate::user_weights_dir`]). Upstream
//! models are converted first; a `.safetensors` file is verified. The file is written
//! atomically, under a name that says which levels it has, and named in the folder's
//! [`INSTALLED_MARKER`] so that it, not an older file beside it, is the one used.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{convert_to_bytes, sha256_hex, ConvertOptions};
use crate::error::{Error, Result};
use crate::image_io::write_atomically;
use crate::locate::{user_weights_dir, INSTALLED_MARKER};
use crate::model::WeightsFile;
use crate::model::MAX_LEVEL;

/// What [`install`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    /// The installed file.
    pub path: PathBuf,
    /// Its decoder levels, ascending.
    pub levels: Vec<usize>,
    /// Whether upstream models were converted (else a safetensors file was verified).
    pub converted: bool,
    /// Hex sha256 of the installed file.
    pub sha256: String,
}

/// The installed name of a file with `levels`: `wct-vgg19.safetensors` for all five,
/// `wct-vgg19-relu{k}.safetensors` for levels 1..=k, else `wct-vgg19-levels{…}.safetensors`.
pub fn installed_name(levels: &[usize]) -> String {
    let top = levels.iter().copied().max().unwrap_or(0);
    if levels.iter().copied().eq(1..=MAX_LEVEL) {
        "wct-vgg19.safetensors".into()
    } else if levels.iter().copied().eq(1..=top) {
        format!("wct-vgg19-relu{top}.safetensors")
    } else {
        let joined: Vec<String> = levels.iter().map(|l| l.to_string()).collect();
        format!("wct-vgg19-levels{}.safetensors", joined.join("-"))
    }
}

fn is_upstream_file(p: &Path) -> bool {
    let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    [".pth", ".t7", ".pth.tar"].iter().any(|e| name.ends_with(e))
}

/// Installs `source` into `dest` (default: the per-user weights folder, created if needed).
/// `source` is a folder of upstream models (or one of its files: its folder is converted),
/// converted with `options`, or a `.safetensors` file, verified against the layout and
/// copied. On error nothing is written.
pub fn install(source: &Path, dest: Option<&Path>, options: &ConvertOptions) -> Result<InstallReport> {
    let dest = match dest {
        Some(d) => d.to_path_buf(),
        None => user_weights_dir().ok_or_else(|| {
            Error::param(
                "weights install",
                "no per-user data folder: set HOME (or XDG_DATA_HOME, %APPDATA%), or give --dir",
            )
        })?,
    };
    let meta = std::fs::metadata(source).map_err(|e| Error::Io {
        what: "weights to install",
        path: source.to_path_buf(),
        source: e,
    })?;
    let upstream_dir = if meta.is_dir() {
        Some(source.to_path_buf())
    } else if is_upstream_file(source) {
        let dir = source.parent().filter(|p| !p.as_os_str().is_empty());
        Some(dir.unwrap_or(Path::new(".")).to_path_buf())
    } else {
        None
    };
    let (bytes, converted) = match &upstream_dir {
        Some(dir) => (convert_to_bytes(dir, &dest.join("converted.safetensors"), options)?.1, true),
        None => (WeightsFile::read_bytes(source)?, false),
    };
    // Validated before anything is created (the name follows the levels inside).
    let levels = WeightsFile::from_bytes(&bytes, source)?.levels;
    std::fs::create_dir_all(&dest).map_err(|e| Error::Io { what: "weights folder", path: dest.clone(), source: e })?;
    let path = dest.join(installed_name(&levels));
    write_atomically(&path, "cannot write weights", |w| w.write_all(&bytes).map_err(|e| e.to_string()))?;
    // The file just installed is the one used from now on, whatever else the folder holds.
    let name = installed_name(&levels);
    write_atomically(&dest.join(INSTALLED_MARKER), "cannot write weights", |w| {
        writeln!(w, "{name}").map_err(|e| e.to_string())
    })?;
    Ok(InstallReport { path, levels, converted, sha256: sha256_hex(&bytes) })
}

#[cfg(test)]
mod tests {
    use super::installed_name;

    #[test]
    fn names_say_the_levels() {
        assert_eq!(installed_name(&[1, 2, 3, 4, 5]), "wct-vgg19.safetensors");
        assert_eq!(installed_name(&[1, 2, 3]), "wct-vgg19-relu3.safetensors");
        assert_eq!(installed_name(&[2, 4]), "wct-vgg19-levels2-4.safetensors");
    }
}
