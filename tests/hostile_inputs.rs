//! A host survives anything (issue 13): every input has a bounded cost, every failure is an
//! error status, no file that is not ours is changed. Through the CLI, the C ABI and the
//! library:
//! - files that are not regular files (FIFO, directory, character device, socket, symlink
//!   loop) as content, style, mask, preset, weights and style-cache entry fail at once,
//!   saying what the path is (a thread or child that blocks fails the test after a minute);
//! - styles are encoded tile by tile: a style whose whole-image encoding needs ~1.5 GB runs
//!   under an address-space cap far below that, with the statistics of the whole image;
//! - masks: the most accepted, one more refused clearly; a huge declared size refused
//!   before decoding, under a memory cap;
//! - feathering with radius 10 000 on 2048² cancels within a few passes;
//! - a job that cannot fit the memory limit is refused with a limits error, not an abort;
//! - outputs: symlinks, read-only files, devices, FIFOs and trailing slashes are refused
//!   before any work; a batch never overwrites an input of another job;
//! - SIGINT/SIGTERM at random moments leave no temporary file and the old output intact.
//!
//! Figures are printed (run with `--nocapture`); `UNISTYLE_SIGNAL_TRIALS=50` runs the
//! signal test at 50 moments (default 10, to keep CI short).
#![cfg(target_os = "linux")]

mod common;

use std::ffi::CString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::ptr::{null, null_mut};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::abi::*;
use common::*;
use unistyle::capi::*;
use unistyle::pipeline::MAX_MASKS;
use unistyle::{image_io, Control, EncodedStyle, Error, Mask, Model, Picture, Preset, Stylizer};

/// Longest a refused input may keep a thread or a process busy before the test calls it a hang.
const HANG: Duration = Duration::from_secs(60);

fn mkfifo(p: &Path) {
    let c = CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", p.display());
}

/// Runs `f` on its own thread; fails the test if it has not returned within [`HANG`].
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> (T, Duration) {
    let (tx, rx) = mpsc::channel();
    let t = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG) {
        Ok(v) => (v, t.elapsed()),
        Err(_) => panic!("{what}: still blocked after {HANG:?}"),
    }
}

/// Exit code, stderr and peak RSS (KiB) of a child, killed if it runs past [`HANG`].
struct Ran {
    code: i32,
    stderr: String,
    rss_kib: i64,
    time: Duration,
}

// The child is reaped by `wait4` (which also gives its peak RSS), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn spawn_measured(mut cmd: Command) -> Ran {
    let t = Instant::now();
    let mut child =
        cmd.stdout(Stdio::null()).stderr(Stdio::piped()).env_remove("UNISTYLE_WEIGHTS").spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let _ = tx.send((status, usage.ru_maxrss));
    });
    let (status, rss) = match rx.recv_timeout(HANG) {
        Ok(v) => v,
        Err(_) => {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{cmd:?}: still running after {HANG:?}");
        }
    };
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    Ran { code, stderr: reader.join().unwrap(), rss_kib: rss, time: t.elapsed() }
}

fn cli(args: &[&str]) -> Ran {
    let mut c = bin();
    c.args(args);
    spawn_measured(c)
}

/// The CLI under an address-space cap (`ulimit -v`, KiB).
fn cli_capped(cap_kib: u64, args: &[&str]) -> Ran {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -v {cap_kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_unistyle"))
        .args(args);
    spawn_measured(c)
}

fn assert_refused(r: &Ran, what: &str, expect: &[&str]) {
    assert!(r.code == 1, "{what}: exit {} (want 1: an error, not an abort): {}", r.code, r.stderr);
    let low = r.stderr.to_lowercase();
    for e in expect {
        assert!(low.contains(&e.to_lowercase()), "{what}: message lacks '{e}': {}", r.stderr);
    }
    assert!(
        !low.contains("panick") && !low.contains("tryreserve") && !low.contains("memory allocation of"),
        "{what}: {}",
        r.stderr
    );
}

fn write_png(path: &Path, w: u32, h: u32) {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let v = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) >> 3;
        image::Rgb([(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, v as u8])
    });
    img.save(path).unwrap();
}

fn weights() -> PathBuf {
    relu3_weights()
}

/// Where a style-cache entry for `style` (native size) would live in `dir`.
fn cache_entry(dir: &Path, style: &Path) -> PathBuf {
    let key = unistyle::style_cache::StyleKey::new(model(), style, None).unwrap();
    unistyle::StyleCache::new(dir.to_path_buf()).entry_path(&key)
}

