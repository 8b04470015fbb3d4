//! Bad and awkward input, table-driven, through every entry point.
//!
//! `bad_inputs_are_refused_everywhere`: one table of broken inputs (images, masks, weights,
//! presets, output paths, arguments, pixel buffers), each run through the CLI binary, the C
//! ABI (the cdylib loaded with libloading) and the library, where the input exists for that
//! entry point (the table says why where it does not). Every run must fail with a non-zero
//! status, a message naming the input and what is wrong, no panic, and — for the CLI — no
//! output file, no temporary file, and an existing output left as it was.
//!
//! `awkward_inputs_succeed`: a second table of valid but unusual inputs (1×1 and 1×N images,
//! 16-bit, float, gray, gray+alpha, palette, CMYK JPEG, EXIF-rotated JPEG, transparent pixels,
//! flat and tiny styles, degenerate masks) that must give a finite output of the right size.
//!
//! Both print their count tables (run with `--nocapture` to read them; with
//! `UNISTYLE_SHOW_MESSAGES=1` every message is printed too). Run as root, the permission
//! cases (mode 000 files, a mode 555 directory) are skipped and counted as such; running the
//! test binary as another user (`runuser -u nobody -- target/release/deps/bad_inputs-…`)
//! runs them.

mod common;

use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;
use std::time::Instant;

use common::abi;
use common::abi::*;
use common::gen::*;
use common::*;
use image::{DynamicImage, ImageFormat};
use unistyle::capi::*;
use unistyle::{image_io, Device, EncodedStyle, Mask, Model, Picture, Preset, Silent, Stylizer, Texture};

/// How one entry point takes a case.
enum Step<T> {
    Run(T),
    /// The input does not exist for this entry point (the reason is printed).
    Na(&'static str),
    /// The case cannot be set up here (e.g. permissions when running as root).
    Skip(&'static str),
}

impl<T> Step<T> {
    /// Runs the step with `run`, or says why not: the table cell, and the column it counts
    /// in (0 refused, 1 not applicable, 2 skipped).
    fn run(&self, run: impl FnOnce(&T)) -> (String, usize) {
        match self {
            Step::Run(x) => {
                run(x);
                ("refused".to_string(), 0)
            }
            Step::Na(why) => (format!("n/a ({why})"), 1),
            Step::Skip(why) => (format!("skipped ({why})"), 2),
        }
    }
}

type AbiCall = Box<dyn Fn() -> (c_int, String)>;
type LibCall = Box<dyn Fn() -> unistyle::Result<()>>;

struct Case {
    name: String,
    /// Substrings every message must contain (case-insensitive): the input and what is wrong.
    expect: Vec<String>,
    /// Replaces `expect` for the ABI / the library, where they name the input differently.
    expect_abi: Option<Vec<String>>,
    expect_lib: Option<Vec<String>>,
    /// CLI arguments; `{out}` stands for the output path.
    cli: Step<Vec<String>>,
    abi: Step<AbiCall>,
    lib: Step<LibCall>,
    /// The output path of the CLI run, for cases about the output itself.
    out: Option<PathBuf>,
}

impl Case {
    fn new(name: impl Into<String>, expect: &[&str]) -> Self {
        Case {
            name: name.into(),
            expect: expect.iter().map(|s| s.to_string()).collect(),
            expect_abi: None,
            expect_lib: None,
            cli: Step::Na("-"),
            abi: Step::Na("-"),
            lib: Step::Na("-"),
            out: None,
        }
    }
    fn cli(mut self, cli: Cli) -> Self {
        self.cli = Step::Run(cli.args());
        self
    }
    fn abi(mut self, f: impl Fn() -> (c_int, String) + 'static) -> Self {
        self.abi = Step::Run(Box::new(f));
        self
    }
    fn lib(mut self, f: impl Fn() -> unistyle::Result<()> + 'static) -> Self {
        self.lib = Step::Run(Box::new(f));
        self
    }
    fn no_cli(mut self, why: &'static str) -> Self {
        self.cli = Step::Na(why);
        self
    }
    fn no_abi(mut self, why: &'static str) -> Self {
        self.abi = Step::Na(why);
        self
    }
    fn no_lib(mut self, why: &'static str) -> Self {
        self.lib = Step::Na(why);
        self
    }
    fn abi_expects(mut self, e: &[&str]) -> Self {
        self.expect_abi = Some(e.iter().map(|s| s.to_string()).collect());
        self
    }
    fn lib_expects(mut self, e: &[&str]) -> Self {
        self.expect_lib = Some(e.iter().map(|s| s.to_string()).collect());
        self
    }
    fn out(mut self, p: PathBuf) -> Self {
        self.out = Some(p);
        self
    }
    /// Skips every entry point that would run the case (the set-up is impossible here).
    fn skip_all(mut self, why: &'static str) -> Self {
        fn skip<T>(s: &mut Step<T>, why: &'static str) {
            if matches!(s, Step::Run(_)) {
                *s = Step::Skip(why);
            }
        }
        skip(&mut self.cli, why);
        skip(&mut self.abi, why);
        skip(&mut self.lib, why);
        self
    }
}

/// Paths and handles every case may use; leaked so that the closures can be `'static`.
struct Fx {
    dir: PathBuf,
    weights: PathBuf,
    content: PathBuf,
    style: PathBuf,
    style2: PathBuf,
    /// A `unistyle_context *` and a `unistyle_style *` of the test, kept as addresses.
    ctx: usize,
    abi_style: usize,
}

fn st(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

fn name_of(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| st(p))
}

fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions.
        unsafe extern "C" {
            fn geteuid() -> u32;
        }
        unsafe { geteuid() == 0 }
    }
    #[cfg(not(unix))]
    false
}

/// A style encoded by the library for level 1–3, once.
fn lib_style() -> &'static EncodedStyle {
    static S: OnceLock<EncodedStyle> = OnceLock::new();
    S.get_or_init(|| {
        let p = Picture::from_dynamic(&pattern(24, 24));
        EncodedStyle::encode(model(), &p, &[1, 2, 3]).expect("style encodes")
    })
}

fn small_picture() -> Picture {
    Picture::from_dynamic(&pattern(12, 8))
}

#[derive(Clone, Copy)]
enum Role {
    Content,
    Style,
    Init,
    Mask,
}

impl Role {
    fn what(self) -> &'static str {
        match self {
            Role::Content => "content image",
            Role::Style => "style image",
            Role::Init => "init image",
            Role::Mask => "mask image",
        }
    }
}

/// What a call that creates a handle returned, with this thread's last error: a handle it set
/// although it failed fails the test; one it made (it should not have) is destroyed.
fn refused<H>(status: c_int, handle: *mut H, destroy: &unsafe extern "C" fn(*mut H)) -> (c_int, String) {
    assert!(handle.is_null() || status == UNISTYLE_OK, "handle set on failure");
    if status == UNISTYLE_OK {
        unsafe { destroy(handle) };
    }
    (status, last_error())
}

/// A broken image file in `role`: the CLI reads it in that role; the ABI decodes image files
/// only as styles (`unistyle_style_create_from_file`; content, masks and init images come as
/// pixel buffers); the library loads it as the role does.
fn image_case(fx: &'static Fx, name: &str, file: &Path, role: Role, why: &str) -> Case {
    let f = st(file);
    let (w, c, s, s2) = (st(&fx.weights), st(&fx.content), st(&fx.style), st(&fx.style2));
    let args = match role {
        Role::Content => Cli::stylize().content(&f).style(&s),
        Role::Style => Cli::stylize().content(&c).style(&f),
        Role::Init => Cli::texture().style(&s).init(&f).iterations(1),
        Role::Mask => Cli::stylize().content(&c).style(&s).style(&s2).mask(&f),
    };
    let args = args.out("{out}").weights(&w).levels("1").quiet();
    let mut case = Case::new(format!("{name} ({})", role.what()), &[&name_of(file), why]).cli(args);
    let path = file.to_path_buf();
    case = match role {
        Role::Mask => case.no_abi("masks reach the ABI as pixel buffers"),
        _ => {
            let p = path.clone();
            case.abi(move || {
                let mut out = null_mut();
                let status = unsafe { (api().style_from_file)(fx.ctx as *const _, cstr(&p).as_ptr(), 0, &mut out) };
                refused(status, out, &api().style_destroy)
            })
        }
    };
    match role {
        Role::Mask => case.lib(move || Mask::load(&path).map(drop)),
        r => case.lib(move || image_io::load_picture(&path, r.what()).map(drop)),
    }
}

