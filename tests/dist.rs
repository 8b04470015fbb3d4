//! The release archives of `scripts/dist.sh` (in `$UNISTYLE_DIST`, default `dist/` of the
//! checkout): their checksums and layout, the glibc floor of the Linux files, and proof
//! that each archive works where it is meant to run — the Linux x86-64 one unpacked as is
//! (program and library find their bundled weights), the Windows one under Wine (Debian 13's,
//! in `scripts/debian13-chroot.sh`'s chroot) through `unistyle.exe` and a C host built with
//! mingw-w64, the aarch64 one under qemu-user on the golden cases.
//!
//! Each test prints `SKIPPED <why>` and passes when its archive or tool is absent (a
//! developer's `cargo test` without `scripts/dist.sh`); `.ci/run` builds the archives and
//! installs the tools first, so there they all run.

mod common;
#[path = "dist/elf.rs"]
mod elf;
#[path = "dist/pnm.rs"]
mod pnm;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cbuild::root;
use common::host_inputs::psnr_files;
use common::*;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const LINUX_X86: &str = "x86_64-unknown-linux-gnu";
const WINDOWS: &str = "x86_64-pc-windows-gnu";
const LINUX_ARM: &str = "aarch64-unknown-linux-gnu";
const TARGETS: [&str; 3] = [LINUX_X86, WINDOWS, LINUX_ARM];
/// What "equal" means between two builds' outputs (8-bit files).
const MIN_PSNR: f64 = 40.0;
/// The oldest glibc the Linux archives must run on (Debian 10, Ubuntu 20.04, RHEL 8).
const GLIBC_FLOOR: [u32; 2] = [2, 28];
/// The golden case the Windows proof renders (three levels, one style).
const WINDOWS_CASE: &str = "multi_a06";

/// `$UNISTYLE_DIST`, else `dist/` of the checkout.
fn dist_dir() -> PathBuf {
    match std::env::var_os("UNISTYLE_DIST") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => root().join("dist"),
    }
}

fn skip(why: &str) {
    println!("SKIPPED: {why}");
}

fn archive_name(target: &str) -> String {
    let ext = if target.contains("windows") { "zip" } else { "tar.gz" };
    format!("unistyle-{VERSION}-{target}.{ext}")
}

/// The archive of `target`, or why there is none.
fn archive(target: &str) -> Result<PathBuf, String> {
    let p = dist_dir().join(archive_name(target));
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!("{} not found (run scripts/dist.sh {target})", p.display()))
    }
}

fn has_tool(name: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {name}")]).output().is_ok_and(|o| o.status.success())
}

