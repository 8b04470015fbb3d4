//! Bad input through the CLI: non-zero exit, a one-line message naming the problem, no
//! panic, and no output file (nor a leftover temporary file).

mod common;

use std::path::{Path, PathBuf};

use common::*;

struct Case<'a> {
    name: &'a str,
    args: Vec<String>,
    /// Substrings the message must contain (case-insensitive).
    expect: &'a [&'a str],
}

fn assert_refused(c: &Case, out_dir: &Path, out: &Path) {
    let res = bin().args(&c.args).env_remove("UNISTYLE_WEIGHTS").output().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success(), "{}: exit status 0; stderr: {stderr}", c.name);
    assert_ne!(res.status.code(), Some(101), "{}: exit code 101 (panic)", c.name);
    assert!(!stderr.contains("panicked"), "{}: panic text: {stderr}", c.name);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{}: expected one line, got: {stderr}", c.name);
    let lower = lines[0].to_lowercase();
    for e in c.expect {
        assert!(lower.contains(&e.to_lowercase()), "{}: message lacks '{e}': {}", c.name, lines[0]);
    }
    assert!(!out.exists(), "{}: output file was written", c.name);
    let leftovers: Vec<PathBuf> = std::fs::read_dir(out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".unistyle-"))
        .collect();
    assert!(leftovers.is_empty(), "{}: temporary files left: {leftovers:?}", c.name);
}

#[test]
fn bad_inputs_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out.png");
    let content = image("content/tubingen_256.png");
    let style = image("style/starry_256.png");
    let weights = relu3_weights();

    // Broken weights files.
    let empty = d.join("empty.safetensors");
    std::fs::write(&empty, b"").unwrap();
    let garbage = d.join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a safetensors file at all, just text").unwrap();
    let truncated = d.join("truncated.safetensors");
    let real = std::fs::read(&weights).unwrap();
    std::fs::write(&truncated, &real[..real.len() / 2]).unwrap();
    let wrong_shape = d.join("wrong_shape.safetensors");
    write_random_weights_with(&wrong_shape, &[1, 2, 3], 3, |name, shape| {
        if name == "decoder2.conv1_2.weight" {
            shape[1] = 32;
        }
    });
    // Broken images.
    let zero = d.join("zero.png");
    std::fs::write(&zero, b"").unwrap();
    let junk = d.join("junk.png");
    std::fs::write(&junk, b"\x89PNG\r\n\x1a\n but then nothing sensible follows").unwrap();
    let copy_of_content = d.join("content_copy.png");
    std::fs::copy(&content, &copy_of_content).unwrap();

    let base = |w: &Path, c: &Path, s: &Path, o: &Path| -> Vec<String> {
        Cli::stylize().content(c).style(s).out(o).weights(w).args()
    };
    let with = |mut v: Vec<String>, extra: &[&str]| {
        v.extend(extra.iter().map(|e| e.to_string()));
        v
    };
    let missing = d.join("nope.safetensors");
    let cases = vec![
        Case {
            name: "missing weights",
            args: base(&missing, &content, &style, &out),
            expect: &["nope.safetensors", "given by --weights"],
        },
        Case {
            name: "empty weights",
            args: base(&empty, &content, &style, &out),
            expect: &["empty.safetensors", "empty"],
        },
        Case {
            name: "garbage weights",
            args: base(&garbage, &content, &style, &out),
            expect: &["garbage.safetensors", "safetensors"],
        },
        Case {
            name: "truncated weights",
            args: base(&truncated, &content, &style, &out),
            expect: &["truncated.safetensors"],
        },
        Case {
            name: "wrong shape",
            args: base(&wrong_shape, &content, &style, &out),
            expect: &["decoder2.conv1_2.weight", "shape"],
        },
        Case {
            name: "missing content",
            args: base(&weights, &d.join("no_such.png"), &style, &out),
            expect: &["content image", "no_such.png"],
        },
        Case {
            name: "0-byte content",
            args: base(&weights, &zero, &style, &out),
            expect: &["content image", "zero.png", "empty"],
        },
        Case {
            name: "corrupt style",
            args: base(&weights, &content, &junk, &out),
            expect: &["style image", "junk.png"],
        },
        Case {
            name: "missing level",
            args: with(base(&weights, &content, &style, &out), &["--levels", "4,1"]),
            expect: &["level 4", "1,2,3"],
        },
        Case {
            name: "level out of range",
            args: with(base(&weights, &content, &style, &out), &["--levels", "3,9"]),
            expect: &["--levels", "9"],
        },
        Case {
            name: "alpha too big",
            args: with(base(&weights, &content, &style, &out), &["--alpha", "1.5"]),
            expect: &["alpha", "1.5"],
        },
        Case {
            name: "alpha negative",
            args: with(base(&weights, &content, &style, &out), &["--alpha=-0.1"]),
            expect: &["alpha", "-0.1"],
        },
        Case {
            name: "alpha NaN",
            args: with(base(&weights, &content, &style, &out), &["--alpha", "NaN"]),
            expect: &["alpha", "nan"],
        },
        Case {
            name: "precision fp16",
            args: with(base(&weights, &content, &style, &out), &["--precision", "fp16"]),
            expect: &["--precision: 'fp16' is not a precision (f32 or bf16)"],
        },
        Case {
            name: "level alpha",
            args: with(base(&weights, &content, &style, &out), &["--level-alpha", "2=7"]),
            expect: &["alpha at level 2"],
        },
        Case {
            name: "unknown extension",
            args: base(&weights, &content, &style, &d.join("out.xyz")),
            expect: &["out.xyz", "extension"],
        },
        Case {
            name: "missing output dir",
            args: base(&weights, &content, &style, &d.join("no_dir/out.png")),
            expect: &["no_dir"],
        },
        Case {
            name: "blend count",
            args: with(base(&weights, &content, &style, &out), &["--blend", "0.2,0.8"]),
            expect: &["--blend", "2 weights for 1 styles"],
        },
    ];
    for c in &cases {
        assert_refused(c, d, &out);
    }
    // The output may never replace the content image.
    let before = std::fs::read(&copy_of_content).unwrap();
    let c = Case {
        name: "out is content",
        args: base(&weights, &copy_of_content, &style, &copy_of_content),
        expect: &["refusing to overwrite"],
    };
    assert_refused(&c, d, &d.join("never-written.png"));
    assert_eq!(std::fs::read(&copy_of_content).unwrap(), before, "content file changed");
    println!("{} bad-input cases refused cleanly", cases.len() + 1);
}

