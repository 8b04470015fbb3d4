//! Measures what each mode beyond plain WCT does (issue 17): for every content × style pair
//! of the shared images, plain WCT and each mode — the style distance (relative Gram-matrix
//! distance to the style at relu1_1, relu2_1, relu3_1), the content distance (relative
//! relu3_1 feature distance to the content) — a contact sheet per pair, runtime and peak
//! memory per mode at 512² (each mode in its own process), and the pairwise distance of four
//! variation seeds with a bit-identity check for a repeated seed.
//!
//! ```text
//! cargo run --release --example modes_quality -- [--weights W] [--images DIR] [--out DIR]
//! cargo run --release --example modes_quality -- --one patch-swap --repeat 5
//! ```
//! `--images` defaults to `$UNISTYLE_SHARED/images` or `../shared/images`; contact sheets
//! (content | style | wct | each mode, in the order of the table) go to `--out`
//! (default `modes-quality/`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use unistyle::image_io::{load_picture, save_picture};
use unistyle::model::Border;
use unistyle::pipeline::{Modes, StyleEncoding, TransformKind};
use unistyle::{Device, EncodedStyle, Error, Model, Picture, Result, Silent, Stylizer};

const CONTENTS: [&str; 3] = ["content/tubingen_512.png", "content/face_odd.png", "content/noise_256.png"];
const STYLES: [&str; 3] = ["style/starry_512.png", "style/brick_256.png", "style/strokes_256.png"];
const SEEDS: [u64; 4] = [1, 2, 3, 4];

/// The modes measured, by name: plain WCT first.
fn modes() -> Vec<(&'static str, Modes)> {
    let d = Modes::default();
    vec![
        ("wct", d.clone()),
        ("patch-swap", Modes { patch_swap: true, ..d.clone() }),
        ("ost", Modes { transform: TransformKind::Ost, ..d.clone() }),
        ("variation-0.5", Modes { variation: 0.5, seed: 1, ..d.clone() }),
        ("stroke-scale-2", Modes { stroke_scale: vec![2.0], ..d.clone() }),
        ("stroke-scale-0.5,1", Modes { stroke_scale: vec![0.5, 1.0], ..d.clone() }),
        ("photo", Modes { photo: true, ..d }),
    ]
}

struct Args {
    weights: PathBuf,
    images: PathBuf,
    out: PathBuf,
    /// Run one mode on the 512² pair and print "seconds peak_mib" (`--one MODE`), the
    /// median of `--repeat N` runs in this process (default 1).
    one: Option<String>,
    repeat: usize,
}

fn args() -> Result<Args> {
    let shared = std::env::var_os("UNISTYLE_SHARED").map_or_else(|| PathBuf::from("../shared"), PathBuf::from);
    let mut a = Args {
        weights: shared.join("weights/wct-vgg19-relu3.safetensors"),
        images: shared.join("images"),
        out: PathBuf::from("modes-quality"),
        one: None,
        repeat: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| Error::param(flag.clone(), "needs a value"))?;
        match flag.as_str() {
            "--weights" => a.weights = value.into(),
            "--images" => a.images = value.into(),
            "--out" => a.out = value.into(),
            "--one" => a.one = Some(value),
            "--repeat" => {
                a.repeat = value.parse().ok().filter(|&n| n > 0).ok_or_else(|| Error::param(flag, "a count ≥ 1"))?
            }
            _ => return Err(Error::param(flag, "unknown flag (--weights, --images, --out, --one, --repeat)")),
        }
    }
    Ok(a)
}

fn stylize(model: &Model, content: &Picture, style: &Picture, modes: &Modes) -> Result<Picture> {
    let levels = model.levels();
    let encoding = StyleEncoding::for_job(&modes.stroke_scale, modes.patch_swap, &levels);
    let s = EncodedStyle::encode_with(model, style, &levels, &encoding)?;
    Stylizer::builder(model).style(&s).modes(modes.clone()).build()?.run(content, &mut Silent)
}

/// relu1_1 … relu3_1 features of a picture, each `(C, N, values)`.
fn features(model: &Model, p: &Picture) -> Result<Vec<(usize, usize, Vec<f32>)>> {
    model
        .encode(&p.to_tensor(model.device())?, 3, Border::Reflect)?
        .into_iter()
        .map(|f| {
            let (_, c, h, w) = f.dims4()?;
            Ok((c, h * w, f.flatten_all()?.to_vec1::<f32>()?))
        })
        .collect()
}

/// `F Fᵀ / N` in f64.
fn gram(c: usize, n: usize, v: &[f32]) -> Vec<f64> {
    let mut g = vec![0f64; c * c];
    for i in 0..c {
        for j in i..c {
            let s: f64 = (0..n).map(|k| v[i * n + k] as f64 * v[j * n + k] as f64).sum::<f64>() / n as f64;
            g[i * c + j] = s;
            g[j * c + i] = s;
        }
    }
    g
}

fn relative(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y.powi(2)).sum();
    (num / den.max(f64::MIN_POSITIVE)).sqrt()
}