fn run_checked(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Unpacks `target`'s archive into a new temporary folder; returns it and the archive's
/// top folder inside it.
fn unpack(target: &str) -> Result<(tempfile::TempDir, PathBuf), String> {
    let file = archive(target)?;
    let tool = if target.contains("windows") { "unzip" } else { "tar" };
    if !has_tool(tool) {
        return Err(format!("no {tool} to unpack {}", file.display()));
    }
    let dir = tempfile::Builder::new().prefix("unistyle-dist-").tempdir().unwrap();
    if target.contains("windows") {
        run_checked(Command::new("unzip").arg("-q").arg(&file).arg("-d").arg(dir.path()));
    } else {
        run_checked(Command::new("tar").arg("-xzf").arg(&file).arg("-C").arg(dir.path()));
    }
    let top = dir.path().join(format!("unistyle-{VERSION}-{target}"));
    assert!(top.is_dir(), "{} has no top folder {}", file.display(), top.display());
    Ok((dir, top))
}

/// The files every archive of `target` holds.
fn required_files(target: &str) -> Vec<String> {
    let mut files: Vec<String> = if target.contains("windows") {
        vec!["bin/unistyle.exe".into(), "bin/unistyle.dll".into(), "lib/libunistyle.dll.a".into()]
    } else {
        vec!["bin/unistyle".into(), "lib/libunistyle.so".into()]
    };
    files.extend(
        [
            "include/unistyle.h",
            "lib/pkgconfig/unistyle.pc",
            "share/unistyle/weights/wct-vgg19-relu3.safetensors",
            "INSTALL.md",
        ]
        .map(String::from),
    );
    let presets = std::fs::read_dir(root().join("presets")).unwrap();
    files.extend(presets.filter_map(|e| {
        let name = e.ok()?.file_name().into_string().ok()?;
        name.ends_with(".toml").then(|| format!("share/unistyle/presets/{name}"))
    }));
    // The plug-ins, once the script that stages them is part of the checkout.
    if root().join("scripts/stage-plugins.sh").exists() {
        files.extend(["share/unistyle/gimp3/unistyle", "share/unistyle/krita/unistyle-krita.zip"].map(String::from));
    }
    files
}

#[test]
fn checksums_verify() {
    let dist = dist_dir();
    if !dist.join("SHA256SUMS").is_file() {
        return skip(&format!("no {}/SHA256SUMS (run scripts/dist.sh)", dist.display()));
    }
    if !has_tool("sha256sum") {
        return skip("no sha256sum");
    }
    let out = run_checked(Command::new("sha256sum").arg("-c").arg("SHA256SUMS").current_dir(&dist));
    let listed = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    for target in TARGETS {
        if archive(target).is_ok() {
            assert!(listed.contains(&archive_name(target)), "SHA256SUMS does not list {}", archive_name(target));
        }
    }
    println!("{}", out.trim());
}

#[test]
fn archives_hold_their_files() {
    let mut checked = 0;
    for target in TARGETS {
        let (_dir, top) = match unpack(target) {
            Ok(u) => u,
            Err(why) => {
                skip(&why);
                continue;
            }
        };
        for f in required_files(target) {
            assert!(top.join(&f).exists(), "{target}: the archive lacks {f}");
        }
        let pc = std::fs::read_to_string(top.join("lib/pkgconfig/unistyle.pc")).unwrap();
        assert!(pc.contains("prefix=${pcfiledir}/../..") && pc.contains(&format!("Version: {VERSION}")), "{pc}");
        let install = std::fs::read_to_string(top.join("INSTALL.md")).unwrap();
        assert!(install.contains("hosts install gimp") && install.contains(target), "{target}: INSTALL.md");
        checked += 1;
    }
    println!("{checked} archive(s) hold every file");
}

#[test]
fn linux_files_need_glibc_2_28_at_most() {
    for target in [LINUX_X86, LINUX_ARM] {
        let (_dir, top) = match unpack(target) {
            Ok(u) => u,
            Err(why) => {
                skip(&why);
                continue;
            }
        };
        for file in ["bin/unistyle", "lib/libunistyle.so"] {
            let bytes = std::fs::read(top.join(file)).unwrap();
            let needed = elf::needed_versions(&bytes).unwrap_or_else(|e| panic!("{target} {file}: {e}"));
            let highest =
                elf::highest_glibc(&needed).unwrap_or_else(|| panic!("{target} {file}: no GLIBC version needed?"));
            let shown = highest.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
            println!("{target} {file}: highest GLIBC_{shown} ({} versioned needs)", needed.len());
            assert!(highest <= GLIBC_FLOOR.to_vec(), "{target} {file} needs GLIBC_{shown}, above the 2.28 floor");
        }
    }
}

/// The ELF reader itself, on the CLI built with these tests (always there on Linux): it
/// finds libc's versions, and the same `(library, version)` pairs as binutils' `readelf`
/// where that is installed.
#[test]
fn elf_reader_agrees_with_readelf() {
    if !cfg!(target_os = "linux") {
        return skip("not Linux");
    }
    let exe = Path::new(env!("CARGO_BIN_EXE_unistyle"));
    let mut ours = elf::needed_versions(&std::fs::read(exe).unwrap()).unwrap();
    assert!(ours.iter().any(|(lib, v)| lib == "libc.so.6" && v.starts_with("GLIBC_2.")), "{ours:?}");
    assert!(elf::highest_glibc(&ours).is_some_and(|v| v >= vec![2, 2]));
    if !has_tool("readelf") {
        return skip("no readelf to compare with");
    }
    let text = run_checked(Command::new("readelf").arg("--version-info").arg("--wide").arg(exe));
    let mut theirs = Vec::new();
    let mut library = String::new();
    for line in text.lines().skip_while(|l| !l.contains(".gnu.version_r")) {
        if let Some(rest) = line.split("File: ").nth(1) {
            library = rest.split_whitespace().next().unwrap().to_string();
        } else if let Some(rest) = line.split("Name: ").nth(1) {
            theirs.push((library.clone(), rest.split_whitespace().next().unwrap().to_string()));
        }
    }
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs, "ELF reader vs readelf");
}

