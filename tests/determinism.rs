//! Same inputs and seed → bit-identical output, across repeated runs and across thread
//! counts. Rayon's global pool is sized once per process, so each thread count is a separate
//! run of the command-line tool with `RAYON_NUM_THREADS`; outputs are compared byte for
//! byte. The stylizations read a 16-bit content image and so write 16-bit PNGs, which show
//! differences 256× finer than 8-bit output would.

mod common;

use std::path::Path;

use common::*;

/// Runs the CLI with `threads` rayon threads; returns the output file's bytes.
fn run_with(threads: usize, cli: &Cli, out: &Path) -> Vec<u8> {
    let _ = std::fs::remove_file(out);
    let cli = cli.clone().quiet().weights(relu3_weights()).out(out);
    let res = cli
        .command_line()
        .env("RAYON_NUM_THREADS", threads.to_string())
        .env_remove("UNISTYLE_CONV_ISA")
        .env_remove("UNISTYLE_CONV_ALGO")
        .output()
        .unwrap();
    let args = cli.args();
    assert!(res.status.success(), "unistyle {args:?} with {threads} threads: {}", String::from_utf8_lossy(&res.stderr));
    std::fs::read(out).unwrap()
}

#[test]
fn outputs_are_bit_identical_across_runs_and_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    // A 16-bit copy of the content: its stylizations are written as 16-bit PNG.
    let mut content = picture("content/face_odd.png").fit_within(128);
    content.high_depth = true;
    let content16 = dir.path().join("content16.png");
    unistyle::image_io::save_picture(&content, &content16).unwrap();
    let (starry, brick, mask) =
        (image("style/starry_256.png"), image("style/brick_256.png"), image("mask/mask_odd.png"));
    let stylize = Cli::stylize()
        .content(&content16)
        .style(&starry)
        .style(&brick)
        .mask(&mask)
        .feather(6.0)
        .alpha(0.8)
        .levels("3,2,1")
        .flag("style-size", 96);
    let tiled = stylize.clone().tile_size(48);
    let texture = Cli::texture()
        .style(&starry)
        .style(&brick)
        .blend("0.3,0.7")
        .width(72)
        .height(56)
        .seed(13)
        .iterations(2)
        .flag("style-size", 96);
    let tileable = texture.clone().tileable();
    let cases: [(&str, &Cli); 4] = [
        ("stylize, 2 styles + mask + feather, 16-bit", &stylize),
        ("tiled stylize (tile 48), 16-bit", &tiled),
        ("texture, 2 styles blended", &texture),
        ("tileable texture", &tileable),
    ];
    let t = std::time::Instant::now();
    let mut results = Vec::new();
    for (name, args) in cases {
        let out = dir.path().join(format!("out{}.png", results.len()));
        let base = run_with(2, args, &out);
        // PNG bit depth: byte 24 (after the signature and the IHDR length, type, width, height).
        let depth = if name.contains("16-bit") { 16 } else { 8 };
        assert_eq!(base[24], depth, "{name}: PNG bit depth");
        assert_eq!(run_with(2, args, &out), base, "{name}: a repeated run differs");
        for threads in [1, 3] {
            assert_eq!(run_with(threads, args, &out), base, "{name}: {threads} threads differ from 2");
        }
        results.push(base);
    }
    // The tiled stylization is a different computation from the untiled one (halos), but
    // each is deterministic; they must still be close.
    let (a, b) = (read_png_bytes(&results[0], dir.path(), "a"), read_png_bytes(&results[1], dir.path(), "b"));
    let p = psnr(&a.rgb, &b.rgb);
    assert!(p >= 40.0, "tiled vs untiled: {p:.1} dB");
    println!(
        "{} cases × (2 threads twice, 1 thread, 3 threads): byte-identical outputs; tiled vs untiled {p:.1} dB; {:.1} s",
        results.len(),
        t.elapsed().as_secs_f64()
    );
}

fn read_png_bytes(bytes: &[u8], dir: &Path, name: &str) -> unistyle::Picture {
    let p = dir.join(format!("{name}.png"));
    std::fs::write(&p, bytes).unwrap();
    read_png(&p)
}
