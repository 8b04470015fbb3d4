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

fn cli(cli: &Cli) -> Ran {
    spawn_measured(cli.command_line())
}

/// The CLI under an address-space cap (`ulimit -v`, KiB).
fn cli_capped(cap_kib: u64, cli: &Cli) -> Ran {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -v {cap_kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_unistyle"))
        .args(cli.args());
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
        let runs: Vec<(&str, Cli)> = vec![
            ("content", Cli::stylize().content(&p).style(&style).out(&out).weights(&w).quiet().no_cache()),
            ("style", Cli::stylize().content(&content).style(&p).out(&out).weights(&w).quiet().no_cache()),
            (
                "mask",
                Cli::stylize()
                    .content(&content)
                    .style(&style)
                    .style(&style)
                    .mask(&p)
                    .out(&out)
                    .weights(&w)
                    .quiet()
                    .no_cache(),
            ),
            ("preset", Cli::stylize().preset(&p).content(&content).out(&out).weights(&w).quiet().no_cache()),
            ("weights", Cli::stylize().content(&content).style(&style).out(&out).weights(&p).quiet().no_cache()),
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
    let args = Cli::stylize()
        .content(&content)
        .style(&style)
        .levels("1")
        .out(&out)
        .weights(&w)
        .quiet()
        .file("cache-dir", &cache)
        .arg("--verbose");
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
    let args = Cli::stylize().content(&content).style(&style).out(&out).weights(&w).quiet().no_cache();
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
        &Cli::stylize().content(&content).style(&style).out(&out).weights(&w).quiet().no_cache().tile_size(256),
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
        &Cli::stylize().content(&big).style(image("style/brick_256.png")).out(&out).weights(&w).quiet().no_cache(),
    );
    assert_refused(&r, "3000² content under a tight cap", &["memory"]);
    println!("3000² content under {} MiB: refused in {:.2} s: {}", cap >> 10, r.time.as_secs_f64(), r.stderr.trim());
    // A mask file declaring 30000×30000 (a few hundred bytes): refused from its header.
    let liar = d.join("liar.png");
    std::fs::write(&liar, common::gen::png_claiming(30000, 30000)).unwrap();
    let r = cli_capped(
        base + 200 * 1024,
        &Cli::stylize()
            .content(&content)
            .style(image("style/brick_256.png"))
            .style(image("style/starry_256.png"))
            .mask(&liar)
            .out(&out)
            .weights(&w)
            .quiet()
            .no_cache(),
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
    // One style per mask (the rest keeps the content): the style count stays within its own
    // cap (rules::MAX_STYLES), so the mask limit is what refuses.
    let styles: Vec<&EncodedStyle> = vec![&style; MAX_MASKS + 1];
    let e = Stylizer::builder(m).place(&styles, None, more).map(drop).unwrap_err();
    assert!(matches!(e, Error::Limits { .. }) && e.to_string().contains(&MAX_MASKS.to_string()), "{e}");

    // CLI: the same mask file MAX_MASKS times (accepted; memory printed), then once more.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mask = d.join("m.png");
    image::GrayImage::from_fn(256, 256, |x, _| image::Luma([if x < 128 { 255 } else { 0 }])).save(&mask).unwrap();
    let out = d.join("out.png");
    let args = Cli::stylize()
        .content(image("content/noise_256.png"))
        .out(&out)
        .weights(weights())
        .quiet()
        .no_cache()
        .levels("1")
        .feather(3.0);
    let brick = image("style/brick_256.png");
    for n in [MAX_MASKS, MAX_MASKS + 1] {
        let mut a = args.clone();
        // MAX_MASKS masks and a style for the rest; then one mask more, with a style per mask
        // (the style count stays within rules::MAX_STYLES, so the mask limit is what refuses).
        let styles = if n == MAX_MASKS { n + 1 } else { n };
        for _ in 0..styles {
            a = a.style(&brick);
        }
        for _ in 0..n {
            a = a.mask(&mask);
        }
        let r = cli(&a);
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
    drop(args);

    // C ABI: mask_count above the maximum is refused before any mask is read.
    let ctx = context();
    let st = abi_style(&ctx);
    // A style per mask: within the style cap, so the mask count is what refuses.
    let styles = vec![st.0 as *const UnistyleStyle; MAX_MASKS + 1];
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
        let r = cli(&Cli::stylize()
            .content(image("content/noise_256.png"))
            .style(image("style/brick_256.png"))
            .out(out)
            .weights(weights())
            .quiet()
            .no_cache());
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
    let r = cli(&Cli::command("render").arg(s(&presets)).file("out-dir", &out).weights(weights()).quiet());
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
    let args = Cli::stylize()
        .content(image("content/tubingen_256.png"))
        .style(image("style/starry_256.png"))
        .out(&out)
        .weights(weights())
        .quiet()
        .no_cache();
    let old = b"the old output".to_vec();
    let t = Instant::now();
    let r = cli(&args);
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
        let mut child = args.command_line().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
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

// ---------------------------------------------------------------------------------------
// Issue 22: the modes' memory, cancel reach and time; handle lifetime; small items

/// [`baseline_vm_kib`], measured once per test binary.
fn base_kib() -> u64 {
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        baseline_vm_kib(dir.path())
    })
}

/// A preset in `dir` naming `style` `n` times.
fn preset_naming(dir: &Path, style: &Path, n: usize) -> PathBuf {
    let p = dir.join(format!("many_{n}.toml"));
    let names = vec![format!("{:?}", s(style)); n].join(", ");
    std::fs::write(&p, format!("version = 1\nname = \"many\"\nstyle = [{names}]\n")).unwrap();
    p
}

#[test]
fn a_preset_naming_thousands_of_styles_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let style = image("style/brick_256.png");
    let (content, w) = (image("content/noise_256.png"), weights());
    let cap = base_kib() + 300 * 1024;
    for n in [unistyle::rules::MAX_STYLES + 1, 8000] {
        let preset = preset_naming(d, &style, n);
        let out = d.join("out.png");
        let args = Cli::stylize().preset(&preset).content(&content).out(&out).weights(&w).quiet().no_cache();
        let r = cli_capped(cap, &args);
        let name = preset.file_name().unwrap().to_str().unwrap();
        assert_refused(&r, &format!("{n} styles"), &[name, "line 3", "'style'", &format!("{n} style images")]);
        assert!(!out.exists());
        println!(
            "CLI, preset naming one style {n} times ({} KB), cap {} MiB: exit {} in {:.2} s, peak RSS {} MiB: {}",
            std::fs::metadata(&preset).unwrap().len() >> 10,
            cap >> 10,
            r.code,
            r.time.as_secs_f64(),
            r.rss_kib >> 10,
            r.stderr.trim()
        );
        // The C ABI (what the Krita docker calls for every preset of its gallery).
        let ctx = context();
        let c = cstr(&preset);
        let ctxp = ctx.0 as usize;
        let ((status, msg, handle), t) = within("preset_load", move || {
            let mut p = null_mut();
            let r = unsafe { (api().preset_load)(ctxp as *const UnistyleContext, c.as_ptr(), &mut p) };
            (r, last_error(), p as usize)
        });
        assert_eq!(status, UNISTYLE_ERR_PRESET, "{msg}");
        assert!(msg.contains(&format!("at most {}", unistyle::rules::MAX_STYLES)) && msg.contains("'style'"), "{msg}");
        assert_eq!(handle, 0);
        println!("ABI unistyle_preset_load, {n} styles: refused in {:.1} ms: {msg}", t.as_secs_f64() * 1e3);
    }
}

#[test]
fn patch_swap_at_stroke_scale_8_fits_a_memory_cap() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A 256² style at stroke scale 8 is a 2048² style: its level-3 map alone would be 256 MiB.
    let cap = base_kib() + 350 * 1024;
    let out = d.join("out.png");
    let (content, style, w) = (image("content/noise_256.png"), image("style/brick_256.png"), weights());
    let args = Cli::stylize()
        .content(&content)
        .style(&style)
        .arg("--patch-swap")
        .flag("stroke-scale", "8")
        .tile_size(256)
        .out(&out)
        .weights(&w)
        .quiet()
        .no_cache();
    let r = cli_capped(cap, &args);
    assert_eq!(r.code, 0, "patch swap, stroke scale 8, under {} MiB: {}", cap >> 10, r.stderr);
    assert_eq!(read_png(&out).width, 256);
    println!(
        "patch swap + stroke scale 8 (256² style → 2048²), cap {} MiB: exit 0 in {:.1} s, peak RSS {} MiB",
        cap >> 10,
        r.time.as_secs_f64(),
        r.rss_kib >> 10
    );
}

