//! The GIMP 2.10 plug-in (`plugin-abi/gimp/`): built and installed by its `install.sh` into a
//! temporary GIMP profile, driven headless with `gimp -i -b '…'`, its output equals the CLI's
//! for the same inputs (whole drawable, selection on an RGBA layer, mask channel with two
//! styles and feathering, grayscale, texture), and cancel/error paths leave the image untouched.
//!
//! GIMP exits 0 even when a batch command fails, so every run is judged by its output files
//! and by its log (no "execution error"). Needs `gimp` and `libgimp2.0-dev` (CI's `.ci/run`
//! installs them); without them this test fails rather than skipping.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cbuild::{lib_path as built_library, root};
use common::host_inputs::*;
use common::*;

const GIMP_TIMEOUT: Duration = Duration::from_secs(180);

/// A Scheme string literal.
fn q(p: &Path) -> String {
    format!("\"{}\"", s(p).replace('\\', "\\\\").replace('"', "\\\""))
}

fn require_gimp() {
    let ok = Command::new("gimp").arg("--version").stdout(Stdio::piped()).stderr(Stdio::piped()).output();
    match ok {
        Ok(o) if o.status.success() => {
            let v = String::from_utf8_lossy(&o.stdout);
            assert!(v.contains("2.10"), "GIMP 2.10 is required, found: {v}");
        }
        _ => panic!(
            "GIMP is not installed: this test needs GIMP 2.10 and its plug-in development files \
             (apt-get install -y gimp libgimp2.0-dev; .ci/run does this)"
        ),
    }
}

/// A temporary GIMP profile: HOME for GIMP, the plug-in installed in its plug-in folder.
struct Profile {
    dir: tempfile::TempDir,
}

