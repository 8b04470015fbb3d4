//! Cost of the WCT transform stage alone (no network in the timing): for each level of a
//! 3-level stylization of `tubingen_N.png` with `starry_512.png`, the content statistics
//! (mean, covariance, eigendecomposition), the map (whitening × colouring, alpha 0.6) and its
//! application to the features (into a new map; the stylizer's unmasked path overwrites the
//! encoder's output in place, saving the allocation) — what `Stylizer::run` times as
//! "transform" — and the style's statistics (the style stage's work besides the encoder).
//! Wall and process CPU time (all threads: less sensitive than wall time to other work on
//! the machine), medians of 7.
//!
//! ```sh
//! cargo run --release --example transform_cost [SIZE…]   # default 256 512 1024
//! ```
//! Reads `$UNISTYLE_SHARED` (default `../shared`): `weights/wct-vgg19-relu3.safetensors`,
//! `images/content/tubingen_N.png`, `images/style/starry_512.png`.

use std::path::PathBuf;
use std::time::Instant;

use unistyle::transform::{Affine, Stats, WeightedStyle};
use unistyle::{image_io, Border, Device, Model, Picture, Precision};

/// Process CPU time in seconds (all threads), NaN where unknown.
fn cpu_s() -> f64 {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `t` is a valid timespec for the call to fill.
        if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } == 0 {
            return t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9;
        }
    }
    f64::NAN
}

/// Median wall and CPU milliseconds of 7 runs of `f` (after one warm-up).
fn time<T>(mut f: impl FnMut() -> unistyle::Result<T>) -> unistyle::Result<(f64, f64)> {
    std::hint::black_box(f()?);
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let (t, c) = (Instant::now(), cpu_s());
        std::hint::black_box(f()?);
        cpu.push((cpu_s() - c) * 1e3);
        wall.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Ok((median(wall), median(cpu)))
}

/// `[C, N]` features of `picture` at `level`.
fn features(model: &Model, picture: &Picture, level: usize) -> unistyle::Result<candle_core::Tensor> {
    let x = candle_core::Tensor::from_slice(&picture.rgb, (1, 3, picture.height, picture.width), &Device::Cpu)?;
    let f = model.encode_level(&x, level, Border::Reflect, Precision::F32)?;
    let (_, c, h, w) = f.dims4()?;
    Ok(f.reshape((c, h * w))?)
}

fn main() -> unistyle::Result<()> {
    let shared = std::env::var_os("UNISTYLE_SHARED")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![256, 512, 1024] } else { sizes };
    let model = Model::load(shared.join("weights/wct-vgg19-relu3.safetensors"), &Device::Cpu)?;
    let style_picture = image_io::load_picture(&shared.join("images/style/starry_512.png"), "style image")?;
    let threads = rayon::current_num_threads();
    println!("{threads} threads; milliseconds, wall / CPU (all threads), medians of 7");
    let mut style_total = (0.0, 0.0);
    let mut styles = Vec::new();
    for level in [3, 2, 1] {
        let f = features(&model, &style_picture, level)?;
        let (w, c) = time(|| Stats::of(&f))?;
        println!("style 512² level {level} {:?}: statistics {w:.1} / {c:.1}", f.dims2()?);
        style_total = (style_total.0 + w, style_total.1 + c);
        styles.push((level, Stats::of(&f)?));
    }
    println!("style statistics, 3 levels: {:.1} / {:.1}", style_total.0, style_total.1);
    for size in sizes {
        let content =
            image_io::load_picture(&shared.join(format!("images/content/tubingen_{size}.png")), "content image")?;
        let mut total = (0.0, 0.0);
        for (level, style) in &styles {
            let f = features(&model, &content, *level)?;
            let mix = [WeightedStyle { stats: style, weight: 1.0 }];
            let (sw, sc) = time(|| Stats::of(&f))?;
            let stats = Stats::of(&f)?;
            let (mw, mc) = time(|| Affine::whiten_colour(&stats, &mix, 0.6, &Device::Cpu))?;
            let map = Affine::whiten_colour(&stats, &mix, 0.6, &Device::Cpu)?;
            let (aw, ac) = time(|| map.apply(&f))?;
            println!(
                "{size}² level {level} {:?}: statistics {sw:.1} / {sc:.1}, map {mw:.1} / {mc:.1}, apply {aw:.1} / {ac:.1}",
                f.dims2()?
            );
            total = (total.0 + sw + mw + aw, total.1 + sc + mc + ac);
        }
        println!("{size}² transform, 3 levels: {:.1} / {:.1}", total.0, total.1);
    }
    Ok(())
}
