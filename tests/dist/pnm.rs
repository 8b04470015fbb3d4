//! Binary PPM (P6, 8-bit RGB) for `plugin-abi/tests/ppm_host.c`, the C host that needs no
//! image library: pictures in, pictures out.

use std::path::Path;

use unistyle::Picture;

/// Writes `p`'s RGB (0..1, planar) as P6.
pub fn write_ppm(p: &Picture, path: &Path) {
    let n = p.width * p.height;
    let mut out = format!("P6\n{} {}\n255\n", p.width, p.height).into_bytes();
    for i in 0..n {
        out.extend((0..3).map(|c| (p.rgb[c * n + i].clamp(0.0, 1.0) * 255.0).round() as u8));
    }
    std::fs::write(path, out).unwrap();
}

/// Reads a P6 file as written by `ppm_host` (one space or newline between header fields).
pub fn read_ppm(path: &Path) -> Picture {
    let bytes = std::fs::read(path).unwrap();
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        let end = at + bytes[at..].iter().position(|b| b.is_ascii_whitespace()).expect("PPM header");
        fields.push(String::from_utf8_lossy(&bytes[at..end]).into_owned());
        at = end + 1;
    }
    assert_eq!((fields[0].as_str(), fields[3].as_str()), ("P6", "255"), "{}: not an 8-bit P6 file", path.display());
    let (width, height): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let n = width * height;
    let data = &bytes[at..];
    assert_eq!(data.len(), 3 * n, "{}: pixel data size", path.display());
    let mut rgb = vec![0.0; 3 * n];
    for (i, px) in data.chunks_exact(3).enumerate() {
        for c in 0..3 {
            rgb[c * n + i] = px[c] as f32 / 255.0;
        }
    }
    Picture { width, height, rgb, alpha: None, high_depth: false }
}