/// The result of the CLI built with these tests for a golden case's content and style.
fn reference_stylize(case: &Case, out: &Path) {
    case_cli(case).weights(relu3_weights()).out(out).run_ok();
}

/// `stylize` of a one-style golden case's content, style, alpha and levels (no output yet).
fn case_cli(case: &Case) -> Cli {
    Cli::stylize()
        .content(image(case.content.as_deref().unwrap()))
        .style(image(case.style.as_deref().unwrap()))
        .alpha(case.alpha.unwrap())
        .levels(&case.levels_arg())
}

/// The Linux x86-64 archive as a painter unpacks it: with no `UNISTYLE_WEIGHTS` and a fresh
/// HOME, `bin/unistyle` and a C host linked through `lib/pkgconfig/unistyle.pc` both find the
/// bundled weights and equal the CLI built here.
#[test]
fn linux_archive_runs_unpacked() {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return skip("not an x86-64 Linux machine");
    }
    let (dir, top) = match unpack(LINUX_X86) {
        Ok(u) => u,
        Err(why) => return skip(&why),
    };
    let case = case(WINDOWS_CASE);
    let reference = dir.path().join("reference.png");
    reference_stylize(&case, &reference);
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let fresh = |c: &mut Command| {
        c.env_remove("UNISTYLE_WEIGHTS").env_remove("XDG_DATA_HOME").env("HOME", &home).current_dir(&home);
    };

    let cli_out = dir.path().join("cli.png");
    let mut c = Command::new(top.join("bin/unistyle"));
    fresh(&mut c);
    run_checked(c.args(case_cli(&case).quiet().out(&cli_out).args()));
    let p_cli = psnr_files(&cli_out, &reference);

    if !has_tool("pkg-config") || !has_tool("cc") {
        return skip("no pkg-config or cc for the C host");
    }
    let flags = run_checked(
        Command::new("pkg-config")
            .args(["--cflags", "--libs", "unistyle"])
            .env("PKG_CONFIG_PATH", top.join("lib/pkgconfig")),
    );
    let host = dir.path().join("ppm_host");
    let mut cc = Command::new("cc");
    cc.args(["-O2", "-Wall", "-Werror"]).arg(root().join("plugin-abi/tests/ppm_host.c")).arg("-o").arg(&host);
    run_checked(cc.args(flags.split_whitespace()));
    let (content_ppm, host_out) = (dir.path().join("content.ppm"), dir.path().join("host.ppm"));
    pnm::write_ppm(&picture(case.content.as_deref().unwrap()), &content_ppm);
    let mut c = Command::new(&host);
    fresh(&mut c);
    c.env("LD_LIBRARY_PATH", top.join("lib"));
    run_checked(
        c.arg(&content_ppm)
            .arg(image(case.style.as_deref().unwrap()))
            .arg(&host_out)
            .arg(case.alpha.unwrap().to_string())
            .arg(case.levels_arg()),
    );
    let p_host = psnr(&pnm::read_ppm(&host_out).rgb, &read_png(&reference).rgb);
    println!("Linux x86-64 archive vs the CLI built here ({WINDOWS_CASE}): bin/unistyle {p_cli:.2} dB, C host via pkg-config {p_host:.2} dB");
    assert!(p_cli >= MIN_PSNR && p_host >= MIN_PSNR, "CLI {p_cli:.2} dB, C host {p_host:.2} dB < {MIN_PSNR}");
}

