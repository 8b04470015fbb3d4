//! The one rule set (`src/rules.rs`) reached from every front end: each parameter rule ×
//! the command line, a preset file and the C ABI. Every front end must refuse the value with
//! the rule's own reason, name the parameter in its own terms (the flag; the preset file,
//! line and key; the C option field), and do so before any heavy work: the CLI and preset
//! runs name a weights file that does not exist, so an error about the parameter proves
//! that the model was never loaded; the C calls carry a progress callback that must never
//! be called, and the input and output images are NULL (a call that looked at pixels first
//! would name them).

mod common;

use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut};

use common::abi::*;
use common::*;
use unistyle::capi::*;

/// How one front end expresses a rule, or why it cannot.
enum Via {
    /// Extra command-line arguments (after the command's base arguments).
    Cli { flag: &'static str, args: Vec<String> },
    /// Preset lines after `version = 1`; the offending key and its line.
    Preset { key: &'static str, line: usize, text: String },
    /// A C call: the option field it is about, and what differs from the `_init` defaults.
    Abi { field: &'static str, call: AbiCall },
    /// The front end has no way to give this value (the reason says which rule stops it).
    Not(&'static str),
}

/// A `unistyle_stylize` / `unistyle_texture` call (or, with `style_max_size`, a style
/// creation) that differs from the defaults in these values.
#[derive(Clone)]
struct AbiCall {
    styles: usize,
    masks: usize,
    weights: Option<Vec<f32>>,
    levels: Vec<u32>,
    alpha: f32,
    feather: f32,
    foreground_only: bool,
    iterations: u32,
    style_max_size: Option<u32>,
}

impl Default for AbiCall {
    fn default() -> Self {
        AbiCall {
            styles: 1,
            masks: 0,
            weights: None,
            levels: vec![],
            alpha: 1.0,
            feather: 0.0,
            foreground_only: false,
            iterations: 3,
            style_max_size: None,
        }
    }
}

fn abi(field: &'static str, call: AbiCall) -> Via {
    Via::Abi { field, call }
}

struct Row {
    rule: &'static str,
    /// A job that synthesizes a texture (else a stylization).
    texture: bool,
    /// The rule's own reason, the same through every front end.
    reason: &'static str,
    cli: Via,
    preset: Via,
    c: Via,
}

struct Fixture {
    dir: PathBuf,
    style: PathBuf,
    mask: PathBuf,
    content: PathBuf,
    out: PathBuf,
    bogus: PathBuf,
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn cli(flag: &'static str, args: &[&str]) -> Via {
    Via::Cli { flag, args: strings(args) }
}

fn preset(key: &'static str, line: usize, text: &str) -> Via {
    Via::Preset { key, line, text: text.to_string() }
}

/// The rows; `{S}` and `{M}` stand for a style image and a mask.
fn table() -> Vec<Row> {
    let two = "style = [\"s.png\", \"s.png\"]\n";
    let row = |rule, texture, reason, cli, preset, c| Row { rule, texture, reason, cli, preset, c };
    let d = AbiCall::default;
    let two_c = AbiCall { styles: 2, ..d() };
    let st = |f: &str| -> &'static str { Box::leak(format!("unistyle_stylize_options.{f}").into_boxed_str()) };
    let tx = |f: &str| -> &'static str { Box::leak(format!("unistyle_texture_options.{f}").into_boxed_str()) };
    vec![
        row(
            "at least one style",
            false,
            "at least one style image is needed",
            Via::Not("the command line requires --style (clap refuses a missing one before unistyle runs)"),
            preset("style", 2, "style = []\n"),
            abi(st("style_count"), AbiCall { styles: 0, ..d() }),
        ),
        row(
            "one blend weight per style",
            false,
            "2 weights for 1 styles",
            cli("--blend", &["--blend", "0.2,0.8"]),
            preset("blend", 3, "style = \"s.png\"\nblend = [0.2, 0.8]\n"),
            Via::Not("the C ABI reads exactly style_count weights"),
        ),
        row(
            "blend weights only without masks",
            false,
            "blends styles globally; with masks each region has its own style",
            cli("--blend", &["--style", "{S}", "--mask", "{M}", "--blend", "1,1"]),
            preset("blend", 4, &format!("{two}mask = \"m.png\"\nblend = [1.0, 1.0]\n")),
            abi(st("weights"), AbiCall { masks: 1, weights: Some(vec![1.0, 1.0]), ..two_c.clone() }),
        ),
        row(
            "blend weights finite and ≥ 0",
            false,
            "weight 1 is -1; weights must be finite and ≥ 0",
            cli("--blend", &["--style", "{S}", "--blend=-1,2"]),
            preset("blend", 3, &format!("{two}blend = [-1.0, 2.0]\n")),
            abi(st("weights"), AbiCall { weights: Some(vec![-1.0, 2.0]), ..two_c.clone() }),
        ),
        row(
            "blend weights not all 0",
            false,
            "the weights sum to 0",
            cli("--blend", &["--style", "{S}", "--blend", "0,0"]),
            preset("blend", 3, &format!("{two}blend = [0.0, 0.0]\n")),
            abi(st("weights"), AbiCall { weights: Some(vec![0.0, 0.0]), ..two_c.clone() }),
        ),
        row(
            "N-1 or N masks for N styles",
            false,
            "2 styles need 1 or 2 masks, got 3",
            cli("--mask", &["--style", "{S}", "--mask", "{M}", "--mask", "{M}", "--mask", "{M}"]),
            preset("mask", 3, &format!("{two}mask = [\"m.png\", \"m.png\", \"m.png\"]\n")),
            abi(st("mask_count"), AbiCall { masks: 3, ..two_c.clone() }),
        ),
        row(
            "a texture has N-1 masks",
            true,
            "a texture has no content to keep: give one mask fewer than styles",
            cli("--mask", &["--style", "{S}", "--mask", "{M}", "--mask", "{M}"]),
            preset("mask", 3, &format!("{two}mask = [\"m.png\", \"m.png\"]\n[texture]\nwidth = 8\n")),
            abi(tx("mask_count"), AbiCall { masks: 2, ..two_c.clone() }),
        ),
        row(
            "feather in 0..=10000",
            false,
            "must be in 0..=10000, got -1",
            cli("--feather", &["--style", "{S}", "--mask", "{M}", "--feather=-1"]),
            preset("feather", 4, &format!("{two}mask = \"m.png\"\nfeather = -1.0\n")),
            abi(st("feather"), AbiCall { masks: 1, feather: -1.0, ..two_c.clone() }),
        ),
        row(
            "feather needs a mask",
            false,
            "softens mask borders, so it needs a mask",
            cli("--feather", &["--feather", "5"]),
            preset("feather", 4, "style = \"s.png\"\n\nfeather = 5\n"),
            abi(st("feather"), AbiCall { feather: 5.0, ..d() }),
        ),
        row(
            "foreground-only needs a mask",
            false,
            "keeps the pixels outside the masks, so it needs a mask",
            cli("--foreground-only", &["--foreground-only"]),
            preset("foreground_only", 3, "style = \"s.png\"\nforeground_only = true\n"),
            abi(st("foreground_only"), AbiCall { foreground_only: true, ..d() }),
        ),
        row(
            "foreground-only: a mask per style",
            false,
            "every style needs its own mask (2 styles, 1 masks)",
            cli("--foreground-only", &["--style", "{S}", "--mask", "{M}", "--foreground-only"]),
            preset("foreground_only", 4, &format!("{two}mask = \"m.png\"\nforeground_only = true\n")),
            abi(st("foreground_only"), AbiCall { masks: 1, foreground_only: true, ..two_c.clone() }),
        ),
        row(
            "style size in 1..=32768",
            false,
            "must be in 1..=32768, got 40000",
            cli("--style-size", &["--style-size", "40000"]),
            preset("style_size", 3, "style = \"s.png\"\nstyle_size = 40000\n"),
            abi("unistyle_style_options.max_size", AbiCall { style_max_size: Some(40000), ..d() }),
        ),
        row(
            "at least one level",
            false,
            "at least one level is needed",
            Via::Not("--levels '' is a parse error of the levels string (no level to check)"),
            preset("levels", 3, "style = \"s.png\"\nlevels = []\n"),
            Via::Not("level_count 0 means every level of the model"),
        ),
        row(
            "levels in 1..=5",
            false,
            "must be in 1..=5, got 9",
            cli("--levels", &["--levels", "3,9"]),
            preset("levels", 4, "style = \"s.png\"\nlevels = [3,\n 9]\n"),
            abi(st("levels[1]"), AbiCall { levels: vec![3, 9], ..d() }),
        ),
        row(
            "no level twice",
            false,
            "level 2 is listed twice",
            cli("--levels", &["--levels", "2,2"]),
            preset("levels", 3, "style = \"s.png\"\nlevels = [2, 2]\n"),
            abi(st("levels[1]"), AbiCall { levels: vec![2, 2], ..d() }),
        ),
        row(
            "alpha in 0..=1",
            false,
            "must be in 0..=1, got 1.5",
            cli("--alpha", &["--alpha", "1.5"]),
            preset("alpha", 3, "style = \"s.png\"\nalpha = 1.5\n"),
            abi(st("alpha"), AbiCall { alpha: 1.5, ..d() }),
        ),
        row(
            "alpha not NaN",
            false,
            "must be in 0..=1, got NaN",
            cli("--alpha", &["--alpha", "NaN"]),
            preset("alpha", 3, "style = \"s.png\"\nalpha = nan\n"),
            abi(st("alpha"), AbiCall { alpha: f32::NAN, ..d() }),
        ),
        row(
            "level alpha in 0..=1",
            false,
            "alpha at level 2 must be in 0..=1, got 7",
            cli("--level-alpha", &["--level-alpha", "2=7"]),
            preset("level_alpha.2", 3, "style = \"s.png\"\nlevel_alpha = { 2 = 7.0 }\n"),
            Via::Not("the C ABI has no per-level alpha"),
        ),
        row(
            "level alpha for a level 1..=5",
            false,
            "9 is not a level 1..=5",
            cli("--level-alpha", &["--level-alpha", "9=0.5"]),
            preset("level_alpha.9", 3, "style = \"s.png\"\nlevel_alpha = { 9 = 0.5 }\n"),
            Via::Not("the C ABI has no per-level alpha"),
        ),
        row(
            "level alpha for a level being run",
            false,
            "level 2 is not among the levels being run",
            cli("--level-alpha", &["--levels", "3", "--level-alpha", "2=0.5"]),
            preset("level_alpha.2", 4, "style = \"s.png\"\nlevels = [3]\nlevel_alpha = { 2 = 0.5 }\n"),
            Via::Not("the C ABI has no per-level alpha"),
        ),
        row(
            "texture width in 1..=32768",
            true,
            "must be in 1..=32768, got 0",
            cli("--width", &["--width", "0", "--height", "8"]),
            preset("texture.width", 4, "style = \"s.png\"\n[texture]\nwidth = 0\n"),
            Via::Not("the size is the output descriptor's, refused as an image (`output`) by the descriptor check"),
        ),
        row(
            "texture height in 1..=32768",
            true,
            "must be in 1..=32768, got 40000",
            cli("--height", &["--width", "8", "--height", "40000"]),
            preset("texture.height", 4, "style = \"s.png\"\n[texture]\nheight = 40000\n"),
            Via::Not("the size is the output descriptor's, refused as an image (`output`) by the descriptor check"),
        ),
        row(
            "texture seed ≥ 0",
            true,
            "must be ≥ 0, got -1",
            Via::Not("--seed takes a u64: clap refuses -1 before unistyle runs"),
            preset("texture.seed", 4, "style = \"s.png\"\n[texture]\nseed = -1\n"),
            Via::Not("seed is a uint64_t"),
        ),
        row(
            "iterations in 1..=100",
            true,
            "must be in 1..=100, got 0",
            cli("--iterations", &["--iterations", "0"]),
            preset("texture.iterations", 4, "style = \"s.png\"\n[texture]\niterations = 0\n"),
            abi(tx("iterations"), AbiCall { iterations: 0, ..d() }),
        ),
        row(
            "tile size ≥ 16",
            false,
            "must be at least 16 pixels, got 8",
            cli("--tile-size", &["--tile-size", "8"]),
            Via::Not("a preset describes a look, not how the machine runs it"),
            Via::Not("the C ABI has no tile option"),
        ),
        row(
            "max size ≥ 1",
            false,
            "must be at least 1, got 0",
            cli("--max-size", &["--max-size", "0"]),
            Via::Not("a preset describes a look, not the content image"),
            Via::Not("a host scales its pixels itself"),
        ),
    ]
}

impl Fixture {
    fn new(dir: &Path) -> Self {
        let style = dir.join("s.png");
        std::fs::copy(image("style/starry_256.png"), &style).unwrap();
        let mask = dir.join("m.png");
        std::fs::copy(image("mask/mask_odd.png"), &mask).unwrap();
        Fixture {
            dir: dir.to_path_buf(),
            style,
            mask,
            content: image("content/tubingen_256.png"),
            out: dir.join("out.png"),
            bogus: dir.join("bogus-weights.safetensors"),
        }
    }

    /// The command's base arguments (`--weights` names a file that does not exist).
    fn base(&self, texture: bool) -> Vec<String> {
        let command = if texture { Cli::texture() } else { Cli::stylize().content(&self.content) };
        command.out(&self.out).weights(&self.bogus).quiet().args()
    }

    fn expand(&self, args: &[String]) -> Vec<String> {
        args.iter().map(|a| a.replace("{S}", s(&self.style)).replace("{M}", s(&self.mask))).collect()
    }

    /// Runs the CLI; its one-line message.
    fn refused(&self, what: &str, args: &[String]) -> String {
        let res = bin().args(args).env_remove("UNISTYLE_WEIGHTS").output().unwrap();
        let err = String::from_utf8_lossy(&res.stderr).trim().to_string();
        assert!(!res.status.success(), "{what}: accepted");
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(!self.out.exists(), "{what}: wrote the output");
        assert!(
            !err.contains("bogus-weights"),
            "{what}: the weights were looked at before the parameter was checked: {err}"
        );
        err
    }
}

/// Makes the C call `call` describes, with NULL input and output images and a progress
/// callback; returns `unistyle_last_error()` after checking that the call was refused as
/// invalid before any progress was reported.
fn abi_refused(what: &str, texture: bool, call: &AbiCall) -> String {
    let ctx = context();
    let pixels = Buf::new(16, 16, 3, UNISTYLE_U8, 0, 128);
    let api = api();
    if let Some(max_size) = call.style_max_size {
        // The style file does not exist: the size rule must be what refuses the call.
        let mut out = null_mut();
        let status = unsafe { (api.style_from_file)(ctx.0, c"/no/such/style.png".as_ptr(), max_size, &mut out) };
        assert_eq!(status, UNISTYLE_ERR_INVALID, "{what}: {}", last_error());
        assert!(out.is_null());
        return last_error();
    }
    let style = {
        let mut s = null_mut();
        assert_eq!(unsafe { (api.style_from_image)(ctx.0, &pixels.desc, 0, &mut s) }, UNISTYLE_OK, "{}", last_error());
        Style(s)
    };
    let styles: Vec<*const UnistyleStyle> = vec![style.0; call.styles];
    let mask = Buf::new(16, 16, 1, UNISTYLE_U8, 0, 255);
    let masks: Vec<UnistyleImage> = vec![mask.desc; call.masks];
    let mut steps = Steps::default();
    let (progress, user) = Steps::hook(Some(&mut steps));
    let weights = call.weights.as_ref().map_or(null(), |w| w.as_ptr());
    let status = if texture {
        let mut o = texture_opts(&styles);
        o.weights = weights;
        o.mask_count = masks.len() as u32;
        o.masks = masks.as_ptr();
        o.level_count = call.levels.len() as u32;
        o.levels = call.levels.as_ptr();
        o.feather = call.feather;
        o.iterations = call.iterations;
        (o.progress, o.progress_user_data) = (progress, user);
        unsafe { (api.texture)(ctx.0, &o, null()) }
    } else {
        let mut o = stylize_opts(&styles, call.alpha, &call.levels);
        o.weights = weights;
        o.mask_count = masks.len() as u32;
        o.masks = masks.as_ptr();
        o.feather = call.feather;
        o.foreground_only = call.foreground_only as i32;
        (o.progress, o.progress_user_data) = (progress, user);
        unsafe { (api.stylize)(ctx.0, null(), &o, null()) }
    };
    let err = last_error();
    assert_eq!(status, UNISTYLE_ERR_INVALID, "{what}: {err}");
    assert!(steps.fractions.is_empty(), "{what}: progress was reported before the parameter was refused");
    drop(style);
    err
}

/// Every rule through the command line, a preset file and the C ABI.
#[test]
fn every_rule_reaches_every_front_end_in_its_terms() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Fixture::new(tmp.path());
    let rows = table();
    let (mut reached, mut not) = (0, 0);
    for (i, r) in rows.iter().enumerate() {
        for via in [&r.cli, &r.preset, &r.c] {
            match via {
                Via::Cli { flag, args } => {
                    let mut a = fx.base(r.texture);
                    a.extend(strings(&["--style", s(&fx.style)]));
                    a.extend(fx.expand(args));
                    let err = fx.refused(&format!("{} (CLI)", r.rule), &a);
                    let want = format!("error: {flag}: {}", r.reason);
                    assert!(err.starts_with(&want), "{} (CLI): want '{want}…', got '{err}'", r.rule);
                    reached += 1;
                }
                Via::Preset { key, line, text } => {
                    let p = fx.dir.join(format!("rule{i}.toml"));
                    std::fs::write(&p, format!("version = 1\n{text}")).unwrap();
                    let mut a = fx.base(r.texture);
                    a.extend(strings(&["--preset", s(&p)]));
                    let err = fx.refused(&format!("{} (preset)", r.rule), &a);
                    let want = format!("error: preset '{}' line {line}, key '{key}': {}", p.display(), r.reason);
                    assert!(err.starts_with(&want), "{} (preset): want '{want}…', got '{err}'", r.rule);
                    // The library reads the preset the same way.
                    let lib = unistyle::Preset::load(&p).unwrap_err().to_string();
                    assert_eq!(format!("error: {lib}"), err, "{} (preset through the library)", r.rule);
                    reached += 1;
                }
                Via::Abi { field, call } => {
                    let err = abi_refused(&format!("{} (C ABI)", r.rule), r.texture, call);
                    let want = format!("{field}: {}", r.reason);
                    assert!(err.contains(&want), "{} (C ABI): want '…{want}…', got '{err}'", r.rule);
                    reached += 1;
                }
                Via::Not(why) => {
                    assert!(!why.is_empty());
                    not += 1;
                }
            }
        }
    }
    println!(
        "rule table: {} rules × 3 front ends = {} cells: {reached} reached with the front end's wording, {not} not expressible there",
        rows.len(),
        rows.len() * 3
    );
}
