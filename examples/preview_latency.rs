//! Latency of the dialog preview: `Stylizer::preview` (what `unistyle_preview` runs) of a
//! 1024×1024 drawable at 256×256 with a style encoded once, as the GIMP 3 and Krita dialogs
//! call it on every settings change; a full 256×256 stylization in the same run for scale.
//!
//! ```sh
//! cargo run --release --example preview_latency [SHARED_DIR]
//! ```
//! SHARED_DIR defaults to `$UNISTYLE_SHARED`, else `../shared`. Content
//! `images/content/tubingen_1024.png`, style `images/style/starry_256.png`, alpha 0.6, levels
//! 3,2,1 of `weights/wct-vgg19-relu3.safetensors`. Prints the median and best of 7 runs.

use std::path::PathBuf;
use std::time::Instant;

use unistyle::{image_io, Device, EncodedStyle, Model, Silent, Stylizer};

fn main() -> unistyle::Result<()> {
    let shared = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("UNISTYLE_SHARED").filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let model = Model::load(shared.join("weights/wct-vgg19-relu3.safetensors"), &Device::Cpu)?;
    let content = image_io::load_picture(&shared.join("images/content/tubingen_1024.png"), "content image")?;
    let small = image_io::load_picture(&shared.join("images/content/tubingen_256.png"), "content image")?;
    let style_picture = image_io::load_picture(&shared.join("images/style/starry_256.png"), "style image")?;
    let t = Instant::now();
    let style = EncodedStyle::encode(&model, &style_picture, &[1, 2, 3])?;
    let encode_ms = t.elapsed().as_secs_f64() * 1e3;
    let stylizer = Stylizer::builder(&model).style(&style).alpha(0.6).levels(vec![3, 2, 1]).build()?;

    let time = |f: &dyn Fn() -> unistyle::Result<()>| -> unistyle::Result<(f64, f64)> {
        f()?; // warm-up
        let mut ms = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            f()?;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        Ok((ms[ms.len() / 2], ms[0]))
    };
    let (preview_med, preview_best) = time(&|| {
        std::hint::black_box(stylizer.preview(&content, 256, 256, &mut Silent)?);
        Ok(())
    })?;
    let (full_med, full_best) = time(&|| {
        std::hint::black_box(stylizer.run(&small, &mut Silent)?);
        Ok(())
    })?;
    println!("style encoded once (starry_256, levels 1-3): {encode_ms:.1} ms");
    println!("preview 1024x1024 -> 256x256 (levels 3,2,1): median {preview_med:.1} ms, best {preview_best:.1} ms");
    println!("full stylization of a 256x256 image:         median {full_med:.1} ms, best {full_best:.1} ms");
    println!("preview / full 256x256: {:.2}", preview_med / full_med);
    Ok(())
}
