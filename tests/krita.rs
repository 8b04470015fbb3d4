//! The Krita adapter (`plugin-abi/krita/`): the plug-in's `stylize_node`, run inside Krita
//! 5 by `kritarunner` under `xvfb-run`, gives the CLI's output; and its ctypes binding, run
//! by the system `python3` without Krita, reports errors and synthesizes the CLI's texture.
//!
//! Needs `krita`, `kritarunner`, `xvfb-run` (Debian/Ubuntu: `apt-get install -y krita xvfb
//! xauth`; `.ci/run` installs them) and `python3`. Missing tools fail the test, never skip it.
//! Krita's per-user data (its resource database: ~2 minutes to create on first start) lives
//! in `target/tmp/krita-home` and is reused by later runs.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cbuild::{lib_path as library, root};
use common::*;

fn plugin_dir() -> PathBuf {
    root().join("plugin-abi/krita")
}

/// The ctypes binding, shared by the Krita and GIMP 3 plug-ins.
fn binding_dir() -> PathBuf {
    root().join("plugin-abi/python")
}

/// Full path of `tool` on PATH, or a failure saying how to install it.
fn require(tool: &str, package_hint: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join(tool)).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "`{tool}` is not installed (not on PATH): the Krita adapter test needs it. \
                 Install with: {package_hint} (.ci/run does this)"
        )
    })
}

/// One Krita at a time: they share the machine's cores (and their timings are reported).
static KRITA: std::sync::Mutex<()> = std::sync::Mutex::new(());

const APT_HINT: &str = "sudo apt-get install -y krita xvfb xauth";

