//! The one rule set (`src/rules.rs`) reached from every front end: each parameter rule ×
//! the command line, a preset file and the C ABI. Every front end must refuse the value with
//! the rule's own reason, name the parameter in its own terms (the flag; the preset file,
//! line and key; the C option field), and do so before any heavy work: the CLI and preset
//! runs name a weights file that does not exist, so an error about the parameter proves
//! that the model was never loaded; the C calls carry a progress callback that must never
//! be called.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// How one front end expresses a rule, or why it cannot.
enum Via {
    /// Extra command-line arguments (after the command's base arguments).
    Cli {
        flag: &'static str,
        args: Vec<String>,
    },
    /// Preset lines after `version = 1`; the offending key and its line.
    Preset {
        key: &'static str,
        line: usize,
        text: String,
    },
    /// The front end has no way to give this value (the reason says which rule stops it).
    Not(&'static str),
}

struct Row {
    rule: &'static str,
    /// A job that synthesizes a texture (else a stylization).
    texture: bool,
    /// The rule's own reason, the same through every front end.
    reason: &'static str,
    cli: Via,
    preset: Via,
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
    Via::Cli {
        flag,
        args: strings(args),
    }
}

fn preset(key: &'static str, line: usize, text: &str) -> Via {
    Via::Preset {
        key,
        line,
        text: text.to_string(),
    }
}

/// The rows; `{S}` and `{M}` stand for a style image and a mask.
fn table() -> Vec<Row> {
    let two = "style = [\"s.png\", \"s.png\"]\n";
    let row = |rule, texture, reason, cli, preset| Row {
        rule,
        texture,
        reason,
        cli,
        preset,
    };
    vec![
        row("at least one style", false, "at least one style image is needed",
            Via::Not("the command line requires --style (clap refuses a missing one before unistyle runs)"),
            preset("style", 2, "style = []\n")),
        row("one blend weight per style", false, "2 weights for 1 styles",
            cli("--blend", &["--blend", "0.2,0.8"]),
            preset("blend", 3, "style = \"s.png\"\nblend = [0.2, 0.8]\n")),
        row("blend weights only without masks", false, "blends styles globally; with masks each region has its own style",
            cli("--blend", &["--style", "{S}", "--mask", "{M}", "--blend", "1,1"]),
            preset("blend", 4, &format!("{two}mask = \"m.png\"\nblend = [1.0, 1.0]\n"))),
        row("blend weights finite and ≥ 0", false, "weight 1 is -1; weights must be finite and ≥ 0",
            cli("--blend", &["--style", "{S}", "--blend=-1,2"]),
            preset("blend", 3, &format!("{two}blend = [-1.0, 2.0]\n"))),
        row("blend weights not all 0", false, "the weights sum to 0",
            cli("--blend", &["--style", "{S}", "--blend", "0,0"]),
            preset("blend", 3, &format!("{two}blend = [0.0, 0.0]\n"))),
        row("N-1 or N masks for N styles", false, "2 styles need 1 or 2 masks, got 3",
            cli("--mask", &["--style", "{S}", "--mask", "{M}", "--mask", "{M}", "--mask", "{M}"]),
            preset("mask", 3, &format!("{two}mask = [\"m.png\", \"m.png\", \"m.png\"]\n"))),
        row("a texture has N-1 masks", true, "a texture has no content to keep: give one mask fewer than styles",
            cli("--mask", &["--style", "{S}", "--mask", "{M}", "--mask", "{M}"]),
            preset("mask", 3, &format!("{two}mask = [\"m.png\", \"m.png\"]\n[texture]\nwidth = 8\n"))),
        row("feather in 0..=10000", false, "must be in 0..=10000, got -1",
            cli("--feather", &["--style", "{S}", "--mask", "{M}", "--feather=-1"]),
            preset("feather", 4, &format!("{two}mask = \"m.png\"\nfeather = -1.0\n"))),
        row("feather needs a mask", false, "softens mask borders, so it needs a mask",
            cli("--feather", &["--feather", "5"]),
            preset("feather", 4, "style = \"s.png\"\n\nfeather = 5\n")),
        row("foreground-only needs a mask", false, "keeps the pixels outside the masks, so it needs a mask",
            cli("--foreground-only", &["--foreground-only"]),
            preset("foreground_only", 3, "style = \"s.png\"\nforeground_only = true\n")),
        row("foreground-only: a mask per style", false, "every style needs its own mask (2 styles, 1 masks)",
            cli("--foreground-only", &["--style", "{S}", "--mask", "{M}", "--foreground-only"]),
            preset("foreground_only", 4, &format!("{two}mask = \"m.png\"\nforeground_only = true\n"))),
        row("style size in 1..=32768", false, "must be in 1..=32768, got 0",
            cli("--style-size", &["--style-size", "0"]),
            preset("style_size", 3, "style = \"s.png\"\nstyle_size = 0\n")),
        row("at least one level", false, "at least one level is needed",
            Via::Not("--levels '' is a parse error of the levels string (no level to check)"),
            preset("levels", 3, "style = \"s.png\"\nlevels = []\n")),
        row("levels in 1..=5", false, "must be in 1..=5, got 9",
            cli("--levels", &["--levels", "3,9"]),
            preset("levels", 4, "style = \"s.png\"\nlevels = [3,\n 9]\n")),
        row("no level twice", false, "level 2 is listed twice",
            cli("--levels", &["--levels", "2,2"]),
            preset("levels", 3, "style = \"s.png\"\nlevels = [2, 2]\n")),
        row("alpha in 0..=1", false, "must be in 0..=1, got 1.5",
            cli("--alpha", &["--alpha", "1.5"]),
            preset("alpha", 3, "style = \"s.png\"\nalpha = 1.5\n")),
        row("alpha not NaN", false, "must be in 0..=1, got NaN",
            cli("--alpha", &["--alpha", "NaN"]),
            preset("alpha", 3, "style = \"s.png\"\nalpha = nan\n")),
        row("level alpha in 0..=1", false, "alpha at level 2 must be in 0..=1, got 7",
            cli("--level-alpha", &["--level-alpha", "2=7"]),
            preset("level_alpha.2", 3, "style = \"s.png\"\nlevel_alpha = { 2 = 7.0 }\n")),
        row("level alpha for a level 1..=5", false, "9 is not a level 1..=5",
            cli("--level-alpha", &["--level-alpha", "9=0.5"]),
            preset("level_alpha.9", 3, "style = \"s.png\"\nlevel_alpha = { 9 = 0.5 }\n")),
        row("level alpha for a level being run", false, "level 2 is not among the levels being run",
            cli("--level-alpha", &["--levels", "3", "--level-alpha", "2=0.5"]),
            preset("level_alpha.2", 4, "style = \"s.png\"\nlevels = [3]\nlevel_alpha = { 2 = 0.5 }\n")),
        row("texture width in 1..=32768", true, "must be in 1..=32768, got 0",
            cli("--width", &["--width", "0", "--height", "8"]),
            preset("texture.width", 4, "style = \"s.png\"\n[texture]\nwidth = 0\n")),
        row("texture height in 1..=32768", true, "must be in 1..=32768, got 40000",
            cli("--height", &["--width", "8", "--height", "40000"]),
            preset("texture.height", 4, "style = \"s.png\"\n[texture]\nheight = 40000\n")),
        row("texture seed ≥ 0", true, "must be ≥ 0, got -1",
            Via::Not("--seed takes a u64: clap refuses -1 before unistyle runs"),
            preset("texture.seed", 4, "style = \"s.png\"\n[texture]\nseed = -1\n")),
        row("iterations in 1..=100", true, "must be in 1..=100, got 0",
            cli("--iterations", &["--iterations", "0"]),
            preset("texture.iterations", 4, "style = \"s.png\"\n[texture]\niterations = 0\n")),
        row("tile size ≥ 16", false, "must be at least 16 pixels, got 8",
            cli("--tile-size", &["--tile-size", "8"]),
            Via::Not("a preset describes a look, not how the machine runs it")),
        row("max size ≥ 1", false, "must be at least 1, got 0",
            cli("--max-size", &["--max-size", "0"]),
            Via::Not("a preset describes a look, not the content image")),
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
        let mut v = if texture {
            strings(&["texture"])
        } else {
            strings(&["stylize", "--content", s(&self.content)])
        };
        v.extend(strings(&[
            "--out",
            s(&self.out),
            "--weights",
            s(&self.bogus),
            "-q",
        ]));
        v
    }

    fn expand(&self, args: &[String]) -> Vec<String> {
        args.iter()
            .map(|a| {
                a.replace("{S}", s(&self.style))
                    .replace("{M}", s(&self.mask))
            })
            .collect()
    }

    /// Runs the CLI; its one-line message.
    fn refused(&self, what: &str, args: &[String]) -> String {
        let res = bin()
            .args(args)
            .env_remove("UNISTYLE_WEIGHTS")
            .output()
            .unwrap();
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

/// Every rule through the command line and through a preset file.
#[test]
fn every_rule_reaches_the_cli_and_presets_in_their_terms() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Fixture::new(tmp.path());
    let rows = table();
    let (mut reached, mut not) = (0, 0);
    for (i, r) in rows.iter().enumerate() {
        for via in [&r.cli, &r.preset] {
            match via {
                Via::Cli { flag, args } => {
                    let mut a = fx.base(r.texture);
                    a.extend(strings(&["--style", s(&fx.style)]));
                    a.extend(fx.expand(args));
                    let err = fx.refused(&format!("{} (CLI)", r.rule), &a);
                    let want = format!("error: {flag}: {}", r.reason);
                    assert!(
                        err.starts_with(&want),
                        "{} (CLI): want '{want}…', got '{err}'",
                        r.rule
                    );
                    reached += 1;
                }
                Via::Preset { key, line, text } => {
                    let p = fx.dir.join(format!("rule{i}.toml"));
                    std::fs::write(&p, format!("version = 1\n{text}")).unwrap();
                    let mut a = fx.base(r.texture);
                    a.extend(strings(&["--preset", s(&p)]));
                    let err = fx.refused(&format!("{} (preset)", r.rule), &a);
                    let want = format!(
                        "error: preset '{}' line {line}, key '{key}': {}",
                        p.display(),
                        r.reason
                    );
                    assert!(
                        err.starts_with(&want),
                        "{} (preset): want '{want}…', got '{err}'",
                        r.rule
                    );
                    // The library reads the preset the same way.
                    let lib = unistyle::Preset::load(&p).unwrap_err().to_string();
                    assert_eq!(
                        format!("error: {lib}"),
                        err,
                        "{} (preset through the library)",
                        r.rule
                    );
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
        "rule table: {} rules × 2 front ends here: {reached} reached, {not} not expressible",
        rows.len()
    );
}
