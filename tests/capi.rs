//! The cdylib loaded with `libloading` exactly as a host loads it, every entry point
//! exercised, including misuse: NULL pointers, bad strides, wrong struct versions, cancel
//! from the callback and from another thread, two threads with two contexts.

mod common;

use std::ffi::{c_int, c_void, CStr};
use std::ptr::{null, null_mut};

use common::abi::*;
use common::cbuild::root;
use common::*;
use unistyle::capi::*;

#[test]
fn versions_and_status_strings() {
    let a = api();
    assert_eq!(unsafe { (a.abi_version)() }, UNISTYLE_ABI_VERSION);
    let v = unsafe { CStr::from_ptr((a.version)()) }.to_str().unwrap().to_string();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    for code in [UNISTYLE_OK, UNISTYLE_ERR_NULL, UNISTYLE_ERR_CANCELLED, -999] {
        let s = unsafe { CStr::from_ptr((a.status_string)(code)) }.to_str().unwrap();
        assert!(!s.is_empty());
    }
}

#[test]
fn parameter_bounds_are_the_librarys_rules() {
    type BoundsFn = unsafe extern "C" fn(*const std::ffi::c_char, *mut f64, *mut f64, *mut f64, *mut c_int) -> c_int;
    let f: libloading::Symbol<BoundsFn> = unsafe { api().lib.get(b"unistyle_param_bounds") }.unwrap();
    let get = |key: &CStr| {
        let (mut lo, mut hi, mut def, mut int) = (f64::NAN, f64::NAN, f64::NAN, -1);
        let status = unsafe { f(key.as_ptr(), &mut lo, &mut hi, &mut def, &mut int) };
        (status, lo, hi, def, int)
    };
    assert_eq!(get(c"alpha"), (UNISTYLE_OK, 0.0, 1.0, 1.0, 0));
    assert_eq!(get(c"feather"), (UNISTYLE_OK, 0.0, unistyle::rules::MAX_FEATHER, 0.0, 0));
    assert_eq!(get(c"stroke-scale"), (UNISTYLE_OK, 0.125, 8.0, 1.0, 0));
    assert_eq!(get(c"iterations"), (UNISTYLE_OK, 1.0, 100.0, 3.0, 1));
    // Every bound of the table, by its own key, as the table has it.
    for b in unistyle::rules::BOUNDS {
        let key = std::ffi::CString::new(b.key).unwrap();
        assert_eq!(get(&key), (UNISTYLE_OK, b.min, b.max, b.default, c_int::from(b.integer)), "{}", b.key);
    }
    let (status, ..) = get(c"levels");
    assert_eq!(status, UNISTYLE_ERR_INVALID);
    assert!(last_error().contains("'levels' has no numeric range"), "{}", last_error());
    // NULL outputs are skipped; a NULL key is refused.
    assert_eq!(unsafe { f(c"alpha".as_ptr(), null_mut(), null_mut(), null_mut(), null_mut()) }, UNISTYLE_OK);
    assert_eq!(unsafe { f(null(), null_mut(), null_mut(), null_mut(), null_mut()) }, UNISTYLE_ERR_NULL);
}

#[test]
fn stylize_matches_golden_and_cli() {
    let ctx = context();
    let mut levels = [0u32; 8];
    let mut count = 0;
    assert_eq!(unsafe { (api().context_levels)(ctx.0, levels.as_mut_ptr(), 8, &mut count) }, UNISTYLE_OK);
    assert_eq!(&levels[..count as usize], &[1, 2, 3]);

    let st = style(&ctx, &image("style/starry_256.png"), 0);
    let content = picture("content/tubingen_256.png");
    // RGBA u8 with a padded stride, as editors often hold layers.
    let input = Buf::from_picture(&content, 4, UNISTYLE_U8, 7);
    let mut output = Buf::new(256, 256, 4, UNISTYLE_U8, 3, 0);
    let styles = [st.0 as *const _];
    let opts = stylize_opts(&styles, 0.6, &[3, 2, 1]);
    let t = std::time::Instant::now();
    let status = unsafe { (api().stylize)(ctx.0, &input.desc, &opts, &output.desc) };
    assert_eq!(status, UNISTYLE_OK, "{}", last_error());
    println!("ABI stylize 256x256, 3 levels: {:.2} s", t.elapsed().as_secs_f64());
    output.desc.data = output.bytes.as_mut_ptr().cast();
    let got = output.rgb();
    let golden: Vec<f32> = flat(&golden("multi_a06")["output"]).iter().map(|v| v.clamp(0.0, 1.0)).collect();
    let p_golden = psnr(&got, &golden);
    // alpha passed through: opaque in, opaque out
    assert!((0..256).all(|x| output.get(x, 100, 3) == 1.0));

    let dir = tempfile::tempdir().unwrap();
    let cli_out = dir.path().join("cli.png");
    Cli::reference_256(&cli_out);
    let p_cli = psnr(&got, &read_png(&cli_out).rgb);
    println!("ABI vs golden {p_golden:.2} dB, vs CLI {p_cli:.2} dB");
    assert!(p_golden >= 45.0 && p_cli >= 50.0);
}

