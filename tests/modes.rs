//! The modes beyond plain WCT (issue 17): each mode's invariant with the real level 1–3
//! weights, determinism, the command line and presets, and bad parameters refused before
//! anything heavy runs. (The C ABI's mode fields are tested in tests/capi.rs.)

mod common;

use std::path::Path;

use common::*;
use unistyle::pipeline::{Modes, StyleEncoding, TransformKind};
use unistyle::transform::{Affine, MapOptions, Stats, WeightedStyle};
use unistyle::{Device, EncodedStyle, Picture, Silent, Stylizer};

fn small(rel: &str, side: usize) -> Picture {
    picture(rel).fit_within(side)
}

fn run(content: &Picture, style: &EncodedStyle, levels: &[usize], alpha: f64, modes: Modes) -> Picture {
    Stylizer::builder(model())
        .style(style)
        .levels(levels.to_vec())
        .alpha(alpha)
        .modes(modes)
        .build()
        .unwrap()
        .run(content, &mut Silent)
        .unwrap()
}

fn encode(p: &Picture, levels: &[usize], modes: &Modes) -> EncodedStyle {
    let enc = StyleEncoding::for_job(&modes.stroke_scale, modes.patch_swap, levels);
    EncodedStyle::encode_with(model(), p, levels, &enc).unwrap()
}

#[test]
fn patch_swap_with_the_content_as_style_is_a_reconstruction() {
    let content = small("content/tubingen_256.png", 96);
    let modes = Modes { patch_swap: true, ..Modes::default() };
    let style = encode(&content, &[3], &modes);
    let reconstruction = run(&content, &style, &[3], 0.0, Modes::default());
    let swapped = run(&content, &style, &[3], 1.0, modes);
    let p = psnr(&swapped.rgb, &reconstruction.rgb);
    assert!(p > 30.0, "patch swap of the content with itself vs reconstruction: {p:.1} dB");
    // With another style the swap changes the picture.
    let other = encode(&small("style/brick_256.png", 96), &[3], &Modes { patch_swap: true, ..Modes::default() });
    let p = psnr(
        &run(&content, &other, &[3], 1.0, Modes { patch_swap: true, ..Modes::default() }).rgb,
        &reconstruction.rgb,
    );
    assert!(p < 20.0, "a brick patch swap stays close to the content ({p:.1} dB)");
}

#[test]
fn ost_with_identical_gaussians_is_the_identity() {
    let content = small("content/face_odd.png", 96);
    let style = encode(&content, &[3, 2, 1], &Modes::default());
    let ost = Modes { transform: TransformKind::Ost, ..Modes::default() };
    // One level: further levels would re-encode a decoded image, whose Gaussian is no longer
    // the content's.
    let reconstruction = run(&content, &style, &[3], 0.0, Modes::default());
    let p = psnr(&run(&content, &style, &[3], 1.0, ost.clone()).rgb, &reconstruction.rgb);
    assert!(p > 40.0, "OST of the content onto itself vs reconstruction: {p:.1} dB");
    // OST moves the content's relu3_1 features less than WCT does (same target Gaussian).
    let f = features3(&content);
    let starry = style3("style/starry_256.png");
    let (cs, ss) = (Stats::of(&f).unwrap(), starry.stats(3).unwrap());
    let moved = |kind| {
        let options = MapOptions { kind, ..MapOptions::default() };
        let a = Affine::new(&cs, &[WeightedStyle { stats: ss, weight: 1.0 }], 1.0, &options, &Device::Cpu).unwrap();
        let d: f32 = (a.apply(&f).unwrap() - &f).unwrap().sqr().unwrap().sum_all().unwrap().to_scalar().unwrap();
        d.sqrt()
    };
    let (o, w) = (moved(TransformKind::Ost), moved(TransformKind::Wct));
    assert!(o < w, "OST moves the features by {o}, WCT by {w}");
}

/// relu3_1 features of a picture as `[C, N]`.
fn features3(p: &Picture) -> candle_core::Tensor {
    let f = model().encode(&p.to_tensor(&Device::Cpu).unwrap(), 3, unistyle::Border::Reflect).unwrap().swap_remove(2);
    let (_, c, h, w) = f.dims4().unwrap();
    f.reshape((c, h * w)).unwrap()
}

#[test]
fn variation_zero_is_plain_wct_and_seeds_are_reproducible() {
    let content = small("content/tubingen_256.png", 80);
    let style = style3("style/starry_256.png");
    let plain = run(&content, &style, &[3, 2, 1], 1.0, Modes::default());
    let zero = run(&content, &style, &[3, 2, 1], 1.0, Modes { variation: 0.0, seed: 99, ..Modes::default() });
    assert!(plain.rgb == zero.rgb, "variation 0 is plain WCT, bit for bit");
    let v = |seed| run(&content, &style, &[3, 2, 1], 1.0, Modes { variation: 0.5, seed, ..Modes::default() });
    let (a, b, c) = (v(7), v(7), v(8));
    assert!(a.rgb == b.rgb, "the same seed gives bit-identical output");
    assert!(psnr(&a.rgb, &c.rgb) < 30.0, "another seed gives another variation");
    assert!(psnr(&a.rgb, &plain.rgb) < 30.0, "a variation differs from plain WCT");
}