// ---------------------------------------------------------------------------------------
// Files that are not regular files

/// A C ABI call: its status and the last error message.
type AbiCall = Box<dyn FnOnce() -> (i32, String) + Send>;
/// A library call that must fail: its message.
type LibCall = Box<dyn FnOnce() -> String + Send>;

/// The non-regular kinds, made in `dir`: (label, path, words the message must contain).
fn hostile_files(dir: &Path, tag: &str) -> Vec<(&'static str, PathBuf, &'static str)> {
    let fifo = dir.join(format!("{tag}_fifo.png"));
    mkfifo(&fifo);
    let folder = dir.join(format!("{tag}_dir.png"));
    std::fs::create_dir(&folder).unwrap();
    let (a, b) = (dir.join(format!("{tag}_loop_a.png")), dir.join(format!("{tag}_loop_b.png")));
    std::os::unix::fs::symlink(&a, &b).unwrap();
    std::os::unix::fs::symlink(&b, &a).unwrap();
    let sock = dir.join(format!("{tag}_sock.png"));
    std::mem::forget(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    let dev = dir.join(format!("{tag}_zero.png"));
    std::os::unix::fs::symlink("/dev/zero", &dev).unwrap();
    vec![
        ("FIFO", fifo, "is a fifo"),
        ("directory", folder, "is a directory"),
        ("symlink loop", a, "symbolic link loop"),
        ("socket", sock, "is a socket"),
        ("endless device (/dev/zero)", dev, "is a character device"),
    ]
}

#[test]
fn non_regular_files_fail_at_once_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let content = image("content/tubingen_256.png");
    let style = image("style/starry_256.png");
    let w = weights();
    let out = d.join("out.png");
    let ctx = context();
    let mut table = Vec::new();
    for (kind, path, expect) in hostile_files(d, "x") {
        let p = s(&path).to_string();
        // CLI, as each input.
        let runs: Vec<(&str, Vec<&str>)> = vec![
            (
                "content",
                vec![
                    "stylize",
                    "--content",
                    &p,
                    "--style",
                    s(&style),
                    "--out",
                    s(&out),
                    "--weights",
                    s(&w),
                    "-q",
                    "--no-cache",
                ],
            ),
            (
                "style",
                vec![
                    "stylize",
                    "--content",
                    s(&content),
                    "--style",
                    &p,
                    "--out",
                    s(&out),
                    "--weights",
                    s(&w),
                    "-q",
                    "--no-cache",
                ],
            ),
            (
                "mask",
                vec![
                    "stylize",
                    "--content",
                    s(&content),
                    "--style",
                    s(&style),
                    "--style",
                    s(&style),
                    "--mask",
                    &p,
                    "--out",
                    s(&out),
                    "--weights",
                    s(&w),
                    "-q",
                    "--no-cache",
                ],
            ),
            (
                "preset",
                vec![
                    "stylize",
                    "--preset",
                    &p,
                    "--content",
                    s(&content),
                    "--out",
                    s(&out),
                    "--weights",
                    s(&w),
                    "-q",
                    "--no-cache",
                ],
            ),
            (
                "weights",
                vec![
                    "stylize",
                    "--content",
                    s(&content),
                    "--style",
                    s(&style),
                    "--out",
                    s(&out),
                    "--weights",
                    &p,
                    "-q",
                    "--no-cache",
                ],
            ),
        ];
        for (role, args) in runs {
            if role == "weights" && kind == "directory" {
                continue; // a folder of weights is searched for a .safetensors file
            }
            let r = cli(&args);
            assert_refused(&r, &format!("CLI {role} {kind}"), &[expect]);
            assert!(!out.exists(), "CLI {role} {kind}: wrote an output");
            table.push(format!("CLI  {role:8} {kind:28} {:>7.1} ms", r.time.as_secs_f64() * 1e3));
        }
        // C ABI: style file, preset, weights.
        let c = cstr(&path);
        let ctxp = ctx.0 as usize;
        let calls: Vec<(&str, AbiCall)> = vec![
            ("style", {
                let c = c.clone();
                Box::new(move || {
                    let mut st = null_mut();
                    let r = unsafe { (api().style_from_file)(ctxp as *const UnistyleContext, c.as_ptr(), 0, &mut st) };
                    (r, last_error())
                })
            }),
            ("preset", {
                let c = c.clone();
                Box::new(move || {
                    let mut pr = null_mut();
                    let r = unsafe { (api().preset_load)(ctxp as *const UnistyleContext, c.as_ptr(), &mut pr) };
                    (r, last_error())
                })
            }),
            ("weights", {
                let c = c.clone();
                Box::new(move || {
                    let mut cx = null_mut();
                    let r = unsafe { (api().context_create)(c.as_ptr(), null(), &mut cx) };
                    (r, last_error())
                })
            }),
        ];
        for (role, call) in calls {
            let ((status, msg), t) = within(&format!("ABI {role} {kind}"), call);
            assert!(status < 0, "ABI {role} {kind}: status {status}");
            assert_ne!(status, UNISTYLE_ERR_INTERNAL, "ABI {role} {kind}: {msg}");
            if !(role == "weights" && kind == "directory") {
                assert!(msg.to_lowercase().contains(expect), "ABI {role} {kind}: {msg}");
            }
            table.push(format!("ABI  {role:8} {kind:28} {:>7.1} ms", t.as_secs_f64() * 1e3));
        }
        // Library: every loader.
        let lib: Vec<(&str, LibCall)> = vec![
            ("image", {
                let p = path.clone();
                Box::new(move || image_io::load_picture(&p, "content image").unwrap_err().to_string())
            }),
            ("mask", {
                let p = path.clone();
                Box::new(move || Mask::load(&p).unwrap_err().to_string())
            }),
            ("preset", {
                let p = path.clone();
                Box::new(move || Preset::load(&p).unwrap_err().to_string())
            }),
            ("weights", {
                let p = path.clone();
                Box::new(move || Model::load(&p, &unistyle::Device::Cpu).unwrap_err().to_string())
            }),
        ];
        for (role, call) in lib {
            let (msg, t) = within(&format!("library {role} {kind}"), call);
            assert!(msg.to_lowercase().contains(expect), "library {role} {kind}: {msg}");
            table.push(format!("lib  {role:8} {kind:28} {:>7.1} ms", t.as_secs_f64() * 1e3));
        }
    }
    println!("time to an error per non-regular file kind:\n{}", table.join("\n"));
}