#[test]
fn sample_types_and_channel_layouts() {
    let ctx = context();
    let st = style(&ctx, &image("style/starry_256.png"), 0);
    let styles = [st.0 as *const _];
    let content = picture("content/face_odd.png");
    let opts = stylize_opts(&styles, 0.8, &[2, 1]);
    let mut results = Vec::new();
    for (ch, ty) in [(3, UNISTYLE_U8), (4, UNISTYLE_U16), (3, UNISTYLE_F32), (1, UNISTYLE_U8), (2, UNISTYLE_F32)] {
        let input = Buf::from_picture(&content, ch, ty, 1);
        let output = Buf::new(content.width as u32, content.height as u32, ch, ty, 0, 0);
        let status = unsafe { (api().stylize)(ctx.0, &input.desc, &opts, &output.desc) };
        assert_eq!(status, UNISTYLE_OK, "{ch} channels, type {ty}: {}", last_error());
        let v: Vec<f32> = (0..ch as usize).map(|c| output.get(50, 60, c)).collect();
        assert!(v.iter().all(|x| x.is_finite() && (0.0..=1.0).contains(x)));
        if ch == 3 {
            results.push(output.rgb());
        }
    }
    // u8 and f32 RGB agree up to 8-bit quantisation
    let p = psnr(&results[0], &results[1]);
    assert!(p > 40.0, "u8 vs f32 RGB: {p:.1} dB");
    // In-place: output buffer == input buffer.
    let input = Buf::from_picture(&content, 3, UNISTYLE_F32, 0);
    let status = unsafe { (api().stylize)(ctx.0, &input.desc, &opts, &input.desc) };
    assert_eq!(status, UNISTYLE_OK);
    assert!(psnr(&input.rgb(), &results[1]) > 100.0);
}

