//! Benchmarks the fused CPU 3×3 convolution against candle's stock path (`pad1 → conv2d →
//! + bias → relu`), layer by layer in one process, then the 3-level WCT pipeline at 512².
//!
//! ```text
//! cargo run --release --example conv_bench [-- --sizes 256,512,1024 --reps 3 --no-pipeline]
//!     [--no-layers] [--fused-only] [--filter 'enc conv1']
//! ```
//! Shared data (`weights/`, `images/`) is read from `UNISTYLE_SHARED`, default `../shared`
//! next to the crate. `UNISTYLE_CONV_ISA=avx2|avx512|portable` picks the micro-kernel family.

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use unistyle::model::layers::Conv3x3;
use unistyle::{image_io, Border, EncodedStyle, Model, Silent, Stylizer};

/// (name, cin, cout, downscale) of every conv class, at its resolution for content size S.
const LAYERS: [(&str, usize, usize, usize); 12] = [
    ("enc conv1_1", 3, 64, 1),
    ("enc conv1_2", 64, 64, 1),
    ("enc conv2_1", 64, 128, 2),
    ("enc conv2_2", 128, 128, 2),
    ("enc conv3_1", 128, 256, 4),
    ("enc conv3_x", 256, 256, 4),
    ("enc conv4_1", 256, 512, 8),
    ("enc conv4_x", 512, 512, 8),
    ("dec conv4_1", 512, 256, 8),
    ("dec conv3_1", 256, 128, 4),
    ("dec conv2_1", 128, 64, 2),
    ("dec conv1_1", 64, 3, 1),
];

fn shared() -> PathBuf {
    match std::env::var_os("UNISTYLE_SHARED") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

/// Best of `reps` runs of `f`, in seconds (after one warm-up run).
fn best<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = f(); // warm-up
    let mut t_best = f64::INFINITY;
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        out = f();
        t_best = t_best.min(t.elapsed().as_secs_f64());
    }
    (t_best, out)
}

fn max_rel_diff(a: &Tensor, b: &Tensor) -> candle_core::Result<f32> {
    let scale = b.abs()?.max_all()?.to_scalar::<f32>()?.max(1e-20);
    Ok((a - b)?.abs()?.max_all()?.to_scalar::<f32>()? / scale)
}

fn bench_layers(sizes: &[usize], reps: usize, fused_only: bool, filter: &str) -> candle_core::Result<()> {
    let dev = Device::Cpu;
    println!(
        "{:<12} {:>9} {:>6} | {:>9} {:>7} | {:>9} {:>7} | {:>6} {:>8}",
        "layer", "cin→cout", "size", "candle ms", "GFLOP/s", "fused ms", "GFLOP/s", "speed", "rel.diff"
    );
    for &s in sizes {
        let (mut t_stock, mut t_fused, mut flops) = (0.0, 0.0, 0.0);
        for &(name, cin, cout, down) in LAYERS.iter().filter(|l| l.0.contains(filter)) {
            let hw = (s / down).max(1);
            let w = (Tensor::randn(0f32, 1.0, (cout, cin, 3, 3), &dev)? / (9.0 * cin as f64).sqrt())?;
            let b = Tensor::randn(0f32, 0.1, cout, &dev)?;
            let relu = cout != 3;
            let fused = Conv3x3::from_tensors(&w, &b, relu)?;
            let stock = fused.to_candle_path()?;
            let x = Tensor::randn(0f32, 1.0, (1, cin, hw, hw), &dev)?;
            let (ts, ys) = if fused_only {
                (f64::NAN, stock.forward(&x, Border::Reflect))
            } else {
                best(reps, || stock.forward(&x, Border::Reflect))
            };
            let (tf, yf) = best(reps, || fused.forward(&x, Border::Reflect));
            let diff = max_rel_diff(&yf?, &ys?)?;
            let f = 2.0 * (cin * cout * 9 * hw * hw) as f64;
            println!(
                "{name:<12} {:>9} {:>6} | {:>9.2} {:>7.1} | {:>9.2} {:>7.1} | {:>5.2}× {diff:>8.1e}",
                format!("{cin}→{cout}"),
                format!("{hw}²"),
                ts * 1e3,
                f / ts / 1e9,
                tf * 1e3,
                f / tf / 1e9,
                ts / tf
            );
            t_stock += ts;
            t_fused += tf;
            flops += f;
        }
        println!(
            "{:<12} {:>9} {:>6} | {:>9.1} {:>7.1} | {:>9.1} {:>7.1} | {:>5.2}×\n",
            "all layers",
            "",
            format!("{s}²"),
            t_stock * 1e3,
            flops / t_stock / 1e9,
            t_fused * 1e3,
            flops / t_fused / 1e9,
            t_stock / t_fused
        );
    }
    Ok(())
}