#[test]
fn a_hostile_style_cache_entry_is_rebuilt_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let style = d.join("style.png");
    std::fs::copy(image("style/starry_256.png"), &style).unwrap();
    let cache = d.join("cache");
    std::fs::create_dir(&cache).unwrap();
    let entry = cache_entry(&cache, &style);
    mkfifo(&entry);
    let out = d.join("out.png");
    let (content, w) = (image("content/noise_256.png"), weights());
    let args = [
        "stylize",
        "--content",
        s(&content),
        "--style",
        s(&style),
        "--levels",
        "1",
        "--out",
        s(&out),
        "--weights",
        s(&w),
        "-q",
        "--cache-dir",
        s(&cache),
        "--verbose",
    ];
    let r = cli(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.to_lowercase().contains("is a fifo"), "the cache report names the FIFO: {}", r.stderr);
    assert!(out.exists());
    println!(
        "FIFO cache entry: run completed in {:.2} s ({})",
        r.time.as_secs_f64(),
        r.stderr.trim().replace('\n', " | ")
    );
}

// ---------------------------------------------------------------------------------------
// Styles: tile by tile, exact

#[test]
fn tiled_style_statistics_equal_the_whole_image() {
    let m = model();
    let p = picture("style/starry_256.png").resized(300, 190);
    let whole = EncodedStyle::encode_tiled(m, &p, &[1, 2, 3], 4096, &mut unistyle::Silent).unwrap();
    let mut fractions = Vec::new();
    let mut record = |f: f32| {
        fractions.push(f);
        Control::Continue
    };
    let tiled = EncodedStyle::encode_tiled(m, &p, &[1, 2, 3], 64, &mut record).unwrap();
    assert!(fractions.len() > 10 && fractions.windows(2).all(|w| w[0] <= w[1]) && *fractions.last().unwrap() == 1.0);
    for l in [1, 2, 3] {
        let (a, b) = (whole.stats(l).unwrap(), tiled.stats(l).unwrap());
        assert_eq!(a.count, b.count, "level {l}: every feature pixel counted once");
        let scale = a.eigenvalues.iter().cloned().fold(0.0, f64::max);
        for (x, y) in a.mean.iter().zip(&b.mean) {
            assert!((x - y).abs() < 1e-4 * (1.0 + x.abs()), "level {l} mean {x} vs {y}");
        }
        for (x, y) in a.eigenvalues.iter().zip(&b.eigenvalues) {
            assert!((x - y).abs() < 1e-4 * scale, "level {l} eigenvalue {x} vs {y}");
        }
    }
    // Cancelled at the third tile: stops there.
    let mut calls = 0;
    let mut cancel = |_f: f32| {
        calls += 1;
        if calls == 3 {
            Control::Cancel
        } else {
            Control::Continue
        }
    };
    assert!(matches!(EncodedStyle::encode_tiled(m, &p, &[1, 2, 3], 64, &mut cancel), Err(Error::Cancelled)));
    assert_eq!(calls, 3);
}

