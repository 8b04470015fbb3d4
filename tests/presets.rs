//! Presets and the style cache: every kind of schema error (with file, line and key), the
//! style search path and relative paths, command-line overrides, `presets list`, `render`,
//! and cache miss → hit, corrupt entries rebuilt, stale entries not used.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use unistyle::preset::{SearchPath, STYLE_PATH_ENV};
use unistyle::style_cache::{CacheOutcome, StyleCache, StyleEncoder, StyleKey, CACHE_DIR_NAME, CACHE_ENV};
use unistyle::{Error, Model, PictureInput, Preset, PresetKind};

fn style_dir() -> PathBuf {
    image("style")
}

fn search() -> SearchPath {
    SearchPath::new([style_dir()])
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs the CLI with the style search path on the shared images and no ambient cache.
fn cli(c: &Cli) -> Output {
    c.command_line().env_remove(CACHE_ENV).env(STYLE_PATH_ENV, style_dir()).output().expect("run unistyle")
}

fn cli_ok(c: &Cli) -> (String, String) {
    let out = cli(c);
    let (so, se) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "unistyle {:?} failed: {se}", c.args());
    (so, se)
}

fn cli_err(c: &Cli) -> String {
    let out = cli(c);
    let se = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "unistyle {:?} succeeded", c.args());
    assert_ne!(out.status.code(), Some(101), "panic: {se}");
    let lines: Vec<&str> = se.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line: {se}");
    se
}

// ---------------------------------------------------------------------------------------
// Schema

/// (label, preset text, expected line (None: not known), key, text the reason contains)
type SchemaCase = (&'static str, &'static str, Option<usize>, &'static str, &'static str);

const OK_HEAD: &str = "version = 1\nstyle = \"starry_256.png\"\n";