#[test]
fn photo_mode_is_counted_in_the_memory_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let content = d.join("content_1024.png");
    write_png(&content, 1024, 1024);
    let out = d.join("out.png");
    let args = |photo: bool| {
        let a = Cli::stylize()
            .content(&content)
            .style(image("style/brick_256.png"))
            .levels("1")
            .out(&out)
            .weights(weights())
            .quiet()
            .no_cache();
        if photo {
            a.arg("--photo")
        } else {
            a
        }
    };
    // The smallest cap the job runs under without photo mode (to 16 MiB).
    let plain = args(false);
    let (mut lo, mut hi) = (base_kib(), base_kib() + 2048 * 1024);
    while hi - lo > 16 * 1024 {
        let mid = (lo + hi) / 2;
        if cli_capped(mid, &plain).code == 0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    // Photo mode needs ~100 bytes more per pixel (100 MiB here): with 48 MiB more it must
    // be refused by the estimate, not abort half-way.
    let cap = hi + 48 * 1024;
    let photo = args(true);
    let r = cli_capped(cap, &photo);
    if r.code != 0 {
        assert_refused(&r, "photo mode under a tight cap", &["memory"]);
    }
    println!(
        "photo mode on 1024², cap {} MiB (the plain job's smallest + 48): exit {} in {:.2} s, peak RSS {} MiB: {}",
        cap >> 10,
        r.code,
        r.time.as_secs_f64(),
        r.rss_kib >> 10,
        r.stderr.trim()
    );
}

