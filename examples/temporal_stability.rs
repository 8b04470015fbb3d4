//! How much a clip's temporal stabilizer reduces flicker, what it costs in style and time.
//!
//! Three clips cut from a large photo (`../shared/images/content/tubingen_2048.png`, or the
//! first argument), so the true motion is known:
//! - `pan`: a window sliding across the photo by a known step per frame;
//! - `noise`: a still window with fresh sensor noise (Gaussian, σ = 0.03) in every frame;
//! - `zoom`: a window zooming in by 1 % per frame about its centre (a motion the carry, which
//!   models a global translation only, cannot follow);
//! - `fade`: a still window slowly brightening (gain +1.5 % per frame).
//!
//! Per clip and stability: the temporal error (mean absolute difference between consecutive
//! results after undoing the known motion, bilinear, over the overlap), the style distance (relative
//! Frobenius distance of the Gram matrices of the relu1_1..relu3_1 features from the
//! style's, averaged over frames), both relative to independent frames (stability 0), and
//! the time per frame relative to a single stylization, all measured in this one process
//! (frames of the two runs interleaved, so machine load hits both alike). A last line gives the
//! throughput at the default stability on the pan clip: the fastest of three rounds each way.
//!
//! Writes strips of consecutive frames, independent above stabilized, each followed by its
//! consecutive differences ×4, to `target/temporal_strip_<clip>.png`.
//!
//! `cargo run --release --example temporal_stability [content.png] [style.png] [frames] [side]`

use std::time::{Duration, Instant};

use unistyle::model::Border;
use unistyle::{image_io, Clip, Device, EncodedStyle, Model, Picture, Silent, Stylizer};

const NOISE_SIGMA: f32 = 0.03;
const PAN_STEP: (isize, isize) = (7, 3);
const FADE_STEP: f32 = 0.015;
const ZOOM_STEP: f64 = 1.01;

fn shared() -> std::path::PathBuf {
    match std::env::var_os("UNISTYLE_SHARED") {
        Some(p) if !p.is_empty() => p.into(),
        _ => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

/// A `side × side` window of `photo` at `(x, y)`.
fn window(photo: &Picture, x: usize, y: usize, side: usize) -> Picture {
    let n = photo.width * photo.height;
    let mut rgb = Vec::with_capacity(3 * side * side);
    for c in 0..3 {
        for j in 0..side {
            let row = c * n + (y + j) * photo.width + x;
            rgb.extend_from_slice(&photo.rgb[row..row + side]);
        }
    }
    Picture::from_planar(side, side, rgb).expect("valid window")
}

/// Standard normal samples from a fixed seed (xorshift + Box–Muller).
struct Gauss(u64);

impl Gauss {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }
    fn next(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

/// How a pixel of frame t maps into frame t − 1 (`frame_t(x) = frame_{t-1}(motion(x))`).
#[derive(Clone, Copy)]
enum Motion {
    Shift(f64, f64),
    /// Zoom by this factor per frame about the centre of a `side`-pixel frame.
    Zoom(f64, f64),
}

impl Motion {
    fn back(self, x: f64, y: f64) -> (f64, f64) {
        match self {
            Motion::Shift(dx, dy) => (x + dx, y + dy),
            Motion::Zoom(f, side) => {
                let c = (side - 1.0) / 2.0;
                (c + (x - c) / f, c + (y - c) / f)
            }
        }
    }
}

/// A clip: its frames and their motion.
struct Scene {
    name: &'static str,
    frames: Vec<Picture>,
    motion: Motion,
}

/// Bilinear sample of channel `c` of `p` at `(x, y)`; `None` outside.
fn sample(p: &Picture, c: usize, x: f64, y: f64) -> Option<f32> {
    let (w, h) = (p.width, p.height);
    if x < 0.0 || y < 0.0 || x > (w - 1) as f64 || y > (h - 1) as f64 {
        return None;
    }
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
    let n = w * h;
    let at = |x: usize, y: usize| p.rgb[c * n + y * w + x].clamp(0.0, 1.0);
    let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
    let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
    Some(top * (1.0 - fy) + bottom * fy)
}

/// A `side × side` view of `photo` centred at `(cx, cy)` covering `span` photo pixels (bilinear).
fn view(photo: &Picture, cx: f64, cy: f64, span: f64, side: usize) -> Picture {
    let mut rgb = Vec::with_capacity(3 * side * side);
    let step = span / side as f64;
    for c in 0..3 {
        for j in 0..side {
            for i in 0..side {
                let (x, y) = (
                    cx + (i as f64 - (side as f64 - 1.0) / 2.0) * step,
                    cy + (j as f64 - (side as f64 - 1.0) / 2.0) * step,
                );
                rgb.push(sample(photo, c, x, y).unwrap_or(0.0));
            }
        }
    }
    Picture::from_planar(side, side, rgb).expect("valid view")
}

fn scenes(photo: &Picture, count: usize, side: usize) -> Vec<Scene> {
    let (x0, y0) = (photo.width / 3, photo.height / 3);
    let pan =
        (0..count).map(|t| window(photo, x0 + t * PAN_STEP.0 as usize, y0 + t * PAN_STEP.1 as usize, side)).collect();
    let mut g = Gauss(0x9e3779b97f4a7c15);
    let still = window(photo, x0, y0, side);
    let noise = (0..count)
        .map(|_| {
            let mut p = still.clone();
            p.rgb.iter_mut().for_each(|v| *v = (*v + NOISE_SIGMA * g.next()).clamp(0.0, 1.0));
            p
        })
        .collect();
    let fade = (0..count)
        .map(|t| {
            let mut p = still.clone();
            let gain = 0.8 + FADE_STEP * t as f32;
            p.rgb.iter_mut().for_each(|v| *v = (*v * gain).clamp(0.0, 1.0));
            p
        })
        .collect();
    let (cx, cy) = ((x0 + side / 2) as f64, (y0 + side / 2) as f64);
    let zoom = (0..count).map(|t| view(photo, cx, cy, side as f64 / ZOOM_STEP.powi(t as i32), side)).collect();
    vec![
        Scene { name: "pan", frames: pan, motion: Motion::Shift(PAN_STEP.0 as f64, PAN_STEP.1 as f64) },
        Scene { name: "noise", frames: noise, motion: Motion::Shift(0.0, 0.0) },
        Scene { name: "zoom", frames: zoom, motion: Motion::Zoom(ZOOM_STEP, side as f64) },
        Scene { name: "fade", frames: fade, motion: Motion::Shift(0.0, 0.0) },
    ]
}

/// Mean over channels and the overlap of `|b(x) − a(motion(x))|`.
fn moved_difference(a: &Picture, b: &Picture, m: Motion) -> f64 {
    let (w, h) = (b.width, b.height);
    let n = w * h;
    let (mut sum, mut count) = (0f64, 0usize);
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let (px, py) = m.back(x as f64, y as f64);
                if let Some(va) = sample(a, c, px, py) {
                    sum += (b.rgb[c * n + y * w + x].clamp(0.0, 1.0) - va).abs() as f64;
                    count += 1;
                }
            }
        }
    }
    sum / count as f64
}