/// Address space of a small CLI run (KiB), to set caps relative to it.
fn baseline_vm_kib(d: &Path) -> u64 {
    // The smallest cap a tiny job runs under, found by halving: what the process maps
    // anyway (binary, weights, thread pools).
    let out = d.join("tiny.png");
    let (content, style, w) = (image("content/noise_256.png"), image("style/brick_256.png"), weights());
    let args = [
        "stylize",
        "--content",
        s(&content),
        "--style",
        s(&style),
        "--out",
        s(&out),
        "--weights",
        s(&w),
        "-q",
        "--no-cache",
    ];
    let (mut lo, mut hi) = (256 * 1024u64, 16 * 1024 * 1024u64);
    while hi - lo > 128 * 1024 {
        let mid = (lo + hi) / 2;
        if cli_capped(mid, &args).code == 0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[test]
fn large_styles_and_jobs_stay_within_a_memory_cap() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = baseline_vm_kib(d);
    println!("smallest address-space cap a 256² job runs under: {} MiB", base >> 10);
    let content = image("content/noise_256.png");
    let w = weights();
    // A 1600² style: encoded whole to level 3 it needs ~1.5 GB of activations; tiled at 256
    // it needs a few tens of MB. The cap leaves 700 MiB above the small job's.
    let style = d.join("style_1600.png");
    write_png(&style, 1600, 1600);
    let out = d.join("out.png");
    let cap = base + 700 * 1024;
    let r = cli_capped(
        cap,
        &[
            "stylize",
            "--content",
            s(&content),
            "--style",
            s(&style),
            "--out",
            s(&out),
            "--weights",
            s(&w),
            "-q",
            "--no-cache",
            "--tile-size",
            "256",
        ],
    );
    assert_eq!(r.code, 0, "1600² style under a {} MiB cap: {}", cap >> 10, r.stderr);
    println!(
        "1600² style, tile 256, cap {} MiB: peak RSS {} MiB, {:.1} s",
        cap >> 10,
        r.rss_kib >> 10,
        r.time.as_secs_f64()
    );
    // A content image whose job cannot fit the cap: refused with a limits error up front.
    let big = d.join("content_3000.png");
    write_png(&big, 3000, 3000);
    let cap = base + 400 * 1024;
    let r = cli_capped(
        cap,
        &[
            "stylize",
            "--content",
            s(&big),
            "--style",
            s(&image("style/brick_256.png")),
            "--out",
            s(&out),
            "--weights",
            s(&w),
            "-q",
            "--no-cache",
        ],
    );
    assert_refused(&r, "3000² content under a tight cap", &["memory"]);
    println!("3000² content under {} MiB: refused in {:.2} s: {}", cap >> 10, r.time.as_secs_f64(), r.stderr.trim());
    // A mask file declaring 30000×30000 (a few hundred bytes): refused from its header.
    let liar = d.join("liar.png");
    std::fs::write(&liar, common::gen::png_claiming(30000, 30000)).unwrap();
    let r = cli_capped(
        base + 200 * 1024,
        &[
            "stylize",
            "--content",
            s(&content),
            "--style",
            s(&image("style/brick_256.png")),
            "--style",
            s(&image("style/starry_256.png")),
            "--mask",
            s(&liar),
            "--out",
            s(&out),
            "--weights",
            s(&w),
            "-q",
            "--no-cache",
        ],
    );
    assert_refused(&r, "mask declaring 30000²", &["mask", "30000"]);
}

// ---------------------------------------------------------------------------------------
// Masks

fn stripes(w: usize, h: usize, k: usize, n: usize) -> Mask {
    Mask::new(w, h, (0..w * h).map(|i| if (i % w) * n / w == k { 1.0 } else { 0.0 }).collect()).unwrap()
}

#[test]
fn the_most_masks_work_and_one_more_is_refused() {
    let m = model();
    let style = style3("style/brick_256.png");
    let content = picture("content/noise_256.png").resized(128, 64);
    let (w, h) = (content.width, content.height);
    // Library: MAX_MASKS distinct regions, each its own stripe, all kept apart.
    let masks: Vec<Mask> = (0..MAX_MASKS).map(|k| stripes(w, h, k, MAX_MASKS)).collect();
    let styles: Vec<&EncodedStyle> = vec![&style; MAX_MASKS + 1];
    let out = Stylizer::builder(m)
        .place(&styles, None, masks.clone())
        .unwrap()
        .levels([1])
        .build()
        .unwrap()
        .run(&content, &mut unistyle::Silent)
        .unwrap();
    assert!(out.rgb.iter().all(|v| v.is_finite()));
    let mut more = masks.clone();
    more.push(stripes(w, h, 0, 2));
    let styles: Vec<&EncodedStyle> = vec![&style; MAX_MASKS + 2];
    let e = Stylizer::builder(m).place(&styles, None, more).map(drop).unwrap_err();
    assert!(matches!(e, Error::Limits { .. }) && e.to_string().contains(&MAX_MASKS.to_string()), "{e}");

    // CLI: the same mask file MAX_MASKS times (accepted; memory printed), then once more.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mask = d.join("m.png");
    image::GrayImage::from_fn(256, 256, |x, _| image::Luma([if x < 128 { 255 } else { 0 }])).save(&mask).unwrap();
    let out = d.join("out.png");
    let mut args: Vec<String> = [
        "stylize",
        "--content",
        s(&image("content/noise_256.png")),
        "--out",
        s(&out),
        "--weights",
        s(&weights()),
        "-q",
        "--no-cache",
        "--levels",
        "1",
        "--feather",
        "3",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    let brick = image("style/brick_256.png");
    for n in [MAX_MASKS, MAX_MASKS + 1] {
        let mut a = args.clone();
        for _ in 0..=n {
            a.extend(["--style".to_string(), s(&brick).to_string()]);
        }
        for _ in 0..n {
            a.extend(["--mask".to_string(), s(&mask).to_string()]);
        }
        let refs: Vec<&str> = a.iter().map(|x| x.as_str()).collect();
        let r = cli(&refs);
        if n == MAX_MASKS {
            assert_eq!(r.code, 0, "{} masks: {}", n, r.stderr);
            println!(
                "{n} masks (one 256² file given {n} times), feathered, 256² content: peak RSS {} MiB, {:.1} s",
                r.rss_kib >> 10,
                r.time.as_secs_f64()
            );
        } else {
            assert_refused(&r, "one mask too many", &["masks", &MAX_MASKS.to_string()]);
        }
    }
    args.clear();

    // C ABI: mask_count above the maximum is refused before any mask is read.
    let ctx = context();
    let st = abi_style(&ctx);
    let styles = vec![st.0 as *const UnistyleStyle; MAX_MASKS + 2];
    let input = Buf::new(16, 16, 3, UNISTYLE_U8, 0, 100);
    let mut output = Buf::new(16, 16, 3, UNISTYLE_U8, 0, 0);
    let mut o = stylize_opts(&styles, 1.0, &[1]);
    o.mask_count = (MAX_MASKS + 1) as u32;
    o.masks = std::ptr::dangling(); // never read: the count is refused first
    let status = unsafe { (api().stylize)(ctx.0, &input.desc, &o, &mut output.desc) };
    assert_eq!(status, UNISTYLE_ERR_LIMITS, "{}", last_error());
    assert!(last_error().contains("mask_count"), "{}", last_error());
    assert!(output.all(0), "nothing written");
}

fn abi_style(ctx: &Ctx) -> Style {
    style(ctx, &image("style/brick_256.png"), 0)
}

// ---------------------------------------------------------------------------------------
// Feathering: radius-independent and cancellable

#[test]
fn feathering_a_huge_radius_cancels_at_once() {
    let m = model();
    let (w, h) = (2048, 2048);
    let content = Picture::from_planar(w, h, vec![0.5; 3 * w * h]).unwrap();
    let mask = stripes(w, h, 0, 2);
    let style = style3("style/brick_256.png");
    let st =
        Stylizer::builder(m).region(mask.clone(), &style).style(&style).feather(10_000.0).levels([1]).build().unwrap();
    // The first report is the start; the next ones come between the feathering passes.
    for cancel_at in [1usize, 3] {
        let mut calls = 0;
        let mut t_cancel = None;
        let start = Instant::now();
        let mut cancel = |_f: f32| {
            calls += 1;
            if calls > cancel_at {
                t_cancel = Some(start.elapsed());
                Control::Cancel
            } else {
                Control::Continue
            }
        };
        let r = st.run(&content, &mut cancel);
        assert!(matches!(r, Err(Error::Cancelled)));
        let total = start.elapsed();
        println!("library, feather 10000 on 2048²: cancel at report {} came {:.1} ms after start; returned {:.1} ms after start", cancel_at + 1, t_cancel.unwrap().as_secs_f64() * 1e3, total.as_secs_f64() * 1e3);
    }
    // The same through the C ABI, cancelled with the job from another thread.
    let ctx = context();
    let s1 = abi_style(&ctx);
    let styles = [s1.0 as *const UnistyleStyle, s1.0 as *const UnistyleStyle];
    let input = Buf::new(w as u32, h as u32, 3, UNISTYLE_U8, 0, 120);
    let mut mb = Buf::new(w as u32, h as u32, 1, UNISTYLE_U8, 0, 0);
    for y in 0..h {
        for x in 0..w / 2 {
            mb.set(x, y, 0, 1.0);
        }
    }
    let mut output = Buf::new(w as u32, h as u32, 3, UNISTYLE_U8, 0, 0);
    let job = job();
    let mut o = stylize_opts(&styles, 1.0, &[1]);
    o.mask_count = 1;
    o.masks = &mb.desc;
    o.feather = 10_000.0;
    o.job = job.0;
    let jp = job.0 as usize;
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        unsafe { (api().job_cancel)(jp as *const UnistyleJob) };
        t
    });
    let status = unsafe { (api().stylize)(ctx.0, &input.desc, &o, &mut output.desc) };
    let after = canceller.join().unwrap().elapsed();
    assert_eq!(status, UNISTYLE_ERR_CANCELLED, "{}", last_error());
    assert!(output.all(0), "a cancelled run writes nothing");
    println!("C ABI, feather 10000 on 2048²: returned {:.1} ms after unistyle_job_cancel", after.as_secs_f64() * 1e3);
}