/// Style distance (mean over relu1_1, relu2_1, relu3_1) and content distance (relu3_1).
fn distances(model: &Model, out: &Picture, style_grams: &[Vec<f64>], content_f: &[f32]) -> Result<(Vec<f64>, f64)> {
    let f = features(model, out)?;
    let style: Vec<f64> = f.iter().zip(style_grams).map(|((c, n, v), g)| relative(&gram(*c, *n, v), g)).collect();
    let o: Vec<f64> = f[2].2.iter().map(|&x| x as f64).collect();
    let cf: Vec<f64> = content_f.iter().map(|&x| x as f64).collect();
    Ok((style, relative(&o, &cf)))
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Content, style (scaled to the content's height), then each output, side by side.
fn contact_sheet(pictures: &[Picture], height: usize) -> Result<Picture> {
    let scaled: Vec<Picture> =
        pictures.iter().map(|p| p.resized((p.width * height).div_ceil(p.height).max(1), height)).collect();
    let width: usize = scaled.iter().map(|p| p.width + 4).sum();
    let n = width * height;
    let mut rgb = vec![1f32; 3 * n];
    let mut x0 = 0;
    for p in &scaled {
        let m = p.width * p.height;
        for c in 0..3 {
            for y in 0..height {
                for x in 0..p.width {
                    rgb[c * n + y * width + x0 + x] = p.rgb[c * m + y * p.width + x];
                }
            }
        }
        x0 += p.width + 4;
    }
    Picture::from_planar(width, height, rgb)
}

fn name(path: &str) -> &str {
    Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or(path)
}

fn main() -> Result<()> {
    let a = args()?;
    let model = Model::load(&a.weights, &Device::Cpu)?;
    let content_512 = load_picture(&a.images.join(CONTENTS[0]), "content image")?;
    let style_512 = load_picture(&a.images.join(STYLES[0]), "style image")?;
    if let Some(mode) = &a.one {
        let (_, m) = modes().into_iter().find(|(n, _)| n == mode).ok_or_else(|| Error::param("--one", mode.clone()))?;
        let mut times = (0..a.repeat)
            .map(|_| {
                let t = Instant::now();
                stylize(&model, &content_512, &style_512, &m)?;
                Ok(t.elapsed().as_secs_f64())
            })
            .collect::<Result<Vec<f64>>>()?;
        times.sort_by(f64::total_cmp);
        println!("{:.2} {:.0}", times[times.len() / 2], peak_rss_mib());
        return Ok(());
    }
    std::fs::create_dir_all(&a.out).map_err(|e| Error::param("--out", e.to_string()))?;
    println!(
        "## Runtime and peak memory at 512² ({} × {}, levels 3,2,1, CPU, one process per mode)\n",
        name(CONTENTS[0]),
        name(STYLES[0])
    );
    println!("| mode | seconds | peak RSS MiB |\n|---|---|---|");
    let exe = std::env::current_exe().map_err(|e| Error::param("exe", e.to_string()))?;
    for (mode, _) in modes() {
        let out = Command::new(&exe)
            .args([
                "--weights",
                &a.weights.display().to_string(),
                "--images",
                &a.images.display().to_string(),
                "--one",
                mode,
            ])
            .output()
            .map_err(|e| Error::param("--one", e.to_string()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace();
        println!("| {mode} | {} | {} |", parts.next().unwrap_or("?"), parts.next().unwrap_or("?"));
    }
    println!("\n## Quality (style distance: relative Gram distance, mean of relu1_1/2_1/3_1 [per layer]; content distance: relative relu3_1 distance)\n");
    println!("| content | style | mode | style dist | per layer | content dist |\n|---|---|---|---|---|---|");
    for c in CONTENTS {
        let content = load_picture(&a.images.join(c), "content image")?;
        let content_f = features(&model, &content)?.swap_remove(2).2;
        for s in STYLES {
            let style = load_picture(&a.images.join(s), "style image")?;
            let style_grams: Vec<Vec<f64>> =
                features(&model, &style)?.iter().map(|(c, n, v)| gram(*c, *n, v)).collect();
            let mut sheet = vec![content.clone(), style.clone()];
            for (mode, m) in modes() {
                let out = stylize(&model, &content, &style, &m)?;
                let (sd, cd) = distances(&model, &out, &style_grams, &content_f)?;
                let mean = sd.iter().sum::<f64>() / sd.len() as f64;
                let per: Vec<String> = sd.iter().map(|v| format!("{v:.3}")).collect();
                println!("| {} | {} | {mode} | {mean:.3} | {} | {cd:.3} |", name(c), name(s), per.join(" / "),);
                sheet.push(out);
            }
            let path = a.out.join(format!("{}__{}.png", name(c), name(s)));
            save_picture(&contact_sheet(&sheet, content.height.min(256))?, &path)?;
        }
    }
    println!(
        "\n## Variations (--variation 0.5, {} × {}): pairwise RMS pixel distance (0..1 scale)\n",
        name(CONTENTS[0]),
        name(STYLES[0])
    );
    let outs: Vec<Picture> = SEEDS
        .iter()
        .map(|&seed| stylize(&model, &content_512, &style_512, &Modes { variation: 0.5, seed, ..Modes::default() }))
        .collect::<Result<_>>()?;
    println!("| seeds | RMS |\n|---|---|");
    for i in 0..outs.len() {
        for j in i + 1..outs.len() {
            let rms = (outs[i].rgb.iter().zip(&outs[j].rgb).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>()
                / outs[i].rgb.len() as f64)
                .sqrt();
            println!("| {} vs {} | {rms:.4} |", SEEDS[i], SEEDS[j]);
        }
    }
    let again =
        stylize(&model, &content_512, &style_512, &Modes { variation: 0.5, seed: SEEDS[0], ..Modes::default() })?;
    println!("\nseed {} repeated: bit-identical = {}", SEEDS[0], again.rgb == outs[0].rgb);
    let sheet = contact_sheet(&[vec![content_512.clone(), style_512.clone()], outs].concat(), 256)?;
    save_picture(&sheet, &a.out.join("variations.png"))?;
    println!("contact sheets in '{}'", a.out.display());
    Ok(())
}