fn schema_cases() -> Vec<(String, String, Option<usize>, String, String)> {
    let cases: Vec<SchemaCase> = vec![
        // unknown keys
        ("unknown key", "alpah = 0.5\n", Some(3), "alpah", "unknown key"),
        ("unknown texture key", "[texture]\nwidth = 64\nsede = 3\n", Some(5), "texture.sede", "unknown key"),
        ("unknown table", "[textures]\nwidth = 64\n", Some(3), "textures", "unknown key"),
        // wrong types
        ("alpha string", "alpha = \"strong\"\n", Some(3), "alpha", "invalid type"),
        ("levels not a list", "levels = 3\n", Some(3), "levels", "invalid type"),
        ("float level", "levels = [3, 2.5]\n", Some(3), "levels", "invalid type"),
        ("tileable string", "[texture]\ntileable = \"yes\"\n", Some(4), "texture.tileable", "invalid type"),
        ("width float", "\n[texture]\nwidth = 64.5\n", Some(5), "texture.width", "invalid type"),
        ("name number", "name = 7\n", Some(3), "name", "invalid type"),
        ("texture not a table", "texture = 5\n", Some(3), "texture", "invalid type"),
        // out of range
        ("alpha > 1", "\nalpha = 1.5\n", Some(4), "alpha", "must be in 0..=1, got 1.5"),
        ("alpha nan", "alpha = nan\n", Some(3), "alpha", "got NaN"),
        ("level 9", "levels = [3,\n  9]\n", Some(4), "levels", "must be in 1..=5, got 9"),
        ("level twice", "levels = [2, 2]\n", Some(3), "levels", "listed twice"),
        ("no levels", "levels = []\n", Some(3), "levels", "at least one level"),
        ("style size 0", "style_size = 0\n", Some(3), "style_size", "got 0"),
        ("iterations 0", "[texture]\niterations = 0\n", Some(4), "texture.iterations", "must be in 1..=100"),
        ("width huge", "[texture]\nwidth = 100000\n", Some(4), "texture.width", "got 100000"),
        ("negative seed", "[texture]\nseed = -4\n", Some(4), "texture.seed", "≥ 0"),
        ("level alpha value", "level_alpha = { 3 = 2.0 }\n", Some(3), "level_alpha.3", "got 2"),
        ("level alpha key", "level_alpha = { 7 = 0.5 }\n", Some(3), "level_alpha.7", "not a level"),
        (
            "level alpha twice",
            "level_alpha = { 3 = 0.5, 03 = 0.7 }\n",
            Some(3),
            "level_alpha.3",
            "level 3 is given twice",
        ),
        ("level alpha not run", "levels = [3, 2]\nlevel_alpha = { 1 = 0.5 }\n", Some(4), "level_alpha.1", "not among"),
        ("feather > max", "mask = []\nfeather = 20000\n", Some(4), "feather", "got 20000"),
        ("feather no mask", "feather = 3\n", Some(3), "feather", "needs a mask"),
        ("precision fp16", "\nprecision = \"fp16\"\n", Some(4), "precision", "'fp16' is not a precision (f32 or bf16)"),
        ("bad name", "name = \"a/b\"\n", Some(3), "name", "file names"),
        // control characters are escaped: messages stay on one line
        ("name with a newline", "name = \"a\\nb\"\n", Some(3), "name", "'a\\nb' contains '\\n'"),
        ("key with a newline", "\"a\\nb\" = 1\n", Some(3), "a\\nb", "unknown key"),
        (
            "level alpha key with a newline",
            "level_alpha = { \"x\\n\" = 0.5 }\n",
            Some(3),
            "level_alpha.x\\n",
            "'x\\n' is not a level",
        ),
        // counts
        ("blend count", "blend = [0.5, 0.5]\n", Some(3), "blend", "2 weights for 1 styles"),
        ("blend negative", "blend = [-1.0]\n", Some(3), "blend", "≥ 0"),
        ("foreground no mask", "foreground_only = true\n", Some(3), "foreground_only", "mask"),
        // missing files
        ("missing mask", "mask = \"nope_mask.png\"\n", Some(3), "mask", "'nope_mask.png' not found"),
        ("missing init", "[texture]\ninit = \"nope_init.png\"\n", Some(4), "texture.init", "'nope_init.png' not found"),
        // syntax
        ("syntax", "alpha = = 1\n", Some(3), "", "TOML syntax"),
    ];
    cases
        .into_iter()
        .map(|(l, t, line, k, r)| (l.to_string(), format!("{OK_HEAD}{t}"), line, k.to_string(), r.to_string()))
        .chain([
            (
                "missing image".into(),
                "version = 1\nstyle = [\"starry_256.png\",\n  \"nope.png\"]\n".into(),
                Some(3),
                "style".into(),
                "'nope.png' not found".into(),
            ),
            (
                "bad version".into(),
                "version = 2\nstyle = \"starry_256.png\"\nnew_key = 1\n".into(),
                Some(1),
                "version".into(),
                "unsupported schema version 2".into(),
            ),
            (
                "version string".into(),
                "\nversion = \"1\"\nstyle = \"starry_256.png\"\n".into(),
                Some(2),
                "version".into(),
                "integer".into(),
            ),
            ("no version".into(), "style = \"starry_256.png\"\n".into(), None, "version".into(), "missing".into()),
            ("no style".into(), "version = 1\nalpha = 0.5\n".into(), None, "style".into(), "missing".into()),
            ("empty style".into(), "version = 1\nstyle = []\n".into(), Some(2), "style".into(), "at least one".into()),
            (
                "texture all masks".into(),
                "version = 1\nstyle = \"starry_256.png\"\nmask = \"mask_odd.png\"\n[texture]\n".into(),
                Some(3),
                "mask".into(),
                "no content to keep".into(),
            ),
        ])
        .collect()
}