/// A broken weights file: `--weights`, `unistyle_context_create`, `Model::load`.
fn weights_case(fx: &'static Fx, name: &str, file: &Path, why: &str) -> Case {
    let p = file.to_path_buf();
    let p2 = p.clone();
    Case::new(format!("weights: {name}"), &[&name_of(file), why])
        .cli(Cli::stylize().content(&fx.content).style(&fx.style).out("{out}").weights(file).quiet())
        .abi(move || {
            let mut ctx = null_mut();
            let status = unsafe { (api().context_create)(cstr(&p).as_ptr(), null(), &mut ctx) };
            refused(status, ctx, &api().context_destroy)
        })
        .lib(move || Model::load(&p2, &Device::Cpu).map(drop))
}

/// A broken preset: `stylize --preset`, `unistyle_preset_load`, `Preset::load` (then the
/// styles prepared, as the other two do).
fn preset_case(fx: &'static Fx, name: &str, file: &Path, why: &[&str]) -> Case {
    let p = file.to_path_buf();
    let p2 = p.clone();
    let mut expect = vec![name_of(file)];
    expect.extend(why.iter().map(|s| s.to_string()));
    let expect: Vec<&str> = expect.iter().map(|s| s.as_str()).collect();
    Case::new(format!("preset: {name}"), &expect)
        .cli(Cli::stylize().preset(file).content(&fx.content).out("{out}").weights(&fx.weights).no_cache().quiet())
        .abi(move || {
            let mut out = null_mut();
            let status = unsafe { (api().preset_load)(fx.ctx as *const _, cstr(&p).as_ptr(), &mut out) };
            refused(status, out, &api().preset_destroy)
        })
        .lib(move || {
            let preset = Preset::load(&p2)?;
            preset.settings.prepare(&mut unistyle::StyleEncoder::new(model(), None)).map(drop)
        })
}

/// An output path the CLI must refuse (before any work); the library's `save_picture` too.
fn output_case(fx: &'static Fx, name: &str, out: &Path, why: &[&str], lib: bool) -> Case {
    let mut expect = vec![];
    expect.extend(why.iter().copied());
    let o = out.to_path_buf();
    let case = Case::new(format!("output: {name}"), &expect)
        .cli(Cli::stylize().content(&fx.content).style(&fx.style).out("{out}").weights(&fx.weights).levels("1").quiet())
        .no_abi("the ABI writes into the host's buffer, never to a file")
        .out(out.to_path_buf());
    if lib {
        case.lib(move || image_io::save_picture(&small_picture(), &o))
    } else {
        case.no_lib("the library writes where it is told; guarding the inputs is the CLI's job")
    }
}

/// Stylizes through the ABI with the fixture's style at level 1, `edit` applied to the
/// options; asserts the output buffer is untouched when the call fails.
fn abi_stylize(fx: &Fx, input: &UnistyleImage, edit: impl Fn(&mut UnistyleStylizeOptions)) -> (c_int, String) {
    let styles = [fx.abi_style as *const UnistyleStyle];
    let mut o = stylize_opts(&styles, 1.0, &[1]);
    edit(&mut o);
    let out = Buf::new(input.width.min(64), input.height.min(64), 3, UNISTYLE_U8, 0, 0xAB);
    let mut od = out.desc;
    od.width = input.width;
    od.height = input.height;
    let status = unsafe { (api().stylize)(fx.ctx as *const _, input, &o, &od) };
    let msg = last_error();
    if status != UNISTYLE_OK {
        assert!(out.all(0xAB), "failed unistyle_stylize wrote its output: {msg}");
    }
    (status, msg)
}

fn abi_texture(fx: &Fx, output: &UnistyleImage, edit: impl Fn(&mut UnistyleTextureOptions)) -> (c_int, String) {
    let styles = [fx.abi_style as *const UnistyleStyle];
    let mut t = texture_opts(&styles);
    t.iterations = 1;
    static L1: [u32; 1] = [1];
    t.level_count = 1;
    t.levels = L1.as_ptr();
    edit(&mut t);
    let status = unsafe { (api().texture)(fx.ctx as *const _, &t, output) };
    (status, last_error())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write test file");
    p
}

fn preset_text(dir: &Path, name: &str, text: &str) -> PathBuf {
    write(dir, name, text.as_bytes())
}

/// Files of `dir` (names, sorted); empty when it cannot be read.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn check_message(case: &str, entry: &str, msg: &str, expect: &[String]) {
    if std::env::var_os("UNISTYLE_SHOW_MESSAGES").is_some() {
        println!("     {entry:>7}: {}", msg.trim());
    }
    assert!(!msg.trim().is_empty(), "{case} [{entry}]: empty message");
    for bad in ["panicked", "RUST_BACKTRACE", "internal error"] {
        assert!(!msg.contains(bad), "{case} [{entry}]: '{bad}' in message: {msg}");
    }
    let lower = msg.to_lowercase();
    for e in expect {
        assert!(lower.contains(&e.to_lowercase()), "{case} [{entry}]: message lacks '{e}': {msg}");
    }
}

