//! Finding the files a preset names: relative to the preset's folder, else on the style
//! search path (`UNISTYLE_STYLE_PATH`, folders separated like `PATH`).

use std::path::{Path, PathBuf};

/// Environment variable listing folders in which preset images are looked up.
pub const STYLE_PATH_ENV: &str = "UNISTYLE_STYLE_PATH";

/// Folders searched, in order, for images a preset names by a relative path that does not
/// exist beside the preset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPath {
    dirs: Vec<PathBuf>,
}

impl SearchPath {
    pub fn new(dirs: impl IntoIterator<Item = PathBuf>) -> Self {
        Self { dirs: dirs.into_iter().filter(|d| !d.as_os_str().is_empty()).collect() }
    }

    /// The folders of `$UNISTYLE_STYLE_PATH` (none when unset).
    pub fn from_env() -> Self {
        match std::env::var_os(STYLE_PATH_ENV) {
            Some(v) => Self::new(std::env::split_paths(&v)),
            None => Self::default(),
        }
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Resolves `name` as a preset in `base` names it. An absolute path must exist as is; a
    /// relative one is tried in `base`, then in each search folder. `Err` explains where it
    /// was looked for.
    pub fn resolve(&self, base: &Path, name: &str) -> Result<PathBuf, String> {
        if name.trim().is_empty() {
            return Err("the file name is empty".into());
        }
        let p = Path::new(name);
        if p.is_absolute() {
            return existing_file(p)?.ok_or_else(|| format!("'{name}' does not exist"));
        }
        let mut tried = vec![base.to_path_buf()];
        if let Some(f) = existing_file(&base.join(p))? {
            return Ok(f);
        }
        for d in &self.dirs {
            if let Some(f) = existing_file(&d.join(p))? {
                return Ok(f);
            }
            tried.push(d.clone());
        }
        let hint = if self.dirs.is_empty() {
            format!("; set {STYLE_PATH_ENV} to add folders to search")
        } else {
            String::new()
        };
        let places: Vec<String> = tried.iter().map(|d| format!("'{}'", d.display())).collect();
        Err(format!("'{name}' not found (looked in {}{hint})", places.join(", ")))
    }
}

/// `p` if it is a regular file; `None` if nothing is there; an error saying what it is when
/// something else is (a FIFO, a folder, a link loop…), rather than "not found".
fn existing_file(p: &Path) -> Result<Option<PathBuf>, String> {
    match (std::fs::metadata(p), std::fs::symlink_metadata(p)) {
        (Ok(m), _) if m.is_file() => Ok(Some(p.to_path_buf())),
        (Ok(m), _) => Err(format!("'{}' is {}, not a regular file", p.display(), crate::input_file::kind_of(&m))),
        (Err(e), Ok(_)) if crate::locate::is_link_loop(&e) => Err(format!("'{}' is a symbolic link loop", p.display())),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_first_then_search_path() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::write(b.path().join("x.png"), b"x").unwrap();
        let sp = SearchPath::new([a.path().to_path_buf(), b.path().to_path_buf()]);
        let base = tempfile::tempdir().unwrap();
        assert_eq!(sp.resolve(base.path(), "x.png").unwrap(), b.path().join("x.png"));
        std::fs::write(base.path().join("x.png"), b"y").unwrap();
        assert_eq!(sp.resolve(base.path(), "x.png").unwrap(), base.path().join("x.png"));
        let err = sp.resolve(base.path(), "y.png").unwrap_err();
        assert!(err.contains("'y.png' not found") && err.contains(&a.path().display().to_string()), "{err}");
        assert!(SearchPath::default().resolve(base.path(), "y.png").unwrap_err().contains(STYLE_PATH_ENV));
    }
}