#[test]
fn schema_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    // A mask beside the presets (for the cases that need a valid one).
    std::fs::copy(image("mask/mask_odd.png"), dir.path().join("mask_odd.png")).unwrap();
    let cases = schema_cases();
    for (i, (label, text, line, key, reason)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("case{i}.toml"), text);
        let err = match Preset::load_with(&path, &search()) {
            Ok(p) => panic!("{label}: accepted: {p:?}"),
            Err(e) => e,
        };
        let msg = err.to_string();
        match &err {
            Error::Preset { path: p, line: l, key: k, reason: r } => {
                assert_eq!(p, &path, "{label}: {msg}");
                assert_eq!(l, line, "{label}: line in {msg}");
                assert_eq!(k, key, "{label}: key in {msg}");
                assert!(r.contains(reason.as_str()), "{label}: reason lacks '{reason}': {msg}");
            }
            other => panic!("{label}: not a preset error: {other:?}"),
        }
        assert!(msg.contains(&format!("case{i}.toml")), "{label}: {msg}");
        if let Some(l) = line {
            assert!(msg.contains(&format!("line {l}")), "{label}: {msg}");
        }
        if !key.is_empty() {
            assert!(msg.contains(&format!("key '{key}'")), "{label}: {msg}");
        }
        assert!(!msg.contains('\n'), "{label}: message spans lines: {msg}");
    }
    println!("{} schema violations refused with file, line and key", cases.len());
}

#[test]
fn schema_errors_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bad = write(d, "bad.toml", "version = 1\nstyle = \"starry_256.png\"\n\nalpha = 7\n");
    let out = d.join("out.png");
    let content = image("content/tubingen_256.png");
    let se = cli_err(&Cli::stylize().preset(&bad).content(&content).out(&out).weights(relu3_weights()));
    assert!(se.contains("bad.toml") && se.contains("line 4") && se.contains("key 'alpha'"), "{se}");
    assert!(!out.exists());
    let missing = write(d, "missing.toml", "version = 1\nstyle = \"not_here.png\"\n[texture]\n");
    let se = cli_err(&Cli::texture().preset(&missing).out(&out).weights(relu3_weights()));
    assert!(se.contains("missing.toml") && se.contains("line 2") && se.contains("not_here.png"), "{se}");
    assert!(!out.exists());
    let se = cli_err(&Cli::texture().preset(d.join("absent.toml")).out(&out));
    assert!(se.contains("absent.toml"), "{se}");
}

// ---------------------------------------------------------------------------------------
// Search path and relative paths

#[test]
fn images_are_found_beside_the_preset_then_on_the_search_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = "version = 1\nstyle = \"starry_256.png\"\n";
    let p = write(d, "p.toml", text);
    // Only on the search path.
    let preset = Preset::load_with(&p, &search()).unwrap();
    assert_eq!(preset.settings.style_files(), [style_dir().join("starry_256.png").as_path()]);
    assert_eq!(preset.name, "p", "the name defaults to the file stem");
    // Without a search path: not found, and the message says how to add one.
    let e = Preset::load_with(&p, &SearchPath::default()).unwrap_err().to_string();
    assert!(e.contains("starry_256.png") && e.contains(STYLE_PATH_ENV) && e.contains("line 2"), "{e}");
    // A file beside the preset wins over the search path.
    std::fs::copy(image("style/brick_256.png"), d.join("starry_256.png")).unwrap();
    let preset = Preset::load_with(&p, &search()).unwrap();
    assert_eq!(preset.settings.style_files(), [d.join("starry_256.png").as_path()]);
    // Relative paths are relative to the preset's folder, not the working directory.
    std::fs::create_dir(d.join("img")).unwrap();
    std::fs::copy(image("style/strokes_256.png"), d.join("img/s.png")).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    let p2 = write(
        &d.join("sub"),
        "q.toml",
        "version = 1\nstyle = [\"../img/s.png\"]\nmask = []\n[texture]\ninit = \"../img/s.png\"\n",
    );
    let q = Preset::load_with(&p2, &SearchPath::default()).unwrap();
    assert_eq!(q.settings.style_files(), [d.join("sub/../img/s.png").as_path()]);
    assert_eq!(
        q.settings.texture.init.as_ref().and_then(PictureInput::file),
        Some(d.join("sub/../img/s.png").as_path())
    );
    assert_eq!(q.kind(), PresetKind::Texture);
    // Absolute paths are used as they are.
    let abs = image("style/brick_256.png");
    let p3 = write(d, "abs.toml", &format!("version = 1\nstyle = {:?}\n", abs.to_str().unwrap()));
    assert_eq!(Preset::load_with(&p3, &SearchPath::default()).unwrap().settings.style_files(), [abs.as_path()]);
    // Several search folders are tried in order.
    let empty = tempfile::tempdir().unwrap();
    let sp = SearchPath::new([empty.path().to_path_buf(), style_dir()]);
    let p4 = write(empty.path(), "x.toml", "version = 1\nstyle = \"strokes_256.png\"\n");
    assert_eq!(
        Preset::load_with(&p4, &sp).unwrap().settings.style_files(),
        [style_dir().join("strokes_256.png").as_path()]
    );
}