fn run_cli(fx: &Fx, i: usize, case: &Case, args: &[String]) {
    let dir = fx.dir.join(format!("out-{i}"));
    std::fs::create_dir_all(&dir).unwrap();
    // Every other case starts with an existing output that must survive the failed run.
    let (out, watch) = match &case.out {
        Some(o) => (o.clone(), o.parent().filter(|p| p.starts_with(&fx.dir)).map(Path::to_path_buf)),
        None => {
            let o = dir.join("out.png");
            if i % 2 == 1 {
                std::fs::write(&o, b"previous result").unwrap();
            }
            (o, Some(dir.clone()))
        }
    };
    let before = std::fs::read(&out).ok();
    let listed = watch.as_deref().map(listing);
    let args: Vec<String> = args.iter().map(|a| a.replace("{out}", &st(&out))).collect();
    let res = bin()
        .args(&args)
        .env_remove("UNISTYLE_WEIGHTS")
        .env_remove("UNISTYLE_CACHE_DIR")
        .env("UNISTYLE_STYLE_PATH", &fx.dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run unistyle");
    let stderr = String::from_utf8_lossy(&res.stderr);
    let name = &case.name;
    assert!(!res.status.success(), "{name} [CLI]: exit status 0; stderr: {stderr}");
    assert_ne!(res.status.code(), Some(101), "{name} [CLI]: exit code 101 (panic): {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{name} [CLI]: expected one line on stderr, got: {stderr}");
    check_message(name, "CLI", lines[0], &case.expect);
    assert_eq!(std::fs::read(&out).ok(), before, "{name} [CLI]: the output file was created or changed");
    if let (Some(w), Some(l)) = (watch, listed) {
        assert_eq!(listing(&w), l, "{name} [CLI]: files appeared or vanished in the output folder");
    }
}

fn run_abi(case: &Case, call: &AbiCall) {
    let (status, msg) = call();
    let name = &case.name;
    assert_ne!(status, UNISTYLE_OK, "{name} [ABI]: succeeded");
    assert_ne!(status, UNISTYLE_ERR_INTERNAL, "{name} [ABI]: internal error (a caught panic?): {msg}");
    check_message(name, "ABI", &msg, case.expect_abi.as_ref().unwrap_or(&case.expect));
}

fn run_lib(case: &Case, call: &LibCall) {
    let name = &case.name;
    let r = catch_unwind(AssertUnwindSafe(call));
    let e = match r {
        Err(_) => panic!("{name} [library]: panicked"),
        Ok(Ok(())) => panic!("{name} [library]: succeeded"),
        Ok(Err(e)) => e,
    };
    check_message(name, "library", &e.to_string(), case.expect_lib.as_ref().unwrap_or(&case.expect));
}

#[test]
fn bad_inputs_are_refused_everywhere() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_path_buf();
    let root = running_as_root();

    // Good inputs, small.
    let content = write(&d, "content.png", &encode(&pattern(24, 16), ImageFormat::Png));
    let style = write(&d, "style.png", &encode(&pattern(16, 16), ImageFormat::Png));
    let style2 =
        write(&d, "style2.png", &encode(&rgb8(16, 16, |x, y| [(x * 16) as u8, 90, (y * 16) as u8]), ImageFormat::Png));
    let mask =
        write(&d, "mask.png", &encode(&rgb8(24, 16, |x, _| if x < 12 { [255; 3] } else { [0; 3] }), ImageFormat::Png));
    let weights = relu3_weights();
    let ctx = context();
    let abi_style = abi::style(&ctx, &style, 0);
    let fx: &'static Fx = Box::leak(Box::new(Fx {
        dir: d.clone(),
        weights: weights.clone(),
        content: content.clone(),
        style: style.clone(),
        style2: style2.clone(),
        ctx: ctx.0 as usize,
        abi_style: abi_style.0 as usize,
    }));

    // Broken images.
    let real_png = encode(&pattern(64, 64), ImageFormat::Png);
    let real_jpg = encode(&pattern(64, 64), ImageFormat::Jpeg);
    let zero = write(&d, "zero.png", b"");
    let trunc_png = write(&d, "trunc.png", &real_png[..real_png.len() / 2]);
    let trunc_jpg = write(&d, "trunc.jpg", &real_jpg[..real_jpg.len() * 2 / 3]);
    let junk_png = write(&d, "junk.png", b"\x89PNG\r\n\x1a\n but then nothing sensible follows");
    let crc_png = write(&d, "badcrc.png", &png_bad_crc());
    let depth_png = write(&d, "depth7.png", &png_bad_depth());
    let junk_jpg = write(&d, "junk.jpg", b"\xFF\xD8\xFF\xE0 garbage after the JPEG start marker");
    let text_png = write(&d, "text.png", b"just some text, not an image\n");
    let huge_png = write(&d, "huge.png", &png_claiming(100_000, 100_000));
    let bomb_png = write(&d, "bomb.png", &png_claiming(30_000, 30_000));
    let zero_dim = write(&d, "zerodim.png", &png_claiming(0, 16));
    let huge_jpg = write(&d, "huge.jpg", &jpeg_claiming(60_000, 60_000));
    let wide_png = write(&d, "wide.png", &png_claiming(40_000, 16));
    let a_dir = d.join("adir.png");
    std::fs::create_dir(&a_dir).unwrap();
    let missing = d.join("nope.png");
    let locked = write(&d, "locked.png", &real_png);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let nan_tif = {
        let mut img = image::Rgb32FImage::from_pixel(8, 8, image::Rgb([0.5, 0.5, 0.5]));
        img.put_pixel(3, 2, image::Rgb([0.5, f32::NAN, 0.5]));
        write(&d, "nan.tif", &encode(&DynamicImage::ImageRgb32F(img), ImageFormat::Tiff))
    };
    let zero_mask = write(&d, "zero_mask.png", b"");
    let junk_mask = write(&d, "junk_mask.png", b"\x89PNG\r\n\x1a\n no chunks here");
    let dir_mask = d.join("mask_dir.png");
    std::fs::create_dir(&dir_mask).unwrap();

    let mut cases: Vec<Case> = Vec::new();
    for (name, file, role, why) in [
        ("0-byte PNG", &zero, Role::Content, "empty"),
        ("truncated PNG", &trunc_png, Role::Content, "truncated"),
        ("truncated JPEG", &trunc_jpg, Role::Style, "truncated"),
        ("PNG signature, then junk", &junk_png, Role::Style, "corrupt"),
        ("PNG header with a bad checksum", &crc_png, Role::Content, "corrupt"),
        ("PNG header with bit depth 7", &depth_png, Role::Content, "corrupt"),
        ("JPEG start marker, then junk", &junk_jpg, Role::Content, "corrupt"),
        ("text file named .png", &text_png, Role::Content, "not a recognised image format"),
        ("PNG header claiming 100000×100000", &huge_png, Role::Content, "32768 pixels per side"),
        ("PNG header claiming 30000×30000 (bomb)", &bomb_png, Role::Content, "134217728 pixels"),
        ("PNG header claiming 0×16", &zero_dim, Role::Content, "invalid image dimensions"),
        ("JPEG header claiming 60000×60000", &huge_jpg, Role::Style, "32768 pixels per side"),
        ("style 40000 px wide", &wide_png, Role::Style, "32768 pixels per side"),
        ("directory instead of a file", &a_dir, Role::Content, "directory"),
        ("missing file", &missing, Role::Style, "no such file"),
        ("float TIFF holding NaN", &nan_tif, Role::Content, "NaN"),
        ("0-byte init image", &zero, Role::Init, "empty"),
        ("0-byte mask", &zero_mask, Role::Mask, "empty"),
        ("corrupt mask", &junk_mask, Role::Mask, "corrupt"),
        ("directory as mask", &dir_mask, Role::Mask, "directory"),
        ("missing mask", &missing, Role::Mask, "no such file"),
    ] {
        cases.push(image_case(fx, name, file, role, why));
    }
    let unreadable = image_case(fx, "unreadable file (mode 000)", &locked, Role::Content, "permission denied");
    cases.push(if root {
        unreadable.skip_all("running as root: mode 000 does not stop root from reading")
    } else {
        unreadable
    });

    // Broken weights, made from the real file.
    use safetensors::Dtype;
    let real = std::fs::read(&weights).unwrap();
    let w_trunc = write(&d, "trunc.safetensors", &real[..real.len() * 3 / 5]);
    let w_f64 = d.join("f64.safetensors");
    edit_weights(
        &weights,
        &w_f64,
        |n, dt, s, b| {
            if n == "encoder.conv1_1.bias" {
                let v: Vec<u8> = b
                    .chunks_exact(4)
                    .flat_map(|c| (f32::from_le_bytes(c.try_into().unwrap()) as f64).to_le_bytes())
                    .collect();
                Some((Dtype::F64, s.to_vec(), v))
            } else {
                keep(n, dt, s, b)
            }
        },
        vec![],
        |_| {},
    );
    let w_shape = d.join("shape.safetensors");
    edit_weights(
        &weights,
        &w_shape,
        |n, dt, s, b| {
            if n == "decoder2.conv1_1.weight" {
                Some((dt, vec![s[0], s[1] * s[2] * s[3]], b.to_vec()))
            } else {
                keep(n, dt, s, b)
            }
        },
        vec![],
        |_| {},
    );
    let w_missing = d.join("missing.safetensors");
    edit_weights(
        &weights,
        &w_missing,
        |n, dt, s, b| if n == "decoder1.conv1_1.bias" { None } else { keep(n, dt, s, b) },
        vec![],
        |_| {},
    );
    let w_extra = d.join("extra.safetensors");
    edit_weights(
        &weights,
        &w_extra,
        keep,
        vec![("encoder.conv9_9.weight".into(), Dtype::F32, vec![2], vec![0; 8])],
        |_| {},
    );
    let w_nan = d.join("nan.safetensors");
    edit_weights(
        &weights,
        &w_nan,
        |n, dt, s, b| {
            if n == "decoder1.conv1_1.bias" {
                let mut b = b.to_vec();
                b[..4].copy_from_slice(&f32::NAN.to_le_bytes());
                Some((dt, s.to_vec(), b))
            } else {
                keep(n, dt, s, b)
            }
        },
        vec![],
        |_| {},
    );
    let w_format = d.join("format.safetensors");
    edit_weights(&weights, &w_format, keep, vec![], |m| {
        m.insert("format".into(), "some-other-net/7".into());
    });
    let w_text = write(&d, "text.safetensors", b"{\"this\": \"is json, not safetensors\"}\n");
    let w_empty = write(&d, "empty.safetensors", b"");
    let mut hdr = u64::MAX.to_le_bytes().to_vec();
    hdr.extend(b"{}");
    let w_hdr = write(&d, "header.safetensors", &hdr);
    let w_none = d.join("nope.safetensors");
    let w_dir = d.join("no-weights-here");
    std::fs::create_dir(&w_dir).unwrap();
    let w_locked = write(&d, "locked.safetensors", &real);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&w_locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    for (name, file, why) in [
        ("truncated copy", &w_trunc, "truncated"),
        ("a tensor in f64", &w_f64, "F64"),
        ("a tensor of the wrong shape", &w_shape, "decoder2.conv1_1.weight"),
        ("a tensor missing", &w_missing, "missing tensor 'decoder1.conv1_1.bias'"),
        ("an extra tensor", &w_extra, "unexpected tensor 'encoder.conv9_9.weight'"),
        ("NaN in a tensor", &w_nan, "NaN"),
        ("another format", &w_format, "some-other-net/7"),
        ("a text file", &w_text, "not a valid safetensors file"),
        ("an empty file", &w_empty, "empty"),
        ("a header length of 2^64-1", &w_hdr, "not a valid safetensors file"),
        ("no such file", &w_none, "no such file"),
        ("a folder without weights", &w_dir, "safetensors file"),
    ] {
        cases.push(weights_case(fx, name, file, why));
    }
    let c = weights_case(fx, "unreadable file (mode 000)", &w_locked, "permission denied");
    cases.push(if root { c.skip_all("running as root: mode 000 does not stop root from reading") } else { c });

    // Preset schema violations (the style image is found beside the preset).
    let pd = d.join("presets");
    std::fs::create_dir(&pd).unwrap();
    std::fs::copy(&style, pd.join("s.png")).unwrap();
    std::fs::write(pd.join("broken.png"), b"\x89PNG\r\n\x1a\n broken").unwrap();
    let ok = "version = 1\nstyle = \"s.png\"\n";
    for (name, file, text, why) in [
        ("invalid TOML", "syntax.toml", "version = 1\nstyle = \"s.png\nalpha = \n", &["toml syntax"][..]),
        ("empty file", "empty.toml", "", &["version", "missing"][..]),
        ("no version", "nover.toml", "style = \"s.png\"\n", &["version", "missing"][..]),
        (
            "version 2",
            "v2.toml",
            "version = 2\nstyle = \"s.png\"\n",
            &["line 1", "version", "unsupported schema version 2"][..],
        ),
        ("version as a string", "vstr.toml", "version = \"1\"\nstyle = \"s.png\"\n", &["version", "integer"][..]),
        ("unknown key", "unknown.toml", &format!("{ok}colour = true\n"), &["line 3", "colour", "unknown key"][..]),
        ("unknown texture key", "sede.toml", &format!("{ok}[texture]\nsede = 4\n"), &["line 4", "sede"][..]),
        ("alpha of the wrong type", "type.toml", &format!("{ok}alpha = \"high\"\n"), &["line 3", "alpha"][..]),
        ("alpha out of range", "range.toml", &format!("{ok}alpha = 1.5\n"), &["line 3", "alpha", "1.5"][..]),
        ("no style", "nostyle.toml", "version = 1\nalpha = 0.5\n", &["style", "missing"][..]),
        (
            "style file not found",
            "lost.toml",
            "version = 1\nstyle = \"nowhere.png\"\n",
            &["line 2", "style", "nowhere.png"][..],
        ),
        ("level 7", "levels.toml", &format!("{ok}levels = [3, 7]\n"), &["levels", "7"][..]),
        ("level listed twice", "twice.toml", &format!("{ok}levels = [2, 2]\n"), &["levels", "twice"][..]),
        (
            "blend weights for 2 styles, 1 given",
            "blend.toml",
            &format!("{ok}blend = [0.5, 0.5]\n"),
            &["blend", "2 weights for 1 styles"][..],
        ),
        ("texture width 0", "texw.toml", &format!("{ok}[texture]\nwidth = 0\n"), &["texture.width", "got 0"][..]),
        ("feather without a mask", "feather.toml", &format!("{ok}feather = 3\n"), &["feather", "mask"][..]),
        ("name that is no file name", "slash.toml", &format!("{ok}name = \"a/b\"\n"), &["name", "a/b"][..]),
        (
            "style image corrupt",
            "corrupt.toml",
            "version = 1\nstyle = \"broken.png\"\n",
            &["broken.png", "corrupt"][..],
        ),
    ] {
        let p = preset_text(&pd, file, text);
        let mut c = preset_case(fx, name, &p, why);
        if file == "corrupt.toml" {
            // The preset itself is valid; the style image it names is not.
            c.expect = why.iter().map(|s| s.to_string()).collect();
        }
        cases.push(c);
    }
    let latin1 = write(&pd, "latin1.toml", b"version = 1\nstyle = \"s.png\"\nname = \"caf\xe9\"\n");
    cases.push(preset_case(fx, "not UTF-8", &latin1, &["utf-8"]));
    let pdir = pd.join("dir.toml");
    std::fs::create_dir(&pdir).unwrap();
    cases.push(preset_case(fx, "a directory", &pdir, &["directory"]));
    cases.push(preset_case(fx, "no such file", &pd.join("nope.toml"), &["no such file"]));

    // Output paths.
    cases.push(output_case(
        fx,
        "in a missing directory",
        &d.join("no_dir/out.png"),
        &["no_dir", "does not exist"],
        true,
    ));
    let ro = d.join("read-only");
    std::fs::create_dir(&ro).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let c = output_case(
        fx,
        "in a read-only directory (mode 555)",
        &ro.join("out.png"),
        &["read-only", "permission denied"],
        true,
    );
    cases.push(if root { c.skip_all("running as root: mode 555 does not stop root from writing") } else { c });
    if cfg!(target_os = "linux") {
        // /proc refuses new files even to root: a read-only directory wherever this runs.
        cases.push(output_case(
            fx,
            "in a directory no one can write (/proc)",
            Path::new("/proc/unistyle-out.png"),
            &["/proc", "cannot create a file"],
            true,
        ));
    }
    let out_dir = d.join("out_is_dir.png");
    std::fs::create_dir(&out_dir).unwrap();
    cases.push(output_case(fx, "an existing directory", &out_dir, &["out_is_dir.png", "directory"], true));
    cases.push(output_case(fx, "unknown extension", &d.join("out.xyz"), &["out.xyz", "extension"], true));
    let content_copy = d.join("content_copy.png");
    std::fs::copy(&content, &content_copy).unwrap();
    let mut c = output_case(
        fx,
        "the content image itself",
        &content_copy,
        &["--out", "content_copy.png", "refusing to overwrite"],
        false,
    );
    c.cli =
        Step::Run(Cli::stylize().content(&content_copy).style(&style).out("{out}").weights(&weights).quiet().args());
    cases.push(c);
    cases.push(output_case(
        fx,
        "the style image itself",
        &style2,
        &["--out", "style2.png", "refusing to overwrite"],
        false,
    ));
    if let Some(Step::Run(args)) = cases.last_mut().map(|c| &mut c.cli) {
        args[4] = st(&style2);
    }

    // Arguments, through each entry point's own way of passing them.
    let (w, c, s, s2, m) = (st(&weights), st(&content), st(&style), st(&style2), st(&mask));
    let stylize = |extra: &[&str]| -> Vec<String> {
        Cli::stylize().content(&c).style(&s).out("{out}").weights(&w).quiet().args_from(extra).args()
    };
    let texture = |extra: &[&str]| -> Vec<String> {
        Cli::texture().style(&s).out("{out}").weights(&w).levels("1").quiet().args_from(extra).args()
    };
    let arg = |name: &str, expect: &[&str], cli: Vec<String>| {
        let mut case = Case::new(format!("argument: {name}"), expect);
        case.cli = Step::Run(cli);
        case
    };
    let content_buf = || Buf::from_picture(&small_picture(), 3, UNISTYLE_U8, 0);
    let builder = || Stylizer::builder(model()).style(lib_style());
    let run = |b: unistyle::StylizerBuilder<'static>| b.build()?.run(&small_picture(), &mut Silent).map(drop);
    let two_styles = || [fx.abi_style as *const UnistyleStyle, fx.abi_style as *const UnistyleStyle];
    let white = || Mask::new(4, 4, vec![1.0; 16]).unwrap();
    static L4: [u32; 2] = [4, 1];
    static L9: [u32; 2] = [3, 9];
    static NEG: [f32; 2] = [-1.0, 2.0];
    cases.extend([
        arg("alpha 1.5", &["alpha", "1.5"], stylize(&["--alpha", "1.5"]))
            .abi(move || abi_stylize(fx, &content_buf().desc, |o| o.alpha = 1.5))
            .lib(move || run(builder().alpha(1.5))),
        arg("alpha NaN", &["alpha", "nan"], stylize(&["--alpha", "NaN"]))
            .abi(move || abi_stylize(fx, &content_buf().desc, |o| o.alpha = f32::NAN))
            .lib(move || run(builder().alpha(f64::NAN))),
        arg("level 4 (not in the weights)", &["level 4", "1,2,3"], stylize(&["--levels", "4,1"]))
            .abi(move || {
                abi_stylize(fx, &content_buf().desc, |o| {
                    o.level_count = 2;
                    o.levels = L4.as_ptr();
                })
            })
            .lib(move || run(builder().levels([4, 1]))),
        arg("level 9", &["level", "9"], stylize(&["--levels", "3,9"]))
            .abi(move || {
                abi_stylize(fx, &content_buf().desc, |o| {
                    o.level_count = 2;
                    o.levels = L9.as_ptr();
                })
            })
            .lib(move || run(builder().levels([3, 9]))),
        arg("blend: 2 weights for 1 style", &["blend", "2 weights for 1 styles"], stylize(&["--blend", "0.2,0.8"]))
            .no_abi("the ABI reads exactly style_count weights")
            .lib(move || run(Stylizer::builder(model()).place(&[lib_style()], Some(&[0.2, 0.8]), vec![])?)),
        arg("blend: a negative weight", &["blend", "-1"], stylize(&["--style", &s2, "--blend=-1,2"]))
            .abi(move || {
                let styles = two_styles();
                abi_stylize(fx, &content_buf().desc, |o| {
                    o.style_count = 2;
                    o.styles = styles.as_ptr();
                    o.weights = NEG.as_ptr();
                })
            })
            .abi_expects(&["weights", "-1"])
            .lib(move || {
                run(Stylizer::builder(model()).place(&[lib_style(), lib_style()], Some(&[-1.0, 2.0]), vec![])?)
            }),
        arg(
            "3 masks for 2 styles",
            &["mask", "got 3"],
            stylize(&["--style", &s2, "--mask", &m, "--mask", &m, "--mask", &m]),
        )
        .abi(move || {
            let styles = two_styles();
            let mb = Buf::new(12, 8, 1, UNISTYLE_U8, 0, 255);
            let masks = [mb.desc, mb.desc, mb.desc];
            abi_stylize(fx, &content_buf().desc, |o| {
                o.style_count = 2;
                o.styles = styles.as_ptr();
                o.mask_count = 3;
                o.masks = masks.as_ptr();
            })
        })
        .lib(move || {
            run(Stylizer::builder(model()).place(&[lib_style(), lib_style()], None, vec![white(), white(), white()])?)
        }),
        arg("feather -1", &["feather", "-1"], stylize(&["--style", &s2, "--mask", &m, "--feather=-1"]))
            .abi(move || {
                let styles = two_styles();
                let mb = Buf::new(12, 8, 1, UNISTYLE_U8, 0, 255);
                abi_stylize(fx, &content_buf().desc, |o| {
                    o.style_count = 2;
                    o.styles = styles.as_ptr();
                    o.mask_count = 1;
                    o.masks = &mb.desc;
                    o.feather = -1.0;
                })
            })
            .lib(move || run(builder().region(white(), lib_style()).feather(-1.0))),
        arg("texture width 0", &["width", "got 0"], texture(&["--width", "0", "--height", "16"]))
            .abi(move || {
                let mut out = Buf::new(4, 4, 3, UNISTYLE_U8, 0, 0);
                out.desc.width = 0;
                out.desc.height = 16;
                abi_texture(fx, &out.desc, |_| {})
            })
            .abi_expects(&["output", "0×16"])
            .lib(move || Texture::builder(model()).style(lib_style()).size(0, 16).build().map(drop))
            .lib_expects(&["texture.width", "got 0"]),
        arg(
            "texture 20000×20000 (over the pixel limit)",
            &["20000×20000", "134217728"],
            texture(&["--width", "20000", "--height", "20000"]),
        )
        .abi(move || {
            // A descriptor claiming 20000×20000 over a 4×4 buffer: refused before any pixel is touched.
            let mut out = Buf::new(4, 4, 3, UNISTYLE_U8, 0, 0x77);
            out.desc.width = 20000;
            out.desc.height = 20000;
            out.desc.stride = 60000;
            let r = abi_texture(fx, &out.desc, |_| {});
            assert!(out.all(0x77));
            r
        })
        .abi_expects(&["output", "20000×20000", "134217728"])
        .lib(move || Texture::builder(model()).style(lib_style()).size(20000, 20000).build().map(drop)),
        arg(
            "texture iterations 0",
            &["iterations", "got 0"],
            texture(&["--iterations", "0", "--width", "8", "--height", "8"]),
        )
        .abi(move || abi_texture(fx, &Buf::new(8, 8, 3, UNISTYLE_U8, 0, 0).desc, |t| t.iterations = 0))
        .lib(move || Texture::builder(model()).style(lib_style()).size(8, 8).iterations(0).build().map(drop)),
        arg("--max-size 0", &["--max-size"], stylize(&["--max-size", "0"]))
            .no_abi("no such option: a host scales its pixels itself (a style's max_size 0 means 'as is')")
            .no_lib("Picture::fit_within(0) means 'as is', by design"),
        arg("--tile-size 8", &["tile", "at least 16", "got 8"], stylize(&["--tile-size", "8"]))
            .no_abi("the ABI has no tile option")
            .lib(move || run(builder().tile_size(8))),
    ]);

    // Pixel buffers: the C ABI's input; the library gets the same pixels as a Picture.
    let nan_picture = || {
        let mut p = small_picture();
        p.rgb[p.width * p.height + 7 * p.width + 5] = f32::NAN;
        p
    };
    let c = Case::new("buffer: NaN in f32 content", &["nan"])
        .no_cli("the CLI reads files (see the float TIFF case)")
        .abi(move || {
            let mut b = Buf::from_picture(&small_picture(), 3, UNISTYLE_F32, 0);
            b.set(5, 7, 1, f32::NAN);
            abi_stylize(fx, &b.desc, |_| {})
        })
        .lib(move || Stylizer::builder(model()).style(lib_style()).build()?.run(&nan_picture(), &mut Silent).map(drop))
        .abi_expects(&["input", "(5, 7)", "NaN"])
        .lib_expects(&["content image", "(5, 7)", "NaN"]);
    cases.push(c);
    cases.push(
        Case::new("buffer: +Inf in f32 style", &["style image", "inf"])
            .no_cli("the CLI reads files")
            .abi(move || {
                let mut b = Buf::from_picture(&small_picture(), 4, UNISTYLE_F32, 0);
                b.set(2, 3, 0, f32::INFINITY);
                let mut out = null_mut();
                let status = unsafe { (api().style_from_image)(fx.ctx as *const _, &b.desc, 0, &mut out) };
                assert!(out.is_null());
                (status, last_error())
            })
            .lib(move || {
                let mut p = small_picture();
                p.rgb[3 * p.width + 2] = f32::INFINITY;
                EncodedStyle::encode(model(), &p, &[1]).map(drop)
            }),
    );
    cases.push(
        Case::new("buffer: -Inf in f32 mask", &["masks[0]", "-inf"])
            .no_cli("the CLI reads files")
            .abi(move || {
                let styles = [fx.abi_style as *const UnistyleStyle, fx.abi_style as *const UnistyleStyle];
                let mut m = Buf::new(12, 8, 1, UNISTYLE_F32, 0, 0);
                m.set(1, 1, 0, f32::NEG_INFINITY);
                abi_stylize(fx, &content_buf().desc, |o| {
                    o.style_count = 2;
                    o.styles = styles.as_ptr();
                    o.mask_count = 1;
                    o.masks = &m.desc;
                })
            })
            .no_lib("Mask::new clamps to 0..1 and reads NaN as outside, by design"),
    );
    cases.push(
        Case::new("buffer: NaN in f32 init image", &["init", "nan"])
            .no_cli("the CLI reads files")
            .abi(move || {
                let mut init = Buf::from_picture(&small_picture(), 3, UNISTYLE_F32, 0);
                init.set(0, 0, 2, f32::NAN);
                let out = Buf::new(12, 8, 3, UNISTYLE_U8, 0, 0);
                abi_texture(fx, &out.desc, |t| t.init = &init.desc)
            })
            .lib(move || Texture::builder(model()).style(lib_style()).init(nan_picture()).build().map(drop)),
    );
    cases.push(
        Case::new("buffer: 40000 px wide", &["40000×1", "32768"])
            .no_cli("the CLI reads files (see the 40000 px style)")
            .abi(move || {
                let mut b = Buf::new(4, 1, 3, UNISTYLE_U8, 0, 0);
                b.desc.width = 40000;
                b.desc.stride = 120000;
                abi_stylize(fx, &b.desc, |_| {})
            })
            .lib(move || {
                let p = Picture::from_planar(40000, 1, vec![0.5; 120000])?;
                Stylizer::builder(model()).style(lib_style()).build()?.run(&p, &mut Silent).map(drop)
            })
            .abi_expects(&["input", "40000", "32768"])
            .lib_expects(&["content image", "40000×1", "32768"]),
    );
    cases.push(
        Case::new("buffer: 20000×20000 (over the pixel limit)", &["input", "20000×20000", "134217728"])
            .no_cli("the CLI reads files (see the 30000×30000 PNG)")
            .abi(move || {
                // Claims 400 megapixels over a 4×4 buffer: must be refused before any read.
                let mut b = Buf::new(4, 4, 3, UNISTYLE_U8, 0, 0);
                b.desc.width = 20000;
                b.desc.height = 20000;
                b.desc.stride = 60000;
                abi_stylize(fx, &b.desc, |_| {})
            })
            .no_lib("a Picture that size is 4.8 GB of samples; the check is the one the 40000 px case reaches"),
    );
    cases.push(
        Case::new("picture whose planes do not match its size", &["content image", "do not make a 12×8 picture"])
            .no_cli("the CLI makes its pictures from files")
            .no_abi("a descriptor's size is its buffer's (capi.rs covers bad strides)")
            .lib(move || {
                let mut p = small_picture();
                p.rgb.truncate(50);
                Stylizer::builder(model()).style(lib_style()).build()?.run(&p, &mut Silent).map(drop)
            }),
    );

    // Run every case through every entry point.
    // Per entry point: cases refused, not applicable, skipped.
    let mut tally = [[0usize; 3]; 3];
    let mut rows = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let t = Instant::now();
        let mut cells = Vec::new();
        for (k, entry) in ["CLI", "ABI", "lib"].iter().enumerate() {
            let (cell, column) = match k {
                0 => case.cli.run(|args| run_cli(fx, i, case, args)),
                1 => case.abi.run(|call| run_abi(case, call)),
                _ => case.lib.run(|call| run_lib(case, call)),
            };
            tally[k][column] += 1;
            cells.push(format!("{entry}: {cell}"));
        }
        // The bomb must be refused from its header: quickly, without allocating the image.
        if case.name.contains("bomb") {
            assert!(t.elapsed().as_secs_f64() < 5.0, "{}: took {:.1} s", case.name, t.elapsed().as_secs_f64());
        }
        rows.push(format!("{:>3}. {:<58} {}", i + 1, case.name, cells.join(" | ")));
    }
    // Each library-only bomb check, timed on its own: header only, no allocation.
    let t = Instant::now();
    let e = image_io::load_picture(&bomb_png, "content image").unwrap_err().to_string();
    assert!(t.elapsed().as_secs_f64() < 1.0 && e.contains("bomb.png") && e.contains("134217728"), "{e}");
    let small_alloc = image_io::DecodeLimits { max_alloc: 1 << 20, ..Default::default() };
    let big =
        write(&d, "big.png", &encode(&DynamicImage::ImageRgba8(image::RgbaImage::new(1024, 1024)), ImageFormat::Png));
    let e = image_io::decode_file(&big, "content image", small_alloc).unwrap_err().to_string();
    assert!(e.contains("big.png") && e.contains("1 MiB"), "decoder allocation limit: {e}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755));
    }
    println!("bad inputs, {} cases:", cases.len());
    for r in &rows {
        println!("{r}");
    }
    println!("\n| entry point | cases refused | not applicable | skipped |");
    println!("|---|---|---|---|");
    for (k, entry) in ["CLI", "C ABI", "library"].iter().enumerate() {
        let [refused, na, skipped] = tally[k];
        println!("| {entry} | {refused} | {na} | {skipped} |");
    }
    println!("bad-input table: {} cases in {:.1} s", cases.len(), t0.elapsed().as_secs_f64());
    drop(ctx);
}