impl Profile {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let profile = Self { dir };
        // A first start creates the profile (GIMP skips its user install when the folder exists).
        let (log, secs) = profile.gimp(&[], &[]);
        println!("GIMP first start (creates the profile): {secs:.1} s");
        let plugins = profile.dir.path().join("home/.config/GIMP/2.10/plug-ins");
        assert!(plugins.is_dir(), "GIMP did not create its profile; log:\n{log}");
        let t = Instant::now();
        let res = Command::new(root().join("plugin-abi/gimp/install.sh"))
            .arg(&plugins)
            .env("UNISTYLE_LIB", built_library())
            .env("CFLAGS", "-O2 -Werror")
            .output()
            .expect("run plugin-abi/gimp/install.sh");
        assert!(
            res.status.success(),
            "install.sh failed:\n{}{}",
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
        println!("install.sh: {:.1} s", t.elapsed().as_secs_f64());
        assert!(plugins.join("unistyle/unistyle").is_file() && plugins.join("unistyle/libunistyle.so").is_file());
        profile
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `gimp -i -b SCRIPT… -b '(gimp-quit 0)'`; returns the log and the wall time.
    fn gimp(&self, scripts: &[String], env: &[(&str, &str)]) -> (String, f64) {
        let mut cmd = Command::new("gimp");
        cmd.arg("-i").arg("-d").arg("-f");
        for sc in scripts {
            cmd.arg("-b").arg(sc);
        }
        cmd.args(["-b", "(gimp-quit 0)"]);
        cmd.env("HOME", self.dir.path().join("home"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for k in [
            "XDG_CONFIG_HOME",
            "XDG_CACHE_HOME",
            "XDG_DATA_HOME",
            "GIMP2_DIRECTORY",
            "DISPLAY",
            "UNISTYLE_WEIGHTS",
            "UNISTYLE_DEVICE",
            "UNISTYLE_GIMP_CANCEL_AT",
        ] {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let t = Instant::now();
        let mut child = cmd.spawn().expect("start gimp");
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let t_out = std::thread::spawn(move || {
            let mut s = String::new();
            out.read_to_string(&mut s).ok();
            s
        });
        let t_err = std::thread::spawn(move || {
            let mut s = String::new();
            err.read_to_string(&mut s).ok();
            s
        });
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if t.elapsed() > GIMP_TIMEOUT {
                child.kill().ok();
                child.wait().ok();
                panic!("gimp did not finish within {GIMP_TIMEOUT:?}; scripts: {scripts:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let secs = t.elapsed().as_secs_f64();
        let log = format!("{}{}", t_out.join().unwrap(), t_err.join().unwrap());
        (log, secs)
    }
}

fn assert_no_execution_error(log: &str, what: &str) {
    assert!(!log.contains("execution error"), "{what}: a GIMP batch command failed:\n{log}");
}

fn load(p: &Path) -> String {
    format!("(image (car (gimp-file-load RUN-NONINTERACTIVE {0} {0}))) (drawable (car (gimp-image-get-active-layer image)))", q(p))
}

/// Saves `image` (with `layer`, a Scheme expression) to `out`.
fn save_layer(layer: &str, out: &Path) -> String {
    format!("(gimp-file-save RUN-NONINTERACTIVE image {1} {0} {0})", q(out), layer)
}

fn save(out: &Path) -> String {
    save_layer("drawable", out)
}

#[test]
fn gimp_plugin_matches_cli() {
    require_gimp();
    let p = Profile::new();
    let content = image("content/tubingen_256.png");
    let starry = image("style/starry_256.png");
    let strokes = image("style/strokes_256.png");
    let brick = image("style/brick_256.png");
    let weights = relu3_weights();

    // 1. The documented call: whole layer, alpha 0.6, levels 3,2,1; weights from UNISTYLE_WEIGHTS.
    let out = p.path("gimp.png");
    let script = format!(
        "(let* ({}) (plug-in-unistyle-stylize RUN-NONINTERACTIVE image drawable {} 0.6 \"3,2,1\") {})",
        load(&content),
        q(&starry),
        save(&out)
    );
    let (log, secs) = p.gimp(&[script], &[("UNISTYLE_WEIGHTS", s(&weights))]);
    assert_no_execution_error(&log, "stylize");
    assert!(out.is_file(), "GIMP wrote no output; log:\n{log}");
    let cli_out = p.path("cli.png");
    let cli_secs = cli(&Cli::stylize().content(&content).style(&starry).alpha(0.6).levels("3,2,1").out(&cli_out));
    let db = psnr_files(&out, &cli_out);
    println!("GIMP run (start, load, stylize 256x256 levels 3,2,1, save, quit): {secs:.2} s; CLI: {cli_secs:.2} s");
    println!("stylize through GIMP vs CLI: {db:.2} dB");
    assert!(db >= 50.0, "GIMP output differs from the CLI's: {db:.2} dB");

    // 2. One GIMP session, weights set through plug-in-unistyle-set-weights (no environment):
    //    selection on an RGBA layer; mask channel + second style + feather; grayscale; texture.
    let small = p.path("small.png");
    write_small_content(&small);
    let rgba = p.path("rgba.png");
    write_rgba_content(&small, &rgba);
    let rect = p.path("rect.png");
    write_rect_mask(&rect, SMALL, SMALL);
    let (x, y, w, h) = SEL;
    let (sel_out, masked_out, gray_in, gray_out, tex_out, float_out) = (
        p.path("gimp_sel.png"),
        p.path("gimp_masked.png"),
        p.path("gray_in.png"),
        p.path("gimp_gray.png"),
        p.path("gimp_tex.png"),
        p.path("gimp_float.png"),
    );
    let scripts = vec![
        format!("(plug-in-unistyle-set-weights RUN-NONINTERACTIVE {})", q(&weights)),
        format!(
            "(let* ({}) (gimp-image-select-rectangle image CHANNEL-OP-REPLACE {x} {y} {w} {h}) \
             (plug-in-unistyle-stylize RUN-NONINTERACTIVE image drawable {} 0.6 \"3,2,1\") {})",
            load(&rgba),
            q(&starry),
            save(&sel_out)
        ),
        format!(
            "(let* ({} (dummy (gimp-image-select-rectangle image CHANNEL-OP-REPLACE {x} {y} {w} {h})) \
             (mask (car (gimp-selection-save image)))) (gimp-selection-none image) \
             (plug-in-unistyle-stylize-masked RUN-NONINTERACTIVE image drawable {} {} mask 0.6 \"3,2,1\" 4.0) {})",
            load(&small),
            q(&starry),
            q(&strokes),
            save(&masked_out)
        ),
        format!(
            "(let* ({}) (gimp-image-convert-grayscale image) {} \
             (plug-in-unistyle-stylize RUN-NONINTERACTIVE image drawable {} 1.0 \"\") {})",
            load(&small),
            save(&gray_in),
            q(&starry),
            save(&gray_out)
        ),
        format!(
            "(let* ({}) (gimp-image-convert-precision image PRECISION-FLOAT-LINEAR) \
             (plug-in-unistyle-stylize RUN-NONINTERACTIVE image drawable {} 0.6 \"3,2,1\") \
             (gimp-image-convert-precision image PRECISION-U8-GAMMA) {})",
            load(&small),
            q(&starry),
            save(&float_out)
        ),
        format!(
            "(let* ((image (car (plug-in-unistyle-texture RUN-NONINTERACTIVE {} 96 64 7 1 TRUE)))) {})",
            q(&brick),
            save_layer("(car (gimp-image-get-active-layer image))", &tex_out)
        ),
    ];
    let (log, secs) = p.gimp(&scripts, &[]);
    println!("GIMP session (selection, mask channel, grayscale, float image, texture): {secs:.2} s");
    assert_no_execution_error(&log, "second session");
    for f in [&sel_out, &masked_out, &gray_in, &gray_out, &tex_out, &float_out] {
        assert!(f.is_file(), "GIMP wrote no {}; log:\n{log}", f.display());
    }

    // Selection: CLI with the same rectangle as mask, foreground only; alpha carried through.
    let cli_sel = p.path("cli_sel.png");
    cli(&Cli::stylize()
        .content(&rgba)
        .style(&starry)
        .mask(&rect)
        .arg("--foreground-only")
        .alpha(0.6)
        .levels("3,2,1")
        .out(&cli_sel));
    let db = psnr_files(&sel_out, &cli_sel);
    println!("selection (RGBA layer) through GIMP vs CLI --mask --foreground-only: {db:.2} dB");
    assert!(db >= 50.0, "selection: {db:.2} dB");
    let (g, c) = (read_png(&sel_out), read_png(&rgba));
    assert_eq!(g.alpha, c.alpha, "alpha must be carried through unchanged");
    let n = (SMALL * SMALL) as usize;
    for (i, px) in (0..n).map(|i| (i, (i % SMALL as usize, i / SMALL as usize))) {
        let inside = px.0 >= x as usize && px.0 < (x + w) as usize && px.1 >= y as usize && px.1 < (y + h) as usize;
        if !inside {
            for ch in 0..3 {
                assert_eq!(g.rgb[ch * n + i], c.rgb[ch * n + i], "pixel {px:?} outside the selection changed");
            }
        }
    }

    // Mask channel: style 1 inside, style 2 outside, feathered borders.
    let cli_masked = p.path("cli_masked.png");
    cli(&Cli::stylize()
        .content(&small)
        .style(&starry)
        .style(&strokes)
        .mask(&rect)
        .feather(4.0)
        .alpha(0.6)
        .levels("3,2,1")
        .out(&cli_masked));
    let db = psnr_files(&masked_out, &cli_masked);
    println!("mask channel + 2 styles + feather through GIMP vs CLI: {db:.2} dB");
    assert!(db >= 50.0, "mask channel: {db:.2} dB");

    // Grayscale layer: the library writes the luminance of its (unclamped) RGB result, so it
    // is compared where the CLI's RGB output is not clipped to 0 or 1.
    let cli_gray = p.path("cli_gray.png");
    cli(&Cli::stylize().content(&gray_in).style(&starry).out(&cli_gray));
    let (db, compared, n) = gray_psnr(&gray_out, &cli_gray);
    println!("grayscale layer through GIMP vs luminance of the CLI's output ({compared} of {n} unclipped pixels): {db:.2} dB");
    assert!(compared * 2 > n && db >= 50.0, "grayscale: {db:.2} dB over {compared} pixels");

    // A linear-light float image: read and written as perceptual float; converted back to
    // 8-bit perceptual for saving (a linear image would be exported with linear values).
    let cli_small = p.path("cli_small.png");
    cli(&Cli::stylize().content(&small).style(&starry).alpha(0.6).levels("3,2,1").out(&cli_small));
    let db = psnr_files(&float_out, &cli_small);
    println!("float linear image through GIMP vs CLI: {db:.2} dB");
    assert!(db >= 50.0, "float image: {db:.2} dB");

    // Texture: a new 96x64 image equal to the CLI's for the same seed.
    let cli_tex = p.path("cli_tex.png");
    cli(&Cli::texture()
        .style(&brick)
        .flag("width", "96")
        .flag("height", "64")
        .flag("seed", "7")
        .flag("iterations", "1")
        .tileable()
        .out(&cli_tex));
    let (g, c) = (read_png(&tex_out), read_png(&cli_tex));
    assert_eq!((g.width, g.height), (96, 64), "texture size");
    let db = psnr(&g.rgb, &c.rgb);
    println!("texture through GIMP vs CLI: {db:.2} dB (bit-identical: {})", g.rgb == c.rgb);
    assert!(db >= 50.0, "texture: {db:.2} dB");

    // 3. A new session (weights from the gimprc setting stored above): a cancelled run and a
    //    failing run leave the image untouched and report why.
    let cancel_out = p.path("gimp_cancel.png");
    let scripts = vec![
        format!(
            "(let* ({}) (plug-in-unistyle-stylize RUN-NONINTERACTIVE image drawable {} 0.6 \"3,2,1\"))",
            load(&small),
            q(&starry)
        ),
        format!(
            "(let* ((image (vector-ref (cadr (gimp-image-list)) 0))) {})",
            save_layer("(car (gimp-image-get-active-layer image))", &cancel_out)
        ),
        format!(
            "(let* ({}) (plug-in-unistyle-stylize RUN-NONINTERACTIVE image drawable \"/no/such/style.png\" 0.6 \"\"))",
            load(&small)
        ),
        format!(
            "(let* ({}) (plug-in-unistyle-stylize RUN-NONINTERACTIVE image drawable {} 0.6 \"3,x\"))",
            load(&small),
            q(&starry)
        ),
    ];
    let (log, secs) = p.gimp(&scripts, &[("UNISTYLE_GIMP_CANCEL_AT", "0.3")]);
    println!("GIMP session (cancel, errors): {secs:.2} s");
    assert!(cancel_out.is_file(), "no output after the cancelled run; log:\n{log}");
    assert_eq!(read_png(&cancel_out).rgb, read_png(&small).rgb, "a cancelled run changed the image");
    assert!(log.contains("unistyle: cancelled"), "the cancelled run is not reported as cancelled:\n{log}");
    assert!(log.contains("/no/such/style.png"), "a missing style file is not reported with its path:\n{log}");
    assert!(log.contains("3,x"), "bad levels-string is not reported:\n{log}");
}