/// Runs `cmd` in its own process group; kills the group after `limit`. Returns
/// (exit success, stdout + stderr, elapsed).
fn run_limited(mut cmd: Command, limit: Duration) -> (bool, String, Duration) {
    use std::os::unix::process::CommandExt;
    let log = tempfile::NamedTempFile::new().unwrap();
    cmd.stdin(Stdio::null()).stdout(log.reopen().unwrap()).stderr(log.reopen().unwrap()).process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > limit {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let elapsed = start.elapsed();
    let mut text = String::new();
    log.reopen().unwrap().read_to_string(&mut text).unwrap();
    if status.is_none() {
        text.push_str(&format!("\n[killed after {limit:?}]"));
    }
    (status.is_some_and(|s| s.success()), text, elapsed)
}

/// Interleaved 8-bit samples (`channels` per pixel, `order` = source index of R, G, B) as
/// planar RGB in 0..1, the layout of `Picture::rgb`.
fn planar(bytes: &[u8], w: usize, h: usize, channels: usize, order: [usize; 3]) -> Vec<f32> {
    assert_eq!(bytes.len(), w * h * channels, "raw pixel file size");
    let mut out = vec![0f32; 3 * w * h];
    for p in 0..w * h {
        for c in 0..3 {
            out[c * w * h + p] = bytes[p * channels + order[c]] as f32 / 255.0;
        }
    }
    out
}

/// 16-bit BGRA native-endian samples as planar RGB in 0..1 (rounded to 8 bits like a PNG
/// export would be).
fn planar16(bytes: &[u8], w: usize, h: usize) -> Vec<f32> {
    let v: Vec<u16> = bytes.chunks_exact(2).map(|b| u16::from_ne_bytes([b[0], b[1]])).collect();
    let b8: Vec<u8> = v.iter().map(|&x| ((x as f32) / 257.0).round() as u8).collect();
    planar(&b8, w, h, 4, [2, 1, 0])
}

/// Float RGBA samples (native f32) as planar RGB in 0..1.
fn planar_f32(bytes: &[u8], w: usize, h: usize) -> Vec<f32> {
    let v: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect();
    assert_eq!(v.len(), w * h * 4);
    let mut out = vec![0f32; 3 * w * h];
    for p in 0..w * h {
        for c in 0..3 {
            out[c * w * h + p] = ((v[p * 4 + c].clamp(0.0, 1.0) * 255.0).round()) / 255.0;
        }
    }
    out
}

/// The module kritarunner calls: everything the test checks inside Krita, results in
/// `status.json` (kritarunner exits 0 even when Python raises).
const RUNNER: &str = include_str!("krita/kritarunner_checks.py");

#[test]
fn krita_stylize_matches_cli() {
    let _one = KRITA.lock().unwrap_or_else(|e| e.into_inner());
    let xvfb = require("xvfb-run", APT_HINT);
    let runner = require("kritarunner", APT_HINT);
    require("xauth", APT_HINT);
    let dir = tempfile::tempdir().unwrap();
    let mods = dir.path().join("runner");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&mods).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(mods.join("unistyle_test_runner.py"), RUNNER).unwrap();

    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("krita-home");
    std::fs::create_dir_all(&home).unwrap();
    let first_start = !home.join(".local/share/kritarunner/resourcecache.sqlite").exists();
    let pythonpath = std::env::join_paths([mods.clone(), plugin_dir()]).unwrap();
    let mut cmd = Command::new(&xvfb);
    cmd.args(["-a", "-s", "-screen 0 1280x1024x24"])
        .arg(&runner)
        .args(["-s", "unistyle_test_runner", "-f", "main"])
        .env("PYTHONPATH", pythonpath)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("UNISTYLE_LIBRARY", library())
        .env("UNISTYLE_WEIGHTS", relu3_weights())
        .env("UNISTYLE_SHARED", shared())
        .env("UNISTYLE_TEST_OUT", &out)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let (ok, log, elapsed) = run_limited(cmd, Duration::from_secs(900));
    let status_text = std::fs::read_to_string(out.join("status.json")).unwrap_or_default();
    let context = format!("kritarunner log:\n{log}\nstatus.json:\n{status_text}");
    assert!(ok, "xvfb-run kritarunner failed\n{context}");
    assert!(!status_text.is_empty(), "the runner wrote no status (did Krita run the module?)\n{context}");
    assert!(!log.contains("Traceback"), "Python raised inside Krita\n{context}");
    let status: serde_json::Value = serde_json::from_str(&status_text).unwrap();
    assert_eq!(status["ok"], true, "the Krita runner failed:\n{}\n{context}", status["error"].as_str().unwrap_or(""));

    let secs = |k: &str| status[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "Krita {} (Python {}): whole kritarunner run {:.1} s{}; open+stylize+export {:.2} s; stylize_node 256x256 levels 3,2,1: {:.2} s \
         (U16 {:.2} s, F16 {:.2} s, F32 {:.2} s); texture 64x48: {:.2} s",
        status["krita"].as_str().unwrap_or("?"),
        status["python"].as_str().unwrap_or("?"),
        elapsed.as_secs_f64(),
        if first_start { " (first start: Krita built its resource database)" } else { "" },
        secs("open_stylize_export_s"),
        secs("stylize_s"),
        secs("stylize_U16_s"),
        secs("stylize_F16_s"),
        secs("stylize_F32_s"),
        secs("texture_s"),
    );
    assert_eq!(status["content"], serde_json::json!([256, 256, "RGBA", "U8"]));
    let progress = status["progress"].as_array().unwrap();
    assert!(progress.len() == 3 && progress[1].as_f64() == Some(1.0), "progress reached 1: {progress:?}");

    // The CLI on the same inputs.
    let (content, style) = (image("content/tubingen_256.png"), image("style/starry_256.png"));
    let cli_out = dir.path().join("cli.png");
    let t = Instant::now();
    Cli::stylize()
        .content(&content)
        .style(&style)
        .alpha(0.6)
        .levels("3,2,1")
        .weights(relu3_weights())
        .out(&cli_out)
        .run_ok();
    println!("CLI stylize (same inputs, whole process): {:.2} s", t.elapsed().as_secs_f64());
    let cli = read_png(&cli_out).rgb;

    let exported = read_png(&out.join("krita.png"));
    assert_eq!((exported.width, exported.height), (256, 256));
    let p = psnr(&exported.rgb, &cli);
    println!("Krita (exported PNG) vs CLI: {p:.2} dB");
    assert!(p >= 50.0, "Krita's output differs from the CLI's: {p:.2} dB");

    let raw = std::fs::read(out.join("krita_u8.bgra")).unwrap();
    let layer = planar(&raw, 256, 256, 4, [2, 1, 0]);
    let p = psnr(&layer, &cli);
    println!("Krita layer pixels (8-bit BGRA) vs CLI: {p:.2} dB");
    assert!(p >= 50.0, "layer pixels differ from the CLI's: {p:.2} dB");
    assert!(raw.chunks_exact(4).all(|px| px[3] == 255), "opaque content must stay opaque");

    for (fmt, min) in [("U16", 50.0), ("F16", 45.0), ("F32", 50.0)] {
        let raw = std::fs::read(out.join(format!("krita_{fmt}.raw"))).unwrap();
        let rgb = match fmt {
            "U16" => planar16(&raw, 256, 256),
            "F16" => {
                let f: Vec<u8> = raw
                    .chunks_exact(2)
                    .flat_map(|b| half_to_f32(u16::from_ne_bytes([b[0], b[1]])).to_ne_bytes())
                    .collect();
                planar_f32(&f, 256, 256)
            }
            _ => planar_f32(&raw, 256, 256),
        };
        let p = psnr(&rgb, &cli);
        println!("Krita {fmt} RGBA layer vs CLI: {p:.2} dB");
        assert!(p >= min, "{fmt} layer differs from the CLI's 8-bit result: {p:.2} dB");
    }

    let err = status["cmyk_error"].as_str().unwrap();
    assert!(err.contains("CMYKA") && err.contains("Convert Image Color Space"), "{err}");
    assert!(status["cancel_error"].as_str().unwrap().to_lowercase().contains("cancel"), "{}", status["cancel_error"]);

    // Selection: outside the rectangle untouched, inside changed.
    assert_eq!(status["selection_rect"], serde_json::json!([64, 80, 100, 90]));
    let sel = std::fs::read(out.join("krita_sel.bgra")).unwrap();
    let src = unistyle::image_io::load_picture(&content, "content").unwrap();
    let (mut inside, mut n_in) = (0.0f64, 0usize);
    for y in 0..256 {
        for x in 0..256 {
            let px = &sel[(y * 256 + x) * 4..][..4];
            let orig: Vec<u8> = (0..3).map(|c| (src.rgb[c * 65536 + y * 256 + x] * 255.0).round() as u8).collect();
            let now = [px[2], px[1], px[0]];
            let in_sel = (64..164).contains(&x) && (80..170).contains(&y);
            if in_sel {
                inside += now.iter().zip(&orig).map(|(a, b)| (*a as f64 - *b as f64).abs()).sum::<f64>();
                n_in += 1;
            } else {
                assert_eq!(now.as_slice(), orig.as_slice(), "pixel ({x},{y}) outside the selection changed");
            }
        }
    }
    let mean_in = inside / (3 * n_in) as f64;
    assert!(mean_in > 5.0, "the selection was barely stylized (mean change {mean_in:.2})");

    // Texture: the same as the CLI's, bit for bit.
    assert_eq!(status["texture_doc"], serde_json::json!([64, 48, "RGBA", "U8"]));
    let cli_tex = dir.path().join("cli_tex.png");
    cli_brick_texture(&cli_tex, (64, 48), 5, 1);
    let tex = std::fs::read(out.join("krita_tex.bgra")).unwrap();
    assert!(tex.chunks_exact(4).all(|px| px[3] == 255));
    assert_eq!(planar(&tex, 64, 48, 4, [2, 1, 0]), read_png(&cli_tex).rgb, "Krita texture differs from the CLI's");

    let dialogs = &status["dialogs"];
    assert_eq!(dialogs[0], "unistyle: Stylize active layer");
    assert_eq!(dialogs[1], "unistyle: Texture");
}

