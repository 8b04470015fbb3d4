//! Stylization controls beyond a single style: interpolation, mask regions (hard and
//! feathered), foreground-only, colour preservation.

mod common;

use common::*;
use unistyle::pipeline::srgb_to_lab;
use unistyle::{Mask, Picture, Silent, Stylizer};

const MIN_PSNR: f64 = 45.0;

fn golden_clamped(name: &str) -> Vec<f32> {
    flat(&golden(name)["output"]).iter().map(|v| v.clamp(0.0, 1.0)).collect()
}

#[test]
fn golden_interpolate_and_mask_through_cli() {
    let dir = tempfile::tempdir().unwrap();
    let w = relu3_weights();
    let c = case("interp_b05");
    let beta = c.beta.unwrap();
    let out = dir.path().join("interp.png");
    Cli::stylize()
        .content(image(c.content.as_deref().unwrap()))
        .style(image(c.style.as_deref().unwrap()))
        .style(image(c.style1.as_deref().unwrap()))
        .blend(&format!("{},{}", beta, 1.0 - beta))
        .alpha(c.alpha.unwrap())
        .levels(&c.levels_arg())
        .weights(&w)
        .out(&out)
        .run_ok();
    let p = psnr(&read_png(&out).rgb, &golden_clamped("interp_b05"));
    println!("interp_b05 via CLI: {p:.2} dB");
    assert!(p >= MIN_PSNR, "interp_b05: {p:.2} dB");

    let c = case("mask_two_styles");
    let out = dir.path().join("mask.png");
    Cli::stylize()
        .content(image(c.content.as_deref().unwrap()))
        .style(image(c.style.as_deref().unwrap()))
        .style(image(c.style1.as_deref().unwrap()))
        .mask(image(c.mask.as_deref().unwrap()))
        .alpha(c.alpha.unwrap())
        .levels(&c.levels_arg())
        .weights(&w)
        .out(&out)
        .run_ok();
    let p = psnr(&read_png(&out).rgb, &golden_clamped("mask_two_styles"));
    println!("mask_two_styles via CLI: {p:.2} dB");
    assert!(p >= MIN_PSNR, "mask_two_styles: {p:.2} dB");
}

#[test]
fn golden_interpolate_and_mask_through_library() {
    let m = model();
    let c = case("interp_b05");
    let (a, b) = (style3(c.style.as_deref().unwrap()), style3(c.style1.as_deref().unwrap()));
    let beta = c.beta.unwrap();
    let out = Stylizer::builder(m)
        .weighted_style(&a, beta)
        .weighted_style(&b, 1.0 - beta)
        .alpha(c.alpha.unwrap())
        .build()
        .unwrap()
        .run(&picture(c.content.as_deref().unwrap()), &mut Silent)
        .unwrap();
    let p = psnr(&out.rgb, &flat(&golden("interp_b05")["output"]));
    println!("interp_b05 library: {p:.2} dB");
    assert!(p >= MIN_PSNR);

    let c = case("mask_two_styles");
    let (a, b) = (style3(c.style.as_deref().unwrap()), style3(c.style1.as_deref().unwrap()));
    let mask = Mask::load(&image(c.mask.as_deref().unwrap())).unwrap();
    let out = Stylizer::builder(m)
        .region(mask, &a)
        .style(&b)
        .alpha(c.alpha.unwrap())
        .build()
        .unwrap()
        .run(&picture(c.content.as_deref().unwrap()), &mut Silent)
        .unwrap();
    let p = psnr(&out.rgb, &flat(&golden("mask_two_styles")["output"]));
    println!("mask_two_styles library: {p:.2} dB");
    assert!(p >= MIN_PSNR);
}

/// Left half white, right half black.
fn half_mask(w: usize, h: usize) -> Mask {
    Mask::new(w, h, (0..w * h).map(|i| if i % w < w / 2 { 1.0 } else { 0.0 }).collect()).unwrap()
}

#[test]
fn feathered_regions_show_no_seam() {
    let m = model();
    let content = picture("content/tubingen_256.png");
    let (a, b) = (style3("style/starry_256.png"), style3("style/brick_256.png"));
    let (w, h) = (content.width, content.height);
    let run = |feather: f32| {
        Stylizer::builder(m)
            .region(half_mask(w, h), &a)
            .style(&b)
            .feather(feather)
            .build()
            .unwrap()
            .run(&content, &mut Silent)
            .unwrap()
    };
    // Gradient across the border (worst adjacent column pair within ±2 px of it) against the
    // typical gradient between neighbouring columns inside the regions.
    let stat = |p: &Picture| {
        let border = (w / 2 - 3..w / 2 + 2).map(|x| column_jump(p, x, x + 1)).fold(0.0, f64::max);
        let interior: Vec<f64> = (8..w / 2 - 16).chain(w / 2 + 16..w - 9).map(|x| column_jump(p, x, x + 1)).collect();
        let mean = interior.iter().sum::<f64>() / interior.len() as f64;
        border / mean
    };
    let hard = stat(&run(0.0));
    let soft = stat(&run(24.0));
    println!("border/interior gradient ratio: hard {hard:.2}, feathered {soft:.2}");
    assert!(soft <= 1.25, "feathered border still shows a seam: ratio {soft:.2}");
    assert!(soft < hard, "feathering did not soften the border ({soft:.2} vs {hard:.2})");
}