#[test]
fn misuse_is_reported_and_leaves_output_untouched() {
    let a = api();
    let ctx = context();
    let st = style(&ctx, &image("style/starry_256.png"), 0);
    let other = context();
    let foreign = style(&other, &image("style/brick_256.png"), 0);
    let content = picture("content/tubingen_256.png").resized(40, 30);
    let good_in = Buf::from_picture(&content, 3, UNISTYLE_U8, 0);
    let out = Buf::new(40, 30, 3, UNISTYLE_U8, 0, 0xAB);
    let styles = [st.0 as *const _];
    let null_styles = [null::<UnistyleStyle>()];
    let foreign_styles = [foreign.0 as *const _];
    let good = stylize_opts(&styles, 0.5, &[]);

    type Case<'a> = (&'a str, c_int, Box<dyn Fn() -> c_int>);
    let mut cases: Vec<Case> = Vec::new();
    let (gi, go) = (good_in.desc, out.desc);
    let c = ctx.0 as usize;
    let ctxp = move || c as *const UnistyleContext;
    cases.push(("null ctx", UNISTYLE_ERR_NULL, Box::new(move || unsafe { (a.stylize)(null(), &gi, &good, &go) })));
    cases.push(("null input", UNISTYLE_ERR_NULL, Box::new(move || unsafe { (a.stylize)(ctxp(), null(), &good, &go) })));
    cases.push(("null opts", UNISTYLE_ERR_NULL, Box::new(move || unsafe { (a.stylize)(ctxp(), &gi, null(), &go) })));
    cases.push((
        "null output",
        UNISTYLE_ERR_NULL,
        Box::new(move || unsafe { (a.stylize)(ctxp(), &gi, &good, null()) }),
    ));
    let with_in = |f: fn(&mut UnistyleImage)| {
        let mut d = gi;
        f(&mut d);
        d
    };
    for (name, code, d) in [
        ("old struct_size", UNISTYLE_ERR_VERSION, with_in(|d| d.struct_size = 8)),
        ("null data", UNISTYLE_ERR_NULL, with_in(|d| d.data = null_mut())),
        ("zero width", UNISTYLE_ERR_INVALID, with_in(|d| d.width = 0)),
        ("huge width", UNISTYLE_ERR_LIMITS, with_in(|d| d.width = 1 << 20)),
        ("stride too small", UNISTYLE_ERR_INVALID, with_in(|d| d.stride = 119)),
        ("five channels", UNISTYLE_ERR_INVALID, with_in(|d| d.channels = 5)),
        ("bad sample type", UNISTYLE_ERR_INVALID, with_in(|d| d.sample_type = 9)),
    ] {
        cases.push((name, code, Box::new(move || unsafe { (a.stylize)(ctxp(), &d, &good, &go) })));
    }
    let other_size = {
        let mut d = go;
        d.width = 39;
        d
    };
    cases.push((
        "output size differs",
        UNISTYLE_ERR_INVALID,
        Box::new(move || unsafe { (a.stylize)(ctxp(), &gi, &good, &other_size) }),
    ));
    let with_opts = |f: &dyn Fn(&mut UnistyleStylizeOptions)| {
        let mut o = good;
        f(&mut o);
        o
    };
    let s_null = null_styles.as_ptr() as usize;
    let s_foreign = foreign_styles.as_ptr() as usize;
    for (name, code, o) in [
        ("opts struct_size", UNISTYLE_ERR_VERSION, with_opts(&|o| o.struct_size = 4)),
        ("no styles", UNISTYLE_ERR_INVALID, with_opts(&|o| o.style_count = 0)),
        ("styles NULL", UNISTYLE_ERR_NULL, with_opts(&|o| o.styles = null())),
        ("style handle NULL", UNISTYLE_ERR_NULL, with_opts(&|o| o.styles = s_null as *const *const UnistyleStyle)),
        ("foreign style", UNISTYLE_ERR_INVALID, with_opts(&|o| o.styles = s_foreign as *const *const UnistyleStyle)),
        ("alpha 2", UNISTYLE_ERR_INVALID, with_opts(&|o| o.alpha = 2.0)),
        ("alpha NaN", UNISTYLE_ERR_INVALID, with_opts(&|o| o.alpha = f32::NAN)),
        ("masks NULL", UNISTYLE_ERR_NULL, with_opts(&|o| o.mask_count = 1)),
        (
            "levels NULL",
            UNISTYLE_ERR_NULL,
            with_opts(&|o| {
                o.level_count = 2;
                o.levels = null();
            }),
        ),
        ("foreground without mask", UNISTYLE_ERR_INVALID, with_opts(&|o| o.foreground_only = 1)),
    ] {
        cases.push((name, code, Box::new(move || unsafe { (a.stylize)(ctxp(), &gi, &o, &go) })));
    }
    // The current struct, as `_init_ex` fills it (the library's defaults past version 1).
    let good_ex = UnistyleStylizeOptions {
        struct_size: size_of::<UnistyleStylizeOptions>() as u32,
        style_count: good.style_count,
        styles: good.styles,
        alpha: good.alpha,
        ..Default::default()
    };
    let bad_precision = UnistyleStylizeOptions { precision: 7, ..good_ex };
    cases.push((
        "precision 7",
        UNISTYLE_ERR_INVALID,
        Box::new(move || unsafe { (a.stylize)(ctxp(), &gi, &bad_precision, &go) }),
    ));
    static LEVEL4: [u32; 1] = [4];
    let lvl = with_opts(&|o| {
        o.level_count = 1;
        o.levels = LEVEL4.as_ptr();
    });
    cases.push(("missing level", UNISTYLE_ERR_LEVEL, Box::new(move || unsafe { (a.stylize)(ctxp(), &gi, &lvl, &go) })));
    let mut nan_in = Buf::from_picture(&content, 3, UNISTYLE_F32, 0);
    nan_in.set(5, 7, 1, f32::NAN);
    let nan_d = nan_in.desc;
    cases.push((
        "NaN sample",
        UNISTYLE_ERR_INVALID,
        Box::new(move || unsafe { (a.stylize)(ctxp(), &nan_d, &good, &go) }),
    ));

    for (name, code, call) in &cases {
        let status = call();
        assert_eq!(status, *code, "{name}: status {status}, message: {}", last_error());
        let msg = last_error();
        assert!(msg.starts_with("unistyle_stylize:") && msg.len() > 20, "{name}: message '{msg}'");
        assert!(out.all(0xAB), "{name}: output buffer was written");
        if *name == "precision 7" {
            assert!(msg.contains("unistyle_stylize_options.precision: must be 0 (f32) or 1 (bf16), got 7"), "{msg}");
        }
    }
    println!("{} misuse cases of unistyle_stylize reported", cases.len());
    // The precision field: bf16 runs (and differs from f32 only by bf16's rounding).
    let bf16 = UnistyleStylizeOptions { precision: UNISTYLE_PRECISION_BF16, ..good_ex };
    let (f32_out, bf16_out) = (Buf::new(40, 30, 3, UNISTYLE_F32, 0, 0), Buf::new(40, 30, 3, UNISTYLE_F32, 0, 0));
    assert_eq!(unsafe { (a.stylize)(ctx.0, &gi, &good, &f32_out.desc) }, 0, "{}", last_error());
    assert_eq!(unsafe { (a.stylize)(ctx.0, &gi, &bf16, &bf16_out.desc) }, 0, "{}", last_error());
    let (x, y) = (f32_out.rgb(), bf16_out.rgb());
    let max_diff = x.iter().zip(&y).fold(0f32, |m, (p, q)| m.max((p - q).abs()));
    assert!(max_diff < 0.1, "bf16 strays {max_diff} from f32");
    // Other entry points.
    unsafe {
        let mut h = null_mut();
        assert_eq!((a.context_create)(c"/no/such/weights.safetensors".as_ptr(), null(), &mut h), UNISTYLE_ERR_WEIGHTS);
        let msg = last_error();
        assert!(msg.contains("/no/such/weights.safetensors") && msg.contains("weights_path"), "{msg}");
        assert!(!msg.contains("--weights"), "a CLI option named through the C ABI: {msg}");
        assert!(h.is_null());
        assert_eq!((a.context_create)(null(), c"quantum".as_ptr(), &mut h), UNISTYLE_ERR_INVALID);
        assert_eq!((a.context_create)(cstr(&relu3_weights()).as_ptr(), null(), null_mut()), UNISTYLE_ERR_NULL);
        let mut s = null_mut();
        assert_eq!((a.style_from_file)(ctx.0, c"/no/such.png".as_ptr(), 0, &mut s), UNISTYLE_ERR_IO);
        assert_eq!((a.style_from_file)(null(), c"/no/such.png".as_ptr(), 0, &mut s), UNISTYLE_ERR_NULL);
        assert_eq!((a.style_from_image)(ctx.0, null(), 0, &mut s), UNISTYLE_ERR_NULL);
        assert_eq!((a.context_levels)(ctx.0, null_mut(), 3, null_mut()), UNISTYLE_ERR_NULL);
        assert_eq!((a.stylize_init)(null_mut()), UNISTYLE_ERR_NULL);
        assert_eq!((a.job_create)(null_mut()), UNISTYLE_ERR_NULL);
        // Destructors and job calls accept NULL.
        (a.context_destroy)(null_mut());
        (a.style_destroy)(null_mut());
        (a.job_destroy)(null_mut());
        (a.job_cancel)(null());
        assert_eq!((a.job_progress)(null()), 0.0);
    }
}

