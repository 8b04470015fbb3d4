//! The GIMP 3 procedure `plug-in-unistyle-frames` (`plugin-abi/gimp3/unistyle/unistyle_frames.py`,
//! part of the GIMP 3 plug-in, staged as in a release and installed by `unistyle hosts install
//! gimp`) in GIMP 3 in the Debian 13 runtime chroot: an image of three layers (bottom = first frame) is stylized in place
//! as one clip; each layer equals the library clip's result for its frame (PSNR ≥ 45 dB after
//! GIMP's 8-bit round trip); a call without a style fails with the procedure's message.
//!
//! Needs root or password-less sudo (the chroot); without either the test is skipped with a
//! message (CI runs as root).

mod common;

use std::path::Path;
use std::time::Instant;

use common::host_clip::*;
use common::release::can_chroot;
use common::*;

const BATCH: &str = include_str!("gimp3/frames_batch.py");

#[test]
fn gimp3_frames_procedure() {
    if !can_chroot() {
        println!("skipped: the Debian 13 chroot needs root or password-less sudo");
        return;
    }
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).unwrap();
    let dir = tempfile::Builder::new().prefix("gimp3-frames").tempdir_in(base).unwrap();
    let d = canon(dir.path());
    for sub in ["in", "out", "home", "xdg"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    write_pan_frames(&d.join("in"));
    // The plug-in as a painter gets it: a release layout, installed by `unistyle hosts install`.
    common::release::assemble(&d.join("release"));
    std::fs::write(d.join("batch.py"), BATCH).unwrap();

    let env = [
        format!("HOME={}", s(&d.join("home"))),
        format!("XDG_DATA_HOME={}", s(&d.join("xdg"))),
        format!("GIMP3_DIRECTORY={}", s(&d.join("profile"))),
        format!("UNISTYLE_WEIGHTS={}", s(&canon(&relu3_weights()))),
        format!("UNISTYLE_TEST_STYLE={}", s(&canon(&image("style/starry_256.png")))),
        format!("UNISTYLE_TEST_DIR={}", s(&d)),
    ];
    let cmd = format!(
        "cd {} && export {}; {} hosts install gimp --profile {} && timeout -k 10 300 gimp-console-3.0 -i -n --quit \
         --batch-interpreter python-fu-eval -b \"exec(open('{}').read())\"",
        s(&d),
        env.join(" "),
        s(&d.join("release/bin/unistyle")),
        s(&d.join("profile")),
        s(&d.join("batch.py"))
    );
    let t = Instant::now();
    let log = in_chroot(&cmd);
    println!("GIMP 3 batch in the chroot: {:.1} s", t.elapsed().as_secs_f64());
    let text = std::fs::read_to_string(d.join("out/status.json")).unwrap_or_default();
    assert!(!text.is_empty(), "the batch wrote no status\n{log}");
    let status: serde_json::Value = serde_json::from_str(&text).unwrap();
    println!("status: {status}");
    assert_eq!(status["found"], true, "procedure not registered\n{log}");
    assert_eq!(status["ok"], true, "the procedure failed: {status}\n{log}");
    assert_eq!(status["no_style"][0], true, "a call without a style succeeded: {status}");
    assert!(status["no_style"][1].as_str().unwrap().contains("style"), "{status}");
    assert_eq!(status["untouched"], true, "a failed call changed the layers");
    assert_eq!(status["layers"], 3);

    check_against_library_clip(&d.join("in"), "GIMP layer", |i| {
        planar8(&std::fs::read(d.join(format!("out/layer_{i}.rgba"))).unwrap(), 4, [0, 1, 2])
    });
}
