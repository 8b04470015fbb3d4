//! The C side of the ABI: the header matches the library's exports and struct layouts, and
//! the example host in `plugin-abi/examples/`, built with the system C compiler, produces
//! the CLI's output.

mod common;

use std::collections::BTreeSet;
use std::mem::{offset_of, size_of};
use std::process::Command;

use common::cbuild::*;
use common::*;
use unistyle::capi::{UnistyleImage, UnistyleStylizeOptions, UnistyleTextureOptions};

#[test]
fn header_declares_exactly_the_exports() {
    let header = std::fs::read_to_string(root().join("plugin-abi/unistyle.h")).unwrap();
    let declared: BTreeSet<String> = header
        .lines()
        .filter(|l| !l.trim_start().starts_with('*') && !l.trim_start().starts_with("/*") && !l.contains("typedef"))
        .filter_map(|l| {
            let i = l.find("unistyle_")?;
            let rest = &l[i..];
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            rest[name.len()..].starts_with('(').then_some(name)
        })
        .collect();
    let nm = Command::new("nm").args(["-D", "--defined-only"]).arg(lib_dir().join("libunistyle.so")).output().expect("nm");
    let exported: BTreeSet<String> = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|s| s.starts_with("unistyle_"))
        .map(String::from)
        .collect();
    assert!(exported.len() >= 18, "exports: {exported:?}");
    assert_eq!(declared, exported, "plugin-abi/unistyle.h and the library's exports differ");
}

#[test]
fn header_struct_layouts_match_rust() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("layout.c");
    std::fs::write(&src, r#"
#include <stddef.h>
#include <stdio.h>
#include "unistyle.h"
#define F(T, f) printf(#T "." #f " %zu\n", offsetof(T, f))
int main(void) {
    printf("image %zu\nstylize %zu\ntexture %zu\n", sizeof(unistyle_image), sizeof(unistyle_stylize_options), sizeof(unistyle_texture_options));
    F(unistyle_image, stride); F(unistyle_image, data);
    F(unistyle_stylize_options, styles); F(unistyle_stylize_options, masks); F(unistyle_stylize_options, alpha);
    F(unistyle_stylize_options, progress); F(unistyle_stylize_options, job);
    F(unistyle_texture_options, seed); F(unistyle_texture_options, tileable); F(unistyle_texture_options, job); F(unistyle_texture_options, init);
    return 0;
}
"#).unwrap();
    let exe = dir.path().join("layout");
    cc(&src, &exe, &["-O2"], &[]);
    let out = String::from_utf8(Command::new(&exe).output().unwrap().stdout).unwrap();
    let expected = format!(
        "image {}\nstylize {}\ntexture {}\n\
         unistyle_image.stride {}\nunistyle_image.data {}\n\
         unistyle_stylize_options.styles {}\nunistyle_stylize_options.masks {}\nunistyle_stylize_options.alpha {}\n\
         unistyle_stylize_options.progress {}\nunistyle_stylize_options.job {}\n\
         unistyle_texture_options.seed {}\nunistyle_texture_options.tileable {}\nunistyle_texture_options.job {}\nunistyle_texture_options.init {}\n",
        size_of::<UnistyleImage>(), size_of::<UnistyleStylizeOptions>(), size_of::<UnistyleTextureOptions>(),
        offset_of!(UnistyleImage, stride), offset_of!(UnistyleImage, data),
        offset_of!(UnistyleStylizeOptions, styles), offset_of!(UnistyleStylizeOptions, masks), offset_of!(UnistyleStylizeOptions, alpha),
        offset_of!(UnistyleStylizeOptions, progress), offset_of!(UnistyleStylizeOptions, job),
        offset_of!(UnistyleTextureOptions, seed), offset_of!(UnistyleTextureOptions, tileable), offset_of!(UnistyleTextureOptions, job),
        offset_of!(UnistyleTextureOptions, init),
    );
    assert_eq!(out, expected, "C and Rust disagree on struct layout");
}

