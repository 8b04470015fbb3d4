//! Installing the editor plug-ins of a release archive into the editors' per-user folders
//! (`unistyle hosts install|uninstall gimp|krita`): GIMP 3's plug-in folder and Krita's
//! Python plug-in (enabled in `kritarc`), native and Flatpak ([`folders`]); updates replace
//! the installed files in one step ([`place`]); the archive's weights go to the per-user
//! weights folder when none are there.
//!
//! The files come from the archive's `share/unistyle/` ([`bundled_share_dir`]):
//! `gimp3/unistyle/` (the GIMP 3 plug-in folder) and `krita/unistyle-krita.zip` (the Krita
//! plug-in, as Krita's own importer takes it), both written by `scripts/stage-plugins.sh`.

pub mod folders;
pub mod kritarc;
pub mod place;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use folders::{Flavour, Platform, Target};

/// The editors whose plug-ins are shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    Gimp,
    Krita,
}

impl Editor {
    pub fn name(self) -> &'static str {
        match self {
            Editor::Gimp => "GIMP 3",
            Editor::Krita => "Krita",
        }
    }
}

/// The GIMP 3 plug-in's folder (and main script's) name, in `share/unistyle/gimp3/`.
pub const GIMP_PLUGIN: &str = "unistyle";
/// The Krita plug-in's package name (its `.desktop` file is `NAME.desktop`).
pub const KRITA_PACKAGE: &str = "unistyle_krita";
/// The Krita plug-in zip, in `share/unistyle/`.
pub const KRITA_ZIP: &str = "krita/unistyle-krita.zip";
/// Files only our plug-in folders hold (what `uninstall` checks before removing a folder).
const OURS: [&str; 4] = ["unistyle_ctypes.py", "libunistyle.so", "unistyle.dll", "libunistyle.dylib"];

pub use crate::locate::bundled_share_dir;

fn gimp_dest(t: &Target) -> PathBuf {
    t.dir.join("plug-ins").join(GIMP_PLUGIN)
}

fn krita_package(t: &Target) -> PathBuf {
    t.dir.join("pykrita").join(KRITA_PACKAGE)
}

fn krita_desktop(t: &Target) -> PathBuf {
    t.dir.join("pykrita").join(format!("{KRITA_PACKAGE}.desktop"))
}

fn missing(what: &str, path: &Path) -> Error {
    Error::Parameter {
        name: "hosts install".into(),
        reason: format!(
            "no {what} at '{}': run the `unistyle` of an unpacked release archive (bin/unistyle beside \
             share/unistyle/), or give --from SHARE_DIR",
            path.display()
        ),
    }
}

/// Installs (or updates) the plug-in of `editor` from `share` into each target; returns
/// what was done, one line each.
pub fn install(editor: Editor, share: &Path, targets: &[Target]) -> Result<Vec<String>> {
    let mut report = Vec::new();
    match editor {
        Editor::Gimp => {
            let src = share.join("gimp3").join(GIMP_PLUGIN);
            if !src.join(format!("{GIMP_PLUGIN}.py")).is_file() {
                return Err(missing("GIMP 3 plug-in", &src));
            }
            for t in targets {
                let dest = gimp_dest(t);
                let updated = dest.exists();
                place::replace_dir(&dest, |new| place::copy_tree(&src, new))?;
                report.push(format!("{} {} (GIMP 3 profile {})", verb(updated), dest.display(), t.describe()));
            }
        }
        Editor::Krita => {
            let zip = share.join(KRITA_ZIP);
            if !zip.is_file() {
                return Err(missing("Krita plug-in zip", &zip));
            }
            let entries = place::read_zip(&zip)?;
            let desktop_name = PathBuf::from(format!("{KRITA_PACKAGE}.desktop"));
            let desktop = entries.iter().find(|e| e.0 == desktop_name);
            let package: Vec<_> = entries.iter().filter(|e| e.0.starts_with(KRITA_PACKAGE)).collect();
            let Some(desktop) = desktop.filter(|_| package.iter().any(|e| e.0.ends_with("__init__.py"))) else {
                return Err(missing("unistyle_krita.desktop and unistyle_krita/__init__.py in the zip", &zip));
            };
            for t in targets {
                let dest = krita_package(t);
                let updated = dest.exists();
                // The package first: Krita lists a plug-in by its .desktop file.
                place::replace_dir(&dest, |new| place::write_entries(&package, Path::new(KRITA_PACKAGE), new))?;
                place::replace_file(&krita_desktop(t), &desktop.3)?;
                report.push(format!("{} {} (Krita resources {})", verb(updated), dest.display(), t.describe()));
                report.push(enable_krita(t)?);
            }
        }
    }
    Ok(report)
}

