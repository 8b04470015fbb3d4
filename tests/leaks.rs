//! Create/destroy cycles of every C ABI handle leak nothing. `plugin-abi/tests/leak_cycles.c`,
//! built with the system C compiler against the cdylib, creates, uses (success, error and
//! cancel paths, last-error strings, two short-lived threads) and destroys contexts, styles,
//! jobs and presets, then exits:
//! - under valgrind: definite and indirect leaks and invalid accesses fail the test; what the
//!   rayon pool and other process-wide state keep is "still reachable"/"possibly lost" and
//!   allowed;
//! - linked with LeakSanitizer, at native speed with every level of the shared weights;
//! - 200 cycles must not grow the resident set.
//!
//! Each checker is first shown a forgotten context, which it must report. Needs `valgrind` and
//! gcc's LeakSanitizer runtime (`scripts/setup-test-deps.sh` installs both); a missing tool
//! fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cbuild::*;
use common::*;

/// Compiles the leak-cycle program into `dir` (`extra`: e.g. `-fsanitize=leak`).
fn build(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let exe = dir.join(name);
    cc(
        &root().join("plugin-abi/tests/leak_cycles.c"),
        &exe,
        &[&["-O1", "-g", "-pthread"], extra].concat(),
        &["-lunistyle", "-lpthread"],
    );
    exe
}