/// The host built against the first release's header (a fixture, never edited) runs
/// unchanged against this library, and a "v2" host with a struct larger than the library
/// knows works: zero tail accepted, a set unknown field refused, same pixels.
#[test]
fn v1_and_v2_hosts_run_against_this_library() {
    let dir = tempfile::tempdir().unwrap();
    let style = image("style/starry_256.png");
    let mut outputs = Vec::new();
    for (name, flags) in [("v1", vec!["-I", "plugin-abi/tests/v1"]), ("v2", vec!["-DV2"])] {
        let v1_include = root().join("plugin-abi/tests/v1");
        let flags: Vec<String> = flags
            .iter()
            .map(|f| if *f == "plugin-abi/tests/v1" { v1_include.display().to_string() } else { f.to_string() })
            .collect();
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let exe = dir.path().join(format!("growth_{name}"));
        cc(&root().join("plugin-abi/tests/growth_host.c"), &exe, &flags, &["-lunistyle"]);
        let raw = dir.path().join(format!("{name}.raw"));
        let res = Command::new(&exe)
            .args([s(&relu3_weights()), s(&style), s(&raw)])
            .env("LD_LIBRARY_PATH", lib_dir())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&res.stdout).to_string();
        println!("{name} host:\n{stdout}");
        assert!(res.status.success() && !stdout.contains("FAIL"), "{name} host failed:\n{stdout}{}", String::from_utf8_lossy(&res.stderr));
        if name == "v2" {
            assert!(stdout.contains("levels: '7' is not a level 1..5 (in '3,7')"), "{stdout}");
            assert!(stdout.contains("is set but this library's unistyle_stylize_options ends at byte"), "{stdout}");
        }
        outputs.push(std::fs::read(&raw).unwrap());
    }
    assert_eq!(outputs[0], outputs[1], "v1 and v2 hosts got different pixels");
}

#[test]
fn example_host_matches_cli() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("unistyle_host");
    cc(&root().join("plugin-abi/examples/unistyle_host.c"), &exe, &["-O2"], &["-lunistyle", "-lpng"]);
    let host_out = dir.path().join("host.png");
    let cli_out = dir.path().join("cli.png");
    let (content, style) = (image("content/face_odd.png"), image("style/starry_256.png"));
    let t = std::time::Instant::now();
    let res = Command::new(&exe)
        .args(["stylize", s(&relu3_weights()), s(&content), s(&style), s(&host_out), "0.7", "3,2,1"])
        .env("LD_LIBRARY_PATH", lib_dir())
        .output()
        .unwrap();
    assert!(res.status.success(), "host failed: {}", String::from_utf8_lossy(&res.stderr));
    println!("C host stylize 243x187: {:.2} s", t.elapsed().as_secs_f64());
    run_ok(&["stylize", "--content", s(&content), "--style", s(&style), "--alpha", "0.7", "--levels", "3,2,1",
        "--weights", s(&relu3_weights()), "--out", s(&cli_out)]);
    let p = psnr(&read_png(&host_out).rgb, &read_png(&cli_out).rgb);
    println!("C host vs CLI: {p:.2} dB");
    assert!(p >= 50.0, "C host output differs from the CLI's: {p:.2} dB");

    // Texture through the host equals the CLI's (same seed).
    let host_tex = dir.path().join("host_tex.png");
    let cli_tex = dir.path().join("cli_tex.png");
    let res = Command::new(&exe)
        .args(["texture", s(&relu3_weights()), s(&image("style/brick_256.png")), s(&host_tex), "64", "48", "5", "1", "1"])
        .env("LD_LIBRARY_PATH", lib_dir())
        .output()
        .unwrap();
    assert!(res.status.success(), "host texture failed: {}", String::from_utf8_lossy(&res.stderr));
    run_ok(&["texture", "--style", s(&image("style/brick_256.png")), "--width", "64", "--height", "48", "--seed", "5",
        "--iterations", "1", "--tileable", "--weights", s(&relu3_weights()), "--out", s(&cli_tex)]);
    assert_eq!(read_png(&host_tex).rgb, read_png(&cli_tex).rgb);

    // A failing call: one error line naming the problem, non-zero exit, no output.
    let bad_out = dir.path().join("bad.png");
    let res = Command::new(&exe)
        .args(["stylize", "/no/weights.safetensors", s(&content), s(&style), s(&bad_out)])
        .env("LD_LIBRARY_PATH", lib_dir())
        .output()
        .unwrap();
    assert!(!res.status.success());
    assert!(String::from_utf8_lossy(&res.stderr).contains("/no/weights.safetensors"));
    assert!(!bad_out.exists());
}