/// Times style encoding + the 3-level stylization with the convolutions the kernel
/// switchboard chose for this process.
fn pipeline(reps: usize) -> unistyle::Result<(f64, Vec<f32>)> {
    let root = shared();
    let model = Model::load(root.join("weights/wct-vgg19-relu3.safetensors"), &Device::Cpu)?;
    let content = image_io::load_picture(&root.join("images/content/tubingen_512.png"), "content")?;
    let style_img = image_io::load_picture(&root.join("images/style/starry_512.png"), "style")?;
    let (t, out) = best(reps, || -> unistyle::Result<Vec<f32>> {
        let style = EncodedStyle::encode(&model, &style_img, &model.levels())?;
        let out = Stylizer::builder(&model).style(&style).alpha(0.6).build()?.run(&content, &mut Silent)?;
        Ok(out.rgb)
    });
    Ok((t, out?))
}

/// [`pipeline`] with candle's convolutions: in a child process started with
/// `UNISTYLE_CONV=candle` (the switchboard reads it once per process), which writes the
/// time and the output to a file.
fn candle_pipeline(reps: usize) -> Result<(f64, Vec<f32>), Box<dyn std::error::Error>> {
    let file = tempfile::NamedTempFile::new()?;
    let status = std::process::Command::new(std::env::current_exe()?)
        .args(["--candle-child", &reps.to_string()])
        .arg(file.path())
        .env(unistyle::kernels::CONV_ENV, "candle")
        .status()?;
    if !status.success() {
        return Err(format!("the candle pipeline child failed: {status}").into());
    }
    let bytes = std::fs::read(file.path())?;
    let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let (t, out) = values.split_first().ok_or("empty child output")?;
    Ok((*t as f64, out.to_vec()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, reps, path] = &args[..] {
        if flag == "--candle-child" {
            let (t, out) = pipeline(reps.parse()?)?;
            let bytes: Vec<u8> = std::iter::once(t as f32).chain(out).flat_map(f32::to_le_bytes).collect();
            std::fs::write(path, bytes)?;
            return Ok(());
        }
    }
    let mut sizes = vec![512];
    let mut reps = 3;
    let mut run_pipeline = true;
    let mut run_layers = true;
    let mut fused_only = false;
    let mut filter = String::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--sizes" => {
                i += 1;
                let list = args.get(i).ok_or("--sizes needs a value")?;
                sizes = list.split(',').map(|v| v.trim().parse()).collect::<Result<_, _>>()?;
            }
            "--reps" => {
                i += 1;
                reps = args.get(i).ok_or("--reps needs a value")?.parse()?;
            }
            "--no-pipeline" => run_pipeline = false,
            "--no-layers" => run_layers = false,
            "--fused-only" => fused_only = true,
            "--filter" => {
                i += 1;
                filter = args.get(i).ok_or("--filter needs a value")?.clone();
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
        i += 1;
    }
    println!(
        "threads: {}, reps: {reps} (best of), dtype {:?}; fused = Winograd F(4x4,3x3) when \
         cin, cout >= 32, else direct (UNISTYLE_CONV_ALGO=direct|winograd4 forces one)",
        rayon::current_num_threads(),
        DType::F32
    );
    if run_layers {
        bench_layers(&sizes, reps, fused_only, &filter)?;
    }
    if run_pipeline {
        let (tf, of) = pipeline(reps.min(2))?;
        let (ts, os) = if fused_only { (f64::NAN, of.clone()) } else { candle_pipeline(reps.min(2))? };
        let mse = of.iter().zip(&os).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / of.len() as f64;
        let psnr = 10.0 * (1.0 / mse.max(1e-30)).log10();
        println!("pipeline 512² (encode style + 3-level stylize, alpha 0.6), best of {}:", reps.min(2));
        println!("  candle convs: {:>8.1} ms", ts * 1e3);
        println!("  fused convs:  {:>8.1} ms   ({:.2}× faster, fused vs candle PSNR {psnr:.1} dB)", tf * 1e3, ts / tf);
    }
    Ok(())
}