unsafe extern "C" fn cancel_at_second(_f: f32, user: *mut c_void) -> c_int {
    let calls = unsafe { &mut *(user as *mut u32) };
    *calls += 1;
    (*calls >= 2) as c_int
}

#[test]
fn cancel_from_callback_and_from_another_thread() {
    let a = api();
    let ctx = context();
    let st = style(&ctx, &image("style/starry_256.png"), 0);
    let styles = [st.0 as *const _];
    let content = picture("content/tubingen_256.png");
    let input = Buf::from_picture(&content, 3, UNISTYLE_U8, 0);
    let out = Buf::new(256, 256, 3, UNISTYLE_U8, 0, 0x5A);
    let mut calls = 0u32;
    let mut o = stylize_opts(&styles, 1.0, &[]);
    o.progress = Some(cancel_at_second);
    o.progress_user_data = (&mut calls as *mut u32).cast();
    assert_eq!(unsafe { (a.stylize)(ctx.0, &input.desc, &o, &out.desc) }, UNISTYLE_ERR_CANCELLED);
    assert_eq!(calls, 2);
    assert!(out.all(0x5A), "cancelled call wrote the output");

    // A job cancelled by another thread as soon as it reports progress.
    let mut job = null_mut();
    assert_eq!(unsafe { (a.job_create)(&mut job) }, UNISTYLE_OK);
    let jp = job as usize;
    let canceller = std::thread::spawn(move || {
        let job = jp as *const UnistyleJob;
        let t = std::time::Instant::now();
        while unsafe { (api().job_progress)(job) } <= 0.0 && t.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        unsafe { (api().job_cancel)(job) };
    });
    let mut t = texture_opts(&styles);
    t.iterations = 3;
    t.job = job;
    let tex_out = Buf::new(128, 128, 3, UNISTYLE_U8, 0, 0x33);
    let status = unsafe { (a.texture)(ctx.0, &t, &tex_out.desc) };
    canceller.join().unwrap();
    assert_eq!(status, UNISTYLE_ERR_CANCELLED, "{}", last_error());
    assert!(unsafe { (a.job_progress)(job) } < 1.0);
    assert!(tex_out.all(0x33));
    unsafe { (a.job_destroy)(job) };
}

#[test]
fn two_threads_two_contexts_match_single_thread() {
    let run = || {
        let content = picture("content/face_odd.png");
        let ctx = context();
        let st = style(&ctx, &image("style/strokes_256.png"), 0);
        let styles = [st.0 as *const _];
        let input = Buf::from_picture(&content, 3, UNISTYLE_F32, 0);
        let out = Buf::new(content.width as u32, content.height as u32, 3, UNISTYLE_F32, 0, 0);
        let o = stylize_opts(&styles, 0.8, &[3, 2, 1]);
        assert_eq!(unsafe { (api().stylize)(ctx.0, &input.desc, &o, &out.desc) }, UNISTYLE_OK, "{}", last_error());
        out.rgb()
    };
    let single = run();
    let handles: Vec<_> = (0..2).map(|_| std::thread::spawn(run)).collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), single, "threaded result differs from single-threaded");
    }
    // ... and it is the golden multi_odd_a08 case
    let g: Vec<f32> = flat(&golden("multi_odd_a08")["output"]).iter().map(|v| v.clamp(0.0, 1.0)).collect();
    let p = psnr(&single, &g);
    assert!(p >= 45.0, "{p:.1} dB");
}

