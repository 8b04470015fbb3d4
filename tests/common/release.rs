//! The release layout (`unistyle-VERSION-TARGET/`, as scripts/dist.sh packs it) for the host
//! tests, and the Debian 13 runtime chroot they run the editors in
//! (`scripts/debian13-chroot.sh`: GIMP 3, Krita 5.2, no compiler, no Rust).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::cbuild::{lib_path, root};
use super::{relu3_weights, shared};

/// `bin/unistyle`, `lib/libunistyle.so`, `include/unistyle.h`, `share/unistyle/{weights,
/// presets,gimp3,krita}` and `INSTALL.md` under `prefix`, from this build (the program and
/// library of this test run, the plug-ins staged by scripts/stage-plugins.sh, the shipped
/// weights from ../shared).
pub fn assemble(prefix: &Path) {
    let share = prefix.join("share/unistyle");
    for d in ["bin", "lib", "include", "share/unistyle/weights", "share/unistyle/presets"] {
        std::fs::create_dir_all(prefix.join(d)).unwrap();
    }
    std::fs::copy(env!("CARGO_BIN_EXE_unistyle"), prefix.join("bin/unistyle")).unwrap();
    std::fs::copy(lib_path(), prefix.join("lib/libunistyle.so")).unwrap();
    std::fs::copy(root().join("plugin-abi/unistyle.h"), prefix.join("include/unistyle.h")).unwrap();
    std::fs::copy(relu3_weights(), share.join("weights/wct-vgg19-relu3.safetensors")).unwrap();
    for e in std::fs::read_dir(root().join("presets")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            std::fs::copy(&p, share.join("presets").join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(prefix.join("INSTALL.md"), "Assembled by the tests (tests/common/release.rs).\n").unwrap();
    let res = Command::new(root().join("scripts/stage-plugins.sh")).arg(&share).arg(lib_path()).output().unwrap();
    assert!(res.status.success(), "stage-plugins.sh failed:\n{}", String::from_utf8_lossy(&res.stderr));
}

/// The Linux x86-64 archive to test: `$UNISTYLE_DIST` (an archive, or a folder holding one),
/// else one in `dist/` of the checkout (scripts/dist.sh), else one packed here from
/// [`assemble`] into `work`. Returns (archive, where it came from).
pub fn linux_archive(work: &Path) -> (PathBuf, String) {
    let pick = |dir: &Path| -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.file_name().unwrap_or_default().to_string_lossy();
                n.starts_with("unistyle-") && n.ends_with("-x86_64-unknown-linux-gnu.tar.gz")
            })
            .collect();
        found.sort();
        found.pop()
    };
    if let Some(d) = std::env::var_os("UNISTYLE_DIST").filter(|v| !v.is_empty()).map(PathBuf::from) {
        let a = if d.is_file() { Some(d.clone()) } else { pick(&d) };
        let a =
            a.unwrap_or_else(|| panic!("UNISTYLE_DIST={}: no unistyle-*-x86_64-unknown-linux-gnu.tar.gz", d.display()));
        return (a, "$UNISTYLE_DIST".into());
    }
    if let Some(a) = pick(&root().join("dist")) {
        return (a, "dist/ (scripts/dist.sh)".into());
    }
    let top = "unistyle-test-x86_64-unknown-linux-gnu";
    assemble(&work.join(top));
    let archive = work.join(format!("{top}.tar.gz"));
    let res = Command::new("tar").arg("-czf").arg(&archive).arg("-C").arg(work).arg(top).output().unwrap();
    assert!(res.status.success(), "tar failed:\n{}", String::from_utf8_lossy(&res.stderr));
    std::fs::remove_dir_all(work.join(top)).unwrap();
    (archive, "assembled by the test (no dist/ archive)".into())
}

/// The chroot script.
pub fn chroot_script() -> PathBuf {
    root().join("scripts/debian13-chroot.sh")
}

/// Root, or sudo that needs no password: what the chroot needs.
pub fn can_chroot() -> bool {
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if uid.unwrap_or(false) {
        return true;
    }
    Command::new("sudo").args(["-n", "true"]).output().is_ok_and(|o| o.status.success())
}

/// Creates the chroot when missing (built once per machine, cached).
pub fn ensure_chroot() {
    let t = Instant::now();
    let res = Command::new(chroot_script()).arg("ensure").output().expect("run scripts/debian13-chroot.sh");
    assert!(
        res.status.success(),
        "debian13-chroot.sh ensure failed:\n{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    println!("chroot ensure: {:.1} s", t.elapsed().as_secs_f64());
}

/// One command's outcome.
pub struct Run {
    pub code: i32,
    pub log: String,
    pub secs: f64,
}

/// Runs `cmd` (bash) inside the chroot with `binds` bind-mounted at the same paths.
pub fn in_chroot(binds: &[PathBuf], cmd: &str) -> Run {
    let mut c = Command::new(chroot_script());
    c.arg("run");
    for b in binds {
        c.arg("-b").arg(b);
    }
    let t = Instant::now();
    let out = c.arg(cmd).output().expect("run scripts/debian13-chroot.sh");
    Run {
        code: out.status.code().unwrap_or(-1),
        log: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        secs: t.elapsed().as_secs_f64(),
    }
}

/// A word for bash.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The folders a chroot test binds: `dir` (its temporary folder), the checkout, ../shared.
pub fn binds(dir: &Path) -> Vec<PathBuf> {
    [dir, &root(), &shared()]
        .iter()
        .map(|p| p.canonicalize().unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}
