//! Animation: the library's `Clip`, `unistyle frames` and the C ABI's `unistyle_clip_*`.
//! Stability 0 must reproduce single-image stylization bit for bit; a stabilized clip must
//! flicker less than independent frames; every option applies per frame; cancel, bad
//! arguments and failed runs leave nothing half-done.

mod common;

use std::ffi::c_int;
use std::path::Path;
use std::ptr::{null, null_mut};

use common::abi::*;
use common::*;
use libloading::Symbol;
use unistyle::capi::*;
use unistyle::{image_io, Clip, Control, EncodedStyle, Error, Mask, Picture, Silent, Stylizer};

const SIDE: usize = 96;

/// `count` frames of a window panning across the 512 photo by (5, 2) per frame.
fn pan(count: usize) -> Vec<Picture> {
    let photo = picture("content/tubingen_512.png");
    (0..count).map(|t| crop(&photo, 100 + 5 * t, 120 + 2 * t, SIDE, SIDE)).collect()
}

fn crop(p: &Picture, x0: usize, y0: usize, w: usize, h: usize) -> Picture {
    let n = p.width * p.height;
    let rgb = (0..3)
        .flat_map(|c| (0..h).flat_map(move |y| (0..w).map(move |x| (c, x, y))))
        .map(|(c, x, y)| p.rgb[c * n + (y0 + y) * p.width + x0 + x])
        .collect();
    Picture::from_planar(w, h, rgb).unwrap()
}

