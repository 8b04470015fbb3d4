//! Finding the weights file, the one lookup of the CLI, the C ABI and the plug-ins: an
//! explicit path (the CLI's `--weights`, the C ABI's `weights_path`), else
//! `UNISTYLE_WEIGHTS`, else the per-user weights folder (where `unistyle weights install`
//! puts them; see [`user_weights_dir`]), else the weights shipped in the unpacked release
//! archive the program or library runs from ([`bundled_weights_dir`]), else a `weights/`
//! folder of the project the running binary belongs to.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Environment variable naming the weights file (or a folder holding it).
pub const WEIGHTS_ENV: &str = "UNISTYLE_WEIGHTS";

/// File names tried first inside a weights folder, best model first.
const PREFERRED: [&str; 3] = ["wct-vgg19.safetensors", "wct-vgg19-relu5.safetensors", "wct-vgg19-relu3.safetensors"];

/// Resolves the weights file to use. `option` names the caller's way of giving the path
/// explicitly (the CLI's `--weights`, the C ABI's `weights_path`) for error messages; when
/// nothing is found, the error lists every place searched.
pub fn locate_weights(explicit: Option<&Path>, option: &'static str) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return pick(p).ok_or_else(|| missing(p, option));
    }
    if let Some(v) = std::env::var_os(WEIGHTS_ENV).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(v);
        return pick(&p).ok_or_else(|| missing(&p, WEIGHTS_ENV));
    }
    let mut searched = vec![format!("{option} (not given)"), format!("{WEIGHTS_ENV} (not set)")];
    match user_weights_dir() {
        Some(d) => {
            if let Some(f) = pick(&d) {
                return Ok(f);
            }
            searched.push(format!("{} (no .safetensors file)", d.display()));
        }
        None => searched.push(format!("the per-user weights folder (unknown: {})", USER_DIR_VARS)),
    }
    match bundled_weights_dir() {
        Some(d) => {
            if let Some(f) = pick(&d) {
                return Ok(f);
            }
            searched.push(format!("{} (no .safetensors file)", d.display()));
        }
        None => searched.push(format!("{BUNDLED_SHARE}/weights of an unpacked archive (none)")),
    }
    let dirs = project_weight_dirs();
    for d in &dirs {
        if let Some(f) = pick(d) {
            return Ok(f);
        }
        searched.push(format!("{} (no .safetensors file)", d.display()));
    }
    if dirs.is_empty() {
        searched.push("weights/ of the project the running program belongs to (none)".into());
    }
    Err(Error::WeightsNotFound { option, searched: searched.join(", ") })
}

/// The variables the per-user folder is derived from, for messages.
#[cfg(target_os = "windows")]
const USER_DIR_VARS: &str = "%APPDATA% is not set";
#[cfg(not(target_os = "windows"))]
const USER_DIR_VARS: &str = "neither XDG_DATA_HOME nor HOME is set";

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute())
}

/// The per-user weights folder, in the platform's data directory:
/// `$XDG_DATA_HOME/unistyle/weights` (default `~/.local/share/unistyle/weights`) on Linux
/// and other Unix systems, `~/Library/Application Support/unistyle/weights` on macOS,
/// `%APPDATA%\unistyle\weights` on Windows. `None` when the variables it derives from are
/// unset (or not absolute paths). The folder need not exist.
pub fn user_weights_dir() -> Option<PathBuf> {
    let data = if cfg!(target_os = "windows") {
        env_dir("APPDATA")?
    } else if cfg!(target_os = "macos") {
        env_dir("HOME")?.join("Library/Application Support")
    } else {
        env_dir("XDG_DATA_HOME").or_else(|| Some(env_dir("HOME")?.join(".local/share")))?
    };
    Some(data.join("unistyle").join("weights"))
}

fn missing(p: &Path, source: &str) -> Error {
    let what = match (std::fs::metadata(p), std::fs::symlink_metadata(p)) {
        (Ok(m), _) if m.is_dir() => "a folder with no .safetensors file in it".to_string(),
        (Ok(m), _) => format!("it is {}, not a regular file", crate::input_file::kind_of(&m)),
        (Err(e), Ok(_)) if is_link_loop(&e) => "it is a symbolic link loop".to_string(),
        (Err(_), Ok(l)) if l.file_type().is_symlink() => "it is a symbolic link to nothing".to_string(),
        _ => "no such file or folder".to_string(),
    };
    Error::Weights { path: p.to_path_buf(), reason: format!("given by {source}, but {what}") }
}

/// Whether `e` says "too many levels of symbolic links".
pub(crate) fn is_link_loop(e: &std::io::Error) -> bool {
    #[cfg(target_os = "linux")]
    return e.raw_os_error() == Some(libc::ELOOP);
    #[cfg(not(target_os = "linux"))]
    return e.to_string().to_lowercase().contains("symbolic link");
}

