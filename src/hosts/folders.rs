//! Where the editors keep their per-user files: GIMP 3's profile folder and Krita's resource
//! folder (with its `kritarc`), native and Flatpak, on Linux, Windows and macOS.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::Editor;

/// The operating systems whose folder conventions are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Linux,
    Windows,
    MacOs,
}

impl Platform {
    /// The platform this program was built for (other Unix systems follow Linux).
    pub fn current() -> Self {
        if cfg!(target_os = "windows") {
            Platform::Windows
        } else if cfg!(target_os = "macos") {
            Platform::MacOs
        } else {
            Platform::Linux
        }
    }
}

/// How an editor is installed, which decides where its folders are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flavour {
    Native,
    /// A Flatpak, with its application id.
    Flatpak(&'static str),
    /// A folder given with `--profile`.
    Given,
}

/// One place to install into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub flavour: Flavour,
    /// GIMP: the profile folder (`…/GIMP/3.0`); Krita: the resource folder (`…/krita`).
    pub dir: PathBuf,
    /// Krita: the `kritarc` whose `[python]` group enables the plug-in (None: unknown).
    pub kritarc: Option<PathBuf>,
    /// The editor's own per-user data folder when it differs from ours (a Flatpak sees
    /// `~/.var/app/ID/data` as `$XDG_DATA_HOME`): weights are installed there too.
    pub data_home: Option<PathBuf>,
    /// Whether `dir` existed (an editor that has run at least once).
    pub exists: bool,
}

impl Target {
    pub fn describe(&self) -> String {
        let kind = match &self.flavour {
            Flavour::Native => "".to_string(),
            Flavour::Flatpak(id) => format!(" (Flatpak {id})"),
            Flavour::Given => " (--profile)".to_string(),
        };
        format!("{}{kind}", self.dir.display())
    }
}

const GIMP_FLATPAK: &str = "org.gimp.GIMP";
const KRITA_FLATPAK: &str = "org.kde.krita";
/// GIMP 3's profile folder when no 3.x one exists yet.
const GIMP_DEFAULT_SERIES: &str = "3.0";

/// An absolute path from the variable `name`.
fn var(env: &dyn Fn(&str) -> Option<OsString>, name: &str) -> Option<PathBuf> {
    env(name).map(PathBuf::from).filter(|p| p.is_absolute())
}

/// The GIMP 3 profile folders under a `GIMP` folder: every `3.N` present, else `3.0`.
fn gimp_series(base: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(base)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_prefix("3.")
                        .is_some_and(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
                        && e.path().is_dir()
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    if found.is_empty() {
        found.push(base.join(GIMP_DEFAULT_SERIES));
    }
    found
}

fn target(flavour: Flavour, dir: PathBuf, kritarc: Option<PathBuf>, data_home: Option<PathBuf>) -> Target {
    let exists = dir.is_dir();
    Target { flavour, dir, kritarc, data_home, exists }
}

/// Every place the editor keeps its per-user files on `platform`, existing or not, native
/// first. `env` reads an environment variable.
pub fn candidates(editor: Editor, platform: Platform, env: &dyn Fn(&str) -> Option<OsString>) -> Vec<Target> {
    let home = var(env, "HOME").or_else(|| var(env, "USERPROFILE"));
    let mut out = Vec::new();
    match (editor, platform) {
        (Editor::Gimp, _) if var(env, "GIMP3_DIRECTORY").is_some() => {
            // GIMP uses this folder and no other.
            let dir = var(env, "GIMP3_DIRECTORY").unwrap_or_default();
            out.push(target(Flavour::Native, dir, None, None));
        }
        (Editor::Gimp, Platform::Linux) => {
            let config = var(env, "XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")));
            if let Some(c) = config {
                out.extend(gimp_series(&c.join("GIMP")).into_iter().map(|d| target(Flavour::Native, d, None, None)));
            }
        }
        (Editor::Gimp, Platform::Windows) => {
            if let Some(a) = var(env, "APPDATA") {
                out.extend(gimp_series(&a.join("GIMP")).into_iter().map(|d| target(Flavour::Native, d, None, None)));
            }
        }
        (Editor::Gimp, Platform::MacOs) => {
            if let Some(h) = &home {
                let base = h.join("Library/Application Support/GIMP");
                out.extend(gimp_series(&base).into_iter().map(|d| target(Flavour::Native, d, None, None)));
            }
        }
        (Editor::Krita, Platform::Linux) => {
            let data = var(env, "XDG_DATA_HOME").or_else(|| home.as_ref().map(|h| h.join(".local/share")));
            let config = var(env, "XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")));
            if let Some(d) = data {
                out.push(target(Flavour::Native, d.join("krita"), config.map(|c| c.join("kritarc")), None));
            }
        }
        (Editor::Krita, Platform::Windows) => {
            if let Some(a) = var(env, "APPDATA") {
                let rc = var(env, "LOCALAPPDATA").map(|l| l.join("kritarc"));
                out.push(target(Flavour::Native, a.join("krita"), rc, None));
            }
        }
        (Editor::Krita, Platform::MacOs) => {
            if let Some(h) = &home {
                let rc = Some(h.join("Library/Preferences/kritarc"));
                out.push(target(Flavour::Native, h.join("Library/Application Support/krita"), rc, None));
            }
        }
    }
    if platform == Platform::Linux && !(editor == Editor::Gimp && var(env, "GIMP3_DIRECTORY").is_some()) {
        if let Some(h) = &home {
            out.extend(flatpak(editor, h));
        }
    }
    out
}

