//! Colour preservation: keep the content's chroma and take only the lightness of the
//! stylized result, recombined in CIELAB (D65, sRGB primaries).

/// sRGB (0..1, gamma-encoded) → CIELAB.
// The published sRGB → XYZ (D65) matrix, kept digit for digit as printed.
#[allow(clippy::excessive_precision)]
pub fn srgb_to_lab(rgb: [f32; 3]) -> [f32; 3] {
    let lin = rgb.map(|v| {
        let v = v.clamp(0.0, 1.0);
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    });
    let x = 0.4124564 * lin[0] + 0.3575761 * lin[1] + 0.1804375 * lin[2];
    let y = 0.2126729 * lin[0] + 0.7151522 * lin[1] + 0.0721750 * lin[2];
    let z = 0.0193339 * lin[0] + 0.1191920 * lin[1] + 0.9503041 * lin[2];
    let f = |t: f32| {
        if t > 216.0 / 24389.0 {
            t.cbrt()
        } else {
            (24389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIELAB → linear RGB, not clamped (components outside 0..1 are out of gamut).
// The published XYZ (D65) → sRGB matrix, kept digit for digit as printed.
#[allow(clippy::excessive_precision)]
fn lab_to_linear(lab: [f32; 3]) -> [f32; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let fx = fy + lab[1] / 500.0;
    let fz = fy - lab[2] / 200.0;
    let inv = |t: f32| {
        if t > 6.0 / 29.0 {
            t * t * t
        } else {
            (116.0 * t - 16.0) * 27.0 / 24389.0
        }
    };
    let (x, y, z) = (inv(fx) * 0.95047, inv(fy), inv(fz) * 1.08883);
    [
        3.2404542 * x - 1.5371385 * y - 0.4985314 * z,
        -0.9692660 * x + 1.8760108 * y + 0.0415560 * z,
        0.0556434 * x - 0.2040259 * y + 1.0572252 * z,
    ]
}

/// CIELAB → sRGB (0..1, gamma-encoded). Out-of-gamut colours keep their lightness and hue:
/// the chroma is reduced (bisection) until the colour fits.
pub fn lab_to_srgb(lab: [f32; 3]) -> [f32; 3] {
    let fits = |l: [f32; 3]| l.iter().all(|v| (-1e-4..=1.0001).contains(v));
    let mut lin = lab_to_linear(lab);
    if !fits(lin) {
        let (mut lo, mut hi) = (0.0f32, 1.0f32);
        for _ in 0..12 {
            let mid = 0.5 * (lo + hi);
            if fits(lab_to_linear([lab[0], lab[1] * mid, lab[2] * mid])) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lin = lab_to_linear([lab[0], lab[1] * lo, lab[2] * lo]);
    }
    lin.map(|v| {
        let v = v.clamp(0.0, 1.0);
        if v <= 0.0031308 {
            12.92 * v
        } else {
            1.055 * v.powf(1.0 / 2.4) - 0.055
        }
    })
}

/// Replaces the chroma of planar RGB `stylized` by that of `content` (same size), keeping
/// the stylized lightness.
pub fn keep_content_colour(stylized: &mut [f32], content: &[f32]) {
    let n = stylized.len() / 3;
    for i in 0..n {
        let s = srgb_to_lab([stylized[i], stylized[n + i], stylized[2 * n + i]]);
        let c = srgb_to_lab([content[i], content[n + i], content[2 * n + i]]);
        let rgb = lab_to_srgb([s[0], c[1], c[2]]);
        for (k, v) in rgb.into_iter().enumerate() {
            stylized[k * n + i] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_round_trip() {
        for rgb in [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.2, 0.5, 0.9], [0.9, 0.1, 0.3]] {
            let back = lab_to_srgb(srgb_to_lab(rgb));
            for k in 0..3 {
                assert!((back[k] - rgb[k]).abs() < 1e-4, "{rgb:?} -> {back:?}");
            }
        }
        let white = srgb_to_lab([1.0, 1.0, 1.0]);
        assert!((white[0] - 100.0).abs() < 1e-3 && white[1].abs() < 1e-2 && white[2].abs() < 1e-2);
    }

    #[test]
    fn keeps_lightness_of_stylized_and_hue_of_content() {
        let mut s = vec![0.8, 0.8, 0.8]; // light gray, one pixel planar
        let c = vec![0.1, 0.1, 0.6]; // dark blue
        keep_content_colour(&mut s, &c);
        let lab = srgb_to_lab([s[0], s[1], s[2]]);
        let gray = srgb_to_lab([0.8, 0.8, 0.8]);
        assert!((lab[0] - gray[0]).abs() < 1.0, "lightness kept");
        assert!(s[2] > s[0] && s[2] > s[1], "blue hue kept: {s:?}");
    }
}