#[test]
fn texture_and_masks_through_the_abi() {
    let a = api();
    let ctx = context();
    let brick = style(&ctx, &image("style/brick_256.png"), 0);
    let starry = style(&ctx, &image("style/starry_256.png"), 0);
    // Texture with a seed equals the CLI's texture with the same seed.
    let styles = [brick.0 as *const _];
    let mut t = texture_opts(&styles);
    t.seed = 17;
    t.iterations = 1;
    t.tileable = 1;
    let out = Buf::new(96, 64, 3, UNISTYLE_U8, 0, 0);
    assert_eq!(unsafe { (a.texture)(ctx.0, &t, &out.desc) }, UNISTYLE_OK, "{}", last_error());
    let dir = tempfile::tempdir().unwrap();
    let cli = dir.path().join("t.png");
    cli_brick_texture(&cli, (96, 64), 17, 1);
    assert_eq!(out.rgb(), read_png(&cli).rgb, "ABI texture differs from CLI texture");

    // The golden mask case: a gray u8 mask descriptor.
    let c = case("mask_two_styles");
    let mask_img = unistyle::image_io::load_picture(&image(c.mask.as_deref().unwrap()), "mask").unwrap();
    let mask = Buf::from_picture(&mask_img, 1, UNISTYLE_U8, 5);
    let content = picture(c.content.as_deref().unwrap());
    let input = Buf::from_picture(&content, 3, UNISTYLE_U8, 0);
    let out = Buf::new(content.width as u32, content.height as u32, 3, UNISTYLE_U8, 0, 0);
    let two = [starry.0 as *const _, brick.0 as *const _];
    let mut o = stylize_opts(&two, 1.0, &[3, 2, 1]);
    o.mask_count = 1;
    o.masks = &mask.desc;
    assert_eq!(unsafe { (a.stylize)(ctx.0, &input.desc, &o, &out.desc) }, UNISTYLE_OK, "{}", last_error());
    let golden: Vec<f32> = flat(&golden("mask_two_styles")["output"]).iter().map(|v| v.clamp(0.0, 1.0)).collect();
    let p = psnr(&out.rgb(), &golden);
    println!("mask_two_styles via ABI: {p:.2} dB");
    assert!(p >= 45.0);
}

#[test]
fn create_destroy_cycles() {
    for _ in 0..3 {
        let ctx = context();
        let s1 = style(&ctx, &image("style/starry_256.png"), 0);
        let img = Buf::from_picture(&picture("style/brick_256.png").resized(32, 32), 4, UNISTYLE_U16, 2);
        let mut s2 = null_mut();
        assert_eq!(unsafe { (api().style_from_image)(ctx.0, &img.desc, 16, &mut s2) }, UNISTYLE_OK, "{}", last_error());
        let _s2 = Style(s2);
        drop(s1);
    }
}

