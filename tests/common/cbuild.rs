//! The C side of the tests: where the checkout and the cdylib built with this test binary
//! are, and C programs compiled against them with the system C compiler.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The checkout (the crate's manifest folder).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The library built for this test run (`target/<profile>/deps/libunistyle.so`, or the one
/// beside `deps/`).
pub fn lib_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let name = format!("{}unistyle{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    [deps.join(&name), deps.parent().unwrap().join(&name)]
        .into_iter()
        .find(|p| p.exists())
        .expect("libunistyle cdylib next to the test binary")
}

/// Folder of the cdylib built for this test run (for `-L` and `LD_LIBRARY_PATH`).
pub fn lib_dir() -> PathBuf {
    lib_path().parent().unwrap().to_path_buf()
}

/// Compiles the C file `src` into the program `out` with `$CC` (else `cc`): C11, all
/// warnings as errors, `plugin-abi/` on the include path and the cdylib's folder on the
/// library path. `flags` come first (optimisation, `-g`, sanitizers), `libs` after the
/// source (`-lunistyle`, …).
pub fn cc(src: &Path, out: &Path, flags: &[&str], libs: &[&str]) {
    let res = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(flags)
        .args(["-Wall", "-Wextra", "-Werror", "-std=c11", "-I"])
        .arg(root().join("plugin-abi"))
        .arg(src)
        .arg("-o")
        .arg(out)
        .arg(format!("-L{}", lib_dir().display()))
        .args(libs)
        .output()
        .expect("a C compiler (cc)");
    assert!(res.status.success(), "C compile of {} failed:\n{}", src.display(), String::from_utf8_lossy(&res.stderr));
}