#[test]
fn shipped_example_presets_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
    let all = unistyle::preset::scan_dir(&dir, &search()).unwrap();
    assert!(all.len() >= 3, "expected example presets in presets/");
    let mut kinds = std::collections::BTreeSet::new();
    for (path, r) in all {
        let p = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!p.description.is_empty(), "{}: no description", path.display());
        kinds.insert(p.kind().to_string());
    }
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["stylize", "texture"]);
    assert!(dir.join("README.md").is_file());
}

// ---------------------------------------------------------------------------------------
// Command line: overrides, presets list, render

#[test]
fn command_line_flags_override_the_preset() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = relu3_weights();
    let content = image("content/tubingen_256.png");
    let style = image("style/starry_256.png");
    let preset = write(d, "look.toml", "version = 1\nstyle = \"starry_256.png\"\nstyle_size = 96\nlevels = [2, 1]\nalpha = 0.3\nlevel_alpha = { 1 = 0.1 }\npreserve_color = true\n");
    let common = |extra: &[&str], out: &Path| -> Cli {
        Cli::stylize().content(&content).flag("max-size", 96).weights(&w).no_cache().out(out).args_from(extra)
    };
    let run_with = |extra: &[&str], name: &str| -> Vec<u8> {
        let out = d.join(name);
        cli_ok(&common(extra, &out));
        std::fs::read(&out).unwrap()
    };
    let plain_flags = ["--style", s(&style), "--style-size", "96", "--levels", "2,1"];
    // The preset alone equals the same settings given as flags.
    let from_preset = run_with(&["--preset", s(&preset)], "a.png");
    let mut flags = plain_flags.to_vec();
    flags.extend(["--alpha", "0.3", "--level-alpha", "1=0.1", "--preserve-color"]);
    assert_eq!(from_preset, run_with(&flags, "b.png"), "preset values not applied");
    // --alpha replaces alpha and the per-level alphas; --preserve-color=false turns it off.
    let over = run_with(&["--preset", s(&preset), "--alpha", "0.9", "--preserve-color=false"], "c.png");
    let mut flags = plain_flags.to_vec();
    flags.extend(["--alpha", "0.9"]);
    assert_eq!(over, run_with(&flags, "d.png"), "overrides not applied");
    assert_ne!(over, from_preset);
    // --style replaces the preset's style; --levels drops level_alpha of levels not run.
    let brick = image("style/brick_256.png");
    let over = run_with(&["--preset", s(&preset), "--style", s(&brick), "--levels", "2"], "e.png");
    let flags = ["--style", s(&brick), "--style-size", "96", "--levels", "2", "--alpha", "0.3", "--preserve-color"];
    assert_eq!(over, run_with(&flags, "f.png"), "--style/--levels overrides not applied");

    // Texture: size, seed and tileable from the preset; flags override them.
    let tex = write(d, "tex.toml", "version = 1\nstyle = \"brick_256.png\"\nlevels = [2, 1]\nalpha = 0.2\n[texture]\nwidth = 48\nheight = 40\nseed = 3\niterations = 1\ntileable = true\n");
    let texture = |extra: &[&str], name: &str| -> Vec<u8> {
        let out = d.join(name);
        cli_ok(&Cli::texture().weights(&w).no_cache().out(&out).args_from(extra));
        std::fs::read(&out).unwrap()
    };
    let flags = ["--style", s(&brick), "--levels", "2,1", "--iterations", "1"];
    let a = texture(&["--preset", s(&tex)], "t1.png");
    let mut f = flags.to_vec();
    f.extend(["--width", "48", "--height", "40", "--seed", "3", "--tileable"]);
    assert_eq!(a, texture(&f, "t2.png"), "texture preset values not applied");
    let b = texture(&["--preset", s(&tex), "--width", "32", "--seed", "5", "--tileable=false"], "t3.png");
    let mut f = flags.to_vec();
    f.extend(["--width", "32", "--height", "40", "--seed", "5"]);
    assert_eq!(b, texture(&f, "t4.png"), "texture overrides not applied");
    let pic = read_png(&d.join("t3.png"));
    assert_eq!((pic.width, pic.height), (32, 40));

    // Bad overrides are refused by their flag name.
    let se = cli_err(&common(&["--preset", s(&preset), "--alpha", "2"], &d.join("x.png")));
    assert!(se.contains("--alpha"), "{se}");
    let se = cli_err(&common(&["--preset", s(&preset), "--blend", "1,2"], &d.join("x.png")));
    assert!(se.contains("--blend") && se.contains("2 weights for 1 styles"), "{se}");
    // Without --preset, --style is still required.
    let out = cli(&Cli::stylize().content(&content).out(d.join("x.png")));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--style"));
    assert!(!d.join("x.png").exists());
}