#[test]
fn presets_through_the_abi() {
    let a = api();
    let (load, kind, name, destroy, stylize_p, texture_p) =
        (&a.preset_load, &a.preset_kind, &a.preset_name, &a.preset_destroy, &a.stylize_preset, &a.texture_preset);
    // Presets copied to a temporary folder (their style cache is written beside them); the
    // images are found on the style search path.
    let dir = tempfile::tempdir().unwrap();
    for p in ["starry-night.toml", "brick-texture.toml"] {
        std::fs::copy(root().join("presets").join(p), dir.path().join(p)).unwrap();
    }
    std::env::set_var("UNISTYLE_STYLE_PATH", image("style"));
    let ctx = context();
    let mut p = null_mut();
    let st = unsafe { load(ctx.0, cstr(&dir.path().join("starry-night.toml")).as_ptr(), &mut p) };
    assert_eq!(st, UNISTYLE_OK, "{}", last_error());
    assert_eq!(unsafe { kind(p) }, UNISTYLE_PRESET_STYLIZE);
    assert_eq!(unsafe { CStr::from_ptr(name(p)) }.to_str().unwrap(), "starry-night");
    let content = picture("content/tubingen_256.png");
    let input = Buf::from_picture(&content, 3, UNISTYLE_U8, 0);
    let out = Buf::new(256, 256, 3, UNISTYLE_U8, 0, 0);
    assert_eq!(
        unsafe { stylize_p(ctx.0, p, &input.desc, &out.desc, None, null_mut(), null()) },
        UNISTYLE_OK,
        "{}",
        last_error()
    );
    // The _ex form with run options (and with NULL) gives the same pixels; a cancelled job stops it.
    let mut run = std::mem::MaybeUninit::<UnistyleRunOptions>::uninit();
    assert_eq!(
        unsafe { (a.run_init)(run.as_mut_ptr(), std::mem::size_of::<UnistyleRunOptions>() as u32) },
        UNISTYLE_OK
    );
    let mut run = unsafe { run.assume_init() };
    let mut steps = Steps::default();
    (run.progress, run.progress_user_data) = Steps::hook(Some(&mut steps));
    let out_ex = Buf::new(256, 256, 3, UNISTYLE_U8, 0, 0);
    assert_eq!(
        unsafe { (a.stylize_preset_ex)(ctx.0, p, &input.desc, &out_ex.desc, &run) },
        UNISTYLE_OK,
        "{}",
        last_error()
    );
    assert_eq!(out_ex.rgb(), out.rgb());
    assert!(steps.fractions.len() >= 3 && steps.fractions.last() == Some(&1.0), "{:?}", steps.fractions);
    let out_null = Buf::new(256, 256, 3, UNISTYLE_U8, 0, 0);
    assert_eq!(
        unsafe { (a.stylize_preset_ex)(ctx.0, p, &input.desc, &out_null.desc, null()) },
        UNISTYLE_OK,
        "{}",
        last_error()
    );
    assert_eq!(out_null.rgb(), out.rgb());
    let cancelled = job();
    unsafe { (a.job_cancel)(cancelled.0) };
    let stopped = Buf::new(256, 256, 3, UNISTYLE_U8, 0, 9);
    let run_cancel = UnistyleRunOptions { job: cancelled.0, progress: None, ..run };
    assert_eq!(
        unsafe { (a.stylize_preset_ex)(ctx.0, p, &input.desc, &stopped.desc, &run_cancel) },
        UNISTYLE_ERR_CANCELLED
    );
    assert!(stopped.all(9));
    let cli = dir.path().join("cli.png");
    let res = Cli::stylize()
        .preset(dir.path().join("starry-night.toml"))
        .content(image("content/tubingen_256.png"))
        .weights(relu3_weights())
        .out(&cli)
        .command_line()
        .env("UNISTYLE_STYLE_PATH", image("style"))
        .output()
        .unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let pp = psnr(&out.rgb(), &read_png(&cli).rgb);
    println!("preset via ABI vs CLI: {pp:.1} dB");
    assert!(pp >= 50.0);
    unsafe { destroy(p) };

    let mut t = null_mut();
    assert_eq!(
        unsafe { load(ctx.0, cstr(&dir.path().join("brick-texture.toml")).as_ptr(), &mut t) },
        UNISTYLE_OK,
        "{}",
        last_error()
    );
    assert_eq!(unsafe { kind(t) }, UNISTYLE_PRESET_TEXTURE);
    let tex = Buf::new(64, 48, 3, UNISTYLE_U8, 0, 0);
    assert_eq!(unsafe { texture_p(ctx.0, t, &tex.desc, None, null_mut(), null()) }, UNISTYLE_OK, "{}", last_error());
    let tex_ex = Buf::new(64, 48, 3, UNISTYLE_U8, 0, 0);
    assert_eq!(unsafe { (a.texture_preset_ex)(ctx.0, t, &tex_ex.desc, null()) }, UNISTYLE_OK, "{}", last_error());
    assert_eq!(tex_ex.rgb(), tex.rgb());
    let cli_t = dir.path().join("cli_t.png");
    let res = Cli::texture()
        .preset(dir.path().join("brick-texture.toml"))
        .width(64)
        .height(48)
        .weights(relu3_weights())
        .out(&cli_t)
        .command_line()
        .env("UNISTYLE_STYLE_PATH", image("style"))
        .output()
        .unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    assert_eq!(tex.rgb(), read_png(&cli_t).rgb, "preset texture via ABI differs from the CLI");
    unsafe { destroy(t) };

    // A broken preset: status and a message naming the file.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\nname = \"x\"\nstyle = \"starry_256.png\"\nalpha = 7\n").unwrap();
    let mut b = null_mut();
    assert_eq!(unsafe { load(ctx.0, cstr(&bad).as_ptr(), &mut b) }, UNISTYLE_ERR_PRESET);
    assert!(last_error().contains("bad.toml") && last_error().contains("alpha"), "{}", last_error());
    assert!(b.is_null());
    assert_eq!(unsafe { kind(null()) }, UNISTYLE_ERR_NULL);
    unsafe { destroy(null_mut()) };
}

/// Style encoding with versioned options: max_size as the v1 call, progress reported, a
/// cancelled job stops it and creates nothing.
#[test]
fn style_options_ex() {
    let a = api();
    let ctx = context();
    let mut o = std::mem::MaybeUninit::<UnistyleStyleOptions>::uninit();
    assert_eq!(
        unsafe { (a.style_init)(o.as_mut_ptr(), std::mem::size_of::<UnistyleStyleOptions>() as u32) },
        UNISTYLE_OK
    );
    let mut o = unsafe { o.assume_init() };
    assert_eq!((o.max_size, o.struct_size as usize), (0, std::mem::size_of::<UnistyleStyleOptions>()));
    o.max_size = 64;
    let mut steps = Steps::default();
    (o.progress, o.progress_user_data) = Steps::hook(Some(&mut steps));
    let path = cstr(&image("style/starry_256.png"));
    let mut st = null_mut();
    assert_eq!(unsafe { (a.style_from_file_ex)(ctx.0, path.as_ptr(), &o, &mut st) }, UNISTYLE_OK, "{}", last_error());
    // Start, the encoder's layers (issue 22: cancel between layers), end.
    let f = &steps.fractions;
    assert!(f.len() >= 2 && f[0] == 0.0 && f[f.len() - 1] == 1.0 && f.windows(2).all(|w| w[0] <= w[1]), "{f:?}");
    let st = Style(st);
    // Same statistics as the v1 call with max_size 64: same pixels out.
    let v1 = style(&ctx, &image("style/starry_256.png"), 64);
    let input = Buf::from_picture(&picture("content/tubingen_256.png"), 3, UNISTYLE_U8, 0);
    let outs: Vec<Vec<f32>> = [st.0, v1.0]
        .iter()
        .map(|&s| {
            let styles = [s as *const _];
            let opts = stylize_opts(&styles, 1.0, &[2]);
            let out = Buf::new(256, 256, 3, UNISTYLE_U8, 0, 0);
            assert_eq!(unsafe { (a.stylize)(ctx.0, &input.desc, &opts, &out.desc) }, UNISTYLE_OK, "{}", last_error());
            out.rgb()
        })
        .collect();
    assert_eq!(outs[0], outs[1]);
    let j = job();
    unsafe { (a.job_cancel)(j.0) };
    let cancel = UnistyleStyleOptions { job: j.0, progress: None, ..o };
    let mut none = null_mut();
    assert_eq!(unsafe { (a.style_from_file_ex)(ctx.0, path.as_ptr(), &cancel, &mut none) }, UNISTYLE_ERR_CANCELLED);
    assert!(none.is_null());
}

