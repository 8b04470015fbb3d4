//! `unistyle bench`: times a three-level stylization at several sizes, per stage, with peak
//! memory and convolution throughput against this machine's matrix-multiply rate, and — when
//! PyTorch is installed — the reference implementation's time measured in the same run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use unistyle::model::architecture::{encoder_flops, level_flops};
use unistyle::{image_io, EncodedStyle, Error, Result, Silent, Stylizer};

use super::args::{load_model, parse_levels, precision_flag};
use super::ModelArgs;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Content sizes (square) to time.
    #[arg(long, default_value = "256,512,1024,2048", value_name = "N,…")]
    pub sizes: String,
    /// Folder with content/tubingen_N.png and style/starry_512.png (default: $UNISTYLE_SHARED/images or ../shared/images).
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// Runs per size; the median is reported.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Also time the PyTorch reference (../shared/tools/reference_wct.py) at each size, run by
    /// $UNISTYLE_PYTHON (default python3).
    #[arg(long)]
    pub reference: bool,
    /// Levels of the pipeline.
    #[arg(long, default_value = "3,2,1")]
    pub levels: String,
    /// (internal) time one size in this process and print one JSON line.
    #[arg(long, hide = true)]
    pub one: Option<usize>,
    #[command(flatten)]
    pub model: ModelArgs,
}

fn shared_dir() -> PathBuf {
    match std::env::var_os("UNISTYLE_SHARED") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from("../shared"),
    }
}

/// User and kernel CPU seconds of this process so far (NaN where unknown).
fn cpu_times() -> (f64, f64) {
    #[cfg(unix)]
    {
        // SAFETY: getrusage writes the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } == 0 {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
            return (secs(u.ru_utime), secs(u.ru_stime));
        }
    }
    (f64::NAN, f64::NAN)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Measured f32 matrix-multiply rate (GFLOP/s) of `device`, 2048³.
fn matmul_rate(device: &Device) -> Result<f64> {
    let n = 2048;
    let a = Tensor::rand(0f32, 1f32, (n, n), device)?;
    let b = Tensor::rand(0f32, 1f32, (n, n), device)?.to_dtype(DType::F32)?;
    a.matmul(&b)?;
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        a.matmul(&b)?;
        device.synchronize()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(2.0 * (n * n * n) as f64 / best / 1e9)
}

fn content_path(images: &Path, size: usize) -> PathBuf {
    images.join(format!("content/tubingen_{size}.png"))
}

/// Times one size in this process; prints a JSON line.
fn run_one(a: &BenchArgs, images: &Path, size: usize) -> Result<()> {
    let levels = parse_levels(&a.levels)?;
    let precision = precision_flag(&a.model)?.unwrap_or_default();
    let model = load_model(&a.model)?;
    let levels = levels.unwrap_or_else(|| model.levels());
    let path = content_path(images, size);
    let content = if path.exists() {
        image_io::load_picture(&path, "content image")?
    } else {
        image_io::load_picture(&content_path(images, 2048), "content image")?.resized(size, size)
    };
    let style_img = image_io::load_picture(&images.join("style/starry_512.png"), "style image")?;
    let mut runs = Vec::new();
    for _ in 0..a.repeat.max(1) {
        let t0 = Instant::now();
        let style = EncodedStyle::encode(&model, &style_img, &levels)?;
        model.device().synchronize()?;
        let style_s = t0.elapsed().as_secs_f64();
        let st = Stylizer::builder(&model)
            .style(&style)
            .levels(levels.clone())
            .alpha(0.6)
            .tile_size(a.model.tile_size)
            .precision(precision)
            .build()?;
        let (_, times) = st.run_timed(&content, &mut Silent)?;
        runs.push((t0.elapsed().as_secs_f64(), style_s, times));
    }
    runs.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (total, style_s, times) = runs[runs.len() / 2];
    let top = levels.iter().copied().max().unwrap_or(1);
    let flops: f64 = levels.iter().map(|&l| level_flops(l, size, size)).sum::<f64>() + encoder_flops(top, 512, 512);
    let conv_s = style_s + times.content_encode.as_secs_f64() + times.decode.as_secs_f64();
    let (user_s, sys_s) = cpu_times();
    println!(
        "{{\"size\":{size},\"total_s\":{total:.3},\"style_s\":{style_s:.3},\"encode_s\":{:.3},\"transform_s\":{:.3},\"decode_s\":{:.3},\"gflop\":{:.1},\"conv_gflops\":{:.1},\"peak_mib\":{:.0},\"user_s\":{user_s:.3},\"sys_s\":{sys_s:.3}}}",
        times.content_encode.as_secs_f64(),
        times.transform.as_secs_f64(),
        times.decode.as_secs_f64(),
        flops / 1e9,
        flops / 1e9 / conv_s,
        peak_rss_mib()
    );
    Ok(())
}