#[test]
fn presets_list_shows_name_kind_validity_and_description() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "good.toml",
        "version = 1\nname = \"fine-look\"\ndescription = \"A fine look\"\nstyle = \"starry_256.png\"\n",
    );
    write(d, "tex.toml", "version = 1\ndescription = \"Bricks\"\nstyle = \"brick_256.png\"\n[texture]\nwidth = 64\n");
    write(d, "broken.toml", "version = 1\nstyle = \"starry_256.png\"\nlevels = [3, 7]\n");
    write(d, "notes.txt", "not a preset");
    let (stdout, _) = cli_ok(&Cli::command("presets").arg("list").arg(s(d)));
    println!("{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "header + 3 presets: {stdout}");
    let row =
        |name: &str| *lines.iter().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no row {name}: {stdout}"));
    let good = row("fine-look");
    assert!(good.contains("stylize") && good.contains("ok") && good.contains("A fine look"), "{good}");
    let tex = row("tex ");
    assert!(tex.contains("texture") && tex.contains("ok") && tex.contains("Bricks"), "{tex}");
    let broken = row("broken");
    assert!(broken.contains("INVALID") && broken.contains("line 3") && broken.contains("key 'levels'"), "{broken}");
    // An unreadable folder is an error.
    let se = cli_err(&Cli::command("presets").arg("list").arg(s(&d.join("nope"))));
    assert!(se.contains("nope"), "{se}");
}

