//! Texture synthesis: the golden case, free output size, determinism, tileable wrap-around,
//! texture interpolation and spatial textures.

mod common;

use common::*;
use unistyle::{Mask, Picture, Silent, Texture};

#[test]
fn golden_texture_through_cli() {
    let dir = tempfile::tempdir().unwrap();
    let c = case("texture_brick");
    let out = dir.path().join("tex.png");
    Cli::texture()
        .style(image(c.style.as_deref().unwrap()))
        .init(image(c.init.as_deref().unwrap()))
        .iterations(c.iterations.unwrap())
        .levels(&c.levels_arg())
        .weights(relu3_weights())
        .out(&out)
        .run_ok();
    let expected: Vec<f32> = flat(&golden("texture_brick")["output"]).iter().map(|v| v.clamp(0.0, 1.0)).collect();
    let p = psnr(&read_png(&out).rgb, &expected);
    println!("texture_brick via CLI: {p:.2} dB");
    assert!(p >= 45.0, "texture_brick: {p:.2} dB");
}

fn synth(style: &unistyle::EncodedStyle, w: usize, h: usize, seed: u64, tileable: bool) -> Picture {
    Texture::builder(model())
        .style(style)
        .size(w, h)
        .seed(seed)
        .iterations(2)
        .tileable(tileable)
        .build()
        .unwrap()
        .run(&mut Silent)
        .unwrap()
}

/// Jump across each wrap-around edge, and where it ranks among the jumps between
/// neighbouring columns/rows inside (0 = smallest, 1 = largest).
fn wrap_rank(p: &Picture) -> [(f64, f64); 2] {
    let (w, h) = (p.width, p.height);
    let rank = |wrap: f64, inner: Vec<f64>| {
        let below = inner.iter().filter(|&&v| v < wrap).count();
        (wrap / (inner.iter().sum::<f64>() / inner.len() as f64), below as f64 / inner.len() as f64)
    };
    [
        rank(column_jump(p, w - 1, 0), (0..w - 1).map(|x| column_jump(p, x, x + 1)).collect()),
        rank(row_jump(p, h - 1, 0), (0..h - 1).map(|y| row_jump(p, y, y + 1)).collect()),
    ]
}

fn roll(p: &Picture, dx: usize, dy: usize) -> Picture {
    let (w, h) = (p.width, p.height);
    let mut out = p.clone();
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                out.rgb[c * w * h + ((y + dy) % h) * w + (x + dx) % w] = p.rgb[c * w * h + y * w + x];
            }
        }
    }
    out
}

#[test]
fn tileable_textures_wrap_seamlessly() {
    let style = style3("style/brick_256.png");
    let tiled = synth(&style, 160, 96, 3, true);
    let plain = synth(&style, 160, 96, 3, false);
    let (t, p) = (wrap_rank(&tiled), wrap_rank(&plain));
    println!("wrap jump / mean interior jump (rank among interior jumps): tileable x {:.2} ({:.2}), y {:.2} ({:.2}); plain x {:.2} ({:.2}), y {:.2} ({:.2})",
        t[0].0, t[0].1, t[1].0, t[1].1, p[0].0, p[0].1, p[1].0, p[1].1);
    // The wrap-around jump is within the range of jumps between interior neighbours (a plain
    // texture's edges jump more than any interior pair); the test below proves it exactly.
    for (axis, (_, rank)) in ["x", "y"].iter().zip(t) {
        assert!(rank < 1.0, "tileable texture: the {axis} wrap jump exceeds every interior jump");
    }
    // On the torus no edge is special: synthesizing from a rolled start gives the rolled
    // result (shifts by multiples of the pooling pyramid, 4 px for three levels).
    let init = unistyle::pipeline::uniform_noise(96, 64, 5);
    let run = |i: Picture| {
        Texture::builder(model())
            .style(&style)
            .init(i)
            .iterations(1)
            .tileable(true)
            .build()
            .unwrap()
            .run(&mut Silent)
            .unwrap()
    };
    let shifted = run(roll(&init, 40, 24));
    let expected = roll(&run(init), 40, 24);
    let q = psnr(&shifted.rgb, &expected.rgb);
    println!("roll equivariance: {q:.1} dB");
    assert!(q > 60.0, "tileable synthesis is not shift-equivariant: {q:.1} dB");
    // A size that is not a multiple of the pooling pyramid is synthesized larger and
    // resampled periodically: exactly the requested size, still seamless.
    let odd = synth(&style, 90, 71, 3, true);
    assert_eq!((odd.width, odd.height), (90, 71));
    let o = wrap_rank(&odd);
    println!("odd size 90x71: x {:.2} ({:.2}), y {:.2} ({:.2})", o[0].0, o[0].1, o[1].0, o[1].1);
    assert!(o[0].1 < 1.0 && o[1].1 < 1.0, "odd-sized tileable texture shows its edges");
}

#[test]
fn same_seed_same_texture() {
    let style = style3("style/brick_256.png");
    let a = synth(&style, 64, 48, 42, false);
    let b = synth(&style, 64, 48, 42, false);
    assert_eq!(a.rgb, b.rgb, "same seed must give bit-identical output");
    let c = synth(&style, 64, 48, 43, false);
    assert_ne!(a.rgb, c.rgb);

    // Through the CLI, files are byte-identical.
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..2).map(|i| dir.path().join(format!("t{i}.png"))).collect();
    for f in &files {
        Cli::texture()
            .style(image("style/brick_256.png"))
            .width(80)
            .height(64)
            .seed(9)
            .iterations(1)
            .tileable()
            .weights(relu3_weights())
            .out(f)
            .run_ok();
    }
    assert_eq!(std::fs::read(&files[0]).unwrap(), std::fs::read(&files[1]).unwrap());
    assert_eq!((read_png(&files[0]).width, read_png(&files[0]).height), (80, 64));
}

#[test]
fn texture_interpolation_and_spatial_textures() {
    let m = model();
    let (a, b) = (style3("style/brick_256.png"), style3("style/starry_256.png"));
    let blend = Texture::builder(m)
        .weighted_style(&a, 0.5)
        .weighted_style(&b, 0.5)
        .size(64, 64)
        .iterations(1)
        .build()
        .unwrap()
        .run(&mut Silent)
        .unwrap();
    assert!(blend.rgb.iter().all(|v| v.is_finite()));
    let half = Mask::new(8, 8, (0..64).map(|i| if i % 8 < 4 { 1.0 } else { 0.0 }).collect()).unwrap();
    let spatial = Texture::builder(m)
        .region(half, &b)
        .style(&a)
        .size(96, 64)
        .iterations(1)
        .feather(6.0)
        .build()
        .unwrap()
        .run(&mut Silent)
        .unwrap();
    assert_eq!((spatial.width, spatial.height), (96, 64));
    // Left half takes starry (blue), right half brick (warm): compare blue - red.
    let n = 96 * 64;
    let side = |x0: usize, x1: usize| {
        let mut d = 0.0;
        for y in 0..64 {
            for x in x0..x1 {
                d += (spatial.rgb[2 * n + y * 96 + x] - spatial.rgb[y * 96 + x]) as f64;
            }
        }
        d / (64 * (x1 - x0)) as f64
    };
    let (left, right) = (side(0, 36), side(60, 96));
    println!("blue-red: left (starry) {left:.3}, right (brick) {right:.3}");
    assert!(left > right + 0.05, "regions did not take their textures");

    // A spatial texture needs a style outside the masks.
    let only = Mask::new(4, 4, vec![1.0; 16]).unwrap();
    assert!(Texture::builder(m).region(only, &a).size(32, 32).build().is_err());
}