/// Options with every field of this library's struct (patch swap, stroke scale, photo).
fn stylize_opts_v2(styles: &[*const UnistyleStyle], levels: &[u32]) -> UnistyleStylizeOptions {
    let mut o = stylize_opts(styles, 1.0, levels);
    let mut full = std::mem::MaybeUninit::<UnistyleStylizeOptions>::zeroed();
    let size = std::mem::size_of::<UnistyleStylizeOptions>() as u32;
    assert_eq!(unsafe { unistyle::capi::unistyle_stylize_options_init_ex(full.as_mut_ptr(), size) }, UNISTYLE_OK);
    let full = unsafe { full.assume_init() };
    o.struct_size = size;
    o.stroke_scale = full.stroke_scale;
    o.transform = full.transform;
    o
}

/// Fractions a library run reports, and whether a cancel at report `cancel_at` stopped it.
fn reports(st: &Stylizer, content: &Picture, cancel_at: Option<usize>) -> (Vec<f32>, unistyle::Result<Picture>) {
    let mut seen = Vec::new();
    let mut p = |f: f32| {
        seen.push(f);
        if Some(seen.len() - 1) == cancel_at {
            Control::Cancel
        } else {
            Control::Continue
        }
    };
    let r = st.run(content, &mut p);
    (seen, r)
}