/// The same still frame with fresh noise each time.
fn noisy(count: usize) -> Vec<Picture> {
    let still = crop(&picture("content/tubingen_512.png"), 200, 200, SIDE, SIDE);
    let mut s = 12345u64;
    (0..count)
        .map(|_| {
            let mut p = still.clone();
            for v in p.rgb.iter_mut() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                *v = (*v + 0.08 * (((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5)).clamp(0.0, 1.0);
            }
            p
        })
        .collect()
}

fn bits(p: &Picture) -> Vec<u32> {
    p.rgb.iter().map(|v| v.to_bits()).collect()
}

fn mean_step(results: &[Picture]) -> f64 {
    let d: Vec<f64> = results
        .windows(2)
        .map(|w| w[0].rgb.iter().zip(&w[1].rgb).map(|(a, b)| (a - b).abs() as f64).sum::<f64>() / w[0].rgb.len() as f64)
        .collect();
    d.iter().sum::<f64>() / d.len() as f64
}

fn starry() -> EncodedStyle {
    style3("style/starry_256.png")
}

#[test]
fn stability_zero_is_bit_exact_with_stylize_for_every_option() {
    let model = model();
    let (a, b) = (starry(), style3("style/strokes_256.png"));
    let mask = Mask::load(&image("mask/mask_odd.png")).unwrap();
    let frames = pan(3);
    let builders: Vec<(&str, Stylizer)> = vec![
        ("plain", Stylizer::builder(model).style(&a).alpha(0.6).build().unwrap()),
        (
            "masks, feather, preserve colour, level alpha",
            Stylizer::builder(model)
                .place(&[&a, &b], None, vec![mask.clone()])
                .unwrap()
                .feather(4.0)
                .preserve_color(true)
                .levels(vec![3, 1])
                .level_alpha(1, 0.5)
                .build()
                .unwrap(),
        ),
        (
            "ost, variation, photo, bf16",
            Stylizer::builder(model)
                .style(&a)
                .modes(unistyle::pipeline::Modes {
                    transform: unistyle::pipeline::TransformKind::Ost,
                    variation: 0.4,
                    seed: 9,
                    photo: true,
                    ..Default::default()
                })
                .precision(unistyle::Precision::Bf16)
                .build()
                .unwrap(),
        ),
    ];
    for (what, st) in builders {
        let mut clip = Clip::new(st.clone(), 0.0).unwrap();
        for f in &frames {
            let single = st.run(f, &mut Silent).unwrap();
            assert_eq!(bits(&clip.push(f, &mut Silent).unwrap()), bits(&single), "{what}");
        }
        assert_eq!(clip.frames(), 3);
    }
}

#[test]
fn stabilized_clip_flickers_less_and_keeps_every_option() {
    let model = model();
    let a = starry();
    let frames = noisy(5);
    let st = Stylizer::builder(model).style(&a).alpha(0.8).preserve_color(true).build().unwrap();
    let independent: Vec<Picture> = frames.iter().map(|f| st.run(f, &mut Silent).unwrap()).collect();
    let mut clip = Clip::new(st.clone(), 0.6).unwrap();
    let stable: Vec<Picture> = frames.iter().map(|f| clip.push(f, &mut Silent).unwrap()).collect();
    let (ei, es) = (mean_step(&independent), mean_step(&stable));
    println!("noisy still clip: consecutive difference {ei:.5} independent, {es:.5} stabilized");
    assert!(es < 0.6 * ei, "stabilized {es} vs independent {ei}");
    assert!(stable.iter().all(|p| p.rgb.iter().all(|v| v.is_finite())));
    // The first frame has no past: the carry does not touch it, only the regularised
    // statistics do, so it stays close to the single-image result.
    assert!(psnr(&stable[0].rgb, &independent[0].rgb) > 30.0);
    assert_eq!(clip.scene_cuts(), 0);
}

#[test]
fn a_cancelled_frame_leaves_the_clip_as_it_was() {
    let model = model();
    let a = starry();
    let frames = pan(2);
    let st = Stylizer::builder(model).style(&a).build().unwrap();
    let mut reference = Clip::new(st.clone(), 0.7).unwrap();
    let want: Vec<Picture> = frames.iter().map(|f| reference.push(f, &mut Silent).unwrap()).collect();

    let mut clip = Clip::new(st, 0.7).unwrap();
    clip.push(&frames[0], &mut Silent).unwrap();
    let mut calls = 0;
    let mut cancel_late = |_f: f32| {
        calls += 1;
        if calls > 4 {
            Control::Cancel
        } else {
            Control::Continue
        }
    };
    assert!(matches!(clip.push(&frames[1], &mut cancel_late), Err(Error::Cancelled)));
    assert_eq!(clip.frames(), 1);
    assert_eq!(bits(&clip.push(&frames[1], &mut Silent).unwrap()), bits(&want[1]));
    assert!(Clip::new(Stylizer::builder(model).style(&a).build().unwrap(), 1.5).is_err());
}

fn write_frames(dir: &Path, frames: &[Picture], names: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for (f, n) in frames.iter().zip(names) {
        image_io::save_picture(f, &dir.join(n)).unwrap();
    }
}

#[test]
fn cli_frames_natural_order_stability_zero_and_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in");
    // Natural order is f1, f2, f10 (plain text order would put f10 second).
    let names = ["f1.png", "f2.png", "f10.png"];
    write_frames(&src, &pan(3), &names);
    let style = image("style/starry_256.png");
    let weights = relu3_weights();
    let common = |c: Cli| c.style(&style).weights(&weights).alpha(0.7).quiet().no_cache();

    // Stability 0: each frame byte-identical to `stylize`.
    let out0 = tmp.path().join("out0");
    let pattern = format!("{}/*.png", src.display());
    common(Cli::frames().flag("in", &pattern).out(&out0).flag("stability", 0)).run_ok();
    for n in names {
        let single = tmp.path().join(format!("single_{n}"));
        let content = src.join(n);
        common(Cli::stylize().content(&content).out(&single)).run_ok();
        assert_eq!(std::fs::read(out0.join(n)).unwrap(), std::fs::read(&single).unwrap(), "{n}");
    }

    // Default stability, folder input: the library's clip in natural order, byte for byte.
    let out = tmp.path().join("out");
    common(Cli::frames().file("in", &src).out(&out)).run_ok();
    let a = starry();
    let st = Stylizer::builder(model()).style(&a).alpha(0.7).build().unwrap();
    let mut clip = Clip::new(st, unistyle::pipeline::DEFAULT_STABILITY).unwrap();
    for n in names {
        let frame = image_io::load_picture(&src.join(n), "frame").unwrap();
        let want = tmp.path().join(format!("lib_{n}"));
        image_io::save_picture(&clip.push(&frame, &mut Silent).unwrap(), &want).unwrap();
        assert_eq!(std::fs::read(out.join(n)).unwrap(), std::fs::read(&want).unwrap(), "{n}");
    }

    // A preset is accepted, with flags over it.
    std::fs::write(
        tmp.path().join("look.toml"),
        "version = 1\nname = \"look\"\nstyle = \"starry_256.png\"\nalpha = 0.5\n",
    )
    .unwrap();
    let outp = tmp.path().join("outp");
    let preset = tmp.path().join("look.toml");
    let res = Cli::frames()
        .file("in", &src)
        .out(&outp)
        .preset(&preset)
        .weights(&weights)
        .levels("3,2")
        .quiet()
        .no_cache()
        .command_line()
        .env("UNISTYLE_STYLE_PATH", image("style"))
        .output()
        .unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    assert_eq!(std::fs::read_dir(&outp).unwrap().count(), 3);

    // Refused before anything runs: a bad stability, an output folder that is the input.
    let never = tmp.path().join("never");
    for (bad, want) in [(vec!["--stability", "1.5"], "stability"), (vec!["--out", s(&src)], "input")] {
        let mut args = Cli::frames().file("in", &src);
        if bad[0] != "--out" {
            args = args.out(&never);
        }
        let res = common(args.args_from(&bad)).run();
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(!res.status.success() && err.contains(want), "{err}");
    }
    assert!(!never.exists());

    // A frame that cannot be read stops the run: the frames before it are complete, nothing
    // partial is left.
    let broken = tmp.path().join("broken");
    write_frames(&broken, &pan(1), &["a1.png"]);
    std::fs::write(broken.join("a2.png"), b"not a png").unwrap();
    let outb = tmp.path().join("outb");
    assert!(!common(Cli::frames().file("in", &broken).out(&outb)).run().status.success());
    let left: Vec<String> =
        std::fs::read_dir(&outb).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left, ["a1.png"]);
    image_io::load_picture(&outb.join("a1.png"), "frame").unwrap();
}

