//! How much the style cache saves on a repeated 512×512 stylization.
//!
//! ```sh
//! cargo run --release --example style_cache_timing [SHARED_DIR]
//! ```
//! SHARED_DIR defaults to `$UNISTYLE_SHARED`, else `../shared`. Content
//! `images/content/tubingen_512.png`, style `images/style/starry_512.png`, alpha 0.6, every
//! level of `weights/wct-vgg19-relu3.safetensors`. Runs cold (empty cache: encode and
//! store the style) and warm (cache hit) a few times and prints the best of each.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use unistyle::style_cache::{CacheOutcome, StyleCache, StyleEncoder};
use unistyle::{image_io, Device, Model, Silent, Stylizer};

fn main() -> unistyle::Result<()> {
    let shared = support::shared_dir();
    let model = Model::load(shared.join("weights/wct-vgg19-relu3.safetensors"), &Device::Cpu)?;
    let content = image_io::load_picture(&shared.join("images/content/tubingen_512.png"), "content image")?;
    let style = shared.join("images/style/starry_512.png");
    let levels = model.levels();
    let dir = tempfile::tempdir().map_err(|source| unistyle::Error::Io {
        what: "temporary folder",
        path: std::env::temp_dir(),
        source,
    })?;

    // One stylization: style from the encoder (through the cache), then the pipeline.
    let run = |cache: &StyleCache| -> unistyle::Result<(Duration, Duration, CacheOutcome)> {
        let t0 = Instant::now();
        let mut enc = StyleEncoder::new(&model, Some(cache.clone()));
        let s = enc.encode(&style, None, &levels)?;
        let t_style = t0.elapsed();
        let out = Stylizer::builder(&model).style(&s).alpha(0.6).build()?.run(&content, &mut Silent)?;
        std::hint::black_box(out);
        Ok((t_style, t0.elapsed(), enc.reports()[0].outcome.clone()))
    };
    let reps = 3;
    let (mut cold, mut warm) = ((Duration::MAX, Duration::MAX), (Duration::MAX, Duration::MAX));
    for i in 0..reps {
        let cache = StyleCache::new(dir.path().join(format!("cache{i}")));
        let (s, t, o) = run(&cache)?;
        assert_eq!(o, CacheOutcome::Miss);
        cold = (cold.0.min(s), cold.1.min(t));
        let (s, t, o) = run(&cache)?;
        assert_eq!(o, CacheOutcome::Hit);
        warm = (warm.0.min(s), warm.1.min(t));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("512x512 stylization, style starry_512 (levels {levels:?}, alpha 0.6), best of {reps}:");
    println!("  cold (cache miss: encode + store style): style {:8.1} ms, total {:8.1} ms", ms(cold.0), ms(cold.1));
    println!("  warm (cache hit: hash + read entry):     style {:8.1} ms, total {:8.1} ms", ms(warm.0), ms(warm.1));
    // Only the style phase differs between the two runs; the totals also carry the noise
    // of whatever else the machine is doing.
    let saved = ms(cold.0) - ms(warm.0);
    println!(
        "  saved by the style cache: {saved:.1} ms per run ({:.0} % of the cold run's {:.1} ms)",
        100.0 * saved / ms(cold.1),
        ms(cold.1)
    );
    Ok(())
}