/// IEEE half -> f32 (no std support).
fn half_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 => {
            if frac == 0.0 {
                sign * f32::INFINITY
            } else {
                f32::NAN
            }
        }
        e => sign * (1.0 + frac / 1024.0) * 2f32.powi(e - 15),
    }
}

/// The binding without Krita: errors carry the library's message; texture equals the CLI's.
const BINDING_CHECK: &str = include_str!("krita/binding_check.py");

/// "name=value,…": sizes and every field offset of the C structs, from the Rust definitions.
fn rust_layout() -> String {
    // The binding mirrors the image and the two option structs, under short names.
    let short =
        [("unistyle_image", "image"), ("unistyle_stylize_options", "stylize"), ("unistyle_texture_options", "texture")];
    let mut v = Vec::new();
    for l in common::layout::abi_layouts() {
        let Some((_, key)) = short.iter().find(|(c, _)| *c == l.c_name) else { continue };
        v.push((key.to_string(), l.size));
        v.extend(l.fields.iter().map(|(f, offset)| (format!("{key}.{f}"), *offset)));
    }
    v.iter().map(|(k, n)| format!("{k}={n}")).collect::<Vec<_>>().join(",")
}

#[test]
fn ctypes_binding_without_krita() {
    let python = require("python3", "sudo apt-get install -y python3");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("check.py");
    std::fs::write(&script, BINDING_CHECK).unwrap();
    let res = Command::new(python)
        .arg(&script)
        .arg(dir.path())
        .arg(shared())
        .arg(relu3_weights())
        .arg(rust_layout())
        .env("PYTHONPATH", binding_dir())
        .env("UNISTYLE_LIBRARY", library())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("UNISTYLE_WEIGHTS")
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&res.stdout), String::from_utf8_lossy(&res.stderr));
    println!("{log}");
    assert!(res.status.success() && log.contains("binding ok"), "binding check failed:\n{log}");

    let cli_tex = dir.path().join("cli_tex.png");
    cli_brick_texture(&cli_tex, (64, 48), 5, 1);
    let tex = std::fs::read(dir.path().join("tex.rgb")).unwrap();
    assert_eq!(planar(&tex, 64, 48, 3, [0, 1, 2]), read_png(&cli_tex).rgb, "binding texture differs from the CLI's");

    // UNISTYLE_LIBRARY naming a missing file: an error naming it (no silent fallback).
    let res = Command::new("python3")
        .args(["-c", "import unistyle_ctypes as us\ntry:\n    us.load_library()\nexcept us.UnistyleError as e:\n    print('ERR', e)"])
        .env("PYTHONPATH", binding_dir())
        .env("UNISTYLE_LIBRARY", "/no/libunistyle.so")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&res.stdout);
    assert!(
        text.starts_with("ERR") && text.contains("/no/libunistyle.so"),
        "{text}{}",
        String::from_utf8_lossy(&res.stderr)
    );
}

/// A helper plug-in for the GUI test: once Krita's window is up, it opens the content, makes
/// its layer active, triggers the installed plug-in's menu action, fills in and accepts its
/// dialog like a user, exports the result and quits. Results go to `status.json`.
const GUI_PROBE: &str = include_str!("krita/gui_probe.py");