#[test]
fn empty_and_single_pixel_regions_are_graceful() {
    let m = model();
    let content = picture("content/face_odd.png");
    let (a, b) = (style3("style/starry_256.png"), style3("style/brick_256.png"));
    let (w, h) = (content.width, content.height);
    let only_b = Stylizer::builder(m).style(&b).build().unwrap().run(&content, &mut Silent).unwrap();

    let empty = Mask::new(w, h, vec![0.0; w * h]).unwrap();
    let mut one = vec![0.0; w * h];
    one[(h / 2) * w + w / 2] = 1.0;
    let single = Mask::new(w, h, one).unwrap();
    for feather in [0.0, 8.0] {
        let out = Stylizer::builder(m)
            .region(empty.clone(), &a)
            .style(&b)
            .feather(feather)
            .build()
            .unwrap()
            .run(&content, &mut Silent)
            .unwrap();
        assert!(out.rgb.iter().all(|v| v.is_finite()));
        let p = psnr(&out.rgb, &only_b.rgb);
        assert!(p > 90.0, "an empty region must leave the remainder's result (feather {feather}): {p:.1} dB");

        let out = Stylizer::builder(m)
            .region(single.clone(), &a)
            .style(&b)
            .feather(feather)
            .build()
            .unwrap()
            .run(&content, &mut Silent)
            .unwrap();
        assert!(out.rgb.iter().all(|v| v.is_finite()), "single-pixel region gave NaN");
        assert_eq!((out.width, out.height), (w, h));
    }
    // Every region empty except one covering everything.
    let full = Mask::new(w, h, vec![1.0; w * h]).unwrap();
    let out =
        Stylizer::builder(m).region(full, &a).region(empty, &b).build().unwrap().run(&content, &mut Silent).unwrap();
    assert!(out.rgb.iter().all(|v| v.is_finite()));
}

#[test]
fn mask_size_does_not_matter() {
    let m = model();
    let content = picture("content/face_odd.png");
    let (a, b) = (style3("style/starry_256.png"), style3("style/brick_256.png"));
    let mask = Mask::load(&image("mask/mask_odd.png")).unwrap();
    // The same mask at twice the size (each pixel repeated 2×2): nearest resizing picks the
    // same samples at every level, so the result is identical.
    let (w, h) = (mask.width, mask.height);
    let big = Mask::from_u8(
        2 * w,
        2 * h,
        (0..4 * w * h).map(|i| mask.data[(i / (2 * w) / 2) * w + (i % (2 * w)) / 2]).collect(),
    )
    .unwrap();
    let r1 = Stylizer::builder(m).region(mask, &a).style(&b).build().unwrap().run(&content, &mut Silent).unwrap();
    let r2 = Stylizer::builder(m).region(big, &a).style(&b).build().unwrap().run(&content, &mut Silent).unwrap();
    assert_eq!(r1.rgb, r2.rgb);
    // A much smaller mask works too.
    let small = Mask::new(7, 5, (0..35).map(|i| (i % 2) as f32).collect()).unwrap();
    let r3 = Stylizer::builder(m)
        .region(small, &a)
        .style(&b)
        .feather(4.0)
        .build()
        .unwrap()
        .run(&content, &mut Silent)
        .unwrap();
    assert!(r3.rgb.iter().all(|v| v.is_finite()));
}

fn mean_rgb(p: &Picture, cols: std::ops::Range<usize>) -> [f64; 3] {
    let (w, h) = (p.width, p.height);
    let mut m = [0.0; 3];
    for (c, mc) in m.iter_mut().enumerate() {
        for y in 0..h {
            for x in cols.clone() {
                *mc += p.rgb[c * w * h + y * w + x] as f64;
            }
        }
        *mc /= (h * cols.len()) as f64;
    }
    m
}

