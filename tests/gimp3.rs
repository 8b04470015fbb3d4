//! The GIMP 3 plug-in (`plugin-abi/gimp3/unistyle/`, Python on the shared ctypes binding) in
//! a real GIMP 3: the Debian 13 runtime chroot (`scripts/debian13-chroot.sh ensure`: built once
//! per machine and cached; no compiler inside), the plug-in staged as in a release archive
//! (`scripts/stage-plugins.sh`, tests/common/release.rs) and installed by `unistyle hosts
//! install gimp --profile DIR` run inside the chroot, then driven headless by
//! `gimp-console-3.0` with Script-Fu keyword arguments and with Python-Fu (`lookup_procedure`,
//! `create_config`, `run`). Every result is compared with the CLI's output for the same
//! inputs (PSNR ≥ 50 dB); a missing style file, a bad levels string and missing weights each
//! fail the call with our message and a non-zero exit, never a crash.
//!
//! Needs root or password-less sudo (debootstrap, chroot, mount); without either the test is
//! skipped with a message (CI runs as root). One GIMP profile serves every run.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::cbuild::root;
use common::host_inputs::*;
use common::release::{self, can_chroot, shell_quote, Run};
use common::*;

/// Limit of one GIMP run inside the chroot (`timeout`, exit 124 when reached).
const GIMP_LIMIT_S: u32 = 300;