/// The command line that renders golden case `c` to `out` (inputs under `images`): every
/// mode has one — reconstruct is alpha 0, interpolate two blended styles, mask a region
/// mask over two styles, texture the case's noise as `--init`.
fn golden_cli_args(c: &Case, images: &Path, out: &str) -> Vec<String> {
    let img = |rel: &Option<String>| images.join(rel.as_deref().unwrap());
    let cli = if c.mode == "texture" {
        Cli::texture().style(img(&c.style)).init(img(&c.init)).iterations(c.iterations.unwrap())
    } else {
        let style = if c.mode == "reconstruct" { img(&c.content) } else { img(&c.style) };
        let alpha = if c.mode == "reconstruct" { 0.0 } else { c.alpha.unwrap() };
        let cli = Cli::stylize().content(img(&c.content)).style(style).alpha(alpha);
        match c.mode.as_str() {
            "interpolate" => {
                let beta = c.beta.unwrap();
                cli.style(img(&c.style1)).blend(&format!("{beta},{}", 1.0 - beta))
            }
            "mask" => cli.style(img(&c.style1)).mask(img(&c.mask)),
            _ => cli,
        }
    };
    cli.levels(&c.levels_arg()).quiet().out(out).args()
}

/// The golden reference as the 8-bit file the CLI writes would hold it (clamped).
fn golden_clamped(name: &str) -> Vec<f32> {
    flat(&golden(name)["output"]).iter().map(|v| v.clamp(0.0, 1.0)).collect()
}

/// The aarch64 archive under qemu-user: every golden case through `bin/unistyle` (bundled
/// weights, fresh HOME) at ≥ 40 dB against the reference.
#[test]
fn aarch64_archive_golden_cases_under_qemu() {
    let Some(qemu) = ["qemu-aarch64", "qemu-aarch64-static"].into_iter().find(|q| has_tool(q)) else {
        return skip("no qemu-aarch64 (scripts/setup-test-deps.sh)");
    };
    let sysroot = Path::new("/usr/aarch64-linux-gnu");
    if !sysroot.join("lib/ld-linux-aarch64.so.1").exists() {
        return skip("no aarch64 glibc at /usr/aarch64-linux-gnu (scripts/setup-test-deps.sh)");
    }
    let (dir, top) = match unpack(LINUX_ARM) {
        Ok(u) => u,
        Err(why) => return skip(&why),
    };
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let mut report = Vec::new();
    for c in manifest() {
        let out = dir.path().join(format!("{}.png", c.case));
        let t = std::time::Instant::now();
        let mut cmd = Command::new(qemu);
        cmd.arg("-L").arg(sysroot).arg(top.join("bin/unistyle"));
        cmd.args(golden_cli_args(&c, &shared().join("images"), s(&out)));
        cmd.env_remove("UNISTYLE_WEIGHTS").env_remove("XDG_DATA_HOME").env("HOME", &home);
        run_checked(&mut cmd);
        let p = psnr(&read_png(&out).rgb, &golden_clamped(&c.case));
        report.push(format!("{} {p:.2} dB ({:.0} s)", c.case, t.elapsed().as_secs_f64()));
        assert!(p >= MIN_PSNR, "aarch64 {}: PSNR {p:.2} dB < {MIN_PSNR}", c.case);
    }
    assert!(report.len() >= 11, "expected the 11 golden cases, found {}", report.len());
    println!("aarch64 under {qemu}: {}", report.join(", "));
}

