//! Test inputs made at test time: encoded images of every awkward kind (16-bit, palette,
//! CMYK JPEG, EXIF-rotated JPEG, headers claiming huge sizes) and edited copies of a weights
//! file. Nothing here is read from disk except the weights being edited.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageFormat};

/// `img` encoded as `format`.
pub fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode test image");
    out.into_inner()
}

/// An RGB8 image from a function of (x, y).
pub fn rgb8(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> DynamicImage {
    DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y))))
}

/// A smooth, colourful test pattern (so that features have some variance).
pub fn pattern(w: u32, h: u32) -> DynamicImage {
    rgb8(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w.max(2) as f32, y as f32 / h.max(2) as f32);
        [(255.0 * fx) as u8, (255.0 * fy) as u8, (128.0 + 100.0 * ((x + 2 * y) as f32 * 0.7).sin()) as u8]
    })
}

/// CRC-32 (IEEE) as PNG chunks use it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A valid small PNG whose IHDR is rewritten to claim `w × h` (CRC fixed up), so that only
/// a decoder that trusts the header would try to allocate the image.
pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut png = encode(&pattern(4, 4), ImageFormat::Png);
    // signature (8) | length (4) | "IHDR" (4) | width (4) | height (4) | … 13 data bytes | CRC
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A PNG whose IHDR declares bit depth 7 (invalid), CRC fixed up.
pub fn png_bad_depth() -> Vec<u8> {
    let mut png = encode(&pattern(4, 4), ImageFormat::Png);
    png[24] = 7;
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A PNG whose IHDR checksum is wrong.
pub fn png_bad_crc() -> Vec<u8> {
    let mut png = encode(&pattern(4, 4), ImageFormat::Png);
    png[29] ^= 0x55;
    png
}

/// A palette PNG (8-bit indices into a 4-colour palette).
pub fn palette_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(png::ColorType::Indexed);
        e.set_depth(png::BitDepth::Eight);
        e.set_palette(vec![255u8, 0, 0, 0, 255, 0, 0, 0, 255, 250, 250, 250]);
        let mut wr = e.write_header().expect("png header");
        let idx: Vec<u8> = (0..w * h).map(|i| ((i % w) * 4 / w.max(1)) as u8 % 4).collect();
        wr.write_image_data(&idx).expect("png data");
    }
    out
}

/// Offset of the first `FF marker` segment in a JPEG (after SOI).
fn jpeg_marker(jpeg: &[u8], marker: u8) -> Option<usize> {
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        if jpeg[i + 1] == marker {
            return Some(i);
        }
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        i += 2 + len;
    }
    None
}

/// A baseline JPEG whose frame header is rewritten to claim `w × h`.
pub fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut jpeg = encode(&pattern(16, 16), ImageFormat::Jpeg);
    let sof = jpeg_marker(&jpeg, 0xC0).expect("baseline JPEG has SOF0");
    // FF C0 | length (2) | precision (1) | height (2) | width (2)
    jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    jpeg
}

/// `jpeg` with an APP1 Exif segment holding only an Orientation tag, inserted after SOI.
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    // TIFF header (big endian), one IFD entry: tag 0x0112 SHORT × 1 = orientation.
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend(1u16.to_be_bytes());
    tiff.extend(0x0112u16.to_be_bytes());
    tiff.extend(3u16.to_be_bytes());
    tiff.extend(1u32.to_be_bytes());
    tiff.extend(orientation.to_be_bytes());
    tiff.extend([0, 0]);
    tiff.extend(0u32.to_be_bytes());
    let mut body = b"Exif\x00\x00".to_vec();
    body.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((body.len() + 2) as u16).to_be_bytes());
    out.extend(body);
    out.extend(&jpeg[2..]);
    out
}