#[test]
fn existing_output_survives_a_failed_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keep.png");
    std::fs::write(&out, b"previous result").unwrap();
    let res = Cli::stylize()
        .content(dir.path().join("absent.png"))
        .style(image("style/starry_256.png"))
        .out(&out)
        .weights(relu3_weights())
        .run();
    assert!(!res.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), b"previous result");
}

#[test]
fn no_weights_anywhere_names_all_three_places() {
    let res = Cli::stylize()
        .content(image("content/tubingen_256.png"))
        .style(image("style/starry_256.png"))
        .out("/tmp/unistyle-never.png")
        .run();
    let stderr = String::from_utf8_lossy(&res.stderr);
    if res.status.success() {
        // A developer may keep real weights in weights/: then the lookup legitimately succeeds.
        assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("weights")
            .read_dir()
            .unwrap()
            .any(|e| { e.unwrap().path().extension().is_some_and(|x| x == "safetensors") }));
        let _ = std::fs::remove_file("/tmp/unistyle-never.png");
        return;
    }
    for needle in ["--weights", "UNISTYLE_WEIGHTS", "weights"] {
        assert!(stderr.contains(needle), "message lacks {needle}: {stderr}");
    }
}

/// `--device cuda`, `cuda:N` and `metal` where this build or machine has no such device: one
/// line saying what is missing (the cargo feature, or a device the driver could open), a
/// non-zero exit without a panic, no output. A device that does open here is left out.
#[test]
fn unavailable_devices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let (content, style) = (image("content/tubingen_256.png"), image("style/starry_256.png"));
    let weights = relu3_weights();
    let mut refused = 0;
    for device in ["cuda", "cuda:99", "metal"] {
        if unistyle::device::parse_device(device).is_ok() {
            println!("{device}: opens on this machine, not refused");
            continue;
        }
        let (metal_built, cuda_built) = (cfg!(feature = "metal"), cfg!(feature = "cuda"));
        let built = if device == "metal" { metal_built } else { cuda_built };
        let why: &[&str] =
            if built { &["device", device, "could not be opened"] } else { &["device", device, "cargo feature"] };
        let args: Vec<String> = ["stylize", "--content", s(&content), "--style", s(&style), "--out", s(&out)]
            .into_iter()
            .chain(["--weights", s(&weights), "--device", device])
            .map(String::from)
            .collect();
        assert_refused(&Case { name: device, args, expect: why }, dir.path(), &out);
        refused += 1;
    }
    assert!(refused >= 2, "at least cuda:99 and one of cuda/metal are refused everywhere");
    if !cfg!(feature = "cuda") {
        assert_eq!(refused, 3, "a build without cuda refuses every cuda device");
    }
}