/// The file in a weights folder naming the weights `unistyle weights install` put there last
/// (one line: a file name in the same folder); that file is used before any other.
pub const INSTALLED_MARKER: &str = "installed.txt";

/// The weights file a folder's [`INSTALLED_MARKER`] names, if it names one that is there.
fn installed(dir: &Path) -> Option<PathBuf> {
    let text = crate::input_file::read_bounded(&dir.join(INSTALLED_MARKER), 4096).ok()?;
    let name = String::from_utf8(text).ok()?;
    let name = name.trim();
    let plain = Path::new(name).file_name().is_some_and(|f| f == name);
    let f = dir.join(name);
    (plain && name.ends_with(".safetensors") && f.is_file()).then_some(f)
}

/// A file as is; a folder → the file installed last, else its preferred or first
/// `.safetensors` file.
pub(crate) fn pick(p: &Path) -> Option<PathBuf> {
    if p.is_file() {
        return Some(p.to_path_buf());
    }
    if !p.is_dir() {
        return None;
    }
    if let Some(f) = installed(p) {
        return Some(f);
    }
    for name in PREFERRED {
        let f = p.join(name);
        if f.is_file() {
            return Some(f);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(p)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| f.is_file() && f.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    found.sort();
    found.into_iter().next()
}

/// `weights/` folders of the project holding the running executable (its ancestors,
/// e.g. `<project>/target/release/unistyle` → `<project>/weights`).
fn project_weight_dirs() -> Vec<PathBuf> {
    let Ok(exe) = std::env::current_exe() else {
        return vec![];
    };
    exe.ancestors().skip(1).take(4).map(|a| a.join("weights")).filter(|d| d.is_dir()).collect()
}

/// Where a release archive keeps its shared files (weights, presets, plug-ins), relative to its top folder.
const BUNDLED_SHARE: &str = "share/unistyle";

/// `share/unistyle` of the unpacked release archive this code runs from: `<top>/share/unistyle`,
/// where `<top>` is the folder above the one holding the running executable
/// (`<top>/bin/unistyle`) or the loaded library file (`<top>/lib/libunistyle.so`,
/// `<top>/bin/unistyle.dll`). `None` when neither has one (a build in `target/`).
pub fn bundled_share_dir() -> Option<PathBuf> {
    let files = [std::env::current_exe().ok(), library_file()];
    files.into_iter().flatten().find_map(|f| {
        let dir = f.canonicalize().unwrap_or(f).parent()?.parent()?.join(BUNDLED_SHARE);
        dir.is_dir().then_some(dir)
    })
}

/// The weights folder of the unpacked release archive this code runs from
/// ([`bundled_share_dir`]`/weights`), when there is one.
pub fn bundled_weights_dir() -> Option<PathBuf> {
    let dir = bundled_share_dir()?.join("weights");
    dir.is_dir().then_some(dir)
}

/// The file this library's code was loaded from (the shared library, or the executable when
/// linked in statically), as the dynamic loader reports it.
#[cfg(unix)]
fn library_file() -> Option<PathBuf> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let here = bundled_weights_dir as *const libc::c_void;
    // SAFETY: dladdr only reads the loader's tables and fills `info`; `dli_fname`, when set,
    // points to a NUL-terminated string owned by the loader, copied out at once.
    let name = unsafe {
        if libc::dladdr(here, &mut info) == 0 || info.dli_fname.is_null() {
            return None;
        }
        CStr::from_ptr(info.dli_fname)
    };
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes())))
}

#[cfg(windows)]
fn library_file() -> Option<PathBuf> {
    use std::os::windows::ffi::OsStringExt;
    type Module = *mut core::ffi::c_void;
    const FROM_ADDRESS: u32 = 0x4;
    const UNCHANGED_REFCOUNT: u32 = 0x2;
    #[link(name = "kernel32")]
    extern "system" {
        fn GetModuleHandleExW(flags: u32, name: *const u16, module: *mut Module) -> i32;
        fn GetModuleFileNameW(module: Module, name: *mut u16, size: u32) -> u32;
    }
    let mut module: Module = std::ptr::null_mut();
    let mut name = vec![0u16; 32768];
    // SAFETY: with FROM_ADDRESS the "name" is an address inside this module; the handle is
    // not reference-counted (UNCHANGED_REFCOUNT), and GetModuleFileNameW writes at most
    // `name.len()` UTF-16 units.
    let len = unsafe {
        let here = bundled_weights_dir as *const u16;
        if GetModuleHandleExW(FROM_ADDRESS | UNCHANGED_REFCOUNT, here, &mut module) == 0 {
            return None;
        }
        GetModuleFileNameW(module, name.as_mut_ptr(), name.len() as u32) as usize
    };
    (len > 0 && len < name.len()).then(|| PathBuf::from(std::ffi::OsString::from_wide(&name[..len])))
}

#[cfg(not(any(unix, windows)))]
fn library_file() -> Option<PathBuf> {
    None
}