// ---------------------------------------------------------------------------------------
// Outputs

#[test]
fn outputs_replace_only_writable_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = d.join("target.png");
    std::fs::write(&target, b"precious").unwrap();
    let link = d.join("link.png");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let readonly = d.join("readonly.png");
    std::fs::write(&readonly, b"read-only").unwrap();
    std::fs::set_permissions(&readonly, std::os::unix::fs::PermissionsExt::from_mode(0o444)).unwrap();
    let fifo = d.join("fifo.png");
    mkfifo(&fifo);
    let slash = format!("{}/", d.join("out.png").display());
    let devnull_link = d.join("null.png");
    std::os::unix::fs::symlink("/dev/null", &devnull_link).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("symbolic link", s(&link).into(), "symbolic link"),
        ("read-only file", s(&readonly).into(), "read-only"),
        ("FIFO", s(&fifo).into(), "fifo"),
        ("trailing slash", slash, "slash"),
        ("link to /dev/null", s(&devnull_link).into(), "symbolic link"),
    ];
    for (what, out, expect) in &cases {
        let r = cli(&[
            "stylize",
            "--content",
            s(&image("content/noise_256.png")),
            "--style",
            s(&image("style/brick_256.png")),
            "--out",
            out,
            "--weights",
            s(&weights()),
            "-q",
            "--no-cache",
        ]);
        assert_refused(&r, what, &[expect]);
        let e = image_io::save_picture(&picture("content/noise_256.png"), Path::new(out)).unwrap_err();
        assert!(e.to_string().to_lowercase().contains(expect), "library {what}: {e}");
        println!("output {what}: refused in {:.0} ms: {}", r.time.as_secs_f64() * 1e3, r.stderr.trim());
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(&readonly).unwrap(), b"read-only");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo_like());
    let left: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".part"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    // An interrupt between writing and renaming: the old output stays, no temporary file.
    let keep = d.join("keep.png");
    std::fs::write(&keep, b"old output").unwrap();
    let e = image_io::save_picture_unless(&picture("content/noise_256.png"), &keep, &|| true).unwrap_err();
    assert!(matches!(e, Error::Cancelled));
    assert_eq!(std::fs::read(&keep).unwrap(), b"old output");
    assert_eq!(
        std::fs::read_dir(d)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".part"))
            .count(),
        0
    );
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for std::fs::FileType {
    fn is_fifo_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_fifo(self)
    }
}