#[test]
fn krita_gui_installed_plugin_stylizes_active_layer() {
    let _one = KRITA.lock().unwrap_or_else(|e| e.into_inner());
    let xvfb = require("xvfb-run", APT_HINT);
    let krita = require("krita", APT_HINT);
    require("xauth", APT_HINT);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();

    // The GUI's own per-user data (Krita, not kritarunner): persistent like the runner's.
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("krita-home");
    let (config, data) = (home.join(".config"), home.join(".local/share"));
    let pykrita = data.join("krita/pykrita");
    std::fs::create_dir_all(&config).unwrap();
    let first_start = !data.join("krita/resourcecache.sqlite").exists();

    // Install exactly as a user would, then enable it as the Python Plugin Manager does.
    let res = Command::new(plugin_dir().join("install.sh"))
        .arg(&pykrita)
        .env("UNISTYLE_LIBRARY", library())
        .output()
        .unwrap();
    assert!(res.status.success(), "install.sh failed: {}", String::from_utf8_lossy(&res.stderr));
    assert!(String::from_utf8_lossy(&res.stdout).contains("Python Plugin Manager"));
    for f in [
        "unistyle_krita.desktop",
        "unistyle_krita/__init__.py",
        "unistyle_krita/unistyle_ctypes.py",
        "unistyle_krita/libunistyle.so",
    ] {
        assert!(pykrita.join(f).exists(), "install.sh did not install {f}");
    }
    install_probe(&pykrita, &config, "unistyle_gui_probe", GUI_PROBE);

    // Krita (or xvfb-run -a picking a display another test's server just took) sometimes dies
    // while starting, before any plug-in runs: one more start then, as a user would.
    let start_krita = || {
        let mut cmd = Command::new(&xvfb);
        cmd.args(["-a", "-s", "-screen 0 1280x1024x24"])
            .arg(&krita)
            .arg("--nosplash")
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env_remove("UNISTYLE_LIBRARY") // the installed copy next to the plug-in must be found
            .env("UNISTYLE_WEIGHTS", relu3_weights())
            .env("UNISTYLE_GUI_PROBE_OUT", &out)
            .env("UNISTYLE_GUI_CONTENT", image("content/tubingen_256.png"))
            .env("UNISTYLE_GUI_STYLE", image("style/starry_256.png"))
            .env("UNISTYLE_GUI_PROBE_LIMIT_MS", "600000")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        run_limited(cmd, Duration::from_secs(900))
    };
    let (_, mut log, mut elapsed) = start_krita();
    let mut status_text = std::fs::read_to_string(out.join("status.json")).unwrap_or_default();
    if status_text.is_empty() {
        println!("Krita GUI: no status after the first start ({:.1} s); starting again", elapsed.as_secs_f64());
        (_, log, elapsed) = start_krita();
        status_text = std::fs::read_to_string(out.join("status.json")).unwrap_or_default();
    }
    let context = format!("krita log:\n{log}\nstatus.json:\n{status_text}");
    assert!(!status_text.is_empty(), "the GUI probe wrote no status (plug-ins not loaded?)\n{context}");
    let status: serde_json::Value = serde_json::from_str(&status_text).unwrap();
    assert_eq!(status["ok"], true, "the GUI run failed:\n{}\n{context}", status["error"].as_str().unwrap_or(""));
    assert_eq!(status["messages"], serde_json::json!([]), "the plug-in showed a message box\n{context}");
    assert!(
        status["extensions"].as_array().unwrap().iter().any(|e| e == "UnistyleExtension"),
        "the installed plug-in did not register\n{context}"
    );
    let menu: Vec<&str> = status["menu"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(
        menu.contains(&"unistyle: Stylize active layer…") && menu.contains(&"unistyle: Texture…"),
        "Tools > Scripts lacks the actions: {menu:?}"
    );
    assert_eq!(status["dialog"], "unistyle: Stylize active layer");
    assert_eq!(status["exported"], true);
    println!(
        "Krita GUI: whole run {:.1} s{}; window up after {:.1} s; menu action (dialog + stylize 256x256) {:.2} s",
        elapsed.as_secs_f64(),
        if first_start { " (first start: Krita built its resource database)" } else { "" },
        status["startup_s"].as_f64().unwrap_or(f64::NAN),
        status["action_s"].as_f64().unwrap_or(f64::NAN),
    );

    let cli_out = dir.path().join("cli.png");
    Cli::reference_256(&cli_out);
    let p = psnr(&read_png(&out.join("gui.png")).rgb, &read_png(&cli_out).rgb);
    println!("Krita GUI (menu action, exported PNG) vs CLI: {p:.2} dB");
    assert!(p >= 50.0, "the GUI action's output differs from the CLI's: {p:.2} dB");
}

// --- The docker (issue 15): kritarunner on Krita 5.1 (host) and 5.2 (Debian 13 chroot), the
// real window driven with xdotool, and PyQt6 with a stand-in `krita` module. -------------------

/// Which Krita runs: this machine's (apt: 5.1 on Debian 12) or Krita 5.2 in the Debian 13
/// chroot made by `scripts/debian13-chroot.sh` (created on first use, then cached).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Krita {
    Host,
    Chroot,
}