/// A baseline JPEG of one flat colour written by hand (the `image` crate cannot write CMYK):
/// `samples` holds one value per component (4 = CMYK, marked with an Adobe APP14 segment
/// that says "no colour transform", as CMYK files from print workflows are). Every 8×8 block
/// holds only its DC coefficient; quantisation is 1; the Huffman tables are minimal (DC
/// categories 0–11 as 4-bit codes, AC: end-of-block only).
pub fn flat_jpeg(w: u16, h: u16, samples: &[u8]) -> Vec<u8> {
    let nc = samples.len();
    let mut o = vec![0xFF, 0xD8];
    let seg = |o: &mut Vec<u8>, marker: u8, body: &[u8]| {
        o.extend([0xFF, marker]);
        o.extend(((body.len() + 2) as u16).to_be_bytes());
        o.extend(body);
    };
    if nc == 4 {
        seg(&mut o, 0xEE, &[b'A', b'd', b'o', b'b', b'e', 0, 100, 0, 0, 0, 0, 0]);
    }
    let mut dqt = vec![0u8];
    dqt.extend([1u8; 64]);
    seg(&mut o, 0xDB, &dqt);
    let mut sof = vec![8u8];
    sof.extend(h.to_be_bytes());
    sof.extend(w.to_be_bytes());
    sof.push(nc as u8);
    for c in 0..nc {
        sof.extend([c as u8 + 1, 0x11, 0]);
    }
    seg(&mut o, 0xC0, &sof);
    let mut dc = vec![0x00u8];
    let mut bits = [0u8; 16];
    bits[3] = 12;
    dc.extend(bits);
    dc.extend(0u8..12);
    seg(&mut o, 0xC4, &dc);
    let mut ac = vec![0x10u8];
    let mut bits = [0u8; 16];
    bits[1] = 2;
    ac.extend(bits);
    ac.extend([0x00, 0xF0]);
    seg(&mut o, 0xC4, &ac);
    let mut sos = vec![nc as u8];
    for c in 0..nc {
        sos.extend([c as u8 + 1, 0x00]);
    }
    sos.extend([0, 63, 0]);
    seg(&mut o, 0xDA, &sos);

    let (mut acc, mut nbits, mut data) = (0u32, 0u32, Vec::new());
    let mut put = |v: u32, n: u32, data: &mut Vec<u8>| {
        acc = (acc << n) | (v & ((1 << n) - 1));
        nbits += n;
        while nbits >= 8 {
            let byte = (acc >> (nbits - 8)) as u8;
            data.push(byte);
            if byte == 0xFF {
                data.push(0);
            }
            nbits -= 8;
        }
        acc &= (1 << nbits) - 1;
    };
    let mcus = w.div_ceil(8) as usize * h.div_ceil(8) as usize;
    let mut prev = vec![0i32; nc];
    for _ in 0..mcus {
        for c in 0..nc {
            let dcv = 8 * (samples[c] as i32 - 128);
            let diff = dcv - prev[c];
            prev[c] = dcv;
            let cat = if diff == 0 { 0 } else { 32 - diff.unsigned_abs().leading_zeros() };
            put(cat, 4, &mut data); // canonical 4-bit codes in symbol order: code == category
            if cat > 0 {
                let v = if diff < 0 { diff - 1 } else { diff };
                put(v as u32, cat, &mut data);
            }
            put(0b00, 2, &mut data); // end of block
        }
    }
    put(0x7F, 7, &mut data); // pad the last byte with ones
    o.extend(data);
    o.extend([0xFF, 0xD9]);
    o
}

/// A copy of the safetensors file at `src` with its tensors edited by `edit` (name, dtype,
/// shape, bytes; return `None` to drop a tensor) and `extra` tensors added; the metadata is
/// kept, or changed by `meta`.
pub fn edit_weights(
    src: &Path,
    dst: &Path,
    edit: impl Fn(&str, safetensors::Dtype, &[usize], &[u8]) -> Option<(safetensors::Dtype, Vec<usize>, Vec<u8>)>,
    extra: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)>,
    meta: impl Fn(&mut HashMap<String, String>),
) {
    let bytes = std::fs::read(src).expect("weights");
    let st = safetensors::SafeTensors::deserialize(&bytes).expect("valid weights");
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).expect("header");
    let mut metadata = header.metadata().clone().unwrap_or_default();
    meta(&mut metadata);
    let mut owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .filter_map(|(name, v)| edit(&name, v.dtype(), v.shape(), v.data()).map(|(d, s, b)| (name, d, s, b)))
        .collect();
    owned.extend(extra);
    let views: Vec<(String, safetensors::tensor::TensorView)> = owned
        .iter()
        .map(|(n, d, s, b)| (n.clone(), safetensors::tensor::TensorView::new(*d, s.clone(), b).expect("view")))
        .collect();
    std::fs::write(dst, safetensors::serialize(views, Some(metadata)).expect("serialize")).expect("write weights");
}

/// Unchanged tensor (for [`edit_weights`]).
pub fn keep(
    _: &str,
    d: safetensors::Dtype,
    s: &[usize],
    b: &[u8],
) -> Option<(safetensors::Dtype, Vec<usize>, Vec<u8>)> {
    Some((d, s.to_vec(), b.to_vec()))
}