fn verb(updated: bool) -> &'static str {
    if updated {
        "updated"
    } else {
        "installed"
    }
}

const PYTHON_GROUP: &str = "python";

fn enable_key() -> String {
    format!("enable_{KRITA_PACKAGE}")
}

/// Sets `[python] enable_unistyle_krita=true` in the target's kritarc.
fn enable_krita(t: &Target) -> Result<String> {
    let Some(rc) = &t.kritarc else {
        return Ok("  enable it in Krita: Settings > Configure Krita > Python Plugin Manager > unistyle".into());
    };
    let text = std::fs::read_to_string(rc).unwrap_or_default();
    let on = kritarc::set(&text, PYTHON_GROUP, &enable_key(), "true");
    if on != text {
        place::replace_file(rc, on.as_bytes())?;
    }
    Ok(format!("  enabled in {} (a running Krita rewrites it when it quits: close Krita first)", rc.display()))
}

/// Whether `dir` holds one of our plug-ins (checked before removing it).
fn is_ours(dir: &Path) -> bool {
    OURS.iter().any(|f| dir.join(f).is_file())
}

/// Removes the plug-in of `editor` from each target (only our files: the plug-in folder,
/// Krita's `.desktop` file and `kritarc` key); returns what was done, one line each.
pub fn uninstall(editor: Editor, targets: &[Target]) -> Result<Vec<String>> {
    let mut report = Vec::new();
    for t in targets {
        let (dir, extra) = match editor {
            Editor::Gimp => (gimp_dest(t), None),
            Editor::Krita => (krita_package(t), Some(krita_desktop(t))),
        };
        if dir.exists() && !is_ours(&dir) {
            return Err(Error::Parameter {
                name: "hosts uninstall".into(),
                reason: format!("'{}' is not a unistyle plug-in folder; left as it is", dir.display()),
            });
        }
        let mut removed = place::remove(&dir)?;
        if let Some(f) = extra {
            removed |= place::remove(&f)?;
        }
        if let Some(rc) = t.kritarc.as_ref().filter(|_| editor == Editor::Krita) {
            if let Some(off) =
                std::fs::read_to_string(rc).ok().and_then(|s| kritarc::remove(&s, PYTHON_GROUP, &enable_key()))
            {
                place::replace_file(rc, off.as_bytes())?;
                removed = true;
            }
        }
        report.push(if removed {
            format!("removed {} ({})", dir.display(), t.describe())
        } else {
            format!("nothing to remove in {}", t.describe())
        });
    }
    Ok(report)
}

/// Copies the archive's weights (`share/weights/*.safetensors`) into the per-user weights
/// folder, and into each target's own data folder (a Flatpak's), where no weights are yet.
pub fn install_weights(share: &Path, user_dir: Option<PathBuf>, targets: &[Target]) -> Result<Vec<String>> {
    let bundled = share.join("weights");
    let files: Vec<PathBuf> = std::fs::read_dir(&bundled)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "safetensors"))
                .collect()
        })
        .unwrap_or_default();
    if files.is_empty() {
        return Ok(vec![format!("no weights in {} to install", bundled.display())]);
    }
    let mut dirs: Vec<PathBuf> = user_dir.into_iter().collect();
    dirs.extend(targets.iter().filter_map(|t| t.data_home.as_ref().map(|d| d.join("unistyle").join("weights"))));
    dirs.dedup();
    let mut report = Vec::new();
    for dir in dirs {
        if crate::locate::pick(&dir).is_some() {
            report.push(format!("weights already in {} (kept)", dir.display()));
            continue;
        }
        for f in &files {
            let name = f.file_name().unwrap_or_default();
            let bytes = std::fs::read(f).map_err(|source| Error::Io { what: "weights", path: f.clone(), source })?;
            place::replace_file(&dir.join(name), &bytes)?;
        }
        report.push(format!("weights installed in {}", dir.display()));
    }
    Ok(report)
}