/// What a valid-but-awkward file is in the job.
#[derive(Clone, Copy, PartialEq)]
enum Use {
    /// The content image (output has its displayed size).
    Content,
    /// The style image, on a small content image.
    Style,
    /// The mask between two styles, on a small content image.
    Mask,
}

/// How the C ABI takes the same pixels.
#[derive(Clone, Copy)]
enum AbiLayout {
    /// A buffer of this many channels and sample type, filled from the decoded file.
    Buffer(u32, u32),
    /// The file itself (`unistyle_style_create_from_file`).
    StyleFile,
    /// As a 1-channel f32 mask buffer.
    MaskBuffer,
    /// Not applicable (why).
    Na(&'static str),
}

struct Awkward {
    name: &'static str,
    file: PathBuf,
    used: Use,
    /// CLI `--levels`.
    levels: &'static str,
    alpha: f32,
    extra: &'static [&'static str],
    abi: AbiLayout,
    /// Output size expected.
    size: (usize, usize),
    /// Further checks on the library's result.
    check: Option<fn(&Picture)>,
}

fn levels_of(s: &str) -> Vec<usize> {
    s.split(',').map(|l| l.parse().unwrap()).collect()
}

#[test]
fn awkward_inputs_succeed() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let w = st(&relu3_weights());
    let content = write(d, "content.png", &encode(&pattern(24, 16), ImageFormat::Png));
    let style = write(d, "style.png", &encode(&pattern(16, 16), ImageFormat::Png));
    let style2 =
        write(d, "style2.png", &encode(&rgb8(16, 16, |x, y| [(x * 16) as u8, 90, (y * 16) as u8]), ImageFormat::Png));
    let png = |name: &str, img: DynamicImage| write(d, name, &encode(&img, ImageFormat::Png));
    let gray16 = DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(20, 12, |x, y| {
        image::Luma([(x * 3000 + y * 500) as u16])
    }));
    let rgb16 = DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(20, 12, |x, y| {
        image::Rgb([(x * 3000) as u16, (y * 5000) as u16, 40000])
    }));
    let rgbf = DynamicImage::ImageRgb32F(image::ImageBuffer::from_fn(20, 12, |x, y| {
        image::Rgb([x as f32 / 20.0, y as f32 / 12.0, 0.3])
    }));
    let la8 = DynamicImage::ImageLumaA8(image::ImageBuffer::from_fn(20, 12, |x, y| {
        image::LumaA([(x * 12) as u8, (y * 20) as u8])
    }));
    let transparent = DynamicImage::ImageRgba8(image::ImageBuffer::from_fn(20, 12, |x, y| {
        image::Rgba([(x * 12) as u8, (y * 20) as u8, 77, 0])
    }));
    // EXIF orientation 6 ("rotate 90° clockwise to display"): stored 16 wide × 8 high, red on
    // the left, blue on the right; displayed 8 × 16 with red on top.
    let sideways = rgb8(16, 8, |x, _| if x < 8 { [220, 30, 30] } else { [30, 30, 220] });
    let exif = write(d, "exif6.jpg", &with_exif_orientation(&encode(&sideways, ImageFormat::Jpeg), 6));
    // CMYK as print workflows write it (Adobe, inverted): C=0 M=100% Y=100% K=0 is red.
    let cmyk = write(d, "cmyk.jpg", &flat_jpeg(16, 8, &[255, 0, 0, 255]));
    let red_on_top: fn(&Picture) = |p| {
        let n = p.width * p.height;
        let at = |x: usize, y: usize| (p.rgb[y * p.width + x], p.rgb[2 * n + y * p.width + x]);
        let (r_top, b_top) = at(4, 3);
        let (r_bot, b_bot) = at(4, 12);
        assert!(
            r_top > b_top + 0.2 && b_bot > r_bot + 0.2,
            "EXIF orientation not applied: top {r_top}/{b_top}, bottom {r_bot}/{b_bot}"
        );
    };
    let reddish: fn(&Picture) = |p| {
        let n = p.width * p.height;
        let mean = |c: usize| p.rgb[c * n..(c + 1) * n].iter().sum::<f32>() / n as f32;
        assert!(
            mean(0) > 0.6 && mean(1) < 0.35 && mean(2) < 0.35,
            "CMYK red decoded as {:.2} {:.2} {:.2}",
            mean(0),
            mean(1),
            mean(2)
        );
    };
    let all_transparent: fn(&Picture) =
        |p| assert!(p.alpha.as_ref().is_some_and(|a| a.iter().all(|&v| v == 0.0)), "alpha not kept");
    let mask = |name: &str, f: &dyn Fn(u32, u32) -> u8, w: u32, h: u32| {
        png(name, DynamicImage::ImageLuma8(image::ImageBuffer::from_fn(w, h, |x, y| image::Luma([f(x, y)]))))
    };
    let buf = |ch, ty| AbiLayout::Buffer(ch, ty);
    let host = AbiLayout::Na("the host decodes files itself; its pixels come as the buffers above");
    use Use::*;
    let a = |name, file, used, levels, abi, size| Awkward {
        name,
        file,
        used,
        levels,
        alpha: 1.0,
        extra: &[],
        abi,
        size,
        check: None,
    };
    let mut cases = vec![
        a("1×1 content", png("1x1.png", pattern(1, 1)), Content, "3,2,1", buf(3, UNISTYLE_U8), (1, 1)),
        a("1×N content", png("1xN.png", pattern(1, 37)), Content, "3,2,1", buf(3, UNISTYLE_U8), (1, 37)),
        a("N×1 content", png("Nx1.png", pattern(41, 1)), Content, "3,2,1", buf(3, UNISTYLE_U8), (41, 1)),
        a("2×3 content", png("2x3.png", pattern(2, 3)), Content, "3,2,1", buf(4, UNISTYLE_F32), (2, 3)),
        a("16-bit RGB PNG", png("rgb16.png", rgb16), Content, "2,1", buf(3, UNISTYLE_U16), (20, 12)),
        a("16-bit grayscale PNG", png("gray16.png", gray16), Content, "1", buf(1, UNISTYLE_U16), (20, 12)),
        a(
            "32-bit float TIFF",
            write(d, "rgbf.tif", &encode(&rgbf, ImageFormat::Tiff)),
            Content,
            "1",
            buf(3, UNISTYLE_F32),
            (20, 12),
        ),
        a(
            "8-bit grayscale PNG",
            png("gray8.png", pattern(20, 12).grayscale()),
            Content,
            "1",
            buf(1, UNISTYLE_U8),
            (20, 12),
        ),
        a("grayscale + alpha PNG", png("la8.png", la8), Content, "1", buf(2, UNISTYLE_U8), (20, 12)),
        a(
            "grayscale JPEG",
            write(d, "gray.jpg", &encode(&pattern(20, 12).grayscale(), ImageFormat::Jpeg)),
            Content,
            "1",
            host,
            (20, 12),
        ),
        a("palette PNG", write(d, "palette.png", &palette_png(20, 12)), Content, "1", host, (20, 12)),
        a(
            "lossless WebP",
            write(d, "lossless.webp", &encode(&pattern(20, 12), ImageFormat::WebP)),
            Content,
            "1",
            host,
            (20, 12),
        ),
        Awkward { alpha: 0.0, check: Some(reddish), ..a("CMYK JPEG (Adobe)", cmyk, Content, "1", host, (16, 8)) },
        Awkward {
            alpha: 0.0,
            check: Some(red_on_top),
            ..a(
                "JPEG with EXIF orientation 6",
                exif,
                Content,
                "1",
                AbiLayout::Na("a host hands over pixels already upright"),
                (8, 16),
            )
        },
        Awkward {
            check: Some(all_transparent),
            ..a(
                "fully transparent RGBA",
                png("transparent.png", transparent),
                Content,
                "2,1",
                buf(4, UNISTYLE_U8),
                (20, 12),
            )
        },
        a(
            "all-black content",
            png("black.png", rgb8(20, 12, |_, _| [0; 3])),
            Content,
            "3,2,1",
            buf(3, UNISTYLE_U8),
            (20, 12),
        ),
        a(
            "flat-colour style (zero covariance)",
            png("flat_style.png", rgb8(32, 32, |_, _| [200, 40, 40])),
            Style,
            "3,2,1",
            AbiLayout::StyleFile,
            (24, 16),
        ),
        a(
            "3×3 style (smaller than the pooling pyramid)",
            png("style3x3.png", pattern(3, 3)),
            Style,
            "3,2,1",
            AbiLayout::StyleFile,
            (24, 16),
        ),
        a("1×1 style", png("style1x1.png", pattern(1, 1)), Style, "3,2,1", AbiLayout::StyleFile, (24, 16)),
        a("1×N style", png("style1xN.png", pattern(1, 50)), Style, "3,2,1", AbiLayout::StyleFile, (24, 16)),
        a(
            "all-black style",
            png("black_style.png", rgb8(16, 16, |_, _| [0; 3])),
            Style,
            "2,1",
            AbiLayout::StyleFile,
            (24, 16),
        ),
        a("all-black mask", mask("m_black.png", &|_, _| 0, 24, 16), Mask, "2,1", AbiLayout::MaskBuffer, (24, 16)),
        a("all-white mask", mask("m_white.png", &|_, _| 255, 24, 16), Mask, "2,1", AbiLayout::MaskBuffer, (24, 16)),
        a(
            "single-pixel mask",
            mask("m_pixel.png", &|x, y| if (x, y) == (5, 5) { 255 } else { 0 }, 24, 16),
            Mask,
            "2,1",
            AbiLayout::MaskBuffer,
            (24, 16),
        ),
        Awkward {
            extra: &["--feather", "4"],
            ..a(
                "single-pixel mask, feathered",
                mask("m_pixel_f.png", &|x, y| if (x, y) == (5, 5) { 255 } else { 0 }, 24, 16),
                Mask,
                "2,1",
                AbiLayout::MaskBuffer,
                (24, 16),
            )
        },
        a(
            "non-binary (grey ramp) mask",
            mask("m_grey.png", &|x, _| (x * 10) as u8, 24, 16),
            Mask,
            "2,1",
            AbiLayout::MaskBuffer,
            (24, 16),
        ),
        a(
            "mask of another size (7×5; resized by design)",
            mask("m_small.png", &|x, _| if x < 3 { 255 } else { 0 }, 7, 5),
            Mask,
            "2,1",
            AbiLayout::MaskBuffer,
            (24, 16),
        ),
    ];
    // The content image of the style and mask cases, as the ABI gets it.
    let small_content = image_io::load_picture(&content, "content image").unwrap();
    let ctx = context();
    let styles_abi = (abi::style(&ctx, &style, 0), abi::style(&ctx, &style2, 0));
    let lib_styles = (
        EncodedStyle::encode(model(), &image_io::load_picture(&style, "style image").unwrap(), &[1, 2, 3]).unwrap(),
        EncodedStyle::encode(model(), &image_io::load_picture(&style2, "style image").unwrap(), &[1, 2, 3]).unwrap(),
    );
    let (mut n_cli, mut n_abi, mut n_lib, mut n_na) = (0, 0, 0, 0);
    let mut rows = Vec::new();
    for (i, c) in cases.iter_mut().enumerate() {
        let f = st(&c.file);
        let out = d.join(format!("awkward-{i}.png"));
        let alpha = c.alpha.to_string();
        // CLI
        let (cs, ss, ss2) = (st(&content), st(&style), st(&style2));
        let args = match c.used {
            Content => Cli::stylize().content(&f).style(&ss),
            Style => Cli::stylize().content(&cs).style(&f),
            Mask => Cli::stylize().content(&cs).style(&ss).style(&ss2).mask(&f),
        };
        let args = args.levels(c.levels).flag("alpha", &alpha).weights(&w).out(&out).quiet().args_from(c.extra);
        let res = args.run();
        assert!(res.status.success(), "{} [CLI]: {}", c.name, String::from_utf8_lossy(&res.stderr));
        let got = image_io::load_picture(&out, "CLI output").unwrap();
        assert_eq!((got.width, got.height), c.size, "{} [CLI]: output size", c.name);
        if c.name.contains("16-bit") || c.name.contains("float") {
            assert!(got.high_depth, "{} [CLI]: a high-depth input gave an 8-bit output", c.name);
        }
        if let Some(check) = c.check {
            check(&got);
        }
        n_cli += 1;

        // Library
        let levels = levels_of(c.levels);
        let lib_out = match c.used {
            Content => {
                let p = image_io::load_picture(&c.file, "content image")
                    .unwrap_or_else(|e| panic!("{} [library]: {e}", c.name));
                Stylizer::builder(model())
                    .style(&lib_styles.0)
                    .levels(levels.clone())
                    .alpha(c.alpha as f64)
                    .build()
                    .unwrap()
                    .run(&p, &mut Silent)
            }
            Style => {
                let p = image_io::load_picture(&c.file, "style image")
                    .unwrap_or_else(|e| panic!("{} [library]: {e}", c.name));
                let s =
                    EncodedStyle::encode(model(), &p, &levels).unwrap_or_else(|e| panic!("{} [library]: {e}", c.name));
                Stylizer::builder(model())
                    .style(&s)
                    .levels(levels.clone())
                    .build()
                    .unwrap()
                    .run(&small_content, &mut Silent)
            }
            Mask => {
                let m = unistyle::Mask::load(&c.file).unwrap_or_else(|e| panic!("{} [library]: {e}", c.name));
                let feather = if c.extra.is_empty() { 0.0 } else { 4.0 };
                Stylizer::builder(model())
                    .place(&[&lib_styles.0, &lib_styles.1], None, vec![m])
                    .unwrap()
                    .feather(feather)
                    .levels(levels.clone())
                    .build()
                    .unwrap()
                    .run(&small_content, &mut Silent)
            }
        }
        .unwrap_or_else(|e| panic!("{} [library]: {e}", c.name));
        assert_eq!((lib_out.width, lib_out.height), c.size, "{} [library]: output size", c.name);
        assert!(lib_out.first_non_finite().is_none(), "{} [library]: non-finite output", c.name);
        if let Some(check) = c.check {
            check(&lib_out);
        }
        n_lib += 1;

        // C ABI
        let abi_cell = match c.abi {
            AbiLayout::Na(why) => {
                n_na += 1;
                format!("n/a ({why})")
            }
            layout => {
                let abi_levels: Vec<u32> = levels.iter().map(|&l| l as u32).collect();
                let (input_pic, style_handle, mask_buf, keep_style);
                match (layout, c.used) {
                    (AbiLayout::Buffer(..), Content) => {
                        input_pic = image_io::load_picture(&c.file, "content image").unwrap();
                        style_handle = styles_abi.0 .0 as *const UnistyleStyle;
                        mask_buf = None;
                        keep_style = None;
                    }
                    (AbiLayout::StyleFile, Style) => {
                        let mut s = null_mut();
                        let status = unsafe { (api().style_from_file)(ctx.0, cstr(&c.file).as_ptr(), 0, &mut s) };
                        assert_eq!(status, UNISTYLE_OK, "{} [ABI]: {}", c.name, last_error());
                        keep_style = Some(abi::Style(s));
                        style_handle = s as *const UnistyleStyle;
                        input_pic = small_content.clone();
                        mask_buf = None;
                    }
                    (AbiLayout::MaskBuffer, Mask) => {
                        let m = unistyle::Mask::load(&c.file).unwrap();
                        let mut b = Buf::new(m.width as u32, m.height as u32, 1, UNISTYLE_F32, 0, 0);
                        for (k, v) in m.data.iter().enumerate() {
                            b.set(k % m.width, k / m.width, 0, *v as f32 / 255.0);
                        }
                        mask_buf = Some(b);
                        input_pic = small_content.clone();
                        style_handle = styles_abi.0 .0 as *const UnistyleStyle;
                        keep_style = None;
                    }
                    _ => unreachable!("{}: layout and use do not match", c.name),
                }
                let (ch, ty) = match layout {
                    AbiLayout::Buffer(ch, ty) => (ch, ty),
                    _ => (3, UNISTYLE_F32),
                };
                let input = Buf::from_picture(&input_pic, ch, ty, 1);
                // Keep the file's alpha (Buf::from_picture writes opaque alpha).
                let mut input = input;
                if let (Some(a), true) = (&input_pic.alpha, ch % 2 == 0) {
                    for (k, v) in a.iter().enumerate() {
                        input.set(k % input_pic.width, k / input_pic.width, ch as usize - 1, *v);
                    }
                }
                let output = Buf::new(input_pic.width as u32, input_pic.height as u32, ch.max(3), UNISTYLE_F32, 0, 0);
                let styles = [style_handle, styles_abi.1 .0 as *const UnistyleStyle];
                let mut o = stylize_opts(&styles[..if mask_buf.is_some() { 2 } else { 1 }], c.alpha, &abi_levels);
                if let Some(m) = &mask_buf {
                    o.mask_count = 1;
                    o.masks = &m.desc;
                    o.feather = if c.extra.is_empty() { 0.0 } else { 4.0 };
                }
                let status = unsafe { (api().stylize)(ctx.0, &input.desc, &o, &output.desc) };
                assert_eq!(status, UNISTYLE_OK, "{} [ABI]: {}", c.name, last_error());
                let rgb = output.rgb();
                assert_eq!(rgb.len(), 3 * c.size.0 * c.size.1, "{} [ABI]: output size", c.name);
                assert!(
                    rgb.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
                    "{} [ABI]: output not finite in 0..1",
                    c.name
                );
                drop(keep_style);
                n_abi += 1;
                let layout_name = match layout {
                    AbiLayout::Buffer(ch, ty) => {
                        format!("{ch}-channel {} buffer", ["", "u8", "u16", "f32"][ty as usize])
                    }
                    AbiLayout::StyleFile => "style file".into(),
                    _ => "f32 mask buffer".into(),
                };
                format!("ok ({layout_name})")
            }
        };
        rows.push(format!(
            "{:>3}. {:<48} {}×{}  CLI: ok | lib: ok | ABI: {abi_cell}",
            i + 1,
            c.name,
            c.size.0,
            c.size.1
        ));
    }
    println!("valid but awkward inputs, {} cases:", cases.len());
    for r in &rows {
        println!("{r}");
    }
    println!("\n| entry point | awkward cases run | not applicable |");
    println!("|---|---|---|");
    println!("| CLI | {n_cli} | 0 |");
    println!("| C ABI | {n_abi} | {n_na} |");
    println!("| library | {n_lib} | 0 |");
    println!("awkward-input table: {} cases in {:.1} s", cases.len(), t0.elapsed().as_secs_f64());
}