/// The Debian 13 chroot with Wine (`scripts/debian13-chroot.sh`, set up when missing), or
/// why there is none.
fn wine_chroot() -> Result<PathBuf, String> {
    let script = root().join("scripts/debian13-chroot.sh");
    let ensure = Command::new(&script).arg("ensure").output().map_err(|e| format!("{}: {e}", script.display()))?;
    if !ensure.status.success() {
        return Err(format!("no Debian 13 chroot: {}", String::from_utf8_lossy(&ensure.stderr).trim()));
    }
    let path = run_checked(Command::new(&script).arg("path"));
    let chroot = PathBuf::from(path.trim());
    // An absolute link into the chroot's /etc/alternatives: seen from here it dangles.
    if chroot.join("usr/bin/wine").symlink_metadata().is_err() {
        return Err(format!("the chroot {} has no wine", chroot.display()));
    }
    Ok(script)
}

/// The Windows archive under Wine 10 (Debian 13): `bin/unistyle.exe stylize` and a C host
/// compiled here with mingw-w64 against `bin/unistyle.dll` (import library
/// `lib/libunistyle.dll.a`), both with no weights named (the bundled ones, found from the
/// executable and from the DLL) and a fresh Wine prefix, equal the Linux CLI built here.
#[test]
fn windows_archive_under_wine() {
    let mingw = "x86_64-w64-mingw32-gcc";
    if !has_tool(mingw) {
        return skip("no x86_64-w64-mingw32-gcc (scripts/setup-test-deps.sh)");
    }
    let (dir, top) = match unpack(WINDOWS) {
        Ok(u) => u,
        Err(why) => return skip(&why),
    };
    let chroot = match wine_chroot() {
        Ok(c) => c,
        Err(why) => return skip(&why),
    };
    let case = case(WINDOWS_CASE);
    let reference = dir.path().join("reference.png");
    reference_stylize(&case, &reference);
    // Inputs beside the programs, named relative to the archive's folder. (Wine 10 aborts
    // creating a prefix when TMPDIR is set, hence the `unset`; `wineserver -w` lets the
    // chroot's mounts go.)
    std::fs::copy(image(case.style.as_deref().unwrap()), top.join("style.png")).unwrap();
    std::fs::copy(image(case.content.as_deref().unwrap()), top.join("content.png")).unwrap();
    pnm::write_ppm(&picture(case.content.as_deref().unwrap()), &top.join("content.ppm"));
    let mut cc = Command::new(mingw);
    cc.args(["-O2", "-Wall", "-Werror", "-std=c11", "-I"]).arg(top.join("include"));
    cc.arg(root().join("plugin-abi/tests/ppm_host.c")).arg("-o").arg(top.join("bin/ppm_host.exe"));
    run_checked(cc.arg("-L").arg(top.join("lib")).arg("-lunistyle"));

    let (alpha, levels) = (case.alpha.unwrap().to_string(), case.levels_arg());
    let script = format!(
        "set -e; cd '{top}'; export HOME='{home}' WINEPREFIX='{home}/wine' WINEDEBUG=-all \
         WINEDLLOVERRIDES='mscoree,mshtml='; unset DISPLAY TMPDIR; \
         trap 'wineserver -k 2>/dev/null || true' EXIT; \
         wine bin/unistyle.exe stylize --quiet --content content.png --style style.png --alpha {alpha} \
           --levels {levels} --out cli.png; \
         wine bin/ppm_host.exe content.ppm style.png host.ppm {alpha} {levels}; wineserver -w",
        top = top.display(),
        home = dir.path().display(),
    );
    let out = Command::new(&chroot).args(["run", "-b"]).arg(dir.path()).arg(&script).output().unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "under Wine:\n{log}");
    let p_cli = psnr_files(&top.join("cli.png"), &reference);
    let p_host = psnr(&pnm::read_ppm(&top.join("host.ppm")).rgb, &read_png(&reference).rgb);
    println!("Windows archive under Wine vs the Linux CLI ({WINDOWS_CASE}): unistyle.exe {p_cli:.2} dB, mingw C host on unistyle.dll {p_host:.2} dB");
    assert!(p_cli >= MIN_PSNR && p_host >= MIN_PSNR, "unistyle.exe {p_cli:.2} dB, C host {p_host:.2} dB < {MIN_PSNR}");
}