/// The Flatpak's folders (`~/.var/app/ID/{config,data}`), inside its own XDG folders.
fn flatpak(editor: Editor, home: &Path) -> Vec<Target> {
    let id = match editor {
        Editor::Gimp => GIMP_FLATPAK,
        Editor::Krita => KRITA_FLATPAK,
    };
    let app = home.join(".var/app").join(id);
    let data = Some(app.join("data"));
    match editor {
        Editor::Gimp => gimp_series(&app.join("config/GIMP"))
            .into_iter()
            .map(|d| target(Flavour::Flatpak(id), d, None, data.clone()))
            .collect(),
        Editor::Krita => {
            vec![target(Flavour::Flatpak(id), app.join("data/krita"), Some(app.join("config/kritarc")), data)]
        }
    }
}

/// Where to install: `profile` when given; else every candidate that exists (an editor that
/// has run), else the native default (created).
pub fn targets(
    editor: Editor,
    platform: Platform,
    env: &dyn Fn(&str) -> Option<OsString>,
    profile: Option<&Path>,
    kritarc: Option<&Path>,
) -> Vec<Target> {
    if let Some(p) = profile {
        return vec![target(Flavour::Given, p.to_path_buf(), kritarc.map(Path::to_path_buf), None)];
    }
    let all = candidates(editor, platform, env);
    let mut found: Vec<Target> = all.iter().filter(|t| t.exists).cloned().collect();
    if found.is_empty() {
        found.extend(all.into_iter().find(|t| t.flavour == Flavour::Native));
    }
    if let Some(rc) = kritarc {
        for t in &mut found {
            t.kritarc = Some(rc.to_path_buf());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &[(&str, &Path)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: Vec<(String, OsString)> =
            vars.iter().map(|(k, v)| (k.to_string(), v.as_os_str().to_owned())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn linux_native_and_flatpak() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        let env = env_of(&[("HOME", h)]);
        // Nothing has run: the native default, not yet existing.
        let t = targets(Editor::Gimp, Platform::Linux, &env, None, None);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].dir, h.join(".config/GIMP/3.0"));
        assert!(!t[0].exists);
        // A Flatpak GIMP that has run, and a native GIMP 3.2.
        std::fs::create_dir_all(h.join(".var/app/org.gimp.GIMP/config/GIMP/3.0")).unwrap();
        std::fs::create_dir_all(h.join(".config/GIMP/3.2")).unwrap();
        std::fs::create_dir_all(h.join(".config/GIMP/2.10")).unwrap();
        let t = targets(Editor::Gimp, Platform::Linux, &env, None, None);
        let dirs: Vec<_> = t.iter().map(|t| t.dir.clone()).collect();
        assert_eq!(dirs, vec![h.join(".config/GIMP/3.2"), h.join(".var/app/org.gimp.GIMP/config/GIMP/3.0")]);
        assert_eq!(t[1].flavour, Flavour::Flatpak("org.gimp.GIMP"));
        assert_eq!(t[1].data_home, Some(h.join(".var/app/org.gimp.GIMP/data")));
        // Krita: the Flatpak's kritarc is in its own config folder.
        std::fs::create_dir_all(h.join(".var/app/org.kde.krita/data/krita")).unwrap();
        let t = targets(Editor::Krita, Platform::Linux, &env, None, None);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].dir, h.join(".var/app/org.kde.krita/data/krita"));
        assert_eq!(t[0].kritarc, Some(h.join(".var/app/org.kde.krita/config/kritarc")));
    }

    #[test]
    fn variables_windows_macos_and_profile() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        let xdg = h.join("xdg");
        let env = env_of(&[("HOME", h), ("XDG_CONFIG_HOME", &xdg), ("XDG_DATA_HOME", &xdg)]);
        let t = candidates(Editor::Krita, Platform::Linux, &env);
        assert_eq!((t[0].dir.clone(), t[0].kritarc.clone()), (xdg.join("krita"), Some(xdg.join("kritarc"))));
        let gimp3 = h.join("profile");
        let env = env_of(&[("HOME", h), ("GIMP3_DIRECTORY", &gimp3)]);
        let t = targets(Editor::Gimp, Platform::Linux, &env, None, None);
        assert_eq!(t.iter().map(|t| t.dir.clone()).collect::<Vec<_>>(), vec![gimp3]);
        let appdata = h.join("AppData/Roaming");
        let local = h.join("AppData/Local");
        let env = env_of(&[("APPDATA", &appdata), ("LOCALAPPDATA", &local), ("USERPROFILE", h)]);
        assert_eq!(candidates(Editor::Gimp, Platform::Windows, &env)[0].dir, appdata.join("GIMP/3.0"));
        let k = &candidates(Editor::Krita, Platform::Windows, &env)[0];
        assert_eq!((k.dir.clone(), k.kritarc.clone()), (appdata.join("krita"), Some(local.join("kritarc"))));
        let env = env_of(&[("HOME", h)]);
        assert_eq!(
            candidates(Editor::Gimp, Platform::MacOs, &env)[0].dir,
            h.join("Library/Application Support/GIMP/3.0")
        );
        assert_eq!(
            candidates(Editor::Krita, Platform::MacOs, &env)[0].dir,
            h.join("Library/Application Support/krita")
        );
        let given = h.join("given");
        let t = targets(Editor::Krita, Platform::Linux, &env, Some(&given), None);
        assert_eq!((t.len(), t[0].flavour.clone(), t[0].kritarc.clone()), (1, Flavour::Given, None));
        // A relative variable is ignored (as the editors do).
        let env = env_of(&[("HOME", h), ("XDG_CONFIG_HOME", Path::new("rel"))]);
        assert_eq!(candidates(Editor::Gimp, Platform::Linux, &env)[0].dir, h.join(".config/GIMP/3.0"));
    }
}
