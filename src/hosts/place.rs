//! Putting files in an editor's folder so that a running editor never sees half of them: a
//! folder is filled beside its destination under a hidden name, then swapped in by a rename
//! (an exchange where the system has one), and the old version removed afterwards; a single
//! file is written beside and renamed over.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io { what, path: path.to_path_buf(), source }
}

/// `.NAME.TAG-PID` beside `dest`: hidden, so neither GIMP nor Krita takes it for a plug-in.
fn beside(dest: &Path, tag: &str) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dest.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Removes what earlier interrupted runs left beside `dest` (`.NAME.new-*`, `.NAME.old-*`).
fn remove_leftovers(dest: &Path) {
    let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else { return };
    let name = name.to_string_lossy();
    let Ok(rd) = std::fs::read_dir(parent) else { return };
    for e in rd.filter_map(|e| e.ok()) {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&format!(".{name}.new-")) || n.starts_with(&format!(".{name}.old-")) {
            let _ = remove_any(&e.path());
        }
    }
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Swaps two existing paths in one step (Linux), else reports that it could not.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> bool {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let (Ok(ca), Ok(cb)) = (CString::new(a.as_os_str().as_bytes()), CString::new(b.as_os_str().as_bytes())) else {
        return false;
    };
    // SAFETY: both are valid NUL-terminated paths; renameat2 reads them and touches no memory of ours.
    let rc =
        unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE) };
    rc == 0
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> bool {
    false
}

/// Installs a folder at `dest`: `fill` writes its content into a fresh folder beside it,
/// which then replaces `dest` (the old version is removed after the swap). On failure
/// nothing at `dest` has changed.
pub fn replace_dir(dest: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io("folder", parent))?;
    remove_leftovers(dest);
    let new = beside(dest, "new");
    std::fs::create_dir_all(&new).map_err(io("folder", &new))?;
    if let Err(e) = fill(&new) {
        let _ = std::fs::remove_dir_all(&new);
        return Err(e);
    }
    if !dest.exists() {
        return std::fs::rename(&new, dest).map_err(io("folder", dest));
    }
    if exchange(&new, dest) {
        // `new` now holds the old version.
        return std::fs::remove_dir_all(&new).map_err(io("old folder", &new));
    }
    let old = beside(dest, "old");
    std::fs::rename(dest, &old).map_err(|e| {
        let _ = std::fs::remove_dir_all(&new);
        io("folder (is the editor using it? close it and try again)", dest)(e)
    })?;
    if let Err(e) = std::fs::rename(&new, dest) {
        let _ = std::fs::rename(&old, dest);
        let _ = std::fs::remove_dir_all(&new);
        return Err(io("folder", dest)(e));
    }
    std::fs::remove_dir_all(&old).map_err(io("old folder", &old))
}

/// Writes `bytes` to `dest` through a file beside it renamed over `dest`.
pub fn replace_file(dest: &Path, bytes: &[u8]) -> Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io("folder", parent))?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(io("temporary file beside", dest))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(io("file", dest))?;
    tmp.as_file().sync_all().map_err(io("file", dest))?;
    tmp.persist(dest).map_err(|e| Error::Io { what: "file", path: dest.to_path_buf(), source: e.error })?;
    Ok(())
}

/// Copies the folder `from` into `to` (which exists), keeping the executable bit.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for e in std::fs::read_dir(from).map_err(io("folder", from))? {
        let e = e.map_err(io("folder", from))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().map_err(io("file", &src))?.is_dir() {
            std::fs::create_dir(&dst).map_err(io("folder", &dst))?;
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(io("file", &src))?;
        }
    }
    Ok(())
}

/// One entry of a zip: relative path, is a folder, unix mode, content.
pub type ZipEntry = (PathBuf, bool, Option<u32>, Vec<u8>);

/// The entries of a zip (stored, not compressed: what scripts/stage-plugins.sh writes); an
/// entry whose path would leave the folder is refused.
pub fn read_zip(zip: &Path) -> Result<Vec<ZipEntry>> {
    let bad = |reason: String| Error::Io {
        what: "plug-in zip",
        path: zip.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, reason),
    };
    let file = std::fs::File::open(zip).map_err(io("plug-in zip", zip))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| bad(e.to_string()))?;
        let Some(path) = entry.enclosed_name() else {
            let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
            return Err(bad(format!("entry '{name}' leaves the folder")));
        };
        let mut bytes = Vec::new();
        if !entry.is_dir() {
            entry.read_to_end(&mut bytes).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        }
        out.push((path, entry.is_dir(), entry.unix_mode(), bytes));
    }
    Ok(out)
}

/// Writes zip entries (from [`read_zip`]) under `to`, less their `strip` prefix, keeping the
/// executable bit.
pub fn write_entries(entries: &[&ZipEntry], strip: &Path, to: &Path) -> Result<()> {
    for (path, is_dir, mode, bytes) in entries {
        let rel = path.strip_prefix(strip).unwrap_or(path);
        let dst = to.join(rel);
        if *is_dir {
            std::fs::create_dir_all(&dst).map_err(io("folder", &dst))?;
            continue;
        }
        if let Some(p) = dst.parent() {
            std::fs::create_dir_all(p).map_err(io("folder", p))?;
        }
        std::fs::write(&dst, bytes).map_err(io("file", &dst))?;
        set_mode(&dst, *mode)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: Option<u32>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match mode {
        Some(m) if m & 0o111 != 0 => {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).map_err(io("file", p))
        }
        _ => Ok(()),
    }
}

#[cfg(not(unix))]
fn set_mode(_p: &Path, _mode: Option<u32>) -> Result<()> {
    Ok(())
}

/// Removes `p` (a file or folder) if present; true when something was removed.
pub fn remove(p: &Path) -> Result<bool> {
    let existed = std::fs::symlink_metadata(p).is_ok();
    remove_any(p).map_err(io("installed files (is the editor using them? close it and try again)", p))?;
    remove_leftovers(p);
    Ok(existed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_dir_swaps_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("plug-ins/unistyle");
        let put = |name: &'static str, text: &'static str| {
            move |d: &Path| {
                std::fs::write(d.join(name), text).map_err(|source| Error::Io {
                    what: "test",
                    path: d.join(name),
                    source,
                })
            }
        };
        replace_dir(&dest, put("a", "1")).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("a")).unwrap(), "1");
        replace_dir(&dest, put("b", "2")).unwrap();
        assert!(!dest.join("a").exists() && dest.join("b").is_file());
        // A failed fill changes nothing and leaves nothing beside.
        let err = replace_dir(&dest, |_| Err(Error::Cancelled));
        assert!(err.is_err() && dest.join("b").is_file());
        let names: Vec<_> =
            std::fs::read_dir(dest.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("unistyle")]);
        replace_file(&dir.path().join("x/f.desktop"), b"hello").unwrap();
        assert_eq!(std::fs::read(dir.path().join("x/f.desktop")).unwrap(), b"hello");
        assert!(remove(&dest).unwrap() && !dest.exists() && !remove(&dest).unwrap());
    }
}
