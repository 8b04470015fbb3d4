//! Threads: what `unistyle.h` promises ("a context and its styles are immutable after
//! creation: they may be shared by several threads, also concurrently"; the last error is per
//! thread) and what the library's types allow (`Stylizer`, `Texture`, `EncodedStyle` shared
//! by reference). Every threaded result must equal the single-threaded one bit for bit.

mod common;

use std::ffi::CString;
use std::ptr::{null, null_mut};
use std::sync::Barrier;

use common::abi::*;
use common::*;
use unistyle::capi::*;
use unistyle::{EncodedStyle, Mask, Picture, Silent, Stylizer, Texture};

const THREADS: usize = 4;

/// Runs `work` on `THREADS` threads at once: each makes its own state with `setup`, then all
/// wait for each other (a barrier) and start `work` together. Their results, in thread order.
fn at_once_after<S, T: Send>(setup: impl Fn() -> S + Sync, work: impl Fn(S) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    let state = setup();
                    barrier.wait();
                    work(state)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// As [`at_once_after`], without a state of each thread's own.
fn at_once<T: Send>(work: impl Fn() -> T + Sync) -> Vec<T> {
    at_once_after(|| (), |()| work())
}

/// One context's worth of work through the C ABI: a stylization with two styles, a mask,
/// feathering and three levels, and a two-iteration texture; returns both outputs.
fn abi_work(ctx: &Ctx, starry: &Style, brick: &Style) -> (Vec<u8>, Vec<u8>) {
    let a = api();
    let styles = [starry.0 as *const UnistyleStyle, brick.0 as *const UnistyleStyle];
    let mask = Buf::from_picture(&picture("mask/mask_odd.png"), 1, UNISTYLE_U8, 5);
    let input = Buf::from_picture(&picture("content/face_odd.png").resized(80, 60), 3, UNISTYLE_U8, 5);
    let levels = [3u32, 2, 1];
    let mut o = stylize_opts(&styles, 0.8, &levels);
    o.mask_count = 1;
    o.masks = &mask.desc;
    o.feather = 5.0;
    let out = Buf::new(80, 60, 3, UNISTYLE_U8, 5, 0);
    assert_eq!(unsafe { (a.stylize)(ctx.0, &input.desc, &o, &out.desc) }, UNISTYLE_OK, "{}", last_error());
    let mut t = texture_opts(&styles);
    let weights = [0.3f32, 0.7];
    t.weights = weights.as_ptr();
    t.iterations = 2;
    t.seed = 21;
    let tex = Buf::new(48, 40, 4, UNISTYLE_U8, 5, 0);
    assert_eq!(unsafe { (a.texture)(ctx.0, &t, &tex.desc) }, UNISTYLE_OK, "{}", last_error());
    (out.bytes, tex.bytes)
}

fn styles_for(ctx: &Ctx) -> (Style, Style) {
    (style(ctx, &image("style/starry_256.png"), 96), style(ctx, &image("style/brick_256.png"), 96))
}

#[test]
fn abi_contexts_per_thread_shared_and_handed_over() {
    let t0 = std::time::Instant::now();
    let ctx = context();
    let (starry, brick) = styles_for(&ctx);
    let single = abi_work(&ctx, &starry, &brick);

    // N threads, each with its own context and styles, all at once.
    let own = at_once_after(
        || {
            let ctx = context();
            let (a, b) = styles_for(&ctx);
            (ctx, a, b)
        },
        |(ctx, a, b)| {
            let r = abi_work(&ctx, &a, &b);
            drop((a, b));
            r
        },
    );
    for r in own {
        assert!(r == single, "a thread with its own context got another result");
    }

    // One context and its styles used by N threads concurrently (documented as allowed),
    // two jobs each.
    for r in at_once(|| [abi_work(&ctx, &starry, &brick), abi_work(&ctx, &starry, &brick)]).into_iter().flatten() {
        assert!(r == single, "a thread sharing the context got another result");
    }

    // One context handed from thread to thread: created on one, its styles on a second,
    // used on a third and a fourth, destroyed on a fifth.
    let ctx2 = std::thread::spawn(context).join().unwrap();
    let (ctx2, (a, b)) = std::thread::spawn(move || {
        let s = styles_for(&ctx2);
        (ctx2, s)
    })
    .join()
    .unwrap();
    for _ in 0..2 {
        let (c, x, y) = (&ctx2, &a, &b);
        let r = std::thread::scope(|s| s.spawn(|| abi_work(c, x, y)).join().unwrap());
        assert!(r == single, "a context handed over between threads got another result");
    }
    std::thread::spawn(move || drop((a, b, ctx2))).join().unwrap();
    println!(
        "C ABI: {THREADS} threads with own contexts, {THREADS} threads sharing one context (2 jobs each), one context over 5 threads: identical; {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

#[test]
fn abi_last_error_is_per_thread() {
    let ctx = context();
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for i in 0..THREADS {
            let (ctx, barrier) = (&ctx, &barrier);
            s.spawn(move || {
                let path = CString::new(format!("/no/such/style-of-thread-{i}.png")).unwrap();
                for round in 0..50 {
                    barrier.wait();
                    let mut out = null_mut();
                    let st = unsafe { (api().style_from_file)(ctx.0, path.as_ptr(), 0, &mut out) };
                    assert_eq!(st, UNISTYLE_ERR_IO);
                    barrier.wait(); // every thread has failed its call before any reads its message
                    let msg = last_error();
                    assert!(msg.contains(&format!("style-of-thread-{i}.png")), "thread {i}, round {round}: '{msg}'");
                    if round % 2 == 1 {
                        // A success on this thread leaves its last error alone.
                        assert_eq!(unsafe { (api().stylize_init)(&mut stylize_options()) }, UNISTYLE_OK);
                        assert_eq!(last_error(), msg);
                    }
                }
            });
        }
    });
    assert_eq!(unsafe { (api().context_levels)(null(), null_mut(), 0, null_mut()) }, UNISTYLE_ERR_NULL);
    assert!(last_error().starts_with("unistyle_context_levels"), "{}", last_error());
}

/// Loads `preset` on `ctx` and runs it as a stylization and as a texture.
fn preset_work(ctx: &Ctx, preset: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    let a = api();
    let mut p = null_mut();
    assert_eq!(unsafe { (a.preset_load)(ctx.0, cstr(preset).as_ptr(), &mut p) }, UNISTYLE_OK, "{}", last_error());
    let input = Buf::from_picture(&picture("content/face_odd.png").resized(64, 48), 3, UNISTYLE_U8, 5);
    let out = Buf::new(64, 48, 3, UNISTYLE_U8, 5, 0);
    let st = unsafe { (a.stylize_preset)(ctx.0, p, &input.desc, &out.desc, None, null_mut(), null()) };
    assert_eq!(st, UNISTYLE_OK, "{}", last_error());
    let tex = Buf::new(40, 32, 3, UNISTYLE_U8, 5, 0);
    let st = unsafe { (a.texture_preset)(ctx.0, p, &tex.desc, None, null_mut(), null()) };
    assert_eq!(st, UNISTYLE_OK, "{}", last_error());
    unsafe { (a.preset_destroy)(p) };
    (out.bytes, tex.bytes)
}

#[test]
fn abi_presets_loaded_by_threads_at_once() {
    // Threads load one preset at the same time on one context: its style cache (beside the
    // preset) is missing, so they all encode and write the same entries at once.
    let ctx = context();
    let text = format!(
        "version = 1\nstyle = [\"{}\", \"{}\"]\nmask = \"{}\"\nfeather = 4\nstyle_size = 64\nalpha = 0.8\n\
         [texture]\nseed = 3\niterations = 2\ntileable = true\n",
        s(&image("style/starry_256.png")),
        s(&image("style/brick_256.png")),
        s(&image("mask/mask_odd.png"))
    );
    let (shared, alone) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for d in [&shared, &alone] {
        std::fs::write(d.path().join("p.toml"), &text).unwrap();
    }
    let single = preset_work(&ctx, &alone.path().join("p.toml"));
    let preset = shared.path().join("p.toml");
    for r in at_once(|| preset_work(&ctx, &preset)) {
        assert!(r == single, "a preset loaded on a thread (cold cache) differs");
    }
    // Then from the entries they wrote.
    assert!(preset_work(&ctx, &preset) == single, "a preset loaded from the style cache differs");
    let mut entries: Vec<String> = std::fs::read_dir(shared.path().join(".unistyle-cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "CACHEDIR.TAG")
        .collect();
    entries.sort();
    assert_eq!(entries.len(), 2, "one cache entry per style, no temporary files left: {entries:?}");
}

fn bits(p: &Picture) -> Vec<u32> {
    p.rgb.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn library_stylizer_and_texture_shared_by_threads() {
    let t0 = std::time::Instant::now();
    let m = model();
    let small = |rel: &str| picture(rel).fit_within(96);
    let starry = EncodedStyle::encode(m, &small("style/starry_256.png"), &[1, 2, 3]).unwrap();
    let brick = EncodedStyle::encode(m, &small("style/brick_256.png"), &[1, 2, 3]).unwrap();
    let mask = Mask::load(&image("mask/mask_odd.png")).unwrap();
    let content = picture("content/face_odd.png").resized(80, 60);
    let stylizer =
        Stylizer::builder(m).region(mask.clone(), &starry).style(&brick).feather(5.0).alpha(0.8).build().unwrap();
    let tiled = Stylizer::builder(m)
        .region(mask.clone(), &starry)
        .style(&brick)
        .feather(5.0)
        .alpha(0.8)
        .tile_size(40)
        .build()
        .unwrap();
    let texture = Texture::builder(m)
        .weighted_style(&starry, 0.3)
        .weighted_style(&brick, 0.7)
        .size(48, 40)
        .iterations(2)
        .seed(21)
        .build()
        .unwrap();
    let run_all = || {
        [
            bits(&stylizer.run(&content, &mut Silent).unwrap()),
            bits(&tiled.run(&content, &mut Silent).unwrap()),
            bits(&texture.run(&mut Silent).unwrap()),
        ]
    };
    let single = run_all();
    // Encoding the same style on several threads at once gives the same statistics.
    let encoded: Vec<EncodedStyle> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..THREADS)
            .map(|_| s.spawn(|| EncodedStyle::encode(m, &small("style/starry_256.png"), &[1, 2, 3]).unwrap()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for e in &encoded {
        let with = Stylizer::builder(m).region(mask.clone(), e).style(&brick).feather(5.0).alpha(0.8).build().unwrap();
        assert!(
            bits(&with.run(&content, &mut Silent).unwrap()) == single[0],
            "a style encoded on another thread differs"
        );
    }
    for r in at_once(run_all) {
        for (k, what) in ["stylize", "tiled stylize", "texture"].iter().enumerate() {
            assert!(r[k] == single[k], "{what} on a thread sharing the Stylizer differs from the single-threaded run");
        }
    }
    println!("library: Stylizer (whole, tiled) and Texture shared by {THREADS} threads, style encoded on {THREADS} threads: identical; {:.1} s", t0.elapsed().as_secs_f64());
}