fn field(line: &str, key: &str) -> f64 {
    line.split(&format!("\"{key}\":"))
        .nth(1)
        .and_then(|r| r.split([',', '}']).next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

/// Median seconds of the PyTorch reference at `size`, if it can run here.
fn reference_time(shared: &Path, size: usize) -> Option<f64> {
    let out = Command::new(python())
        .arg(shared.join("tools/reference_wct.py"))
        .arg("--weights")
        .arg(shared.join("weights/upstream"))
        .arg("--images")
        .arg(shared.join("images"))
        .args(["--time", &size.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("median_s"))?;
    Some(field(line, "median_s")).filter(|v| v.is_finite())
}

pub fn run(a: BenchArgs) -> Result<()> {
    let shared = shared_dir();
    let images = a.images.clone().unwrap_or_else(|| shared.join("images"));
    if let Some(size) = a.one {
        return run_one(&a, &images, size);
    }
    let sizes: Vec<usize> = a
        .sizes
        .split(',')
        .map(|s| s.trim().parse::<usize>().map_err(|_| Error::param("--sizes", format!("'{s}' is not a size"))))
        .collect::<Result<_>>()?;
    let precision = precision_flag(&a.model)?;
    let device = unistyle::device::parse_device(&a.model.device)?;
    let rate = matmul_rate(&device)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "unistyle bench: levels {}, style starry_512, alpha 0.6, device {}, {threads} threads",
        a.levels, a.model.device
    );
    println!("f32 matmul 2048³: {rate:.1} GFLOP/s (the ceiling for convolution)");
    println!(
        "{:>6} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9} {:>8} {:>9} {:>8} {:>8}",
        "size",
        "total s",
        "style s",
        "encode s",
        "transform",
        "decode s",
        "GFLOP",
        "conv GF/s",
        "% mm",
        "peak MiB",
        "kernel %",
        "vs ref"
    );
    let exe = std::env::current_exe().map_err(|e| Error::param("bench", e.to_string()))?;
    for size in sizes {
        // Each size in its own process, so peak memory is that size's own.
        let mut cmd = Command::new(&exe);
        cmd.args(["bench", "--one", &size.to_string(), "--repeat", &a.repeat.to_string(), "--levels", &a.levels]);
        cmd.args(["--device", &a.model.device, "--tile-size", &a.model.tile_size.to_string()])
            .arg("--images")
            .arg(&images);
        if let Some(w) = &a.model.weights {
            cmd.arg("--weights").arg(w);
        }
        if let Some(p) = precision {
            cmd.args(["--precision", p.name()]);
        }
        let out = cmd.output().map_err(|e| Error::param("bench", e.to_string()))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let Some(line) = text.lines().find(|l| l.starts_with('{')) else {
            println!("{size:>6} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
            continue;
        };
        let total = field(line, "total_s");
        let reference = if a.reference { reference_time(&shared, size) } else { None };
        let vs = reference.map_or("-".to_string(), |r| format!("{:.2}x ({r:.2}s)", total / r));
        let (user, sys) = (field(line, "user_s"), field(line, "sys_s"));
        println!(
            "{size:>6} {total:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>8.2} {:>8.1} {:>9.1} {:>7.0}% {:>9.0} {:>7.1}% {vs:>8}",
            field(line, "style_s"),
            field(line, "encode_s"),
            field(line, "transform_s"),
            field(line, "decode_s"),
            field(line, "gflop"),
            field(line, "conv_gflops"),
            100.0 * field(line, "conv_gflops") / rate,
            field(line, "peak_mib"),
            100.0 * sys / (user + sys),
        );
    }
    if a.reference && which_torch().is_none() {
        println!("reference: PyTorch not importable (pip install torch numpy pillow safetensors)");
    }
    Ok(())
}

/// The Python that runs the reference: `$UNISTYLE_PYTHON` (e.g. a virtual environment's
/// interpreter with torch installed), else `python3`.
fn python() -> std::ffi::OsString {
    std::env::var_os("UNISTYLE_PYTHON").unwrap_or_else(|| "python3".into())
}

fn which_torch() -> Option<()> {
    Command::new(python()).args(["-c", "import torch"]).status().ok().filter(|s| s.success()).map(|_| ())
}
