//! Tiled processing gives the untiled result: statistics accumulated over tiles and the
//! transform applied per tile with receptive-field halos.

mod common;

use common::*;
use unistyle::{Mask, Picture, Silent, Stylizer, Texture};

/// README: "the tiled result equals the untiled one (≈130 dB)"; float rounding only.
const MIN_PSNR: f64 = 100.0;

#[test]
fn tiled_stylization_equals_untiled() {
    let m = model();
    let content = picture("content/face_odd.png");
    let starry = style3("style/starry_256.png");
    let brick = style3("style/brick_256.png");
    let mask = Mask::load(&image("mask/mask_odd.png")).unwrap();
    type Run<'a> = Box<dyn Fn(usize) -> Picture + 'a>;
    let variants: Vec<(&str, Run)> = vec![
        (
            "global",
            Box::new(|t| {
                Stylizer::builder(m)
                    .style(&starry)
                    .alpha(0.8)
                    .tile_size(t)
                    .build()
                    .unwrap()
                    .run(&content, &mut Silent)
                    .unwrap()
            }),
        ),
        (
            "hard mask",
            Box::new(|t| {
                Stylizer::builder(m)
                    .region(mask.clone(), &starry)
                    .style(&brick)
                    .tile_size(t)
                    .build()
                    .unwrap()
                    .run(&content, &mut Silent)
                    .unwrap()
            }),
        ),
        (
            "feathered mask",
            Box::new(|t| {
                Stylizer::builder(m)
                    .region(mask.clone(), &starry)
                    .style(&brick)
                    .feather(6.0)
                    .tile_size(t)
                    .build()
                    .unwrap()
                    .run(&content, &mut Silent)
                    .unwrap()
            }),
        ),
        (
            "alpha 0",
            Box::new(|t| {
                Stylizer::builder(m)
                    .style(&starry)
                    .alpha(0.0)
                    .tile_size(t)
                    .build()
                    .unwrap()
                    .run(&content, &mut Silent)
                    .unwrap()
            }),
        ),
    ];
    for (name, run) in &variants {
        let whole = run(4096);
        let sizes: &[usize] = if *name == "global" { &[64, 100] } else { &[72] };
        for &tile in sizes {
            let tiled = run(tile);
            let p = psnr(&tiled.rgb, &whole.rgb);
            println!("{name}, tile {tile}: {p:.1} dB vs untiled");
            assert!(p >= MIN_PSNR, "{name}, tile {tile}: {p:.1} dB");
        }
    }
}

#[test]
fn tiled_tileable_texture_equals_untiled() {
    let m = model();
    let brick = style3("style/brick_256.png");
    let init = unistyle::pipeline::uniform_noise(160, 96, 3);
    let run = |tileable: bool| {
        // The texture builder has no tile option: go through the stylizer as texture synthesis does.
        let border = if tileable { unistyle::Border::Circular } else { unistyle::Border::Reflect };
        let whole = Stylizer::builder(m)
            .style(&brick)
            .border(border)
            .tile_size(4096)
            .build()
            .unwrap()
            .run(&init, &mut Silent)
            .unwrap();
        let tiled = Stylizer::builder(m)
            .style(&brick)
            .border(border)
            .tile_size(48)
            .build()
            .unwrap()
            .run(&init, &mut Silent)
            .unwrap();
        psnr(&tiled.rgb, &whole.rgb)
    };
    for tileable in [true, false] {
        let p = run(tileable);
        println!("texture pass (tileable {tileable}), tile 48: {p:.1} dB vs untiled");
        assert!(p >= MIN_PSNR, "tileable {tileable}: {p:.1} dB");
    }
    // and the public texture API still works end to end
    let t = Texture::builder(m).style(&brick).size(64, 64).iterations(1).build().unwrap().run(&mut Silent).unwrap();
    assert_eq!((t.width, t.height), (64, 64));
}