fn canon(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A Scheme string literal.
fn q(p: &Path) -> String {
    format!("\"{}\"", s(p).replace('\\', "\\\\").replace('"', "\\\""))
}

/// A Python string literal.
fn py(p: &Path) -> String {
    format!("{:?}", s(p))
}

/// A GIMP 3 profile in a temporary folder, with the plug-in installed, and the chroot it runs in.
struct Gimp3 {
    dir: tempfile::TempDir,
    binds: Vec<PathBuf>,
}

impl Gimp3 {
    fn new() -> Self {
        release::ensure_chroot();
        let dir = tempfile::tempdir().unwrap();
        let binds = release::binds(dir.path());
        let g = Self { dir, binds };
        std::fs::create_dir_all(g.path("home")).unwrap();
        std::fs::create_dir_all(g.path("xdg")).unwrap();
        release::assemble(&g.path("release"));
        let t = Instant::now();
        let install = format!(
            "HOME={} XDG_DATA_HOME={} {} hosts install gimp --profile {}",
            s(&g.path("home")),
            s(&g.path("xdg")),
            s(&g.path("release/bin/unistyle")),
            s(&g.path("profile"))
        );
        let r = g.chroot(&install);
        assert_eq!(r.code, 0, "hosts install gimp failed:\n{}", r.log);
        println!("hosts install gimp in the chroot: {:.1} s\n{}", t.elapsed().as_secs_f64(), r.log.trim());
        for f in ["unistyle.py", "unistyle_ctypes.py", "libunistyle.so"] {
            assert!(g.path("profile/plug-ins/unistyle").join(f).is_file(), "{f} not installed");
        }
        g
    }

    fn path(&self, name: &str) -> PathBuf {
        canon(self.dir.path()).join(name)
    }

    /// Runs `cmd` (bash) inside the chroot with the temp folder, checkout and shared data bound.
    fn chroot(&self, cmd: &str) -> Run {
        release::in_chroot(&self.binds, cmd)
    }

    /// One `gimp-console-3.0` batch run of `script` with `interpreter`; `env` is `K=V …`.
    fn batch(&self, interpreter: &str, script: &str, env: &str) -> Run {
        let cmd = format!(
            "cd {dir} && HOME={home} GIMP3_DIRECTORY={profile} XDG_DATA_HOME={xdg} {env} \
             timeout -k 10 {GIMP_LIMIT_S} gimp-console-3.0 -i -n --quit --batch-interpreter {interpreter} -b {script}",
            dir = s(&self.path("")),
            home = s(&self.path("home")),
            profile = s(&self.path("profile")),
            xdg = s(&self.path("xdg")),
            script = shell_quote(script),
        );
        let r = self.chroot(&cmd);
        assert_ne!(r.code, 124, "GIMP did not finish within {GIMP_LIMIT_S} s:\n{}", r.log);
        assert!(!r.log.contains("crashed"), "a plug-in crashed:\n{}", r.log);
        r
    }

    fn script_fu(&self, body: &str, env: &str) -> Run {
        let file = self.path("batch.scm");
        std::fs::write(&file, body).unwrap();
        self.batch("plug-in-script-fu-eval", &format!("(load {})", q(&file)), env)
    }

    fn python(&self, body: &str, env: &str) -> Run {
        let file = self.path("batch.py");
        std::fs::write(&file, body).unwrap();
        self.batch("python-fu-eval", &format!("exec(open({}).read())", py(&file)), env)
    }
}

/// The inputs every interpreter uses, and the CLI's outputs for them.
struct Cases {
    small: PathBuf,
    rgba: PathBuf,
    starry: PathBuf,
    strokes: PathBuf,
    brick: PathBuf,
    weights: PathBuf,
    /// Copies of presets/starry-night.toml and presets/brick-texture.toml with their style
    /// images beside them (the style cache they write stays in the temporary folder).
    preset: PathBuf,
    tex_preset: PathBuf,
}

impl Cases {
    fn new(g: &Gimp3) -> Self {
        let c = Self {
            small: g.path("small.png"),
            rgba: g.path("rgba.png"),
            starry: canon(&image("style/starry_256.png")),
            strokes: canon(&image("style/strokes_256.png")),
            brick: canon(&image("style/brick_256.png")),
            weights: canon(&relu3_weights()),
            preset: g.path("presets/starry-night.toml"),
            tex_preset: g.path("presets/brick-texture.toml"),
        };
        std::fs::create_dir_all(g.path("presets")).unwrap();
        for (file, dir) in [
            ("starry-night.toml", "presets"),
            ("brick-texture.toml", "presets"),
            ("starry_512.png", "style"),
            ("brick_256.png", "style"),
        ] {
            let from =
                if dir == "presets" { root().join("presets").join(file) } else { image(&format!("style/{file}")) };
            std::fs::copy(&from, g.path("presets").join(file)).unwrap();
        }
        write_small_content(&c.small);
        write_rgba_content(&c.small, &c.rgba);
        write_rect_mask(&g.path("rect.png"), SMALL, SMALL);
        c
    }

    /// The CLI's output for each case (`cli_<case>.png`).
    fn cli_outputs(&self, g: &Gimp3) {
        let (small, rgba, rect) = (s(&self.small), s(&self.rgba), g.path("rect.png"));
        let (starry, strokes) = (s(&self.starry), s(&self.strokes));
        let stylize = |extra: &[&str], content: &str, out: &str| {
            let out = g.path(out);
            cli(&Cli::stylize().content(content).style(starry).args_from(extra).alpha(0.6).levels("3,2,1").out(&out));
        };
        stylize(&[], small, "cli_whole.png");
        for (name, flags) in MODE_CASES {
            stylize(flags, small, &format!("cli_{name}.png"));
        }
        stylize(&["--preserve-color"], small, "cli_color.png");
        stylize(&["--mask", s(&rect), "--foreground-only"], rgba, "cli_selection.png");
        stylize(&["--style", strokes, "--mask", s(&rect), "--feather", "4"], small, "cli_mask.png");
        let tex = |tileable: bool, out: &str| {
            let out = g.path(out);
            let a = Cli::texture().style(&self.brick).width(96).height(64).seed(7).iterations(1).out(&out);
            cli(&if tileable { a.tileable() } else { a });
        };
        tex(true, "cli_tex_tileable.png");
        tex(false, "cli_tex.png");
        let out = g.path("cli_preset.png");
        cli(&Cli::stylize().preset(&self.preset).content(small).out(&out));
        let out = g.path("cli_tex_preset.png");
        cli(&Cli::texture().preset(&self.tex_preset).width(96).height(64).out(&out));
    }
}

/// The modes (issue 17): (case, the CLI's flags, the same as Script-Fu keyword arguments).
const MODE_CASES: [(&str, &[&str]); 2] = [
    ("modes_ost", &["--transform", "ost", "--variation", "0.3", "--seed", "7", "--stroke-scale", "0.75", "--photo"]),
    ("modes_swap", &["--patch-swap", "--stroke-scale", "1.5"]),
];
const MODE_KEYWORDS: [&str; 2] = [
    "#:transform \"ost\" #:variation 0.3 #:seed 7 #:stroke-scale 0.75 #:photo TRUE",
    "#:patch-swap TRUE #:stroke-scale 1.5",
];

/// The batch cases in Script-Fu with keyword arguments; outputs `sf_<case>.png`.
fn script_fu_cases(g: &Gimp3, c: &Cases) -> String {
    let (x, y, w, h) = SEL;
    let out = |n: &str| q(&g.path(&format!("sf_{n}.png")));
    let stylize = |extra: &str| {
        format!(
            "(plug-in-unistyle-stylize #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector layer) \
             #:style {} #:alpha 0.6 #:levels \"3,2,1\" {extra})",
            q(&c.starry)
        )
    };
    let with_image = |file: &Path, body: String| {
        format!(
            "(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE {}))) \
                    (layer (vector-ref (car (gimp-image-get-selected-drawables img)) 0)))\n  {body})\n",
            q(file)
        )
    };
    let mut sc = String::new();
    sc += &with_image(&c.small, format!("{} (gimp-file-save RUN-NONINTERACTIVE img {} -1)", stylize(""), out("whole")));
    for ((name, _), keywords) in MODE_CASES.iter().zip(MODE_KEYWORDS) {
        sc += &with_image(
            &c.small,
            format!("{} (gimp-file-save RUN-NONINTERACTIVE img {} -1)", stylize(keywords), out(name)),
        );
    }
    sc += &with_image(
        &c.small,
        format!("{} (gimp-file-save RUN-NONINTERACTIVE img {} -1)", stylize("#:preserve-color TRUE"), out("color")),
    );
    sc += &with_image(
        &c.rgba,
        format!(
            "(gimp-image-select-rectangle img CHANNEL-OP-REPLACE {x} {y} {w} {h}) {} \
             (gimp-file-save RUN-NONINTERACTIVE img {} -1)",
            stylize(""),
            out("selection")
        ),
    );
    sc += &with_image(
        &c.small,
        format!(
            "(gimp-image-select-rectangle img CHANNEL-OP-REPLACE {x} {y} {w} {h}) \
             (let ((mask (car (gimp-selection-save img)))) (gimp-selection-none img) {}) \
             (gimp-file-save RUN-NONINTERACTIVE img {} -1)",
            stylize(&format!("#:mask mask #:style2 {} #:feather 4.0", q(&c.strokes))),
            out("mask")
        ),
    );
    sc += &with_image(
        &c.small,
        format!(
            "(gimp-image-convert-grayscale img) (gimp-file-save RUN-NONINTERACTIVE img {} -1) {} \
             (gimp-file-save RUN-NONINTERACTIVE img {} -1)",
            out("gray_in"),
            stylize(""),
            out("gray")
        ),
    );
    // A 16-bit and a linear float image, converted back to 8-bit non-linear for saving.
    for (precision, name) in [("U16-NON-LINEAR", "16bit"), ("FLOAT-LINEAR", "float")] {
        sc += &with_image(
            &c.small,
            format!(
                "(gimp-image-convert-precision img PRECISION-{precision}) {} \
                 (gimp-image-convert-precision img PRECISION-U8-NON-LINEAR) \
                 (gimp-file-save RUN-NONINTERACTIVE img {} -1)",
                stylize(""),
                out(name)
            ),
        );
    }
    sc += &with_image(
        &c.small,
        format!(
            "{} (let ((layers (car (gimp-image-get-layers img)))) \
               (if (not (= (vector-length layers) 2)) (error \"as-new-layer: expected 2 layers\")) \
               (gimp-file-save RUN-NONINTERACTIVE img {} -1) \
               (gimp-item-set-visible (vector-ref layers 0) FALSE) \
               (gimp-file-save RUN-NONINTERACTIVE img {} -1))",
            stylize("#:as-new-layer TRUE"),
            out("new_layer"),
            out("new_layer_below")
        ),
    );
    for (tileable, name) in [("TRUE", "tex_tileable"), ("FALSE", "tex")] {
        sc += &format!(
            "(let ((img (car (plug-in-unistyle-texture #:run-mode RUN-NONINTERACTIVE #:style {} #:width 96 \
             #:height 64 #:seed 7 #:iterations 1 #:tileable {tileable})))) \
             (gimp-file-save RUN-NONINTERACTIVE img {} -1))\n",
            q(&c.brick),
            out(name)
        );
    }
    sc += &with_image(
        &c.small,
        format!(
            "(plug-in-unistyle-stylize #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector layer) \
             #:preset {}) (gimp-file-save RUN-NONINTERACTIVE img {} -1)",
            q(&c.preset),
            out("preset")
        ),
    );
    sc += &format!(
        "(let ((img (car (plug-in-unistyle-texture #:run-mode RUN-NONINTERACTIVE #:preset {} #:width 96 \
         #:height 64)))) (gimp-file-save RUN-NONINTERACTIVE img {} -1))\n",
        q(&c.tex_preset),
        out("tex_preset")
    );
    sc
}

const PYTHON_PRELUDE: &str = include_str!("gimp3/python_prelude.py");

/// The same cases in Python-Fu; outputs `py_<case>.png`.
fn python_cases(g: &Gimp3, c: &Cases) -> String {
    let (x, y, w, h) = SEL;
    let out = |n: &str| py(&g.path(&format!("py_{n}.png")));
    let stylize = |extra: &str| {
        format!(
            "ok(call(\"plug-in-unistyle-stylize\", img, style={}, alpha=0.6, levels=\"3,2,1\", weights={}{extra}), \
             \"stylize\")",
            py(&c.starry),
            py(&c.weights)
        )
    };
    let mut p = PYTHON_PRELUDE.to_string();
    p += &format!("img = load({}); {}; save(img, {})\n", py(&c.small), stylize(""), out("whole"));
    p += &format!("img = load({}); {}; save(img, {})\n", py(&c.small), stylize(", preserve_color=True"), out("color"));
    p += &format!(
        "img = load({}); img.select_rectangle(Gimp.ChannelOps.REPLACE, {x}, {y}, {w}, {h}); {}; save(img, {})\n",
        py(&c.rgba),
        stylize(""),
        out("selection")
    );
    p += &format!(
        "img = load({}); img.select_rectangle(Gimp.ChannelOps.REPLACE, {x}, {y}, {w}, {h}); \
         mask = Gimp.Selection.save(img); Gimp.Selection.none(img); {}; save(img, {})\n",
        py(&c.small),
        stylize(&format!(", mask=mask, style2={}, feather=4.0", py(&c.strokes))),
        out("mask")
    );
    p += &format!(
        "img = load({}); img.convert_grayscale(); save(img, {}); {}; save(img, {})\n",
        py(&c.small),
        out("gray_in"),
        stylize(""),
        out("gray")
    );
    for (precision, name) in [("U16_NON_LINEAR", "16bit"), ("FLOAT_LINEAR", "float")] {
        p += &format!(
            "img = load({}); img.convert_precision(Gimp.Precision.{precision}); {}; \
             img.convert_precision(Gimp.Precision.U8_NON_LINEAR); save(img, {})\n",
            py(&c.small),
            stylize(""),
            out(name)
        );
    }
    p += &format!(
        "img = load({}); {}\nlayers = img.get_layers()\nassert len(layers) == 2, 'as-new-layer: %d layers' % len(layers)\n\
         save(img, {}); layers[0].set_visible(False); save(img, {})\n",
        py(&c.small),
        stylize(", as_new_layer=True"),
        out("new_layer"),
        out("new_layer_below")
    );
    for (tileable, name) in [("True", "tex_tileable"), ("False", "tex")] {
        p += &format!(
            "r = ok(call(\"plug-in-unistyle-texture\", style={}, width=96, height=64, seed=7, iterations=1, \
             tileable={tileable}, weights={}), \"texture\"); save(r.index(1), {})\n",
            py(&c.brick),
            py(&c.weights),
            out(name)
        );
    }
    p += &format!(
        "img = load({}); ok(call(\"plug-in-unistyle-stylize\", img, preset={}, weights={}), \"preset\"); \
         save(img, {})\n",
        py(&c.small),
        py(&c.preset),
        py(&c.weights),
        out("preset")
    );
    p += &format!(
        "r = ok(call(\"plug-in-unistyle-texture\", preset={}, width=96, height=64, weights={}), \"texture preset\"); \
         save(r.index(1), {})\n",
        py(&c.tex_preset),
        py(&c.weights),
        out("tex_preset")
    );
    p
}

/// Compares each interpreter's outputs with the CLI's; prints the PSNR table.
fn compare(g: &Gimp3, c: &Cases, prefix: &str) {
    let cases = [
        ("whole", "cli_whole"),
        ("color", "cli_color"),
        ("selection", "cli_selection"),
        ("mask", "cli_mask"),
        ("16bit", "cli_whole"),
        ("float", "cli_whole"),
        ("new_layer", "cli_whole"),
        ("tex_tileable", "cli_tex_tileable"),
        ("tex", "cli_tex"),
        ("preset", "cli_preset"),
        ("tex_preset", "cli_tex_preset"),
    ];
    for (case, want) in cases {
        let got = g.path(&format!("{prefix}_{case}.png"));
        assert!(got.is_file(), "{prefix}: no output for {case}");
        let db = psnr_files(&got, &g.path(&format!("{want}.png")));
        println!("| {prefix:<10} | {case:<12} | {db:>7.2} dB |");
        assert!(db >= 50.0, "{prefix} {case}: {db:.2} dB against the CLI");
    }
    // A grayscale layer: the luminance of the CLI's result for the same gray input.
    let cli_gray = g.path(&format!("cli_{prefix}_gray.png"));
    let gray_in = g.path(&format!("{prefix}_gray_in.png"));
    cli_stylize(&gray_in, &c.starry, &cli_gray);
    let (db, compared, n) = gray_psnr(&g.path(&format!("{prefix}_gray.png")), &cli_gray);
    println!("| {prefix:<10} | {:<12} | {db:>7.2} dB | ({compared} of {n} unclipped pixels)", "gray");
    assert!(compared * 2 > n && db >= 50.0, "{prefix} gray: {db:.2} dB over {compared} pixels");
    // as-new-layer leaves the original layer as it was.
    let below = read_png(&g.path(&format!("{prefix}_new_layer_below.png")));
    assert_eq!(below.rgb, read_png(&c.small).rgb, "{prefix}: as-new-layer changed the original layer");
    // A selection changes nothing outside it, and keeps the layer's alpha.
    let (got, orig) = (read_png(&g.path(&format!("{prefix}_selection.png"))), read_png(&c.rgba));
    assert_eq!(got.alpha, orig.alpha, "{prefix}: alpha must be carried through unchanged");
    let (x, y, w, h) = SEL;
    let n = (SMALL * SMALL) as usize;
    for i in 0..n {
        let (px, py) = ((i % SMALL as usize) as u32, (i / SMALL as usize) as u32);
        if !(px >= x && px < x + w && py >= y && py < y + h) {
            for ch in 0..3 {
                assert_eq!(got.rgb[ch * n + i], orig.rgb[ch * n + i], "{prefix}: pixel ({px},{py}) outside changed");
            }
        }
    }
}

#[test]
fn gimp3_plugin_matches_cli() {
    if !can_chroot() {
        println!("SKIPPED gimp3_plugin_matches_cli: needs root or password-less sudo for the GIMP 3 chroot");
        return;
    }
    let g = Gimp3::new();
    let c = Cases::new(&g);
    c.cli_outputs(&g);

    // Script-Fu, weights from UNISTYLE_WEIGHTS (the first run also registers the plug-in).
    let env = format!("UNISTYLE_WEIGHTS={}", s(&c.weights));
    let r = g.script_fu(&script_fu_cases(&g, &c), &env);
    println!("Script-Fu run (14 calls, first start of the profile): {:.1} s", r.secs);
    assert_eq!(r.code, 0, "Script-Fu batch failed:\n{}", r.log);
    // Python-Fu, weights from the `weights` argument.
    let r = g.python(&python_cases(&g, &c), "");
    println!("Python-Fu run (12 calls): {:.1} s", r.secs);
    assert_eq!(r.code, 0, "Python-Fu batch failed:\n{}", r.log);
    println!("| interpreter | case | PSNR against the CLI |");
    compare(&g, &c, "sf");
    compare(&g, &c, "py");
    // The modes by keyword (Script-Fu): the CLI's flags, and not plain WCT.
    for (name, flags) in MODE_CASES {
        let got = g.path(&format!("sf_{name}.png"));
        let db = psnr_files(&got, &g.path(&format!("cli_{name}.png")));
        println!("| sf         | {name:<12} | {db:>7.2} dB | {}", flags.join(" "));
        assert!(db >= 50.0, "sf {name}: {db:.2} dB against the CLI");
        let plain = psnr_files(&got, &g.path("cli_whole.png"));
        assert!(plain < 40.0, "sf {name}: the modes changed nothing ({plain:.2} dB to plain WCT)");
    }

    // Failures: our message, a failed call, a non-zero exit (Script-Fu: 70), never a crash.
    let call = |extra: &str| {
        format!(
            "(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE {}))) \
                    (layer (vector-ref (car (gimp-image-get-selected-drawables img)) 0))) \
               (plug-in-unistyle-stylize #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector layer) {extra}))",
            q(&c.small)
        )
    };
    let style = format!("#:style {}", q(&c.starry));
    let failures = [
        ("a missing style file", call("#:style \"/no/such/style.png\""), "/no/such/style.png"),
        ("a bad levels string", call(&format!("{style} #:levels \"3,x\"")), "3,x"),
        (
            "missing weights",
            call(&format!("{style} #:weights \"/no/such/weights.safetensors\"")),
            "/no/such/weights.safetensors",
        ),
        (
            "patch swap with OST",
            call(&format!("{style} #:patch-swap TRUE #:transform \"ost\"")),
            "cannot be combined with patch swap",
        ),
    ];
    for (what, script, needle) in &failures {
        let r = g.script_fu(script, &env);
        let message = r.log.lines().find(|l| l.contains("unistyle:")).unwrap_or("").trim();
        println!("Script-Fu with {what}: exit {} in {:.1} s; {message}", r.code, r.secs);
        assert_eq!(r.code, 70, "{what}: expected exit 70 (a failed call):\n{}", r.log);
        assert!(r.log.contains("unistyle:") && r.log.contains(needle), "{what}: our message is missing:\n{}", r.log);
    }
    // The same through Python-Fu: the call returns an execution error with our message.
    let mut p = PYTHON_PRELUDE.to_string();
    p += &format!("img = load({})\n", py(&c.small));
    for (args, needle) in [
        ("style=\"/no/such/style.png\"".to_string(), "/no/such/style.png"),
        (format!("style={}, levels=\"3,x\"", py(&c.starry)), "3,x"),
        (format!("style={}, weights=\"/no/such/weights.safetensors\"", py(&c.starry)), "/no/such/weights.safetensors"),
    ] {
        p += &format!(
            "r = call(\"plug-in-unistyle-stylize\", img, {args})\n\
             assert r.index(0) == Gimp.PDBStatusType.EXECUTION_ERROR, r.index(0)\n\
             assert \"unistyle:\" in r.index(1) and {needle:?} in r.index(1), r.index(1)\n\
             print(\"failed as expected:\", r.index(1))\n"
        );
    }
    let r = g.python(&p, &env);
    println!("Python-Fu failures: exit {} in {:.1} s", r.code, r.secs);
    assert_eq!(r.code, 0, "Python-Fu failure checks:\n{}", r.log);
    assert_eq!(r.log.matches("failed as expected").count(), 3, "{}", r.log);
}