#[test]
fn a_batch_never_overwrites_another_jobs_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let presets = d.join("presets");
    let out = d.join("out");
    std::fs::create_dir_all(&presets).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::copy(image("style/brick_256.png"), presets.join("brick.png")).unwrap();
    // b's style is a's output: rendering a would change b's input.
    std::fs::copy(image("style/starry_256.png"), out.join("a.png")).unwrap();
    let before = std::fs::read(out.join("a.png")).unwrap();
    let texture = |name: &str, style: &str| {
        format!("version = 1\nname = \"{name}\"\nstyle = \"{style}\"\n\n[texture]\nwidth = 32\nheight = 32\niterations = 1\n")
    };
    std::fs::write(presets.join("a.toml"), texture("a", "brick.png")).unwrap();
    std::fs::write(presets.join("b.toml"), texture("b", "../out/a.png")).unwrap();
    let r = cli(&["render", s(&presets), "--out-dir", s(&out), "--weights", s(&weights()), "-q"]);
    assert_refused(&r, "render over another job's input", &["a.png", "input"]);
    assert_eq!(std::fs::read(out.join("a.png")).unwrap(), before);
    assert!(!out.join("b.png").exists());
}

// ---------------------------------------------------------------------------------------
// Signals

#[test]
fn signals_at_random_moments_leave_no_temporary_file() {
    let trials: usize = std::env::var("UNISTYLE_SIGNAL_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out.png");
    let args: Vec<String> = [
        "stylize",
        "--content",
        s(&image("content/tubingen_256.png")),
        "--style",
        s(&image("style/starry_256.png")),
        "--out",
        s(&out),
        "--weights",
        s(&weights()),
        "-q",
        "--no-cache",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    let old = b"the old output".to_vec();
    let t = Instant::now();
    let r = cli(&args.iter().map(|x| x.as_str()).collect::<Vec<_>>());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let full = t.elapsed();
    let mut seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    println!("signal test: seed {seed}, a whole run takes {:.2} s", full.as_secs_f64());
    let (mut interrupted, mut finished) = (0, 0);
    let mut latencies = Vec::new();
    for i in 0..trials {
        std::fs::write(&out, &old).unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = full.mul_f64((seed % 10_000) as f64 / 10_000.0 * 1.1);
        let sig = if i % 2 == 0 { libc::SIGINT } else { libc::SIGTERM };
        let mut child = bin()
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env_remove("UNISTYLE_WEIGHTS")
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let sent = Instant::now();
        unsafe { libc::kill(child.id() as libc::pid_t, sig) };
        let status = child.wait().unwrap();
        let latency = sent.elapsed();
        let temps: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .filter(|n| n != "out.png")
            .collect();
        assert!(temps.is_empty(), "trial {i} (signal {sig} after {delay:?}): left {temps:?}");
        let now = std::fs::read(&out).unwrap();
        match status.code() {
            Some(0) => {
                finished += 1;
                assert!(read_png(&out).width == 256, "trial {i}: a finished run wrote a complete image");
            }
            Some(c) => {
                assert_eq!(c, 128 + sig, "trial {i}: exit {c}");
                assert_eq!(now, old, "trial {i}: the old output changed");
                interrupted += 1;
                latencies.push(latency.as_secs_f64() * 1e3);
            }
            None => panic!("trial {i}: killed by a signal ({status:?}) instead of stopping cleanly"),
        }
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let med = latencies.get(latencies.len() / 2).copied().unwrap_or(0.0);
    let max = latencies.last().copied().unwrap_or(0.0);
    println!("signals at {trials} random moments: {interrupted} interrupted (exit 130/143, old output intact), {finished} had finished; no temporary file left; time from signal to exit: median {med:.0} ms, max {max:.0} ms");
}