#[test]
fn render_writes_every_texture_preset_encoding_each_style_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let presets = d.join("presets");
    std::fs::create_dir(&presets).unwrap();
    let tex = |name: &str, w: usize, seed: u64| {
        format!("version = 1\nname = \"{name}\"\nstyle = \"brick_256.png\"\nstyle_size = 128\nlevels = [2, 1]\n[texture]\nwidth = {w}\nheight = 32\nseed = {seed}\niterations = 1\n")
    };
    write(&presets, "a.toml", &tex("bricks-a", 48, 1));
    write(&presets, "b.toml", &tex("bricks-b", 40, 2));
    write(&presets, "look.toml", "version = 1\nstyle = \"starry_256.png\"\n");
    let out = d.join("textures");
    let w = relu3_weights();
    let (_, stderr) =
        cli_ok(&Cli::command("render").arg(s(&presets)).file("out-dir", &out).weights(&w).arg("--verbose"));
    println!("{stderr}");
    let a = read_png(&out.join("bricks-a.png"));
    let b = read_png(&out.join("bricks-b.png"));
    assert_eq!((a.width, a.height, b.width, b.height), (48, 32, 40, 32));
    assert!(!out.join("look.png").exists(), "a stylize preset was rendered");
    assert_eq!(stderr.matches("cache miss").count(), 1, "the shared style was encoded more than once: {stderr}");
    assert_eq!(stderr.matches("reused").count(), 1, "{stderr}");
    assert!(presets.join(CACHE_DIR_NAME).is_dir(), "the default cache is beside the presets");
    // The same as rendering one preset alone.
    let single = d.join("single.png");
    cli_ok(&Cli::texture().preset(presets.join("a.toml")).out(&single).weights(&w));
    assert_eq!(std::fs::read(&single).unwrap(), std::fs::read(out.join("bricks-a.png")).unwrap());
    // A second batch hits the cache.
    let (_, stderr) =
        cli_ok(&Cli::command("render").arg(s(&presets)).file("out-dir", &out).weights(&w).arg("--verbose"));
    assert_eq!(stderr.matches("cache hit").count(), 1, "{stderr}");
    assert!(!stderr.contains("cache miss"), "{stderr}");
    // An invalid preset stops the batch before anything is written.
    write(&presets, "c.toml", "version = 1\nstyle = \"brick_256.png\"\n[texture]\nseed = \"x\"\n");
    let out2 = d.join("textures2");
    let se = cli_err(&Cli::command("render").arg(s(&presets)).file("out-dir", &out2).weights(&w));
    assert!(se.contains("c.toml") && se.contains("line 4") && se.contains("texture.seed"), "{se}");
    assert!(!out2.exists());
}

// ---------------------------------------------------------------------------------------
// Style cache

fn stats_eq(a: &unistyle::EncodedStyle, b: &unistyle::EncodedStyle, levels: &[usize]) -> bool {
    levels.iter().all(|&l| a.stats(l) == b.stats(l))
}

#[test]
fn cache_miss_then_hit_gives_identical_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let cache = StyleCache::new(dir.path().join("cache"));
    let m = model();
    let img = image("style/starry_256.png");
    let t = std::time::Instant::now();
    let mut e1 = StyleEncoder::new(m, Some(cache.clone()));
    let miss = e1.encode(&img, Some(128), &[3, 2, 1]).unwrap();
    let t_miss = t.elapsed();
    assert_eq!(e1.reports()[0].outcome, CacheOutcome::Miss);
    assert_eq!(e1.encodings(), 1);
    let entry = e1.reports()[0].entry.clone().unwrap();
    assert!(entry.is_file() && entry.starts_with(cache.dir()));
    assert!(cache.dir().join("CACHEDIR.TAG").is_file());
    let t = std::time::Instant::now();
    let mut e2 = StyleEncoder::new(m, Some(cache.clone()));
    let hit = e2.encode(&img, Some(128), &[3, 2, 1]).unwrap();
    let t_hit = t.elapsed();
    assert_eq!(e2.reports()[0].outcome, CacheOutcome::Hit);
    assert_eq!(e2.encodings(), 0, "a hit must not run the encoder");
    assert_eq!(hit, miss, "cached statistics differ from the encoded ones");
    println!(
        "style 256 px at 128: encode + store {:.1} ms, cache hit {:.1} ms",
        t_miss.as_secs_f64() * 1e3,
        t_hit.as_secs_f64() * 1e3
    );
    // The same encoder reuses what it encoded; a subset of levels hits the same entry.
    e2.encode(&img, Some(128), &[1]).unwrap();
    assert_eq!(e2.reports()[1].outcome, CacheOutcome::Reused);
    let mut e3 = StyleEncoder::new(m, Some(cache.clone()));
    let sub = e3.encode(&img, Some(128), &[1]).unwrap();
    assert_eq!(e3.reports()[0].outcome, CacheOutcome::Hit);
    assert!(stats_eq(&sub, &miss, &[1]));
    // Without a cache the statistics are those of a plain encode, for the levels asked.
    let mut plain = StyleEncoder::new(m, None);
    let p = plain.encode(&img, Some(128), &[2, 1]).unwrap();
    assert_eq!(plain.reports()[0].outcome, CacheOutcome::Encoded);
    assert!(stats_eq(&p, &miss, &[2, 1]));
    assert_eq!(p.levels(), vec![1, 2]);
}

