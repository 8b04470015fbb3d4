//! Latency of the dialog preview: `Stylizer::preview` (what `unistyle_preview` runs) of a
//! 1024×1024 drawable at 256×256 with a style encoded once, as the GIMP 3 and Krita dialogs
//! call it on every settings change; a full 256×256 stylization in the same run for scale.
//!
//! ```sh
//! cargo run --release --example preview_latency [SHARED_DIR]
//! ```
//! SHARED_DIR defaults to `$UNISTYLE_SHARED`, else `../shared`. Content
//! `images/content/tubingen_1024.png`, style `images/style/starry_256.png`, alpha 0.6, levels
//! 3,2,1 of `weights/wct-vgg19-relu3.safetensors`. Prints the median and best wall time of 7
//! runs and the process CPU time per run (user + system, from /proc/self/stat on Linux): on a
//! machine shared with other work the wall time grows, the CPU time does not.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use unistyle::{image_io, Device, EncodedStyle, Model, Precision, Silent, Stylizer};

fn main() -> unistyle::Result<()> {
    let shared = support::shared_dir();
    let model = Model::load(shared.join("weights/wct-vgg19-relu3.safetensors"), &Device::Cpu)?;
    let content = image_io::load_picture(&shared.join("images/content/tubingen_1024.png"), "content image")?;
    let small = image_io::load_picture(&shared.join("images/content/tubingen_256.png"), "content image")?;
    let style_picture = image_io::load_picture(&shared.join("images/style/starry_256.png"), "style image")?;
    let t = Instant::now();
    let style = EncodedStyle::encode(&model, &style_picture, &[1, 2, 3])?;
    let encode_ms = t.elapsed().as_secs_f64() * 1e3;
    let at = |precision| {
        Stylizer::builder(&model).style(&style).alpha(0.6).levels(vec![3, 2, 1]).precision(precision).build()
    };
    let stylizer = at(Precision::F32)?;
    // The hosts' previews run at bf16 (plugin-abi/gimp3/preview.c, the Krita binding).
    let bf16 = at(Precision::Bf16)?;

    let time = |f: &dyn Fn() -> unistyle::Result<()>| -> unistyle::Result<(f64, f64, f64)> {
        f()?; // warm-up
        let mut ms = Vec::new();
        let cpu0 = cpu_ms();
        for _ in 0..7 {
            let t = Instant::now();
            f()?;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let cpu = (cpu_ms() - cpu0) / 7.0;
        ms.sort_by(f64::total_cmp);
        Ok((ms[ms.len() / 2], ms[0], cpu))
    };
    let (preview_med, preview_best, preview_cpu) = time(&|| {
        std::hint::black_box(stylizer.preview(&content, 256, 256, &mut Silent)?);
        Ok(())
    })?;
    let (bf16_med, bf16_best, bf16_cpu) = time(&|| {
        std::hint::black_box(bf16.preview(&content, 256, 256, &mut Silent)?);
        Ok(())
    })?;
    let (full_med, full_best, full_cpu) = time(&|| {
        std::hint::black_box(stylizer.run(&small, &mut Silent)?);
        Ok(())
    })?;
    println!("style encoded once (starry_256, levels 1-3): {encode_ms:.1} ms");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{threads} CPU threads available");
    println!(
        "preview 1024x1024 -> 256x256 (levels 3,2,1): median {preview_med:.1} ms, best {preview_best:.1} ms, \
         CPU {preview_cpu:.1} ms per run"
    );
    println!(
        "preview as above at bf16 (the hosts' choice): median {bf16_med:.1} ms, best {bf16_best:.1} ms, \
         CPU {bf16_cpu:.1} ms per run"
    );
    println!(
        "full stylization of a 256x256 image:         median {full_med:.1} ms, best {full_best:.1} ms, \
         CPU {full_cpu:.1} ms per run"
    );
    println!("preview / full 256x256: {:.2}", preview_med / full_med);
    Ok(())
}

/// CPU time (user + system) of this process so far, in milliseconds; NaN where unknown.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which may hold spaces, in parentheses): utime and stime
    // are the 12th and 13th, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
    if f.len() == 2 {
        (f[0] + f[1]) * 10.0
    } else {
        f64::NAN
    }
}