/// The preview call: the output's size is the preview size (any aspect), the result is
/// close to the full run downscaled, and a cancelled job stops it without writing.
#[test]
fn preview_is_a_downscaled_run() {
    let a = api();
    let ctx = context();
    let st = style(&ctx, &image("style/starry_256.png"), 0);
    let content = picture("content/tubingen_256.png");
    let input = Buf::from_picture(&content, 4, UNISTYLE_U8, 0);
    let styles = [st.0 as *const _];
    let opts = stylize_opts(&styles, 0.6, &[3, 2, 1]);
    let full = Buf::new(256, 256, 3, UNISTYLE_F32, 0, 0);
    assert_eq!(unsafe { (a.stylize)(ctx.0, &input.desc, &opts, &full.desc) }, UNISTYLE_OK, "{}", last_error());
    let full = unistyle::Picture::from_planar(256, 256, full.rgb()).unwrap();
    for (w, h) in [(128, 128), (96, 64)] {
        let out = Buf::new(w, h, 3, UNISTYLE_F32, 0, 0);
        assert_eq!(unsafe { (a.preview)(ctx.0, &input.desc, &opts, &out.desc) }, UNISTYLE_OK, "{}", last_error());
        let reference = unistyle::pipeline::area_downsample(&full, w as usize, h as usize).unwrap();
        let p = psnr(&out.rgb(), &reference.rgb);
        // Stroke patterns are in pixels, so they do not line up sample by sample; the layout of
        // colour and tone does: compare at 32 px too, against the unstylized content as baseline.
        let down = |p: &unistyle::Picture| unistyle::pipeline::area_downsample(p, 32, 32).unwrap().rgb;
        let got = unistyle::Picture::from_planar(w as usize, h as usize, out.rgb()).unwrap();
        let coarse = psnr(&down(&got), &down(&reference));
        let small_content = unistyle::pipeline::area_downsample(&content, w as usize, h as usize).unwrap();
        let baseline = psnr(&small_content.rgb, &reference.rgb);
        let coarse_baseline = psnr(&down(&small_content), &down(&reference));
        println!(
            "preview {w}x{h} vs full run downscaled: {p:.2} dB, at 32 px {coarse:.2} dB \
             (content alone: {baseline:.2} dB, at 32 px {coarse_baseline:.2} dB)"
        );
        // The quality bound at half size; 96×64 (another aspect, a third of the size, so the
        // level-3 strokes cover much more of it) only has to be produced at its size.
        if w == 128 {
            assert!(p >= 16.0, "preview {w}x{h}: {p:.2} dB");
            assert!(coarse >= 21.0 && coarse >= coarse_baseline + 3.0, "preview {w}x{h} at 32 px: {coarse:.2} dB");
        }
    }
    // At the input's own size the preview is the full run, exactly.
    let same = Buf::new(256, 256, 3, UNISTYLE_F32, 0, 0);
    assert_eq!(unsafe { (a.preview)(ctx.0, &input.desc, &opts, &same.desc) }, UNISTYLE_OK, "{}", last_error());
    assert_eq!(same.rgb(), full.rgb);
    let j = job();
    unsafe { (a.job_cancel)(j.0) };
    let mut cancel = opts;
    cancel.job = j.0;
    let out = Buf::new(64, 64, 3, UNISTYLE_U8, 0, 5);
    assert_eq!(unsafe { (a.preview)(ctx.0, &input.desc, &cancel, &out.desc) }, UNISTYLE_ERR_CANCELLED);
    assert!(out.all(5));
}