type ClipNew = unsafe extern "C" fn(
    *const UnistyleContext,
    *const UnistyleStylizeOptions,
    *const UnistyleClipOptions,
    *mut *mut UnistyleClip,
) -> c_int;
type ClipNewPreset = unsafe extern "C" fn(
    *const UnistyleContext,
    *const UnistylePreset,
    *const UnistyleClipOptions,
    *mut *mut UnistyleClip,
) -> c_int;
type ClipPush = unsafe extern "C" fn(
    *mut UnistyleClip,
    *const UnistyleImage,
    *const UnistyleImage,
    *const UnistyleRunOptions,
) -> c_int;

struct ClipApi {
    init: Symbol<'static, unsafe extern "C" fn(*mut UnistyleClipOptions, u32) -> c_int>,
    new: Symbol<'static, ClipNew>,
    new_preset: Symbol<'static, ClipNewPreset>,
    push: Symbol<'static, ClipPush>,
    frames: Symbol<'static, unsafe extern "C" fn(*const UnistyleClip) -> u64>,
    free: Symbol<'static, unsafe extern "C" fn(*mut UnistyleClip)>,
}

fn clip_api() -> ClipApi {
    let lib = api().lib;
    unsafe {
        ClipApi {
            init: lib.get(b"unistyle_clip_options_init").unwrap(),
            new: lib.get(b"unistyle_clip_new").unwrap(),
            new_preset: lib.get(b"unistyle_clip_new_preset").unwrap(),
            push: lib.get(b"unistyle_clip_push_frame").unwrap(),
            frames: lib.get(b"unistyle_clip_frames").unwrap(),
            free: lib.get(b"unistyle_clip_free").unwrap(),
        }
    }
}

fn clip_options(c: &ClipApi, stability: f32) -> UnistyleClipOptions {
    let mut o = std::mem::MaybeUninit::<UnistyleClipOptions>::zeroed();
    assert_eq!(unsafe { (c.init)(o.as_mut_ptr(), std::mem::size_of::<UnistyleClipOptions>() as u32) }, UNISTYLE_OK);
    let mut o = unsafe { o.assume_init() };
    assert_eq!(o.stability, unistyle::pipeline::DEFAULT_STABILITY as f32);
    o.stability = stability;
    o
}