/// Pearson correlation of the luminance gradient magnitudes of two same-sized pictures.
fn edge_agreement(a: &Picture, b: &Picture) -> f64 {
    let grad = |p: &Picture| -> Vec<f64> {
        let (w, h) = (p.width, p.height);
        let n = w * h;
        let lum = |x: usize, y: usize| (0..3).map(|c| p.rgb[c * n + y * w + x] as f64).sum::<f64>() / 3.0;
        let mut g = Vec::with_capacity(n);
        for y in 0..h - 1 {
            for x in 0..w - 1 {
                let (dx, dy) = (lum(x + 1, y) - lum(x, y), lum(x, y + 1) - lum(x, y));
                g.push((dx * dx + dy * dy).sqrt());
            }
        }
        g
    };
    let (ga, gb) = (grad(a), grad(b));
    let n = ga.len() as f64;
    let (ma, mb) = (ga.iter().sum::<f64>() / n, gb.iter().sum::<f64>() / n);
    let cov: f64 = ga.iter().zip(&gb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ga.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = gb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn photo_mode_preserves_the_contents_edges() {
    let content = small("content/tubingen_256.png", 128);
    let style = style3("style/starry_256.png");
    let plain = run(&content, &style, &[3, 2, 1], 1.0, Modes::default());
    let photo = run(&content, &style, &[3, 2, 1], 1.0, Modes { photo: true, ..Modes::default() });
    let (ep, eo) = (edge_agreement(&plain, &content), edge_agreement(&photo, &content));
    assert!(eo > ep + 0.1, "edge agreement with the content: photo {eo:.3} vs plain {ep:.3}");
    // The colours stay the style's: the mean colour moves little.
    let mean = |p: &Picture| p.rgb.iter().map(|&v| v as f64).sum::<f64>() / p.rgb.len() as f64;
    assert!((mean(&photo) - mean(&plain)).abs() < 0.03);
}

#[test]
fn stroke_scale_one_is_plain_and_other_scales_change_the_statistics() {
    let style_img = small("style/starry_256.png", 128);
    let plain = EncodedStyle::encode(model(), &style_img, &[1, 2, 3]).unwrap();
    assert_eq!(encode(&style_img, &[1, 2, 3], &Modes { stroke_scale: vec![1.0], ..Modes::default() }), plain);
    let big = encode(&style_img, &[1, 2, 3], &Modes { stroke_scale: vec![2.0], ..Modes::default() });
    let mixed = encode(&style_img, &[1, 2, 3], &Modes { stroke_scale: vec![0.5, 1.0], ..Modes::default() });
    let s1 = plain.stats(1).unwrap();
    for s in [&big, &mixed] {
        let d = (s.stats(1).unwrap().eigenvalues[0] - s1.eigenvalues[0]).abs() / s1.eigenvalues[0];
        assert!(d > 0.01, "level-1 statistics change with the scale ({d})");
    }
    assert_eq!(mixed.stats(3).unwrap().count, plain.stats(3).unwrap().count + 16 * 16, "pooled over both scales");
}

#[test]
fn the_builder_refuses_bad_modes() {
    let style = style3("style/starry_256.png");
    let err = |m: Modes| Stylizer::builder(model()).style(&style).modes(m).build().unwrap_err().to_string();
    assert!(err(Modes { variation: 1.5, ..Modes::default() }).contains("variation"));
    assert!(err(Modes { stroke_scale: vec![100.0], ..Modes::default() }).contains("stroke_scale"));
    assert!(err(Modes { patch_swap: true, ..Modes::default() }).contains("feature maps"), "styles without patches");
    assert!(err(Modes { patch_swap: true, transform: TransformKind::Ost, ..Modes::default() }).contains("transform"));
}

#[test]
fn the_command_line_refuses_bad_mode_flags_before_loading_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.png");
    let content = image("content/face_odd.png");
    let style = image("style/brick_256.png");
    let mask = image("mask/mask_odd.png");
    // Weights that do not exist: the flag must be refused first.
    let base = Cli::stylize().content(&content).style(&style).out(&out).weights("/nonexistent.safetensors");
    for (extra, expect) in [
        (vec!["--variation", "2"], "--variation"),
        (vec!["--variation", "nan"], "--variation"),
        (vec!["--stroke-scale", "0"], "--stroke-scale"),
        (vec!["--stroke-scale", "1,x"], "--stroke-scale"),
        (vec!["--transform", "adain"], "--transform"),
        (vec!["--patch-swap", "--transform", "ost"], "--transform"),
        (vec!["--patch-swap", "--style", s(&style), "--mask", s(&mask)], "--patch-swap"),
    ] {
        let r = base.clone().args_from(&extra).run();
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success() && err.contains(expect) && !err.contains("nonexistent"), "{extra:?}: {err}");
    }
    let r = base.flag("seed", "-1").run();
    assert!(!r.status.success(), "a negative seed is refused");
}