fn krita_home(which: Krita) -> PathBuf {
    let name = if which == Krita::Host { "krita-home" } else { "krita52-home" };
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&home).unwrap();
    home
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// Runs `script` (bash) under a virtual X server with Krita's per-user folders in `home` and
/// `env`, on this machine or inside the chroot. Returns (success, log, elapsed).
fn run_in_krita_env(
    which: Krita,
    home: &Path,
    env: &[(&str, String)],
    script: &str,
    limit: Duration,
) -> (bool, String, Duration) {
    let mut vars = vec![
        ("HOME", home.display().to_string()),
        ("XDG_CONFIG_HOME", home.join(".config").display().to_string()),
        ("XDG_DATA_HOME", home.join(".local/share").display().to_string()),
        ("XDG_CACHE_HOME", home.join(".cache").display().to_string()),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
    ];
    vars.extend(env.iter().cloned());
    let exports: String = vars.iter().map(|(k, v)| format!("export {k}={}; ", quote(Path::new(v)))).collect();
    let body = format!("{exports}{script}");
    match which {
        Krita::Host => {
            require("xvfb-run", APT_HINT);
            require("kritarunner", APT_HINT);
            require("xauth", APT_HINT);
            let mut cmd = Command::new("bash");
            cmd.args(["-c", &body]);
            run_limited(cmd, limit)
        }
        Krita::Chroot => {
            let chroot = root().join("scripts/debian13-chroot.sh");
            let (ok, log, _) = run_limited(
                {
                    let mut c = Command::new(&chroot);
                    c.arg("ensure");
                    c
                },
                Duration::from_secs(1800),
            );
            assert!(ok, "scripts/debian13-chroot.sh ensure failed (needs root or sudo, and the Debian mirror):\n{log}");
            let shared_real = std::fs::canonicalize(shared()).unwrap();
            let mut cmd = Command::new(&chroot);
            cmd.arg("run").arg("-b").arg(root()).arg("-b").arg(&shared_real).arg(body);
            run_limited(cmd, limit)
        }
    }
}

fn test_out_dir(tag: &str) -> tempfile::TempDir {
    // Under target/ (inside the checkout, which the chroot sees at the same path).
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).unwrap();
    tempfile::Builder::new().prefix(tag).tempdir_in(base).unwrap()
}

fn docker_env(out: &Path, pythonpath: &[PathBuf]) -> Vec<(&'static str, String)> {
    let shared_real = std::fs::canonicalize(shared()).unwrap();
    vec![
        ("PYTHONPATH", std::env::join_paths(pythonpath).unwrap().to_string_lossy().into_owned()),
        ("UNISTYLE_LIBRARY", library().display().to_string()),
        ("UNISTYLE_WEIGHTS", std::fs::canonicalize(relu3_weights()).unwrap().display().to_string()),
        ("UNISTYLE_SHARED", shared_real.display().to_string()),
        ("UNISTYLE_STYLE_PATH", shared_real.join("images/style").display().to_string()),
        ("UNISTYLE_TEST_OUT", out.display().to_string()),
    ]
}

fn read_status(out: &Path, log: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("status.json")).unwrap_or_default();
    assert!(!text.is_empty(), "no status.json (did Krita run the test module?)\nlog:\n{log}");
    let status: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        status["ok"],
        true,
        "the Krita run failed:\n{}\nstatus: {status:#}\nlog:\n{log}",
        status["error"].as_str().unwrap_or("")
    );
    status
}

/// The CLI's stylization of the test selection's rectangle (x, y, w, h) of the content, with
/// `extra` flags (e.g. the modes), into `dir/NAME.png`.
fn cli_crop(dir: &Path, rect: (u32, u32, u32, u32), extra: &[&str], name: &str) -> Vec<f32> {
    let crop = dir.join("crop.png");
    image::open(image("content/tubingen_256.png"))
        .unwrap()
        .crop_imm(rect.0, rect.1, rect.2, rect.3)
        .save(&crop)
        .unwrap();
    cli_starry_with(&crop, &dir.join(format!("{name}.png")), extra)
}

/// The CLI's `stylize` of `content` with starry_256 at alpha 0.6, levels 3,2,1 (the docker
/// tests' settings) into `out`; returns its planar RGB.
fn cli_starry(content: &Path, out: &Path) -> Vec<f32> {
    cli_starry_with(content, out, &[])
}

/// `cli_starry` with `extra` flags.
fn cli_starry_with(content: &Path, out: &Path, extra: &[&str]) -> Vec<f32> {
    let (style, weights) = (image("style/starry_256.png"), relu3_weights());
    Cli::stylize()
        .content(content)
        .style(&style)
        .alpha(0.6)
        .levels("3,2,1")
        .weights(&weights)
        .out(out)
        .args_from(extra)
        .run_ok();
    read_png(out).rgb
}

