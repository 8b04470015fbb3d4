//! Cancelling at every progress step: each job is run once to count its progress reports N,
//! then N more times, cancelling at report k = 0..N-1. Every cancelled run must fail with the
//! cancel error, report nothing after the cancel, leave the output untouched, and the next
//! normal run (same context, same styles) must give the uncancelled result bit for bit.
//! Through the library's `Progress`/`Control` (stylize with masks and three levels, tiled
//! stylize, texture) and through the C ABI (callback returning non-zero, and a job cancelled
//! from the callback, which the call sees at its next report; the cdylib loaded as a host
//! loads it).

mod common;

use std::ptr::null;

use common::abi::*;
use common::*;
use unistyle::capi::*;
use unistyle::{Control, EncodedStyle, Error, Mask, Picture, Progress, Silent, Stylizer, Texture};

fn bits(p: &Picture) -> Vec<u32> {
    p.rgb.iter().map(|v| v.to_bits()).collect()
}

/// Runs `run` uncancelled, then cancelled at every report; returns the number of reports.
fn every_cancel_point(name: &str, run: &dyn Fn(&mut dyn Progress) -> unistyle::Result<Picture>) -> usize {
    let t = std::time::Instant::now();
    let mut fractions = Vec::new();
    let reference = run(&mut |f: f32| {
        fractions.push(f);
        Control::Continue
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let n = fractions.len();
    assert!(n >= 4, "{name}: only {n} progress reports");
    assert_eq!(fractions[0], 0.0, "{name}: first report");
    assert_eq!(fractions[n - 1], 1.0, "{name}: last report");
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{name}: progress goes back: {fractions:?}");
    for k in 0..n {
        let mut calls = 0;
        let result = run(&mut |_f: f32| {
            calls += 1;
            if calls == k + 1 {
                Control::Cancel
            } else {
                Control::Continue
            }
        });
        assert!(matches!(result, Err(Error::Cancelled)), "{name}, cancel at report {k}: {:?}", result.map(|_| ()));
        assert_eq!(calls, k + 1, "{name}: progress reported after a cancel at report {k}");
        let again = run(&mut Silent).unwrap();
        assert!(
            bits(&again) == bits(&reference),
            "{name}: run after a cancel at report {k} differs from the uncancelled run"
        );
    }
    println!("{name}: {n} cancel points, {:.1} s", t.elapsed().as_secs_f64());
    n
}

struct Inputs {
    content: Picture,
    starry: EncodedStyle,
    brick: EncodedStyle,
    mask: Mask,
}

fn inputs() -> Inputs {
    let small = |rel: &str| picture(rel).fit_within(64);
    let m = model();
    Inputs {
        content: picture("content/face_odd.png").resized(72, 56),
        starry: EncodedStyle::encode(m, &small("style/starry_256.png"), &[1, 2, 3]).unwrap(),
        brick: EncodedStyle::encode(m, &small("style/brick_256.png"), &[1, 2, 3]).unwrap(),
        mask: Mask::load(&image("mask/mask_odd.png")).unwrap(),
    }
}

#[test]
fn library_jobs_cancel_at_every_step() {
    let m = model();
    let i = inputs();
    let stylize = |tile: usize, levels: &[usize]| {
        Stylizer::builder(m)
            .region(i.mask.clone(), &i.starry)
            .style(&i.brick)
            .feather(4.0)
            .levels(levels)
            .alpha(0.9)
            .tile_size(tile)
            .build()
            .unwrap()
    };
    let whole = stylize(4096, &[3, 2, 1]);
    let n = every_cancel_point("stylize, mask + 3 levels", &|p| whole.run(&i.content, p));
    // Feathering the mask reports (fraction 0) between its four blur passes.
    const FEATHER: usize = 4;
    // The network's layers report too (the cancel probe between layers, issue 22).
    assert!(
        n > 1 + FEATHER + 3 * 3,
        "one report at the start, four while feathering, per level two in the level and one after it, and the layers': {n}"
    );
    // Tiles of 40 pixels (with their halos) over 72×56: a 2×2 grid, two passes per level.
    let tiled = stylize(40, &[2, 1]);
    let n_tiled = every_cancel_point("tiled stylize, mask + 2 levels (tile 40)", &|p| tiled.run(&i.content, p));
    assert!(n_tiled > 1 + FEATHER + 2 * (2 * 4 + 1), "reports per tile and pass, and the layers': {n_tiled}");
    let texture = Texture::builder(m)
        .region(i.mask.clone(), &i.starry)
        .style(&i.brick)
        .size(40, 32)
        .levels([2, 1])
        .iterations(2)
        .seed(5)
        .tileable(true)
        .build()
        .unwrap();
    let n = every_cancel_point("texture, mask + 2 levels x 2 iterations", &|p| texture.run(p));
    assert!(n > 1 + 2 * 2 * 3, "{n}");
}

/// The C ABI: stylize with two styles, a mask, feathering and three levels; texture with two
/// iterations. Cancel by the callback's return value and by a job.
#[test]
fn abi_calls_cancel_at_every_step() {
    let a = api();
    let ctx = context();
    let starry = style(&ctx, &image("style/starry_256.png"), 64);
    let brick = style(&ctx, &image("style/brick_256.png"), 64);
    let styles = [starry.0 as *const UnistyleStyle, brick.0 as *const UnistyleStyle];
    let mask = Buf::from_picture(&picture("mask/mask_odd.png"), 1, UNISTYLE_U8, 5);
    let input = Buf::from_picture(&picture("content/face_odd.png").resized(72, 56), 3, UNISTYLE_U8, 5);
    const SENTINEL: u8 = 0xA5;
    let levels = [3u32, 2, 1];
    let mut so = stylize_opts(&styles, 0.9, &levels);
    so.mask_count = 1;
    so.masks = &mask.desc;
    so.feather = 4.0;
    let mut to = texture_opts(&styles);
    to.mask_count = 1;
    to.masks = &mask.desc;
    to.level_count = 2;
    to.levels = levels[1..].as_ptr();
    to.iterations = 2;
    to.seed = 9;
    to.tileable = 1;

    type Call<'a> = Box<dyn Fn(&Buf, Option<&mut Steps>, *const UnistyleJob) -> i32 + 'a>;
    let calls: Vec<(&str, Call)> = vec![
        (
            "unistyle_stylize",
            Box::new(|out: &Buf, steps: Option<&mut Steps>, job| {
                let mut o = so;
                (o.progress, o.progress_user_data) = Steps::hook(steps);
                o.job = job;
                unsafe { (a.stylize)(ctx.0, &input.desc, &o, &out.desc) }
            }),
        ),
        (
            "unistyle_texture",
            Box::new(|out: &Buf, steps: Option<&mut Steps>, job| {
                let mut o = to;
                (o.progress, o.progress_user_data) = Steps::hook(steps);
                o.job = job;
                unsafe { (a.texture)(ctx.0, &o, &out.desc) }
            }),
        ),
    ];
    for (name, call) in &calls {
        let (w, h) = (input.desc.width, input.desc.height);
        let reference = Buf::new(w, h, 4, UNISTYLE_U8, 5, SENTINEL);
        let mut steps = Steps::default();
        assert_eq!(call(&reference, Some(&mut steps), null()), UNISTYLE_OK, "{name}: {}", last_error());
        let n = steps.fractions.len();
        assert!(n >= 4 && steps.fractions[0] == 0.0 && steps.fractions[n - 1] == 1.0, "{name}: {:?}", steps.fractions);
        for k in 0..n {
            // The callback cancels at report k.
            let out = Buf::new(w, h, 4, UNISTYLE_U8, 5, SENTINEL);
            let mut s = Steps { cancel_at: Some(k), ..Default::default() };
            let status = call(&out, Some(&mut s), null());
            assert_eq!(status, UNISTYLE_ERR_CANCELLED, "{name}, callback cancels at report {k}: {}", last_error());
            assert!(last_error().starts_with(name) && last_error().contains("cancel"), "{name}: '{}'", last_error());
            assert_eq!(s.fractions.len(), k + 1, "{name}: reports after a cancel at {k}");
            assert!(out.all(SENTINEL), "{name}: a call cancelled at report {k} wrote its output");

            // A job cancelled during report k: the call stops at report k + 1.
            if k + 1 < n {
                let j = job();
                let mut s = Steps { cancel_at: Some(k), job: Some(j.0), ..Default::default() };
                let status = call(&out, Some(&mut s), j.0);
                assert_eq!(status, UNISTYLE_ERR_CANCELLED, "{name}, job cancelled at report {k}: {}", last_error());
                assert_eq!(s.fractions.len(), k + 1, "{name}: the callback ran after its job was cancelled");
                assert_eq!(unsafe { (a.job_progress)(j.0) }, steps.fractions[k + 1], "{name}: job progress");
                assert!(out.all(SENTINEL), "{name}: a job cancelled at report {k} wrote the output");
            }

            // The same context and styles then give the uncancelled result.
            let again = Buf::new(w, h, 4, UNISTYLE_U8, 5, SENTINEL);
            assert_eq!(call(&again, None, null()), UNISTYLE_OK, "{name}: {}", last_error());
            assert!(again.bytes == reference.bytes, "{name}: result after a cancel at report {k} differs");
        }
        // A cancelled job stays cancelled (unistyle.h): reused, it stops the call at once.
        let j = job();
        unsafe { (a.job_cancel)(j.0) };
        let out = Buf::new(w, h, 4, UNISTYLE_U8, 5, SENTINEL);
        let mut s = Steps::default();
        assert_eq!(call(&out, Some(&mut s), j.0), UNISTYLE_ERR_CANCELLED, "{name}: {}", last_error());
        assert!(s.fractions.is_empty() && out.all(SENTINEL), "{name}: a call with a cancelled job ran");
        println!("{name}: {n} cancel points (callback), {} (job)", n - 1);
    }
}