/// `exe WEIGHTS STYLE DIR CYCLES [mode]`, optionally under a tool (`prefix`); the library is
/// found through LD_LIBRARY_PATH.
fn leak_cycles(prefix: &[&str], exe: &Path, weights: &Path, dir: &Path, cycles: usize, mode: Option<&str>) -> Command {
    let mut cmd = match prefix.split_first() {
        Some((tool, args)) => {
            let mut c = Command::new(tool);
            c.args(args).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.arg(weights).arg(image("style/brick_256.png")).arg(dir).arg(cycles.to_string());
    cmd.args(mode);
    cmd.env("LD_LIBRARY_PATH", lib_dir()).env_remove("UNISTYLE_WEIGHTS").env_remove("UNISTYLE_STYLE_PATH");
    cmd
}

/// The shared weights cut down to levels 1..=`top` (the encoder to relu`top`_1 and those
/// decoders). Valgrind emulates every FMA lane in software, so the 128- and 256-channel
/// eigendecompositions of levels 2 and 3 would take minutes under it; level 1 runs the
/// same code paths.
fn weights_subset(dir: &Path, top: usize) -> PathBuf {
    use unistyle::model::architecture::{decoder_tensors, encoder_tensors};
    let bytes = std::fs::read(relu3_weights()).expect("shared weights");
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = encoder_tensors(top).into_iter().map(|(n, _)| n).collect();
    names.extend((1..=top).flat_map(decoder_tensors).map(|(n, _)| n));
    let views: Vec<(String, safetensors::tensor::TensorView)> = names
        .into_iter()
        .map(|n| {
            let v = file.tensor(&n).unwrap();
            (n, v)
        })
        .collect();
    let mut info = meta.metadata().clone().unwrap_or_default();
    info.insert("levels".into(), (1..=top).map(|l| l.to_string()).collect::<Vec<_>>().join(","));
    let path = dir.join(format!("wct-vgg19-relu{top}.safetensors"));
    std::fs::write(&path, safetensors::serialize(views, Some(info)).unwrap()).unwrap();
    path
}

fn has_valgrind() -> bool {
    Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// "definitely lost: 1,234 bytes in 5 blocks" → 1234 (0 when valgrind printed no such line,
/// which it does when every block was freed).
fn lost_bytes(report: &str, kind: &str) -> u64 {
    report
        .lines()
        .find_map(|l| l.split_once(&format!("{kind} lost: ")).map(|(_, rest)| rest.to_string()))
        .map(|rest| {
            rest.split(" bytes").next().unwrap_or("").replace(',', "").trim().parse().expect("valgrind byte count")
        })
        .unwrap_or(0)
}

const VALGRIND: [&str; 6] = [
    "valgrind",
    "--leak-check=full",
    "--show-leak-kinds=definite,indirect",
    "--errors-for-leak-kinds=definite,indirect",
    "--error-exitcode=97",
    "--num-callers=40",
];

#[test]
fn valgrind_finds_no_leaks_in_create_destroy_cycles() {
    // Like the host tests, a missing tool fails rather than skips.
    assert!(has_valgrind(), "valgrind is required (scripts/setup-test-deps.sh installs it)");
    let dir = tempfile::tempdir().unwrap();
    let exe = build(dir.path(), "leak_cycles", &[]);
    let weights = weights_subset(dir.path(), 1);
    let run = |cycles: usize, mode: Option<&str>| {
        let t = std::time::Instant::now();
        let res = leak_cycles(&VALGRIND, &exe, &weights, dir.path(), cycles, mode)
            // Valgrind 3.19 does not emulate AVX-512 (it hides it from CPUID; say so anyway).
            .env("UNISTYLE_CONV_ISA", "avx2")
            .env("RAYON_NUM_THREADS", "2")
            .output()
            .unwrap();
        (res, t.elapsed().as_secs_f64())
    };

    // Control: handles never destroyed are reported, definitely and indirectly lost.
    let (res, _) = run(0, Some("forget"));
    let report = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(97), "valgrind missed a forgotten context:\n{report}");
    assert!(lost_bytes(&report, "definitely") > 0 && lost_bytes(&report, "indirectly") > 0, "{report}");

    let cycles = 3;
    let (res, secs) = run(cycles, None);
    let report = String::from_utf8_lossy(&res.stderr);
    let stdout = String::from_utf8_lossy(&res.stdout);
    let summary: Vec<&str> = report
        .lines()
        .filter(|l| {
            [
                "definitely lost",
                "indirectly lost",
                "possibly lost",
                "still reachable",
                "ERROR SUMMARY",
                "All heap blocks",
                "total heap usage",
            ]
            .iter()
            .any(|k| l.contains(k))
        })
        .collect();
    println!("valgrind, {cycles} cycles + 2 threads, {secs:.1} s:\n{}", summary.join("\n"));
    assert!(
        res.status.success() && stdout.contains(&format!("{cycles} cycles ok")),
        "leak_cycles under valgrind failed ({:?}):\n{stdout}\n{report}",
        res.status.code()
    );
    for kind in ["definitely", "indirectly"] {
        assert_eq!(lost_bytes(&report, kind), 0, "{kind} lost:\n{report}");
    }
    for bad in ["Invalid read", "Invalid write", "Invalid free", "Mismatched free", "uninitialised"] {
        assert!(!report.contains(bad), "valgrind reports '{bad}':\n{report}");
    }
    assert!(report.contains("ERROR SUMMARY: 0 errors"), "{report}");
}

#[test]
fn leak_sanitizer_finds_no_leaks_with_every_level() {
    // LeakSanitizer (gcc's liblsan, linked by -fsanitize=leak) runs at native speed, so this
    // one uses the full three-level weights (masks, pooling, every level's statistics).
    let dir = tempfile::tempdir().unwrap();
    let exe = build(dir.path(), "leak_cycles_lsan", &["-fsanitize=leak"]);
    let run = |cycles: usize, mode: Option<&str>| {
        leak_cycles(&[], &exe, &relu3_weights(), dir.path(), cycles, mode)
            .env("LSAN_OPTIONS", "exitcode=98")
            .output()
            .unwrap()
    };
    let res = run(0, Some("forget"));
    let report = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(98), "LeakSanitizer missed a forgotten context:\n{report}");
    assert!(report.contains("Direct leak") && report.contains("Indirect leak"), "{report}");

    let cycles = 5;
    let t = std::time::Instant::now();
    let res = run(cycles, None);
    let report = String::from_utf8_lossy(&res.stderr);
    let stdout = String::from_utf8_lossy(&res.stdout);
    println!(
        "LeakSanitizer, {cycles} cycles + 2 threads (levels 1-3): {:.1} s, exit {:?}",
        t.elapsed().as_secs_f64(),
        res.status.code()
    );
    assert!(
        res.status.success() && stdout.contains(&format!("{cycles} cycles ok")),
        "leak_cycles under LeakSanitizer failed ({:?}):\n{stdout}\n{report}",
        res.status.code()
    );
    assert!(!report.contains("leak of"), "{report}");
}

#[test]
fn resident_set_stays_flat_over_many_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let exe = build(dir.path(), "leak_cycles", &[]);
    let weights = weights_subset(dir.path(), 1);
    let cycles = 200;
    let t = std::time::Instant::now();
    let res = leak_cycles(&[], &exe, &weights, dir.path(), cycles, Some("rss")).output().unwrap();
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(res.status.success(), "leak_cycles failed:\n{stdout}\n{}", String::from_utf8_lossy(&res.stderr));
    let rss: Vec<(usize, u64)> = stdout
        .lines()
        .filter_map(|l| {
            let mut it = l.strip_prefix("rss ")?.split_whitespace();
            Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
        })
        .collect();
    assert_eq!(rss.len(), cycles, "{stdout}");
    let at = |n: usize| rss[n - 1].1;
    let (warm, mid, end) = (at(20), at(cycles / 2), at(cycles));
    let peak = rss[19..].iter().map(|r| r.1).max().unwrap();
    println!(
        "{cycles} create/use/destroy cycles in {:.1} s: RSS after cycle 1 {} KiB, 20 {warm} KiB, {} {mid} KiB, {cycles} {end} KiB (peak after warm-up {peak} KiB)",
        t.elapsed().as_secs_f64(),
        at(1),
        cycles / 2
    );
    // A forgotten level-1 context alone is ~16 KiB (its styles ~100 KiB): one per cycle would
    // add ≥ 2.8 MiB over 180 cycles. The allocator's caches are bounded.
    assert!(end.saturating_sub(warm) < 1024, "RSS grew {} KiB from cycle 20 to {cycles}", end.saturating_sub(warm));
    assert!(
        end.saturating_sub(mid) < 512,
        "RSS grew {} KiB in the last {} cycles",
        end.saturating_sub(mid),
        cycles - cycles / 2
    );
}
