//! The `reconstruct`, `single` and `multi` golden cases of `../shared/golden`, through the
//! library and through the CLI binary: PSNR ≥ 45 dB against the reference `output`.

mod common;

use candle_core::Tensor;
use common::*;
use unistyle::{image_io::load_picture, EncodedStyle, Silent, Stylizer};

const MIN_PSNR: f64 = 45.0;
const CORE_MODES: [&str; 3] = ["reconstruct", "single", "multi"];

fn library_output(c: &common::Case) -> Vec<f32> {
    let m = model();
    let content = load_picture(&image(c.content.as_deref().unwrap()), "content").unwrap();
    let levels = c.level_list();
    let (style, alpha) = match c.mode.as_str() {
        "reconstruct" => (content.clone(), 0.0),
        _ => (load_picture(&image(c.style.as_deref().unwrap()), "style").unwrap(), c.alpha.unwrap()),
    };
    let style = EncodedStyle::encode(m, &style, &levels).unwrap();
    let out = Stylizer::builder(m)
        .style(&style)
        .levels(levels)
        .alpha(alpha)
        .build()
        .unwrap()
        .run(&content, &mut Silent)
        .unwrap();
    out.rgb
}

#[test]
fn golden_cases_through_library() {
    let mut report = Vec::new();
    for c in manifest().iter().filter(|c| CORE_MODES.contains(&c.mode.as_str())) {
        let g = golden(&c.case);
        let expected = flat(&g["output"]);
        let got = library_output(c);
        let p = psnr(&got, &expected);
        report.push(format!("{}: {:.2} dB", c.case, p));
        assert!(p >= MIN_PSNR, "{}: PSNR {p:.2} dB < {MIN_PSNR}", c.case);
    }
    assert!(report.len() >= 8, "expected the 8 core golden cases, found {}", report.len());
    println!("library PSNR: {}", report.join(", "));
}

#[test]
fn relu3_features_match_reference() {
    let m = model();
    for name in ["recon_relu3", "recon_relu3_odd"] {
        let c = case(name);
        let g = golden(name);
        let content = load_picture(&image(c.content.as_deref().unwrap()), "content").unwrap();
        let taps = m.encode(&content.to_tensor(m.device()).unwrap(), 3, unistyle::Border::Reflect).unwrap();
        let ours: Tensor = taps[2].squeeze(0).unwrap();
        let reference = &g["relu3_1"];
        assert_eq!(ours.dims(), reference.dims(), "{name}: relu3_1 shape");
        let diff = (ours - reference).unwrap().sqr().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap().sqrt();
        let norm = reference.sqr().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap().sqrt();
        let rel = diff / norm;
        println!("{name}: relu3_1 relative error {rel:.2e}");
        assert!(rel < 1e-3, "{name}: relu3_1 relative error {rel}");
    }
}

#[test]
fn golden_cases_through_cli() {
    let dir = tempfile::tempdir().unwrap();
    let weights = relu3_weights();
    let mut report = Vec::new();
    for c in manifest().iter().filter(|c| CORE_MODES.contains(&c.mode.as_str())) {
        let content = image(c.content.as_deref().unwrap());
        let style = match c.style.as_deref() {
            Some(s) => image(s),
            None => content.clone(), // reconstruct: any style, alpha 0
        };
        let alpha = if c.mode == "reconstruct" { 0.0 } else { c.alpha.unwrap() };
        let out = dir.path().join(format!("{}.png", c.case));
        let res = run(&[
            "stylize", "--content", s(&content), "--style", s(&style), "--out", s(&out),
            "--levels", &c.levels_arg(), "--alpha", &alpha.to_string(), "--weights", s(&weights),
        ]);
        assert!(res.status.success(), "{}: {}", c.case, String::from_utf8_lossy(&res.stderr));
        let got = read_png(&out).rgb;
        // The PNG is clamped and quantised: compare with the clamped reference.
        let expected: Vec<f32> = flat(&golden(&c.case)["output"]).iter().map(|v| v.clamp(0.0, 1.0)).collect();
        let p = psnr(&got, &expected);
        report.push(format!("{}: {:.2} dB", c.case, p));
        assert!(p >= MIN_PSNR, "{} via CLI: PSNR {p:.2} dB < {MIN_PSNR}", c.case);
    }
    assert!(report.len() >= 8);
    println!("CLI PSNR: {}", report.join(", "));
}