#[test]
fn cancel_reaches_patch_matching_and_the_photo_filter() {
    let m = model();
    let content = picture("content/tubingen_256.png");
    let style_pic = picture("style/starry_256.png");
    let enc = unistyle::pipeline::StyleEncoding { stroke_scale: vec![1.0], patch_level: Some(3) };
    let style = EncodedStyle::encode_with(m, &style_pic, &[3], &enc).unwrap();
    // Patch swap at level 3 alone: one tile; pass 1 ends at 0.5, the swap runs before 1.0.
    let modes = unistyle::pipeline::Modes { patch_swap: true, ..Default::default() };
    let st = Stylizer::builder(m).style(&style).levels([3]).modes(modes).build().unwrap();
    let (seen, r) = reports(&st, &content, None);
    r.unwrap();
    let inside: Vec<usize> = (0..seen.len()).filter(|&i| seen[i] > 0.5 && seen[i] < 1.0).collect();
    assert!(inside.len() >= 3, "progress inside the patch matching: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    let start = Instant::now();
    let (_, r) = reports(&st, &content, Some(inside[1]));
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    println!(
        "patch swap 256²/256² at level 3: {} reports inside the matching; cancelled at the second: returned after {:.0} ms",
        inside.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
    // Photo mode: reports between the guided filter's passes, after the last level.
    let plain = style3("style/starry_256.png");
    let modes = unistyle::pipeline::Modes { photo: true, ..Default::default() };
    let st = Stylizer::builder(m).style(&plain).levels([1]).modes(modes).build().unwrap();
    let (seen, r) = reports(&st, &content, None);
    r.unwrap();
    let at_end: Vec<usize> = (0..seen.len()).filter(|&i| seen[i] == 1.0).collect();
    assert!(at_end.len() >= 10, "progress inside the photo filter: {seen:?}");
    let (_, r) = reports(&st, &content, Some(at_end[at_end.len() / 2]));
    assert!(matches!(r, Err(Error::Cancelled)), "cancel inside the photo filter: {r:?}");
}

#[test]
fn cancel_reaches_the_stroke_scale_encoding_and_preset_loading_through_the_abi() {
    let ctx = context();
    let st = style(&ctx, &image("style/brick_256.png"), 0);
    let styles = [st.0 as *const UnistyleStyle];
    let levels = [3u32];
    let input = Buf::new(32, 32, 3, UNISTYLE_U8, 0, 100);
    let mut output = Buf::new(32, 32, 3, UNISTYLE_U8, 0, 0);
    // Stroke scale 8: the 256² style is encoded again at 2048², two tiles a side at least.
    let mut o = stylize_opts_v2(&styles, &levels);
    o.stroke_scale = 8.0;
    let mut steps = Steps::default();
    (o.progress, o.progress_user_data) = Steps::hook(Some(&mut steps));
    let status = unsafe { (api().stylize)(ctx.0, &input.desc, &o, &mut output.desc) };
    assert_eq!(status, UNISTYLE_OK, "{}", last_error());
    let encoding: Vec<f32> = steps.fractions.iter().copied().filter(|&f| f > 0.0 && f <= 0.3).collect();
    assert!(encoding.len() >= 4, "progress while the style is encoded again: {:?}", steps.fractions);
    // Cancelled by the job during that encoding: stops there, nothing written.
    let job = job();
    let mut output = Buf::new(32, 32, 3, UNISTYLE_U8, 0, 0);
    let mut steps = Steps { cancel_at: Some(2), job: Some(job.0), ..Default::default() };
    (o.progress, o.progress_user_data) = Steps::hook(Some(&mut steps));
    o.job = job.0;
    let status = unsafe { (api().stylize)(ctx.0, &input.desc, &o, &mut output.desc) };
    assert_eq!(status, UNISTYLE_ERR_CANCELLED, "{}", last_error());
    assert_eq!(steps.fractions.len(), 3, "no report after the cancel: {:?}", steps.fractions);
    assert!(output.all(0));

    // unistyle_preset_load_ex: progress while the styles are encoded, cancel by the job.
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("two.toml");
    let (a, b) = (image("style/brick_256.png"), image("style/starry_256.png"));
    std::fs::write(&preset, format!("version = 1\nstyle = [{:?}, {:?}]\n", s(&a), s(&b))).unwrap();
    type LoadEx = unsafe extern "C" fn(
        *const UnistyleContext,
        *const std::ffi::c_char,
        *const UnistyleRunOptions,
        *mut *mut UnistylePreset,
    ) -> i32;
    let load_ex: libloading::Symbol<LoadEx> = unsafe { api().lib.get(b"unistyle_preset_load_ex") }.unwrap();
    let mut run: UnistyleRunOptions = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { (api().run_init)(&mut run, std::mem::size_of::<UnistyleRunOptions>() as u32) }, UNISTYLE_OK);
    let job = self::job();
    run.job = job.0;
    let mut steps = Steps { cancel_at: Some(1), job: Some(job.0), ..Default::default() };
    (run.progress, run.progress_user_data) = Steps::hook(Some(&mut steps));
    let mut p = null_mut();
    let c = cstr(&preset);
    let status = unsafe { load_ex(ctx.0, c.as_ptr(), &run, &mut p) };
    assert_eq!(status, UNISTYLE_ERR_CANCELLED, "{}", last_error());
    assert!(p.is_null());
    let mut run_plain = run;
    let mut steps = Steps::default();
    (run_plain.progress, run_plain.progress_user_data) = Steps::hook(Some(&mut steps));
    run_plain.job = null();
    let status = unsafe { load_ex(ctx.0, c.as_ptr(), &run_plain, &mut p) };
    assert_eq!(status, UNISTYLE_OK, "{}", last_error());
    assert!(steps.fractions.len() >= 3, "{:?}", steps.fractions);
    unsafe { (api().preset_destroy)(p) };
}

#[test]
fn handles_destroyed_while_another_thread_uses_them_stay_valid_until_it_returns() {
    let ctx = context();
    let input = Buf::new(384, 384, 3, UNISTYLE_U8, 0, 100);
    // A style destroyed while a stylize call on another thread uses it (between its levels).
    let mut st = null_mut();
    let c = cstr(&image("style/starry_256.png"));
    assert_eq!(unsafe { (api().style_from_file)(ctx.0, c.as_ptr(), 0, &mut st) }, UNISTYLE_OK);
    let (stp, ctxp) = (st as usize, ctx.0 as usize);
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let input = input; // the whole buffer moves, not only its descriptor
        let styles = [stp as *const UnistyleStyle];
        let levels = [3u32, 2, 1];
        let mut o = stylize_opts(&styles, 1.0, &levels);
        unsafe extern "C" fn first(_f: f32, user: *mut std::ffi::c_void) -> i32 {
            let tx = unsafe { &*(user as *const mpsc::Sender<()>) };
            let _ = tx.send(());
            0
        }
        o.progress = Some(first);
        o.progress_user_data = (&started_tx as *const mpsc::Sender<()>).cast_mut().cast();
        let mut out = Buf::new(384, 384, 3, UNISTYLE_U8, 0, 0);
        let r = unsafe { (api().stylize)(ctxp as *const UnistyleContext, &input.desc, &o, &mut out.desc) };
        (r, last_error(), out.all(0))
    });
    started_rx.recv().unwrap();
    unsafe { (api().style_destroy)(st) };
    let (status, msg, untouched) = worker.join().unwrap();
    assert_eq!(status, UNISTYLE_OK, "the call holding the destroyed style: {msg}");
    assert!(!untouched);
    // Afterwards the handle is refused, and destroying it again is ignored.
    let styles = [st as *const UnistyleStyle];
    let o = stylize_opts(&styles, 1.0, &[1]);
    let input = Buf::new(16, 16, 3, UNISTYLE_U8, 0, 100);
    let mut out = Buf::new(16, 16, 3, UNISTYLE_U8, 0, 0);
    let status = unsafe { (api().stylize)(ctx.0, &input.desc, &o, &mut out.desc) };
    assert_eq!(status, UNISTYLE_ERR_INVALID, "{}", last_error());
    assert!(last_error().contains("styles[0]") && last_error().contains("destroyed"), "{}", last_error());
    unsafe { (api().style_destroy)(st) };

    // A preset destroyed while it is used (as the Krita docker replaces a changed preset).
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("one.toml");
    std::fs::write(
        &preset,
        format!("version = 1\nstyle = {:?}\nlevels = [3, 2, 1]\n", s(&image("style/brick_256.png"))),
    )
    .unwrap();
    let mut p = null_mut();
    let c = cstr(&preset);
    assert_eq!(unsafe { (api().preset_load)(ctx.0, c.as_ptr(), &mut p) }, UNISTYLE_OK, "{}", last_error());
    let pp = p as usize;
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        unsafe extern "C" fn first(_f: f32, user: *mut std::ffi::c_void) -> i32 {
            let tx = unsafe { &*(user as *const mpsc::Sender<()>) };
            let _ = tx.send(());
            0
        }
        let input = Buf::new(384, 384, 3, UNISTYLE_U8, 0, 100);
        let mut out = Buf::new(384, 384, 3, UNISTYLE_U8, 0, 0);
        let user = (&started_tx as *const mpsc::Sender<()>).cast_mut().cast();
        let r = unsafe {
            (api().stylize_preset)(
                ctxp as *const UnistyleContext,
                pp as *const UnistylePreset,
                &input.desc,
                &mut out.desc,
                Some(first),
                user,
                null(),
            )
        };
        (r, last_error())
    });
    started_rx.recv().unwrap();
    unsafe { (api().preset_destroy)(p) };
    let (status, msg) = worker.join().unwrap();
    assert_eq!(status, UNISTYLE_OK, "the call holding the destroyed preset: {msg}");
    assert!(unsafe { (api().preset_kind)(p) } < 0);
    unsafe { (api().preset_destroy)(p) };
    println!("style and preset destroyed during a call on another thread: the call finished (OK); later use refused");
}