#[test]
fn every_mode_runs_from_the_command_line_and_a_preset_gives_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("c.png");
    unistyle::image_io::save_picture(&small("content/face_odd.png", 64), &content).unwrap();
    let style = image("style/strokes_256.png");
    let w = relu3_weights();
    let flags: [&[&str]; 5] = [
        &["--patch-swap"],
        &["--transform", "ost"],
        &["--variation", "0.5", "--seed", "3"],
        &["--stroke-scale", "0.5,1"],
        &["--photo"],
    ];
    let mut outputs = Vec::new();
    for (i, f) in flags.iter().enumerate() {
        let out = dir.path().join(format!("o{i}.png"));
        let r = stylize_cli(&content, &style, &w, &out).args_from(f.iter()).run();
        assert!(r.status.success(), "{f:?}: {}", String::from_utf8_lossy(&r.stderr));
        outputs.push(std::fs::read(&out).unwrap());
    }
    for i in 0..outputs.len() {
        for j in i + 1..outputs.len() {
            assert_ne!(outputs[i], outputs[j], "modes {i} and {j} give the same picture");
        }
    }
    // A preset with the same keys as flags 3 (variation) gives the same bytes.
    let preset = dir.path().join("v.toml");
    std::fs::write(
        &preset,
        format!("version = 1\nstyle = {:?}\nstyle_size = 96\nvariation = 0.5\nseed = 3\n", s(&style)),
    )
    .unwrap();
    let out = dir.path().join("p.png");
    let r = Cli::stylize().quiet().content(&content).preset(&preset).no_cache().weights(&w).out(&out).run();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), outputs[2], "preset keys = flags");
}

#[test]
fn preset_mode_keys_are_checked_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let style = image("style/brick_256.png");
    let mask = image("mask/mask_odd.png");
    let load = |body: &str| {
        let p = dir.path().join("p.toml");
        std::fs::write(&p, format!("version = 1\nstyle = [{:?}, {:?}]\n{body}", s(&style), s(&style))).unwrap();
        unistyle::Preset::load(&p)
    };
    let ok = load(
        "patch_swap = true\ntransform = \"wct\"\nvariation = 0.25\nseed = 9\nstroke_scale = [0.5, 2]\nphoto = true\n",
    )
    .unwrap();
    let m = ok.settings.modes();
    assert_eq!((m.patch_swap, m.transform, m.variation, m.seed, m.photo), (true, TransformKind::Wct, 0.25, 9, true));
    assert_eq!(m.stroke_scale, vec![0.5, 2.0]);
    assert_eq!(load("stroke_scale = 2\n").unwrap().settings.modes().stroke_scale, vec![2.0]);
    for (body, key, line) in [
        ("\nvariation = 1.5\n", "variation", 4),
        ("stroke_scale = 0.01\n", "stroke_scale", 3),
        ("transform = \"adain\"\n", "transform", 3),
        ("seed = -4\n", "seed", 3),
        (&format!("mask = {:?}\n\npatch_swap = true\n", s(&mask)), "patch_swap", 5),
    ] {
        let e = load(body).unwrap_err().to_string();
        assert!(e.contains(key) && e.contains(&format!("line {line},")), "{body:?}: {e}");
    }
}

#[test]
fn modes_are_bit_identical_across_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("c.png");
    unistyle::image_io::save_picture(&small("content/tubingen_256.png", 72), &content).unwrap();
    let style = image("style/starry_256.png");
    let w = relu3_weights();
    for flags in [
        &["--patch-swap", "--variation", "0.5", "--seed", "11", "--photo", "--stroke-scale", "0.5,1"][..],
        &["--transform", "ost", "--style", s(&image("style/brick_256.png"))][..],
    ] {
        let mut outs = Vec::new();
        for threads in [1, 2] {
            let out = dir.path().join(format!("o{threads}.png"));
            let r = stylize_cli(&content, &style, &w, &out)
                .args_from(flags.iter())
                .command_line()
                .env("RAYON_NUM_THREADS", threads.to_string())
                .output()
                .unwrap();
            assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
            outs.push(std::fs::read(&out).unwrap());
        }
        assert!(outs[0] == outs[1], "{flags:?}: 1 vs 2 threads");
    }
}

/// `stylize -q` of `content` with `style` at style size 96, written to `out`.
fn stylize_cli(content: &Path, style: &Path, weights: &Path, out: &Path) -> Cli {
    Cli::stylize().quiet().content(content).style(style).flag("style-size", 96).weights(weights).out(out)
}

#[test]
fn patch_swap_tiled_matches_the_whole_image() {
    let content = small("content/tubingen_256.png", 160);
    let modes = Modes { patch_swap: true, ..Modes::default() };
    let style = encode(&small("style/starry_256.png", 96), &[3, 2, 1], &modes);
    let run_tiled = |tile: usize| {
        Stylizer::builder(model())
            .style(&style)
            .modes(modes.clone())
            .tile_size(tile)
            .build()
            .unwrap()
            .run(&content, &mut Silent)
            .unwrap()
    };
    let p = psnr(&run_tiled(64).rgb, &run_tiled(1024).rgb);
    assert!(p > 40.0, "tiled vs whole: {p:.1} dB");
}
