//! How long a run goes on after a cancel: for each heavy kind of work, a progress function
//! starts answering `Cancel` at a set time into the run, and the time from then to the
//! run's return is measured (the gap between two calls of the progress function plus the
//! time to stop). The same as a host's `unistyle_job_cancel` or the CLI's Ctrl-C, which
//! the library sees through the same function.
//!
//! ```sh
//! cargo run --release --example cancel_latency [SHARED_DIR [CASES]]
//! UNISTYLE_CONV_AMX=off cargo run --release --example cancel_latency   # AVX-512 path
//! ```
//! SHARED_DIR defaults to `$UNISTYLE_SHARED`, else `../shared`. Cases: plain WCT of a 2048²
//! content (levels 3,2,1; its tiles' layers are the longest single steps of the network),
//! patch swap of a 512² content with a 1024² style, a style encoded at stroke scale 8
//! (a 512² style taken at 4096²), and photo mode on a 2048² content; CASES (e.g. `1,3`)
//! picks some of them. Each case is cancelled at three moments; the worst latency is what a
//! user waits at most.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use unistyle::pipeline::{Modes, StyleEncoding};
use unistyle::{image_io, Control, Device, EncodedStyle, Model, Picture, Progress, Stylizer};

/// Runs `work` with a progress function that cancels from `after` on; returns the time
/// from `after` to the return, and whether the run was cancelled (it may end first).
fn cancel_after(after: Duration, work: &dyn Fn(&mut dyn Progress) -> unistyle::Result<()>) -> (f64, bool) {
    let start = Instant::now();
    let mut p = |_f: f32| if start.elapsed() >= after { Control::Cancel } else { Control::Continue };
    let r = work(&mut p);
    let late = start.elapsed().saturating_sub(after).as_secs_f64();
    (late, matches!(r, Err(unistyle::Error::Cancelled)))
}

fn report(name: &str, work: &dyn Fn(&mut dyn Progress) -> unistyle::Result<()>) {
    let t = Instant::now();
    // One full run for its length, then cancels at a quarter, a half and three quarters.
    let full = work(&mut unistyle::Silent);
    let total = t.elapsed();
    if let Err(e) = full {
        println!("{name:<44} failed: {e}");
        return;
    }
    let mut worst = 0.0f64;
    let mut cells = Vec::new();
    for q in [0.25, 0.5, 0.75] {
        let (late, cancelled) = cancel_after(total.mul_f64(q), work);
        worst = worst.max(late);
        cells.push(format!("{:.3}{}", late, if cancelled { "" } else { " (ended)" }));
    }
    println!(
        "{name:<44} run {:>7.2} s   cancel → return: {} s   worst {:.3} s",
        total.as_secs_f64(),
        cells.join(", "),
        worst
    );
}

fn main() -> unistyle::Result<()> {
    let shared = support::shared_dir();
    let model = Model::load(shared.join("weights/wct-vgg19-relu3.safetensors"), &Device::Cpu)?;
    let load = |rel: &str| image_io::load_picture(&shared.join("images").join(rel), "image");
    let c2048: Picture = load("content/tubingen_2048.png")?;
    let c512 = load("content/tubingen_512.png")?;
    let s512 = load("style/starry_512.png")?;
    let s1024 = load("style/starry_1024.png")?;
    let plain = EncodedStyle::encode(&model, &s512, &[1, 2, 3])?;
    let picked: Option<Vec<usize>> =
        std::env::args().nth(2).map(|a| a.split(',').filter_map(|c| c.trim().parse().ok()).collect());
    let wanted = |case: usize| picked.as_ref().is_none_or(|p| p.contains(&case));
    println!(
        "threads {}, UNISTYLE_CONV_AMX={:?}",
        rayon::current_num_threads(),
        std::env::var("UNISTYLE_CONV_AMX").ok()
    );

    if wanted(1) {
        report("WCT 2048², levels 3,2,1", &|p| {
            let st = Stylizer::builder(&model).style(&plain).alpha(0.6).levels(vec![3, 2, 1]).build()?;
            st.run(&c2048, p).map(drop)
        });
    }
    let patch = EncodedStyle::encode_with(
        &model,
        &s1024,
        &[3],
        &StyleEncoding { stroke_scale: vec![1.0], patch_level: Some(3) },
    )?;
    if wanted(2) {
        report("patch swap 512² content, 1024² style", &|p| {
            let modes = Modes { patch_swap: true, ..Default::default() };
            let st = Stylizer::builder(&model).style(&patch).levels(vec![3]).modes(modes).build()?;
            st.run(&c512, p).map(drop)
        });
    }
    if wanted(3) {
        report("style 512² encoded at stroke scale 8", &|p| {
            let enc = StyleEncoding { stroke_scale: vec![8.0], patch_level: None };
            EncodedStyle::encode_tiled_with(&model, &s512, &[1, 2, 3], &enc, 1024, p).map(drop)
        });
    }
    if wanted(4) {
        report("photo mode 2048², levels 3,2,1", &|p| {
            let modes = Modes { photo: true, ..Default::default() };
            let st = Stylizer::builder(&model).style(&plain).alpha(0.6).levels(vec![3, 2, 1]).modes(modes).build()?;
            st.run(&c2048, p).map(drop)
        });
    }
    Ok(())
}
