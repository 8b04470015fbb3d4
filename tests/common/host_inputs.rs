//! Inputs and comparisons shared by the editor plug-in tests (GIMP 2.10, GIMP 3): small test
//! images, a rectangle mask, the CLI run for the same inputs, PSNR between output files.

use std::path::Path;
use std::time::Instant;

use super::{image, psnr, read_png, relu3_weights, Cli};

/// Side of the small content image.
pub const SMALL: u32 = 128;
/// x, y, w, h of the test selection (inside the small content).
pub const SEL: (u32, u32, u32, u32) = (32, 24, 64, 56);

/// PSNR over RGB and, where both have it, alpha.
pub fn psnr_files(a: &Path, b: &Path) -> f64 {
    let (pa, pb) = (read_png(a), read_png(b));
    assert_eq!((pa.width, pa.height), (pb.width, pb.height), "{} and {} differ in size", a.display(), b.display());
    let (mut va, mut vb) = (pa.rgb.clone(), pb.rgb.clone());
    if let (Some(x), Some(y)) = (&pa.alpha, &pb.alpha) {
        va.extend(x);
        vb.extend(y);
    }
    psnr(&va, &vb)
}

/// A grayscale plug-in output against the CLI's RGB output for the same grayscale input: the
/// library writes the luminance of its (unclamped) RGB result to a gray layer, so the two are
/// compared where the CLI's RGB output is not clipped to 0 or 1. Returns (PSNR, pixels
/// compared, pixels in all).
pub fn gray_psnr(gray: &Path, cli_rgb: &Path) -> (f64, usize, usize) {
    let (g, c) = (read_png(gray), read_png(cli_rgb));
    let n = g.width * g.height;
    let (mut got, mut want) = (Vec::new(), Vec::new());
    for i in 0..n {
        let rgb = [c.rgb[i], c.rgb[n + i], c.rgb[2 * n + i]];
        if rgb.iter().all(|&v| v > 0.0 && v < 1.0) {
            got.push(g.rgb[i]);
            want.push(0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]);
        }
    }
    (psnr(&got, &want), got.len(), n)
}

/// Runs the CLI with the shared level 1–3 weights; returns its wall time in seconds.
pub fn cli(c: &Cli) -> f64 {
    let t = Instant::now();
    c.clone().weights(relu3_weights()).quiet().run_ok();
    t.elapsed().as_secs_f64()
}

/// The hosts' reference: the CLI's stylize of `content` with `style` at alpha 0.6, levels
/// 3,2,1 (what the editor tests ask their plug-ins for), into `out`.
pub fn cli_stylize(content: &Path, style: &Path, out: &Path) -> f64 {
    cli(&Cli::stylize().content(content).style(style).alpha(0.6).levels("3,2,1").out(out))
}

/// tubingen_256 downscaled to SMALL × SMALL.
pub fn write_small_content(path: &Path) {
    let rgb = image::open(image("content/tubingen_256.png")).unwrap().to_rgb8();
    image::imageops::resize(&rgb, SMALL, SMALL, image::imageops::FilterType::Triangle).save(path).unwrap();
}

/// The small content with a varying alpha (64..255, so no pixel's colour is dropped on save).
pub fn write_rgba_content(small: &Path, path: &Path) {
    let rgb = image::open(small).unwrap().to_rgb8();
    let (w, h) = rgb.dimensions();
    let rgba = image::RgbaImage::from_fn(w, h, |x, y| {
        let p = rgb.get_pixel(x, y);
        image::Rgba([p[0], p[1], p[2], (64 + (x + y) * 191 / (w + h - 2)) as u8])
    });
    rgba.save(path).unwrap();
}

/// White inside the test selection rectangle, black elsewhere.
pub fn write_rect_mask(path: &Path, w: u32, h: u32) {
    let (x0, y0, sw, sh) = SEL;
    image::GrayImage::from_fn(w, h, |x, y| {
        image::Luma([if x >= x0 && x < x0 + sw && y >= y0 && y < y0 + sh { 255 } else { 0 }])
    })
    .save(path)
    .unwrap();
}
