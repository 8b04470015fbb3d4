//! What the editors' animation tests (Krita's Apply to animation, GIMP's frames procedure)
//! share: the Debian 13 chroot, the frames they feed and the library clip they are held to.

use std::path::{Path, PathBuf};

use unistyle::{image_io, Clip, Picture, Silent, Stylizer};

use super::cbuild::root;
use super::{model, picture, psnr, shared, style3};

/// Side of the frames.
pub const SIDE: usize = 96;

pub fn canon(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Runs the bash command `cmd` in the chroot (made when missing) with the checkout and the
/// shared data bound; returns its stdout and stderr.
pub fn in_chroot(cmd: &str) -> String {
    super::release::ensure_chroot();
    super::release::in_chroot(&[canon(&root()), canon(&shared())], cmd).log
}

/// Three frames of a window panning across the 512 photo, written to `dir/f{i}.png`.
pub fn write_pan_frames(dir: &Path) {
    let photo = picture("content/tubingen_512.png");
    let n = photo.width * photo.height;
    for i in 0..3 {
        let (x0, y0) = (150 + 6 * i, 160 + 3 * i);
        let rgb = (0..3)
            .flat_map(|c| (0..SIDE).flat_map(move |y| (0..SIDE).map(move |x| (c, x, y))))
            .map(|(c, x, y)| photo.rgb[c * n + (y0 + y) * photo.width + x0 + x])
            .collect();
        let f = Picture::from_planar(SIDE, SIDE, rgb).unwrap();
        image_io::save_picture(&f, &dir.join(format!("f{i}.png"))).unwrap();
    }
}

/// Holds the host's results to the library clip (starry_256, alpha 0.7, stability 0.6) on
/// the frames of `dir`: `host(i)` is frame i as planar RGB in 0..1 (8-bit values).
pub fn check_against_library_clip(dir: &Path, what: &str, host: impl Fn(usize) -> Vec<f32>) {
    let a = style3("style/starry_256.png");
    let mut clip = Clip::new(Stylizer::builder(model()).style(&a).alpha(0.7).build().unwrap(), 0.6).unwrap();
    for i in 0..3 {
        let f = image_io::load_picture(&dir.join(format!("f{i}.png")), "frame").unwrap();
        let want = clip.push(&f, &mut Silent).unwrap();
        let want: Vec<f32> = want.rgb.iter().map(|v| (v.clamp(0.0, 1.0) * 255.0).round() / 255.0).collect();
        let p = psnr(&host(i), &want);
        println!("frame {i}: {what} vs library clip {p:.2} dB");
        assert!(p >= 45.0, "frame {i}: {what} {p:.2} dB");
    }
}

/// Interleaved 8-bit pixels (`channels` per pixel, `order` = index of R, G, B) as planar RGB.
pub fn planar8(raw: &[u8], channels: usize, order: [usize; 3]) -> Vec<f32> {
    let n = SIDE * SIDE;
    (0..3).flat_map(|c| (0..n).map(move |p| (c, p))).map(|(c, p)| raw[p * channels + order[c]] as f32 / 255.0).collect()
}