/// The mode fields of `unistyle_stylize_options` (version 2): `_init_ex` defaults are plain
/// WCT; each mode gives the library's output; bad values are refused naming the field.
#[test]
fn modes_through_the_abi() {
    type InitEx = unsafe extern "C" fn(*mut UnistyleStylizeOptions, u32) -> c_int;
    let a = api();
    let init_ex: libloading::Symbol<InitEx> = unsafe { a.lib.get(b"unistyle_stylize_options_init_ex") }.unwrap();
    let ctx = context();
    let st = style(&ctx, &image("style/brick_256.png"), 96);
    let content = picture("content/face_odd.png").fit_within(64);
    let input = Buf::from_picture(&content, 3, UNISTYLE_F32, 0);
    let styles = [st.0 as *const _];
    let mut base = std::mem::MaybeUninit::<UnistyleStylizeOptions>::uninit();
    assert_eq!(
        unsafe { init_ex(base.as_mut_ptr(), std::mem::size_of::<UnistyleStylizeOptions>() as u32) },
        UNISTYLE_OK
    );
    let mut base = unsafe { base.assume_init() };
    assert_eq!(
        (base.patch_swap, base.transform, base.variation, base.stroke_scale, base.seed, base.photo),
        (0, UNISTYLE_TRANSFORM_WCT, 0.0, 1.0, 0, 0)
    );
    base.style_count = 1;
    base.styles = styles.as_ptr();
    let run = |o: &UnistyleStylizeOptions| -> Result<Vec<f32>, (c_int, String)> {
        let mut out = Buf::new(content.width as u32, content.height as u32, 3, UNISTYLE_F32, 0, 0);
        out.desc.data = out.bytes.as_mut_ptr().cast();
        match unsafe { (a.stylize)(ctx.0, &input.desc, o, &out.desc) } {
            UNISTYLE_OK => Ok(out.rgb()),
            code => Err((code, last_error())),
        }
    };
    // The library's own run of the same modes, with the style encoded as the handle was.
    let style_pic = picture("style/brick_256.png").fit_within(96);
    let library = |modes: unistyle::pipeline::Modes| {
        let levels = model().levels();
        let enc = unistyle::pipeline::StyleEncoding::for_job(&modes.stroke_scale, modes.patch_swap, &levels);
        let s = unistyle::EncodedStyle::encode_with(model(), &style_pic, &levels, &enc).unwrap();
        unistyle::Stylizer::builder(model())
            .style(&s)
            .modes(modes)
            .build()
            .unwrap()
            .run(&content, &mut unistyle::Silent)
            .unwrap()
            .rgb
            .into_iter()
            .map(|v| v.clamp(0.0, 1.0)) // the ABI clamps f32 output
            .collect::<Vec<f32>>()
    };
    use unistyle::pipeline::{Modes, TransformKind};
    let plain = run(&base).unwrap();
    let p = psnr(&plain, &library(Modes::default()));
    assert!(p > 60.0, "plain: ABI vs library {p:.1} dB");
    let with = |f: &dyn Fn(&mut UnistyleStylizeOptions)| {
        let mut o = base;
        f(&mut o);
        o
    };
    let d = Modes::default();
    for (name, o, m) in [
        ("patch_swap", with(&|o| o.patch_swap = 1), Modes { patch_swap: true, ..d.clone() }),
        ("ost", with(&|o| o.transform = UNISTYLE_TRANSFORM_OST), Modes { transform: TransformKind::Ost, ..d.clone() }),
        (
            "variation",
            with(&|o| {
                o.variation = 0.5;
                o.seed = 5;
            }),
            Modes { variation: 0.5, seed: 5, ..d.clone() },
        ),
        ("stroke_scale", with(&|o| o.stroke_scale = 2.0), Modes { stroke_scale: vec![2.0], ..d.clone() }),
        ("photo", with(&|o| o.photo = 1), Modes { photo: true, ..d.clone() }),
    ] {
        let got = run(&o).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(got != plain, "{name} changes the output");
        let p = psnr(&got, &library(m));
        println!("{name}: ABI vs library {p:.1} dB");
        assert!(p > 60.0, "{name}: ABI vs library {p:.1} dB");
    }
    for (o, field) in [
        (with(&|o| o.variation = 1.5), "variation"),
        (with(&|o| o.variation = f32::NAN), "variation"),
        (with(&|o| o.stroke_scale = 0.0), "stroke_scale"),
        (with(&|o| o.transform = 7), "transform"),
        (
            with(&|o| {
                o.patch_swap = 1;
                o.transform = UNISTYLE_TRANSFORM_OST;
            }),
            "transform",
        ),
    ] {
        let (code, msg) = run(&o).unwrap_err();
        assert_eq!(code, UNISTYLE_ERR_INVALID, "{msg}");
        assert!(msg.contains(field) && !msg.contains("--"), "{field}: {msg}");
    }
}

/// `unistyle_context_create` with a device this build or machine cannot open: an error
/// status with a one-line message naming the device, no context, no crash. A device that
/// does open here is left out.
#[test]
fn unavailable_devices_are_refused() {
    let weights = cstr(&relu3_weights());
    let mut refused = 0;
    for device in ["cuda", "cuda:99", "metal", "CUDA:1x"] {
        if unistyle::device::parse_device(device).is_ok() {
            println!("{device}: opens on this machine, not refused");
            continue;
        }
        let name = std::ffi::CString::new(device).unwrap();
        let mut ctx = null_mut();
        let st = unsafe { (api().context_create)(weights.as_ptr(), name.as_ptr(), &mut ctx) };
        let msg = last_error();
        assert_eq!(st, UNISTYLE_ERR_INVALID, "{device}: status {st}: {msg}");
        assert!(ctx.is_null(), "{device}: a context was returned");
        assert!(msg.contains("device") && msg.to_lowercase().contains(&device.to_lowercase()), "{device}: {msg}");
        assert!(!msg.contains('\n'), "{device}: message is not one line: {msg}");
        println!("{device}: {msg}");
        refused += 1;
    }
    assert!(refused >= 3, "cuda:99, CUDA:1x and one of cuda/metal are refused everywhere");
}