#[test]
fn three_regions_take_their_own_styles() {
    let m = model();
    let content = picture("content/tubingen_256.png");
    let names = ["style/starry_256.png", "style/brick_256.png", "style/strokes_256.png"];
    let styles: Vec<_> = names.iter().map(|n| style3(n)).collect();
    let (w, h) = (content.width, content.height);
    let third =
        |k: usize| Mask::new(w, h, (0..w * h).map(|i| if (i % w) * 3 / w == k { 1.0 } else { 0.0 }).collect()).unwrap();
    let out = Stylizer::builder(m)
        .region(third(0), &styles[0])
        .region(third(1), &styles[1])
        .style(&styles[2])
        .build()
        .unwrap()
        .run(&content, &mut Silent)
        .unwrap();
    assert!(out.rgb.iter().all(|v| v.is_finite()));
    let style_means: Vec<[f64; 3]> = names
        .iter()
        .map(|n| {
            let p = picture(n);
            mean_rgb(&p, 0..p.width)
        })
        .collect();
    let dist = |a: [f64; 3], b: [f64; 3]| (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f64>().sqrt();
    for k in 0..3 {
        let region = mean_rgb(&out, k * w / 3 + 6..(k + 1) * w / 3 - 6);
        let d: Vec<f64> = style_means.iter().map(|s| dist(region, *s)).collect();
        let nearest = (0..3).min_by(|&a, &b| d[a].partial_cmp(&d[b]).unwrap()).unwrap();
        println!("region {k}: distances to style means {d:.3?}");
        assert_eq!(nearest, k, "region {k} looks most like style {nearest}");
    }
}

#[test]
fn foreground_only_keeps_the_original_outside() {
    let m = model();
    let content = picture("content/tubingen_256.png");
    let a = style3("style/starry_256.png");
    let (w, h) = (content.width, content.height);
    let out = Stylizer::builder(m)
        .region(half_mask(w, h), &a)
        .foreground_only(true)
        .feather(8.0)
        .build()
        .unwrap()
        .run(&content, &mut Silent)
        .unwrap();
    let n = w * h;
    let mut max_outside = 0f32;
    let mut mean_inside = 0f64;
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let k = c * n + y * w + x;
                let d = (out.rgb[k] - content.rgb[k]).abs();
                if x >= w / 2 + 16 {
                    max_outside = max_outside.max(d);
                } else if x < w / 2 - 16 {
                    mean_inside += d as f64;
                }
            }
        }
    }
    mean_inside /= (3 * h * (w / 2 - 16)) as f64;
    assert!(max_outside < 1e-6, "outside pixels changed by {max_outside}");
    assert!(mean_inside > 0.05, "inside barely stylized: {mean_inside}");
    // Without masks, foreground-only is refused with a clear message.
    let err = Stylizer::builder(m).style(&a).foreground_only(true).build().unwrap_err();
    assert!(err.to_string().contains("mask"), "{err}");
}

#[test]
fn preserve_color_keeps_content_chroma() {
    let m = model();
    let content = picture("content/tubingen_256.png");
    let a = style3("style/starry_256.png");
    let plain = Stylizer::builder(m).style(&a).build().unwrap().run(&content, &mut Silent).unwrap();
    let kept = Stylizer::builder(m).style(&a).preserve_color(true).build().unwrap().run(&content, &mut Silent).unwrap();
    let n = content.width * content.height;
    let chroma_err = |p: &Picture| {
        (0..n)
            .map(|i| {
                let l1 = srgb_to_lab([p.rgb[i], p.rgb[n + i], p.rgb[2 * n + i]]);
                let l0 = srgb_to_lab([content.rgb[i], content.rgb[n + i], content.rgb[2 * n + i]]);
                (((l1[1] - l0[1]).powi(2) + (l1[2] - l0[2]).powi(2)) as f64).sqrt()
            })
            .sum::<f64>()
            / n as f64
    };
    let (e_plain, e_kept) = (chroma_err(&plain), chroma_err(&kept));
    println!("mean chroma error vs content: plain {e_plain:.2}, preserve-color {e_kept:.2}");
    assert!(e_kept < 0.25 * e_plain && e_kept < 3.0);
    // Lightness still comes from the stylized result.
    let light = |p: &Picture, i: usize| srgb_to_lab([p.rgb[i], p.rgb[n + i], p.rgb[2 * n + i]])[0] as f64;
    let dl = (0..n).map(|i| (light(&kept, i) - light(&plain, i)).abs()).sum::<f64>() / n as f64;
    assert!(dl < 3.0, "lightness drifted by {dl:.2}");
}

#[test]
fn cli_controls_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    let w = relu3_weights();
    let out = dir.path().join("o.png");
    let (c, a, b) = (image("content/face_odd.png"), image("style/starry_256.png"), image("style/brick_256.png"));
    let mask = image("mask/mask_odd.png");
    Cli::stylize()
        .content(&c)
        .style(&a)
        .style(&b)
        .mask(&mask)
        .feather(6.0)
        .arg("--preserve-color")
        .levels("3,1")
        .out(&out)
        .weights(&w)
        .run_ok();
    assert_eq!(read_png(&out).width, 243);
    std::fs::remove_file(&out).unwrap();
    for (args, needle) in [
        (vec!["--style", s(&a), "--mask", s(&mask), "--mask", s(&mask)], "1 styles need 0 or 1 masks, got 2"),
        (vec!["--style", s(&a), "--style", s(&b), "--mask", s(&mask), "--blend", "1,2"], "--blend"),
        (vec!["--style", s(&a), "--foreground-only"], "mask"),
        (vec!["--style", s(&a), "--style", s(&b), "--mask", s(&mask), "--foreground-only"], "foreground-only"),
        (vec!["--style", s(&a), "--feather=-3"], "--feather"),
        (vec!["--style", s(&a), "--mask", s(&dir.path().join("none.png"))], "mask image"),
    ] {
        let full = Cli::stylize().content(&c).out(&out).weights(&w).args_from(args);
        let err = full.run_err();
        assert!(err.contains(needle), "{:?}: {err}", full.args());
        assert!(!out.exists());
    }
}
