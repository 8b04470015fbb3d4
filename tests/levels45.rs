//! Levels 4–5 have no real weights here: random weights of the exact layout shapes run the
//! full five-level pipeline on a small odd-sized image (library and CLI).

mod common;

use candle_core::Device;
use common::*;
use unistyle::{EncodedStyle, Model, Picture, Silent, Stylizer};

fn test_picture(w: usize, h: usize, phase: f32) -> Picture {
    let n = w * h;
    let rgb = (0..3 * n)
        .map(|k| {
            let (c, i) = (k / n, k % n);
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            0.5 + 0.4 * ((x * 0.3 + phase + c as f32).sin() * (y * 0.21 - c as f32).cos())
        })
        .collect();
    Picture::from_planar(w, h, rgb).unwrap()
}

#[test]
fn five_level_pipeline_with_random_weights() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random5.safetensors");
    write_random_weights(&path, &[1, 2, 3, 4, 5], 7);
    let model = Model::load(&path, &Device::Cpu).unwrap();
    assert_eq!(model.levels(), vec![1, 2, 3, 4, 5]);

    let content = test_picture(37, 29, 0.0);
    let style = test_picture(45, 33, 1.3);
    let style = EncodedStyle::encode(&model, &style, &[1, 2, 3, 4, 5]).unwrap();
    // relu5_1 of a 29x37 image is 2x3: a 512-channel covariance of rank < 6
    let taps = model.encode(&content.to_tensor(&Device::Cpu).unwrap(), 5, unistyle::Border::Reflect).unwrap();
    assert_eq!(taps[4].dims4().unwrap(), (1, 512, 2, 3));
    let out = Stylizer::builder(&model).style(&style).alpha(0.7).build().unwrap().run(&content, &mut Silent).unwrap();
    assert_eq!((out.width, out.height), (37, 29));
    assert!(out.rgb.iter().all(|v| v.is_finite()), "non-finite output");
    let spread = out.rgb.iter().cloned().fold(f32::MIN, f32::max) - out.rgb.iter().cloned().fold(f32::MAX, f32::min);
    assert!(spread > 0.0, "output is constant");

    // Every single level on its own, too.
    for level in 1..=5 {
        let o = Stylizer::builder(&model)
            .style(&style)
            .levels(vec![level])
            .build()
            .unwrap()
            .run(&content, &mut Silent)
            .unwrap();
        assert_eq!((o.width, o.height), (37, 29), "level {level}");
        assert!(o.rgb.iter().all(|v| v.is_finite()), "level {level}: non-finite");
    }
}

#[test]
fn five_level_cli_defaults_to_all_levels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random5.safetensors");
    write_random_weights(&path, &[1, 2, 3, 4, 5], 11);
    let out = dir.path().join("out.png");
    let res = Cli::stylize()
        .content(image("content/face_odd.png"))
        .style(image("style/brick_256.png"))
        .out(&out)
        .weights(&path)
        .flag("max-size", 61)
        .run();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let pic = read_png(&out);
    // 243x187 fitted into 61 px on the longer side
    assert_eq!((pic.width, pic.height), (61, 47));
}

#[test]
fn tiny_images_do_not_fail() {
    let m = model();
    let style = EncodedStyle::encode(m, &test_picture(16, 16, 0.5), &[1, 2, 3]).unwrap();
    for (w, h) in [(1, 1), (1, 7), (5, 1), (2, 2), (3, 3)] {
        let out = Stylizer::builder(m)
            .style(&style)
            .alpha(1.0)
            .build()
            .unwrap()
            .run(&test_picture(w, h, 0.0), &mut Silent)
            .unwrap();
        assert_eq!((out.width, out.height), (w, h));
        assert!(out.rgb.iter().all(|v| v.is_finite()), "{w}x{h}: non-finite");
    }
    // a 1x1 style has no covariance at all: defined, finite output
    let tiny = EncodedStyle::encode(m, &test_picture(1, 1, 0.0), &[1, 2, 3]).unwrap();
    let out = Stylizer::builder(m).style(&tiny).build().unwrap().run(&test_picture(20, 13, 0.0), &mut Silent).unwrap();
    assert!(out.rgb.iter().all(|v| v.is_finite()));
}

#[test]
fn flat_content_and_flat_style_are_finite() {
    let m = model();
    let flat = Picture::from_planar(24, 24, vec![0.5; 3 * 24 * 24]).unwrap();
    let style = EncodedStyle::encode(m, &test_picture(32, 32, 0.2), &[1, 2, 3]).unwrap();
    let flat_style = EncodedStyle::encode(m, &flat, &[1, 2, 3]).unwrap();
    for (c, s) in [(&flat, &style), (&test_picture(24, 24, 0.0), &flat_style), (&flat, &flat_style)] {
        let out = Stylizer::builder(m).style(s).build().unwrap().run(c, &mut Silent).unwrap();
        assert!(out.rgb.iter().all(|v| v.is_finite()));
    }
}