#[test]
fn corrupt_cache_entries_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cache = StyleCache::new(dir.path());
    let m = model();
    let img = image("style/brick_256.png");
    let fresh = StyleEncoder::new(m, Some(cache.clone())).encode(&img, Some(64), &[3, 2, 1]).unwrap();
    let key = StyleKey::new(m, &img, Some(64)).unwrap();
    let entry = cache.entry_path(&key);
    let good = std::fs::read(&entry).unwrap();
    let mut flipped = good.clone();
    let mid = good.len() / 2 + 17;
    flipped[mid] ^= 0x01;
    let damages: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() * 2 / 3].to_vec()),
        ("one bit flipped", flipped),
        ("empty", Vec::new()),
        ("garbage", b"not a cache entry at all".to_vec()),
        ("header only", good[..good.len().min(200)].to_vec()),
    ];
    for (what, bytes) in damages {
        std::fs::write(&entry, &bytes).unwrap();
        let mut enc = StyleEncoder::new(m, Some(cache.clone()));
        let s = enc.encode(&img, Some(64), &[3, 2, 1]).unwrap();
        match &enc.reports()[0].outcome {
            CacheOutcome::Rebuilt(why) => println!("{what}: rebuilt ({why})"),
            other => panic!("{what}: entry was not rebuilt: {other:?}"),
        }
        assert_eq!(enc.encodings(), 1, "{what}");
        assert_eq!(s, fresh, "{what}: statistics after rebuild differ");
        assert_ne!(std::fs::read(&entry).unwrap(), bytes, "{what}: entry not rewritten");
        let mut again = StyleEncoder::new(m, Some(cache.clone()));
        again.encode(&img, Some(64), &[3, 2, 1]).unwrap();
        assert_eq!(again.reports()[0].outcome, CacheOutcome::Hit, "{what}: rebuilt entry not used");
    }
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn stale_cache_entries_are_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let cache = StyleCache::new(dir.path());
    let m = model();
    let img = image("style/strokes_256.png");
    let at64 = StyleEncoder::new(m, Some(cache.clone())).encode(&img, Some(64), &[3, 2, 1]).unwrap();
    // Another style size: another entry, a miss.
    let mut enc = StyleEncoder::new(m, Some(cache.clone()));
    let at48 = enc.encode(&img, Some(48), &[3, 2, 1]).unwrap();
    assert_eq!(enc.reports()[0].outcome, CacheOutcome::Miss);
    assert_ne!(at48, at64);
    // An entry of another size renamed into place is recognised as stale, not trusted.
    let e64 = cache.entry_path(&StyleKey::new(m, &img, Some(64)).unwrap());
    let e48 = cache.entry_path(&StyleKey::new(m, &img, Some(48)).unwrap());
    std::fs::copy(&e64, &e48).unwrap();
    let mut enc = StyleEncoder::new(m, Some(cache.clone()));
    let s = enc.encode(&img, Some(48), &[3, 2, 1]).unwrap();
    match &enc.reports()[0].outcome {
        CacheOutcome::Rebuilt(why) => assert!(why.contains("stale") && why.contains("style size"), "{why}"),
        other => panic!("stale entry used: {other:?}"),
    }
    assert_eq!(s, at48);
    // Another model (other weights): a different key, never the first model's entry.
    let wdir = tempfile::tempdir().unwrap();
    let other_w = wdir.path().join("random.safetensors");
    write_random_weights(&other_w, &[1, 2, 3], 11);
    let other = Model::load(&other_w, &unistyle::Device::Cpu).unwrap();
    assert_ne!(other.content_hash(), m.content_hash());
    let mut enc = StyleEncoder::new(&other, Some(cache.clone()));
    let s = enc.encode(&img, Some(64), &[3, 2, 1]).unwrap();
    assert_eq!(enc.reports()[0].outcome, CacheOutcome::Miss);
    assert_eq!(enc.encodings(), 1);
    assert_ne!(s, at64);
    // ... and the first model's entry renamed to the other model's key is stale.
    let eo = cache.entry_path(&StyleKey::new(&other, &img, Some(64)).unwrap());
    std::fs::copy(&e64, &eo).unwrap();
    let mut enc = StyleEncoder::new(&other, Some(cache.clone()));
    enc.encode(&img, Some(64), &[3, 2, 1]).unwrap();
    match &enc.reports()[0].outcome {
        CacheOutcome::Rebuilt(why) => assert!(why.contains("model"), "{why}"),
        other => panic!("other model's entry used: {other:?}"),
    }
    // A changed image (same path, new content) misses.
    let copy = dir.path().join("style.png");
    std::fs::copy(&img, &copy).unwrap();
    StyleEncoder::new(m, Some(cache.clone())).encode(&copy, Some(64), &[1]).unwrap();
    std::fs::copy(image("style/brick_256.png"), &copy).unwrap();
    let mut enc = StyleEncoder::new(m, Some(cache.clone()));
    enc.encode(&copy, Some(64), &[1]).unwrap();
    assert_eq!(enc.reports()[0].outcome, CacheOutcome::Miss);
}