fn temporal_error(results: &[Picture], m: Motion) -> f64 {
    let d: Vec<f64> = results.windows(2).map(|p| moved_difference(&p[0], &p[1], m)).collect();
    d.iter().sum::<f64>() / d.len() as f64
}

/// Gram matrices `F Fᵀ / N` of the relu1_1..relu3_1 features of `p`.
fn grams(model: &Model, p: &Picture) -> Vec<Vec<f64>> {
    let x = p.to_tensor(model.device()).expect("tensor");
    let taps = model.encode(&x, 3, Border::Reflect).expect("encode");
    taps.iter()
        .map(|f| {
            let (_, c, h, w) = f.dims4().unwrap();
            let v: Vec<f32> = f.flatten_all().unwrap().to_vec1().unwrap();
            let n = h * w;
            let mut g = vec![0f64; c * c];
            for i in 0..c {
                for j in i..c {
                    let (a, b) = (&v[i * n..(i + 1) * n], &v[j * n..(j + 1) * n]);
                    let s: f64 = a.iter().zip(b).map(|(x, y)| (*x as f64) * (*y as f64)).sum::<f64>() / n as f64;
                    g[i * c + j] = s;
                    g[j * c + i] = s;
                }
            }
            g
        })
        .collect()
}

fn style_distance(model: &Model, style: &[Vec<f64>], results: &[Picture]) -> f64 {
    let mut total = 0.0;
    for r in results {
        let mut clamped = r.clone();
        clamped.rgb.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
        let g = grams(model, &clamped);
        let d: f64 = g
            .iter()
            .zip(style)
            .map(|(a, b)| {
                let diff: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt();
                diff / b.iter().map(|y| y * y).sum::<f64>().sqrt()
            })
            .sum::<f64>()
            / g.len() as f64;
        total += d;
    }
    total / results.len() as f64
}

/// Runs the clip independently and with `stability`, frames interleaved; returns both
/// result lists and the time per frame of each.
fn run_both(
    stylizer: &Stylizer,
    frames: &[Picture],
    stability: f64,
) -> (Vec<Picture>, Vec<Picture>, Duration, Duration) {
    let mut clip = Clip::new(stylizer.clone(), stability).expect("clip");
    let (mut ind, mut stab) = (Vec::new(), Vec::new());
    let (mut ti, mut ts) = (Duration::ZERO, Duration::ZERO);
    for f in frames {
        let t = Instant::now();
        ind.push(stylizer.run(f, &mut Silent).expect("stylize"));
        ti += t.elapsed();
        let t = Instant::now();
        stab.push(clip.push(f, &mut Silent).expect("push"));
        ts += t.elapsed();
    }
    let n = frames.len() as u32;
    (ind, stab, ti / n, ts / n)
}