/// The test selection's pixels (planar RGB) of an applied projection (BGRA, 256²); checks that
/// every pixel outside it is the content's.
fn projection_inside(which: Krita, projection: &[u8], sel: (u32, u32, u32, u32)) -> Vec<f32> {
    let (w, h) = (256usize, 256usize);
    let content = unistyle::image_io::load_picture(&image("content/tubingen_256.png"), "content").unwrap();
    let (sw, sh) = (sel.2 as usize, sel.3 as usize);
    let mut inside = vec![0f32; 3 * sw * sh];
    for y in 0..h {
        for x in 0..w {
            let px = &projection[(y * w + x) * 4..][..4];
            let in_sel = (sel.0 as usize..(sel.0 + sel.2) as usize).contains(&x)
                && (sel.1 as usize..(sel.1 + sel.3) as usize).contains(&y);
            if in_sel {
                let (ix, iy) = (x - sel.0 as usize, y - sel.1 as usize);
                for c in 0..3 {
                    inside[c * sw * sh + iy * sw + ix] = px[2 - c] as f32 / 255.0;
                }
            } else {
                let orig: Vec<u8> =
                    (0..3).map(|c| (content.rgb[c * w * h + y * w + x] * 255.0).round() as u8).collect();
                assert_eq!(
                    [px[2], px[1], px[0]].as_slice(),
                    orig.as_slice(),
                    "{which:?}: pixel ({x},{y}) outside the selection changed"
                );
            }
        }
    }
    inside
}

/// The checks shared by the kritarunner docker runs: preview, apply as a new layer (CLI's
/// pixels inside the selection, the original outside), removal, an error, a texture layer.
fn check_docker_run(which: Krita, dir: &Path, out: &Path, status: &serde_json::Value) {
    const SEL: (u32, u32, u32, u32) = (64, 80, 100, 90);
    assert_eq!(
        status["stale_preview"],
        serde_json::json!([["preview", status["stale_preview"][0][1], true, false]]),
        "the stale preview was not cancelled: {status:#}"
    );
    assert_eq!(status["latest_preview"][0][3], true, "{status:#}");
    assert_eq!(status["layers_after_cancel"], 1, "a cancelled Apply wrote a layer: {status:#}");
    assert_eq!(status["layers_after_apply"].as_array().unwrap().len(), 2, "{status:#}");
    assert_eq!(status["new_above_active"], true, "{status:#}");
    assert_eq!(status["original_layer_kept"], true, "{status:#}");
    let layers = status["layers_after_apply"].to_string();
    if which == Krita::Chroot {
        // 5.2 scripts can make transparency masks; 5.1 gets the selection in the layer's alpha.
        assert!(layers.contains("transparencymask"), "the new layer has no transparency mask: {layers}");
    }

    let projection = std::fs::read(out.join("projection_applied.bgra")).unwrap();
    let inside = projection_inside(which, &projection, SEL);
    let cli = cli_crop(dir, SEL, &[], "cli_crop");
    let p = psnr(&inside, &cli);
    println!("Krita {} docker Apply (new layer, projection inside the selection) vs CLI: {p:.2} dB", status["krita"]);
    assert!(p >= 50.0, "{which:?}: the applied layer differs from the CLI's: {p:.2} dB");

    assert_eq!(status["layers_after_remove"], 1, "{status:#}");
    assert_eq!(status["projection_restored"], true, "{status:#}");

    // Apply with the modes (patch swap, a "New variation" seed, stroke scale, photo) = the CLI's flags.
    let seed = status["modes_seed"].as_u64().expect("the docker's variation seed");
    assert_ne!(seed, 0, "New variation did not change the seed: {status:#}");
    assert_eq!(status["modes_layers_after_remove"], 1, "{status:#}");
    let projection = std::fs::read(out.join("projection_modes.bgra")).unwrap();
    let inside = projection_inside(which, &projection, SEL);
    let seed = seed.to_string();
    let flags = ["--patch-swap", "--variation", "0.5", "--seed", &seed, "--stroke-scale", "1.5", "--photo"];
    let cli = cli_crop(dir, SEL, &flags, "cli_crop_modes");
    let p = psnr(&inside, &cli);
    println!("Krita {} docker Apply with modes ({}) vs CLI: {p:.2} dB", status["krita"], flags.join(" "));
    assert!(p >= 50.0, "{which:?}: the layer applied with modes differs from the CLI's: {p:.2} dB");
    let plain = cli_crop(dir, SEL, &[], "cli_crop");
    assert!(psnr(&inside, &plain) < 40.0, "{which:?}: the modes changed nothing");
    let msg = status["missing_style_message"].as_str().unwrap();
    assert!(msg.contains("/no/such/style.png"), "the docker's error names the file: {msg}");
    assert_eq!(status["layers_after_error"], 1, "a failed Apply added a layer");

    assert_eq!(status["layers_after_texture"], 2, "{status:#}");
    let kept = status["settings_style"].as_str().unwrap();
    assert!(kept.ends_with("brick_256.png"), "the docker's settings are not kept in kritarc: {kept}");
    let cli_tex = dir.join("cli_tex.png");
    cli_brick_texture(&cli_tex, (64, 48), 5, 3);
    let tex = std::fs::read(out.join("texture.bgra")).unwrap();
    let p = psnr(&planar(&tex, 64, 48, 4, [2, 1, 0]), &read_png(&cli_tex).rgb);
    println!("Krita {} docker texture layer vs CLI: {p:.2} dB", status["krita"]);
    assert!(p >= 50.0, "{which:?}: texture layer differs from the CLI's: {p:.2} dB");
    assert_eq!(
        status["preview"],
        serde_json::json!([SEL.2, SEL.3]),
        "preview size (the selection, under 256 px)\n{status:#}"
    );
    println!(
        "Krita {} ({}, Python {}): docker preview {}x{}: {:.0} ms the first time (request to display, includes encoding the style), \
         {:.0} ms after a setting changed",
        status["krita"],
        status["qt_binding"],
        status["python"],
        SEL.2,
        SEL.3,
        status["preview_ms"].as_f64().unwrap_or(f64::NAN),
        status["preview_warm_ms"].as_f64().unwrap_or(f64::NAN)
    );
}

