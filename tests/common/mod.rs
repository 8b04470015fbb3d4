//! Shared test helpers: where `../shared` is, the golden manifest, PSNR, random weights.
#![allow(dead_code)]

pub mod abi;
pub mod cbuild;
pub mod cli;
pub mod gen;
pub mod golden_run;
pub mod host_clip;
pub mod host_inputs;
pub mod layout;
pub mod release;

#[allow(unused_imports)]
pub use cli::Cli;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use candle_core::{Device, Tensor};
use unistyle::Model;

/// `UNISTYLE_SHARED`, else `../shared` beside the checkout.
pub fn shared() -> PathBuf {
    match std::env::var_os("UNISTYLE_SHARED") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

pub fn shared_path(rel: &str) -> PathBuf {
    shared().join(rel)
}

pub fn image(rel: &str) -> PathBuf {
    shared().join("images").join(rel)
}

pub fn relu3_weights() -> PathBuf {
    shared_path("weights/wct-vgg19-relu3.safetensors")
}

/// The real level 1–3 model, loaded once per test binary.
pub fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| Model::load(relu3_weights(), &Device::Cpu).expect("shared weights load"))
}

/// One line of `golden/manifest.json`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Case {
    pub case: String,
    pub mode: String,
    pub level: Option<usize>,
    pub levels: Option<Vec<usize>>,
    pub content: Option<String>,
    pub style: Option<String>,
    pub style1: Option<String>,
    pub mask: Option<String>,
    pub init: Option<String>,
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub iterations: Option<usize>,
}

impl Case {
    /// Levels as a CLI string.
    pub fn levels_arg(&self) -> String {
        match (&self.levels, self.level) {
            (Some(l), _) => l.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(","),
            (None, Some(l)) => l.to_string(),
            _ => panic!("case {} has no level", self.case),
        }
    }

    pub fn level_list(&self) -> Vec<usize> {
        self.levels.clone().unwrap_or_else(|| vec![self.level.unwrap()])
    }
}

pub fn manifest() -> Vec<Case> {
    let text = std::fs::read_to_string(shared_path("golden/manifest.json")).expect("golden manifest");
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("manifest line")).collect()
}

pub fn case(name: &str) -> Case {
    manifest().into_iter().find(|c| c.case == name).unwrap_or_else(|| panic!("no golden case {name}"))
}

/// The tensors of `golden/<case>.safetensors`.
pub fn golden(name: &str) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(shared_path(&format!("golden/{name}.safetensors")), &Device::Cpu)
        .expect("golden file")
}

/// PSNR in dB (peak 1) between two equally sized sample slices.
pub fn psnr(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "size mismatch");
    let mse: f64 = a.iter().zip(b).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum::<f64>() / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (1.0 / mse).log10()
    }
}

pub fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

/// Loads an 8-bit output file as planar RGB in 0..1.
pub fn read_png(path: &Path) -> unistyle::Picture {
    unistyle::image_io::load_picture(path, "test output").expect("output image")
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_unistyle"))
}

pub fn run(args: &[&str]) -> Output {
    let out = bin().args(args).env_remove("UNISTYLE_WEIGHTS").output().expect("run unistyle");
    out
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Writes a `wct-vgg19/1` file with seeded random weights for `levels` (full shapes).
pub fn write_random_weights(path: &Path, levels: &[usize], seed: u64) {
    write_random_weights_with(path, levels, seed, |_, _| {});
}

/// As [`write_random_weights`], letting `edit` change a tensor's shape before it is written.
pub fn write_random_weights_with(path: &Path, levels: &[usize], seed: u64, edit: impl Fn(&str, &mut Vec<usize>)) {
    use unistyle::model::architecture::{decoder_tensors, encoder_tensors};
    let top = *levels.iter().max().unwrap();
    let mut specs = encoder_tensors(top);
    for &l in levels {
        specs.extend(decoder_tensors(l));
    }
    let mut state = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let mut data: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, mut shape) in specs {
        edit(&name, &mut shape);
        let n: usize = shape.iter().product();
        let fan_in: usize = shape[1..].iter().product::<usize>().max(1);
        let bound = if name.ends_with("bias") { 0.05 } else { (3.0 / fan_in as f64).sqrt() };
        let vals: Vec<f32> = (0..n).map(|_| (next() * bound) as f32).collect();
        let bytes = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        data.push((name, shape, bytes));
    }
    let views: Vec<(String, safetensors::tensor::TensorView)> = data
        .iter()
        .map(|(n, s, b)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b).unwrap())
        })
        .collect();
    let levels_s = levels.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(",");
    let meta: HashMap<String, String> = [
        ("format".to_string(), "wct-vgg19/1".to_string()),
        ("levels".to_string(), levels_s),
        ("dtype".to_string(), "f32".to_string()),
        ("source".to_string(), "random test weights".to_string()),
    ]
    .into_iter()
    .collect();
    let bytes = safetensors::serialize(views, Some(meta)).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Loads a shared image as a picture.
pub fn picture(rel: &str) -> unistyle::Picture {
    unistyle::image_io::load_picture(&image(rel), "test image").expect("shared image")
}

/// Encodes a shared style image for levels 1–3 with the real model.
pub fn style3(rel: &str) -> unistyle::EncodedStyle {
    unistyle::EncodedStyle::encode(model(), &picture(rel), &[1, 2, 3]).expect("style encodes")
}

/// Mean absolute difference between horizontally adjacent pixels at columns (x, x+1),
/// over all rows and channels.
pub fn column_jump(p: &unistyle::Picture, x0: usize, x1: usize) -> f64 {
    let (w, h) = (p.width, p.height);
    let mut sum = 0.0;
    for c in 0..3 {
        for y in 0..h {
            let row = &p.rgb[c * w * h + y * w..c * w * h + (y + 1) * w];
            sum += (row[x0] as f64 - row[x1] as f64).abs();
        }
    }
    sum / (3 * h) as f64
}

/// Mean absolute difference between vertically adjacent rows y0, y1.
pub fn row_jump(p: &unistyle::Picture, y0: usize, y1: usize) -> f64 {
    let (w, h) = (p.width, p.height);
    let mut sum = 0.0;
    for c in 0..3 {
        for x in 0..w {
            sum += (p.rgb[c * w * h + y0 * w + x] as f64 - p.rgb[c * w * h + y1 * w + x] as f64).abs();
        }
    }
    sum / (3 * w) as f64
}

/// The CLI's tileable texture of `style/brick_256.png` (relu3 weights) at `width × height`
/// with `seed` and `iterations`, written to `out`: the reference the hosts' textures must equal.
pub fn cli_brick_texture(out: &Path, (width, height): (u32, u32), seed: u32, iterations: u32) {
    cli::Cli::texture()
        .style(image("style/brick_256.png"))
        .width(width as usize)
        .height(height as usize)
        .seed(seed.into())
        .iterations(iterations as usize)
        .tileable()
        .weights(relu3_weights())
        .out(out)
        .run_ok();
}

/// Runs the CLI and asserts success.
pub fn run_ok(args: &[&str]) {
    let res = run(args);
    assert!(res.status.success(), "unistyle {:?} failed: {}", args, String::from_utf8_lossy(&res.stderr));
}