#[test]
fn struct_sizes_inside_a_field_or_past_any_header_are_refused() {
    let ctx = context();
    let st = abi_style(&ctx);
    let styles = [st.0 as *const UnistyleStyle];
    let input = Buf::new(16, 16, 3, UNISTYLE_U8, 0, 100);
    let mut output = Buf::new(16, 16, 3, UNISTYLE_U8, 0, 0);
    // Ending inside `precision` (the last field): refused by name, nothing written.
    let mut o = stylize_opts_v2(&styles, &[1]);
    o.struct_size = std::mem::offset_of!(UnistyleStylizeOptions, precision) as u32 + 2;
    let status = unsafe { (api().stylize)(ctx.0, &input.desc, &o, &mut output.desc) };
    assert_eq!(status, UNISTYLE_ERR_VERSION, "{}", last_error());
    assert!(last_error().contains("`precision`"), "{}", last_error());
    assert!(output.all(0));
    // A struct_size far beyond the struct, which ends right before an unreadable page: refused
    // without reading past the fields the library knows.
    let page = 4096;
    let size = std::mem::size_of::<UnistyleStylizeOptions>();
    unsafe {
        let base = libc::mmap(
            null_mut(),
            2 * page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(base, libc::MAP_FAILED);
        assert_eq!(libc::mprotect((base as *mut u8).add(page).cast(), page, libc::PROT_NONE), 0);
        let at = (base as *mut u8).add(page - size) as *mut UnistyleStylizeOptions;
        let mut v = stylize_opts_v2(&styles, &[1]);
        v.struct_size = (size + page) as u32;
        at.write(v);
        let status = (api().stylize)(ctx.0, &input.desc, at, &mut output.desc);
        assert_eq!(status, UNISTYLE_ERR_VERSION, "{}", last_error());
        assert!(last_error().contains("nothing past byte"), "{}", last_error());
        libc::munmap(base, 2 * page);
    }
}

#[test]
fn the_levels_parser_quotes_a_bounded_part_of_its_input() {
    type Parse = unsafe extern "C" fn(*const std::ffi::c_char, *mut u32, u32, *mut u32) -> i32;
    let parse: libloading::Symbol<Parse> = unsafe { api().lib.get(b"unistyle_levels_parse") }.unwrap();
    for text in [format!("1,{}", "7".repeat(64 << 20)), "3,".repeat(8 << 20), format!("{}x", " ".repeat(1 << 20))] {
        let c = CString::new(text.clone()).unwrap();
        let (mut levels, mut count) = ([0u32; 5], 0u32);
        let status = unsafe { parse(c.as_ptr(), levels.as_mut_ptr(), 5, &mut count) };
        assert_eq!(status, UNISTYLE_ERR_INVALID);
        let msg = last_error();
        assert!(msg.len() < 300, "{} bytes of message for {} bytes of input", msg.len(), text.len());
        println!("levels_parse on {} MiB: {msg}", text.len() >> 20);
    }
    // The CLI says the same.
    let dir = tempfile::tempdir().unwrap();
    let long = "2,".repeat(30_000);
    let (content, style, out) =
        (image("content/noise_256.png"), image("style/brick_256.png"), dir.path().join("o.png"));
    let r = cli(&Cli::stylize().flag("levels", &long).content(&content).style(&style).out(&out));
    assert!(
        r.code == 1 && r.stderr.contains("--levels") && r.stderr.len() < 600,
        "{} bytes: {}",
        r.stderr.len(),
        &r.stderr[..r.stderr.len().min(600)]
    );
}

#[test]
fn a_nested_stroke_scale_list_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nested.toml");
    let style = image("style/brick_256.png");
    std::fs::write(&p, format!("version = 1\nstyle = {:?}\n\nstroke_scale = [[2.0]]\n", s(&style))).unwrap();
    let e = Preset::load(&p).unwrap_err().to_string();
    assert!(e.contains("line 4") && e.contains("stroke_scale") && e.contains("list"), "{e}");
    std::fs::write(&p, format!("version = 1\nstyle = {:?}\nstroke_scale = [2.0, [0.5]]\n", s(&style))).unwrap();
    assert!(Preset::load(&p).unwrap_err().to_string().contains("stroke_scale"));
    std::fs::write(&p, format!("version = 1\nstyle = {:?}\nstroke_scale = [2.0, 0.5]\n", s(&style))).unwrap();
    assert_eq!(Preset::load(&p).unwrap().settings.stroke_scale, Some(vec![2.0, 0.5]));
}

#[test]
fn the_weights_installed_last_are_the_ones_used() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let user = |args: &[&str]| {
        bin().args(args).env("HOME", &home).env_remove("UNISTYLE_WEIGHTS").env_remove("XDG_DATA_HOME").output().unwrap()
    };
    let o = user(&["weights", "install", s(&weights())]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let two = dir.path().join("two.safetensors");
    write_random_weights(&two, &[1, 2], 7);
    let o = user(&["weights", "install", s(&two)]);
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success() && said.contains("wct-vgg19-relu2.safetensors"),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = user(&["weights", "where"]);
    let found = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(found.ends_with("wct-vgg19-relu2.safetensors"), "weights where: {found}");
    // And installing the relu3 file again makes it the one used.
    assert!(user(&["weights", "install", s(&weights())]).status.success());
    let o = user(&["weights", "where"]);
    assert!(String::from_utf8_lossy(&o.stdout).trim().ends_with("wct-vgg19-relu3.safetensors"));
}