/// Frames side by side, independent above stabilized, each with its differences ×4 below.
fn strip(ind: &[Picture], stab: &[Picture], m: Motion, take: usize) -> Picture {
    let side = ind[0].width;
    let gap = 4;
    let cols = take.min(ind.len());
    let (w, h) = (cols * (side + gap), 4 * (side + gap));
    let mut rgb = vec![1.0f32; 3 * w * h];
    let n = side * side;
    let mut put = |row: usize, col: usize, p: &dyn Fn(usize, usize, usize) -> f32| {
        for c in 0..3 {
            for y in 0..side {
                for x in 0..side {
                    let (ox, oy) = (col * (side + gap) + x, row * (side + gap) + y);
                    rgb[c * w * h + oy * w + ox] = p(c, x, y);
                }
            }
        }
    };
    for (r, results) in [ind, stab].into_iter().enumerate() {
        for col in 0..cols {
            let cur = &results[col];
            put(2 * r, col, &|c, x, y| cur.rgb[c * n + y * side + x].clamp(0.0, 1.0));
            if col > 0 {
                let prev = &results[col - 1];
                put(2 * r + 1, col, &|c, x, y| {
                    let (px, py) = m.back(x as f64, y as f64);
                    let Some(a) = sample(prev, c, px, py) else { return 0.5 };
                    let b = cur.rgb[c * n + y * side + x].clamp(0.0, 1.0);
                    (4.0 * (b - a).abs()).min(1.0)
                });
            } else {
                put(2 * r + 1, col, &|_, _, _| 0.0);
            }
        }
    }
    Picture::from_planar(w, h, rgb).expect("strip")
}

fn main() -> unistyle::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let images = shared().join("images");
    let content = args.first().map_or(images.join("content/tubingen_2048.png"), Into::into);
    let style_path = args.get(1).map_or(images.join("style/starry_512.png"), Into::into);
    let count: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(8);
    let side: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(256);
    let stabilities = [0.3, 0.6, 0.8];

    let model = Model::load(shared().join("weights/wct-vgg19-relu3.safetensors"), &Device::Cpu)?;
    let photo = image_io::load_picture(&content, "content image")?;
    let style_img = image_io::load_picture(&style_path, "style image")?;
    let style = EncodedStyle::encode(&model, &style_img, &model.levels())?;
    let style_grams = grams(&model, &style_img.fit_within(side.max(256)));
    let stylizer = Stylizer::builder(&model).style(&style).build()?;

    println!(
        "{count} frames of {side}×{side} per clip, style {}, levels {:?}; ratios are stabilized / independent",
        style_path.file_name().unwrap_or_default().to_string_lossy(),
        stylizer.levels()
    );
    println!(
        "{:<6} {:>9} {:>12} {:>12} {:>8} {:>12} {:>12} {:>8} {:>10}",
        "clip", "stability", "temporal ind", "temporal stb", "ratio", "style ind", "style stb", "ratio", "time ratio"
    );
    for scene in scenes(&photo, count, side) {
        let mut independent_style = None;
        for &stability in &stabilities {
            let (ind, stab, ti, ts) = run_both(&stylizer, &scene.frames, stability);
            let (ei, es) = (temporal_error(&ind, scene.motion), temporal_error(&stab, scene.motion));
            let di = *independent_style.get_or_insert_with(|| style_distance(&model, &style_grams, &ind));
            let ds = style_distance(&model, &style_grams, &stab);
            println!(
                "{:<6} {:>9.2} {:>12.5} {:>12.5} {:>8.3} {:>12.4} {:>12.4} {:>8.3} {:>10.3}",
                scene.name,
                stability,
                ei,
                es,
                es / ei,
                di,
                ds,
                ds / di,
                ts.as_secs_f64() / ti.as_secs_f64()
            );
            if stability == unistyle::pipeline::DEFAULT_STABILITY {
                let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("target/temporal_strip_{}.png", scene.name));
                image_io::save_picture(&strip(&ind, &stab, scene.motion, 4), &out)?;
                println!("       strip: {}", out.display());
            }
        }
    }
    let pan = &scenes(&photo, count, side)[0].frames;
    let (mut best_single, mut best_clip) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        let (_, _, ti, ts) = run_both(&stylizer, pan, unistyle::pipeline::DEFAULT_STABILITY);
        (best_single, best_clip) = (best_single.min(ti), best_clip.min(ts));
    }
    println!(
        "throughput at stability {}: {:.3} s per frame in a clip, {:.3} s per single stylization: ratio {:.3} (fastest of 3 rounds)",
        unistyle::pipeline::DEFAULT_STABILITY,
        best_clip.as_secs_f64(),
        best_single.as_secs_f64(),
        best_clip.as_secs_f64() / best_single.as_secs_f64()
    );
    Ok(())
}