#[test]
fn c_abi_clip_matches_the_library_and_honours_cancel() {
    let c = clip_api();
    let ctx = context();
    let st = style(&ctx, &image("style/starry_256.png"), 0);
    let styles = [st.0 as *const _];
    let opts = stylize_opts(&styles, 0.7, &[]);
    let frames = pan(3);
    let a = starry();
    for stability in [0.0f32, 0.6] {
        let co = clip_options(&c, stability);
        let mut clip = null_mut();
        assert_eq!(unsafe { (c.new)(ctx.0, &opts, &co, &mut clip) }, UNISTYLE_OK, "{}", last_error());
        let lib_st = Stylizer::builder(model()).style(&a).alpha(0.7).build().unwrap();
        let mut lib_clip = Clip::new(lib_st.clone(), stability as f64).unwrap();
        for f in &frames {
            let input = Buf::from_picture(f, 3, UNISTYLE_F32, 0);
            let output = Buf::new(SIDE as u32, SIDE as u32, 3, UNISTYLE_F32, 0, 0);
            assert_eq!(unsafe { (c.push)(clip, &input.desc, &output.desc, null()) }, UNISTYLE_OK, "{}", last_error());
            let want: Vec<f32> = lib_clip.push(f, &mut Silent).unwrap().rgb.iter().map(|v| v.clamp(0.0, 1.0)).collect();
            let got = output.rgb();
            let p = psnr(&got, &want);
            let max = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            println!("stability {stability}: C clip vs library clip {p:.1} dB, max difference {max:e}");
            assert!(p >= 60.0, "stability {stability}: C clip vs library clip {p:.1} dB");
            if stability == 0.0 {
                let single = Buf::new(SIDE as u32, SIDE as u32, 3, UNISTYLE_F32, 0, 0);
                assert_eq!(unsafe { (api().stylize)(ctx.0, &input.desc, &opts, &single.desc) }, UNISTYLE_OK);
                assert!(output.bytes == single.bytes, "stability 0 is unistyle_stylize, bit for bit");
            }
        }
        assert_eq!(unsafe { (c.frames)(clip) }, 3);

        // Cancel through a job: nothing written, the clip unchanged.
        let j = job();
        unsafe { (api().job_cancel)(j.0) };
        let mut run = std::mem::MaybeUninit::<UnistyleRunOptions>::zeroed();
        assert_eq!(unsafe { (api().run_init)(run.as_mut_ptr(), std::mem::size_of::<UnistyleRunOptions>() as u32) }, 0);
        let mut run = unsafe { run.assume_init() };
        run.job = j.0;
        let input = Buf::from_picture(&frames[0], 4, UNISTYLE_U8, 0);
        let output = Buf::new(SIDE as u32, SIDE as u32, 4, UNISTYLE_U8, 0, 77);
        assert_eq!(unsafe { (c.push)(clip, &input.desc, &output.desc, &run) }, UNISTYLE_ERR_CANCELLED);
        assert!(output.all(77));
        assert_eq!(unsafe { (c.frames)(clip) }, 3);
        unsafe { (c.free)(clip) };
    }

    // Misuse is reported, not crashed on.
    let mut clip = null_mut();
    let bad = clip_options(&c, 2.0);
    assert_eq!(unsafe { (c.new)(ctx.0, &opts, &bad, &mut clip) }, UNISTYLE_ERR_INVALID);
    assert!(clip.is_null());
    assert_eq!(unsafe { (c.new)(null(), &opts, null(), &mut clip) }, UNISTYLE_ERR_NULL);
    assert_eq!(unsafe { (c.new)(ctx.0, &opts, null(), null_mut()) }, UNISTYLE_ERR_NULL);
    let input = Buf::from_picture(&frames[0], 3, UNISTYLE_U8, 0);
    assert_eq!(unsafe { (c.push)(null_mut(), &input.desc, &input.desc, null()) }, UNISTYLE_ERR_NULL);
    unsafe { (c.free)(null_mut()) };
    assert_eq!(unsafe { (c.frames)(null()) }, 0);
    let mut small = std::mem::MaybeUninit::<UnistyleClipOptions>::zeroed();
    assert_eq!(unsafe { (c.init)(small.as_mut_ptr(), 2) }, UNISTYLE_ERR_VERSION);

    // A preset clip: the styles are the preset's, the preset may go before the clip.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("look.toml");
    std::fs::write(&path, "version = 1\nname = \"look\"\nstyle = \"starry_256.png\"\nalpha = 0.7\n").unwrap();
    std::env::set_var("UNISTYLE_STYLE_PATH", image("style"));
    let mut preset = null_mut();
    assert_eq!(
        unsafe { (api().preset_load)(ctx.0, cstr(&path).as_ptr(), &mut preset) },
        UNISTYLE_OK,
        "{}",
        last_error()
    );
    let co = clip_options(&c, 0.0);
    assert_eq!(unsafe { (c.new_preset)(ctx.0, preset, &co, &mut clip) }, UNISTYLE_OK, "{}", last_error());
    unsafe { (api().preset_destroy)(preset) };
    let input = Buf::from_picture(&frames[1], 3, UNISTYLE_F32, 0);
    let output = Buf::new(SIDE as u32, SIDE as u32, 3, UNISTYLE_F32, 0, 0);
    assert_eq!(unsafe { (c.push)(clip, &input.desc, &output.desc, null()) }, UNISTYLE_OK, "{}", last_error());
    let single = Buf::new(SIDE as u32, SIDE as u32, 3, UNISTYLE_F32, 0, 0);
    assert_eq!(unsafe { (api().stylize)(ctx.0, &input.desc, &opts, &single.desc) }, UNISTYLE_OK);
    let p = psnr(&output.rgb(), &single.rgb());
    assert!(p >= 60.0, "the preset's look is the options' look: {p:.1} dB");
    unsafe { (c.free)(clip) };
}