fn docker_runner(which: Krita) {
    let _one = KRITA.lock().unwrap_or_else(|e| e.into_inner());
    let dir = test_out_dir("docker");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let home = krita_home(which);
    let env = docker_env(&out, &[root().join("tests/krita"), plugin_dir()]);
    // No window is needed: Qt's offscreen platform (no X server to race for).
    let script = "QT_QPA_PLATFORM=offscreen kritarunner -s docker_runner -f main";
    let (ok, log, elapsed) = run_in_krita_env(which, &home, &env, script, Duration::from_secs(900));
    assert!(ok, "kritarunner failed ({which:?}):\n{log}");
    let status = read_status(&out, &log);
    println!("Krita {} kritarunner docker run: {:.1} s", status["krita"], elapsed.as_secs_f64());
    let version = status["krita"].as_str().unwrap_or("");
    assert!(version.starts_with(if which == Krita::Host { "5." } else { "5.2" }), "unexpected Krita {version}");
    check_docker_run(which, dir.path(), &out, &status);
}

#[test]
fn krita_docker_preview_apply_texture_host() {
    docker_runner(Krita::Host);
}

#[test]
fn krita_docker_preview_apply_texture_krita52_chroot() {
    docker_runner(Krita::Chroot);
}

/// Installs the test plug-in `name` (source `code`) into `pykrita` and enables exactly it and
/// the unistyle plug-in in `config`/kritarc (the GUI tests share Krita's per-user folders).
fn install_probe(pykrita: &Path, config: &Path, name: &str, code: &str) {
    std::fs::create_dir_all(pykrita.join(name)).unwrap();
    std::fs::write(pykrita.join(name).join("__init__.py"), code).unwrap();
    std::fs::write(
        pykrita.join(format!("{name}.desktop")),
        format!(
            "[Desktop Entry]\nType=Service\nServiceTypes=Krita/PythonPlugin\nX-KDE-Library={name}\n\
             X-Python-2-Compatible=false\nName={name} (unistyle test)\n"
        ),
    )
    .unwrap();
    let kritarc = config.join("kritarc");
    let rc = std::fs::read_to_string(&kritarc).unwrap_or_default();
    let kept: Vec<&str> = rc.lines().filter(|l| *l != "[python]" && !l.starts_with("enable_unistyle_")).collect();
    let probes = ["unistyle_gui_probe", "unistyle_docker_probe"];
    let enable: String = probes.iter().map(|p| format!("enable_{p}={}\n", *p == name)).collect();
    std::fs::write(&kritarc, format!("{}\n[python]\nenable_unistyle_krita=true\n{enable}", kept.join("\n"))).unwrap();
}

/// The real Krita window under Xvfb: the installed plug-in's docker, driven with xdotool by
/// tests/krita/gui_driver.sh (type a style path: live preview; click Apply: a new layer;
/// Ctrl+Z: the layer goes), with screenshots kept in target/tmp/krita-screenshots/.
fn docker_gui(which: Krita) {
    let _one = KRITA.lock().unwrap_or_else(|e| e.into_inner());
    if which == Krita::Host {
        require("xdotool", "sudo apt-get install -y xdotool");
        require("import", "sudo apt-get install -y imagemagick");
    }
    let dir = test_out_dir("docker-gui");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let home = krita_home(which);
    let (config, data) = (home.join(".config"), home.join(".local/share"));
    let pykrita = data.join("krita/pykrita");
    std::fs::create_dir_all(&config).unwrap();
    let res = Command::new(plugin_dir().join("install.sh"))
        .arg(&pykrita)
        .env("UNISTYLE_LIBRARY", library())
        .output()
        .unwrap();
    assert!(res.status.success(), "install.sh failed: {}", String::from_utf8_lossy(&res.stderr));
    for f in ["unistyle_krita/docker.py", "unistyle_krita/qt_compat.py", "unistyle_krita/presets/starry-night.toml"] {
        assert!(pykrita.join(f).exists(), "install.sh did not install {f}");
    }
    let probe = std::fs::read_to_string(root().join("tests/krita/docker_gui_probe.py")).unwrap();
    install_probe(&pykrita, &config, "unistyle_docker_probe", &probe);
    let mut env = docker_env(&out, &[]);
    env.retain(|(k, _)| *k != "PYTHONPATH" && *k != "UNISTYLE_LIBRARY"); // the installed copy must be found
    env.push(("UNISTYLE_DOCKER_PROBE_OUT", out.display().to_string()));
    let driver = root().join("tests/krita/gui_driver.sh");
    let script = format!(
        "xvfb-run -a -s '-screen 0 1280x1024x24' bash {} {} {} {}",
        quote(&driver),
        quote(&out),
        quote(&std::fs::canonicalize(image("content/tubingen_256.png")).unwrap()),
        quote(&std::fs::canonicalize(image("style/starry_256.png")).unwrap())
    );
    let (ok, log, elapsed) = run_in_krita_env(which, &home, &env, &script, Duration::from_secs(900));
    // Keep the screenshots for people to look at.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("krita-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let tag = if which == Krita::Host { "host" } else { "krita52" };
    for f in
        ["docker_preview.png", "screen_preview.png", "screen_applied.png", "screen_undone.png", "screen_failed.png"]
    {
        if out.join(f).exists() {
            std::fs::copy(out.join(f), shots.join(format!("{tag}-{f}"))).unwrap();
        }
    }
    let krita_log = std::fs::read_to_string(out.join("krita.log")).unwrap_or_default();
    let log = format!("{log}\nkrita.log:\n{krita_log}");
    assert!(ok, "the GUI driver failed ({which:?}):\n{log}");
    let status = read_status(&out, &log);
    println!(
        "Krita {} GUI: whole run {:.1} s; window up after {:.1} s; docker preview 100x90 in {:.0} ms after typing the style; screenshots in {}",
        status["krita"],
        elapsed.as_secs_f64(),
        status["startup_s"].as_f64().unwrap_or(f64::NAN),
        status["preview_ms"].as_f64().unwrap_or(f64::NAN),
        shots.display()
    );
    assert_eq!(status["preview"], serde_json::json!([100, 90]), "{status:#}");
    assert!(status["style_typed"].as_str().unwrap().ends_with("starry_256.png"), "{status:#}");
    assert_eq!(status["applied"].as_array().map(|a| a.len()), Some(2), "Apply by click made no new layer: {status:#}");
    assert_eq!(
        status["undone"].as_array().map(|a| a.len()),
        Some(1),
        "Ctrl+Z did not remove the new layer: {status:#}"
    );
    assert!(out.join("docker_preview.png").exists());
}

