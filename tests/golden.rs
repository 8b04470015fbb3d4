//! The golden cases of `../shared/golden` through the library and through the CLI binary:
//! PSNR ≥ 45 dB against the reference `output`; and all of them again with the CPU on the
//! code paths written for GPUs (`UNISTYLE_GENERIC_PATHS=1`).

mod common;

use candle_core::Tensor;
use common::*;
use unistyle::device::{generic_paths, GENERIC_PATHS_ENV};
use unistyle::{image_io::load_picture, Precision};

const MIN_PSNR: f64 = 45.0;
/// `--precision bf16` (bf16 Winograd products) against the references.
const MIN_BF16_PSNR: f64 = 30.0;
const CORE_MODES: [&str; 3] = ["reconstruct", "single", "multi"];
const ALL_MODES: [&str; 6] = ["reconstruct", "single", "multi", "interpolate", "mask", "texture"];

fn library_output(c: &common::Case) -> Vec<f32> {
    library_output_at(c, Precision::F32)
}

fn library_output_at(c: &common::Case, precision: Precision) -> Vec<f32> {
    golden_run::library_output(model(), c, precision)
}

/// Runs every case of `modes` through the library; asserts ≥ [`MIN_PSNR`] and at least
/// `expected` cases; prints the figures.
fn check_library(modes: &[&str], expected: usize) {
    let mut report = Vec::new();
    for c in manifest().iter().filter(|c| modes.contains(&c.mode.as_str())) {
        let g = golden(&c.case);
        let expected = flat(&g["output"]);
        let got = library_output(c);
        let p = psnr(&got, &expected);
        report.push(format!("{}: {:.2} dB", c.case, p));
        assert!(p >= MIN_PSNR, "{}: PSNR {p:.2} dB < {MIN_PSNR}", c.case);
    }
    assert!(report.len() >= expected, "expected {expected} golden cases, found {}", report.len());
    println!("library PSNR (generic paths: {}): {}", generic_paths(), report.join(", "));
}

#[test]
fn golden_cases_through_library() {
    check_library(&CORE_MODES, 8);
}

/// Every golden case, in whatever paths this process takes; started with the generic paths
/// forced by [`golden_cases_through_generic_paths`].
#[test]
#[ignore = "run by golden_cases_through_generic_paths, with UNISTYLE_GENERIC_PATHS=1"]
fn all_golden_cases_in_this_process() {
    check_library(&ALL_MODES, 11);
}

/// The switch is read once per process, so the cases run in a child process of this test
/// binary with the switch set.
#[test]
fn golden_cases_through_generic_paths() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", "all_golden_cases_in_this_process", "--ignored", "--nocapture"])
        .env(GENERIC_PATHS_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "generic paths: {stdout}\n{stderr}");
    let line =
        stdout.lines().find(|l| l.starts_with("library PSNR")).unwrap_or_else(|| panic!("no report in {stdout}"));
    assert!(line.contains("(generic paths: true)"), "{line}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    println!("{line}");
}

/// The bf16 PSNR table: every core case in bf16 against the reference and against f32.
#[test]
fn golden_cases_in_bf16() {
    let mut report = Vec::new();
    for c in manifest().iter().filter(|c| CORE_MODES.contains(&c.mode.as_str())) {
        let expected = flat(&golden(&c.case)["output"]);
        let bf16 = library_output_at(c, Precision::Bf16);
        let (p, vs_f32) = (psnr(&bf16, &expected), psnr(&bf16, &library_output(c)));
        report.push(format!("| {} | {p:.2} | {vs_f32:.2} |", c.case));
        assert!(p >= MIN_BF16_PSNR, "{}: bf16 PSNR {p:.2} dB < {MIN_BF16_PSNR}", c.case);
        // Level 1 has only the thin (direct, f32) layers; deeper levels run bf16 products.
        if c.level_list().iter().any(|&l| l > 1) {
            assert!(vs_f32 < 100.0, "{}: bf16 output equals f32's ({vs_f32:.1} dB): bf16 did not run", c.case);
        } else {
            assert!(vs_f32.is_infinite(), "{}: level 1 alone should be f32 in bf16 mode ({vs_f32:.1} dB)", c.case);
        }
    }
    assert!(report.len() >= 8, "expected the 8 core golden cases, found {}", report.len());
    println!("| case | bf16 vs reference (dB) | bf16 vs f32 (dB) |\n|---|---|---|\n{}", report.join("\n"));
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
        let res = Cli::stylize()
            .content(&content)
            .style(&style)
            .out(&out)
            .levels(&c.levels_arg())
            .alpha(alpha)
            .weights(&weights)
            .run();
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