#[test]
fn cli_cache_beside_preset_env_dir_and_no_cache() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let w = relu3_weights();
    let content = image("content/tubingen_256.png");
    let preset = write(d, "p.toml", "version = 1\nstyle = \"starry_256.png\"\nstyle_size = 64\nlevels = [1]\n");
    let args = |out: &str| -> Cli {
        Cli::stylize()
            .preset(&preset)
            .content(&content)
            .flag("max-size", 64)
            .weights(&w)
            .arg("--verbose")
            .out(d.join(out))
    };
    let go = |a: Cli| cli_ok(&a).1;
    let first = go(args("1.png"));
    assert!(first.contains("cache miss"), "{first}");
    assert!(d.join(CACHE_DIR_NAME).is_dir(), "no cache beside the preset");
    let second = go(args("2.png"));
    assert!(second.contains("cache hit"), "{second}");
    assert_eq!(std::fs::read(d.join("1.png")).unwrap(), std::fs::read(d.join("2.png")).unwrap());
    // Corrupt every entry: the next run says so, rebuilds and gives the same image.
    for e in std::fs::read_dir(d.join(CACHE_DIR_NAME)).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "ustats") {
            std::fs::write(&p, b"\0\0\0\0garbage").unwrap();
        }
    }
    let third = go(args("3.png"));
    assert!(third.contains("rebuilt") && third.contains("corrupt"), "{third}");
    assert_eq!(std::fs::read(d.join("1.png")).unwrap(), std::fs::read(d.join("3.png")).unwrap());
    // --no-cache neither reads nor writes.
    let fourth = go(args("4.png").no_cache());
    assert!(fourth.contains("no cache"), "{fourth}");
    // --cache-dir and $UNISTYLE_CACHE_DIR put it elsewhere.
    assert!(go(args("5.png").file("cache-dir", d.join("elsewhere"))).contains("cache miss"));
    assert!(d.join("elsewhere").read_dir().unwrap().count() >= 1);
    let a = args("6.png");
    let out = a.command_line().env(STYLE_PATH_ENV, style_dir()).env(CACHE_ENV, d.join("from-env")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("from-env"));
    // Without a preset and without a cache folder, nothing is cached.
    let (_, se) = cli_ok(
        &Cli::stylize()
            .style(image("style/starry_256.png"))
            .flag("style-size", 64)
            .levels("1")
            .content(&content)
            .flag("max-size", 64)
            .weights(&w)
            .arg("--verbose")
            .out(d.join("7.png")),
    );
    assert!(se.contains("no cache"), "{se}");
}