#[test]
fn krita_docker_gui_host() {
    docker_gui(Krita::Host);
}

#[test]
fn krita_docker_gui_krita52_chroot() {
    docker_gui(Krita::Chroot);
}

/// PyQt6 (Krita 6's binding, from PyPI into a venv cached under target/) with a stand-in
/// `krita` module: the plug-in imports, registers, and its docker panel builds, previews and
/// applies. Needs network access the first time (pip).
#[test]
fn krita_docker_pyqt6_standin() {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyqt6-venv");
    let python = venv.join("bin/python");
    let have = Command::new(&python)
        .args(["-c", "import PyQt6.QtWidgets"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !have {
        let ok = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().unwrap().success();
        assert!(ok, "python3 -m venv failed (Debian: apt-get install python3-venv)");
        let res = Command::new(venv.join("bin/pip")).args(["install", "-q", "PyQt6"]).output().unwrap();
        assert!(res.status.success(), "pip install PyQt6 failed: {}", String::from_utf8_lossy(&res.stderr));
    }
    let dir = tempfile::tempdir().unwrap();
    let pythonpath = std::env::join_paths([root().join("tests/krita/standin"), plugin_dir()]).unwrap();
    let res = Command::new(&python)
        .arg(root().join("tests/krita/docker_smoke.py"))
        .arg(dir.path())
        .arg(image("content/tubingen_256.png"))
        .arg(image("style/starry_256.png"))
        .arg(relu3_weights())
        .arg(root().join("presets/brick-texture.toml"))
        .env("PYTHONPATH", pythonpath)
        .env("UNISTYLE_QT", "PyQt6")
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("UNISTYLE_LIBRARY", library())
        .env("UNISTYLE_WEIGHTS", relu3_weights())
        .env("UNISTYLE_STYLE_PATH", shared().join("images/style"))
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&res.stdout), String::from_utf8_lossy(&res.stderr));
    assert!(res.status.success() && log.contains("docker smoke ok"), "PyQt6 docker smoke test failed:\n{log}");
    let line = log.lines().find(|l| l.starts_with('{')).unwrap();
    let status: serde_json::Value = serde_json::from_str(line).unwrap();
    println!("PyQt6 stand-in: {status}");
    assert_eq!(status["binding"], "PyQt6");
    assert_eq!(status["preview"], serde_json::json!([256, 256]), "{status}");
    assert_eq!(status["preset_preview"], serde_json::json!([256, 256]), "{status}");
    assert_eq!(status["preview_message"], "", "{status}");
    assert_eq!(status["layers"], serde_json::json!(["Background", "unistyle starry_256"]), "{status}");
    assert_eq!(status["original_kept"], true);
    let gallery = status["gallery"].as_array().unwrap();
    assert!(gallery.iter().any(|g| g == "starry-night") && gallery.len() >= 5, "{status}");
    // The applied layer is the CLI's stylization of the whole image.
    let cli = cli_starry(&image("content/tubingen_256.png"), &dir.path().join("cli.png"));
    let raw = std::fs::read(dir.path().join("docker_apply.bgra")).unwrap();
    let p = psnr(&planar(&raw, 256, 256, 4, [2, 1, 0]), &cli);
    println!("PyQt6 stand-in docker Apply vs CLI: {p:.2} dB");
    assert!(p >= 50.0, "{p:.2} dB");
}
