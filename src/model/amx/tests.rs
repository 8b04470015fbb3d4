//! The AMX convolutions against the f32 kernels of `conv_cpu`, on odd sizes and both borders.

use super::act::Act;
use super::conv::{self, Sink, Source};
use super::pack::AmxWeights;
use super::{available, Split};
use crate::model::buffers::BufferPool;
use crate::model::conv_cpu::{Geometry, PackedConv};
use crate::model::pad::Border;

fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n).map(|i| (i as f32 * 0.618 + seed as f32 * 1.3).sin() * 0.8 + 0.1).collect()
}

/// Largest error relative to the reference's largest magnitude.
fn rel_error(got: &[f32], want: &[f32]) -> f32 {
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    got.iter().zip(want).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / scale
}

fn amx_conv(
    x: &[f32],
    wts: &AmxWeights,
    (cin, h, w): (usize, usize, usize),
    border: Border,
    relu: bool,
    split: Split,
) -> (Vec<f32>, Vec<f32>) {
    let pool = BufferPool::new();
    let mut planes = vec![f32::NAN; wts.cout * h * w];
    let mut next = Act::new(&pool, wts.pairs * 32, h, w, split).unwrap();
    let input = Act::from_planes(&pool, x, (cin, h, w), (wts.cin_stored, wts.stacked), split, border).unwrap();
    let src = Source::pixels(&input, wts);
    conv::run(wts, &src, (h, w), split, relu, Sink { act: Some(&mut next), planes: Some(&mut planes) });
    next.fill_border(border);
    let mut back = vec![f32::NAN; wts.cout * h * w];
    next.to_planes(&mut back);
    (planes, back)
}

#[test]
fn convolutions_match_f32_kernels() {
    if !available() {
        eprintln!("no AMX here: skipped");
        return;
    }
    for &(cin, cout, h, w) in &[
        (3, 64, 9, 37),
        (64, 64, 5, 33),
        (32, 48, 17, 16),
        (64, 3, 6, 70),
        (96, 40, 1, 1),
        (128, 16, 3, 2),
        (5, 33, 4, 9),
    ] {
        let wt = values(cout * cin * 9, 1).iter().map(|v| v / (cin as f32 * 3.0).sqrt()).collect::<Vec<_>>();
        let bias = values(cout, 2);
        let x = values(cin * h * w, 3);
        let wts = AmxWeights::new(&wt, &bias, cin, cout);
        let reference = PackedConv::new(&wt, &bias, cin, cout).unwrap();
        for border in [Border::Reflect, Border::Circular] {
            for relu in [false, true] {
                let want = reference.forward_slice(&x, Geometry { n: 1, cin, cout, h, w }, border, relu).unwrap();
                for (split, tol) in [(Split::Bf16x3, 3e-5), (Split::Bf16, 2e-2)] {
                    let (got, back) = amx_conv(&x, &wts, (cin, h, w), border, relu, split);
                    let e = rel_error(&got, &want);
                    assert!(e < tol, "{cin}->{cout} {h}x{w} {border:?} relu {relu} {split:?}: error {e}");
                    // The activations hold the same values, rounded to their parts.
                    let eb = rel_error(&back, &got);
                    assert!(eb < if split == Split::Bf16 { 4e-3 } else { 1e-5 }, "{split:?}: stored error {eb}");
                }
            }
        }
    }
}

#[test]
fn border_pool_and_upsample_match_planes() {
    if !available() {
        return;
    }
    use crate::model::resample::{pool_into, upsample_into};
    let pool = BufferPool::new();
    for &(c, h, w) in &[(32, 5, 7), (64, 1, 1), (32, 4, 6), (32, 1, 3)] {
        let x = values(c * h * w, 4);
        for border in [Border::Reflect, Border::Circular] {
            for split in [Split::Bf16x3, Split::Bf16] {
                let a = Act::from_planes(&pool, &x, (c, h, w), (c, false), split, border).unwrap();
                let mut rounded = vec![0f32; x.len()];
                a.to_planes(&mut rounded);
                // Border pixels equal the rule's source pixels.
                let d = a.data();
                for gy in 0..h + 2 {
                    for gx in 0..w + 2 {
                        let (sy, sx) = (border.source(gy as isize - 1, h), border.source(gx as isize - 1, w));
                        let s = a.stride();
                        assert_eq!(&d[a.at(gy, gx)..][..s], &d[a.at(sy + 1, sx + 1)..][..s], "({gy},{gx})");
                    }
                }
                let (oh, ow) = (h.div_ceil(2), w.div_ceil(2));
                let mut want = vec![0f32; c * oh * ow];
                pool_into(&rounded, h, w, border, &mut want);
                let mut got = vec![0f32; want.len()];
                a.pool(&pool, border).unwrap().to_planes(&mut got);
                assert_eq!(got, want, "pool {c}x{h}x{w} {border:?} {split:?}");
                let mut want = vec![0f32; c * 4 * h * w];
                upsample_into(&rounded, h, w, &mut want);
                let mut got = vec![0f32; want.len()];
                a.upsample(&pool, border).unwrap().to_planes(&mut got);
                assert_eq!(got, want, "upsample {c}x{h}x{w} {border:?} {split:?}");
            }
        }
    }
}

/// Timing probe (not a test of results): `cargo test --release --lib amx_probe -- --ignored --nocapture`.
#[test]
#[ignore]
fn amx_probe() {
    if !available() {
        return;
    }
    let (cin, cout, h, w) = (64, 64, 512, 512);
    let wt = values(cout * cin * 9, 1);
    let bias = values(cout, 2);
    let x = values(cin * h * w, 3);
    let wts = AmxWeights::new(&wt, &bias, cin, cout);
    let pool = BufferPool::new();
    for split in [Split::Bf16, Split::Bf16x3] {
        let input = Act::from_planes(&pool, &x, (cin, h, w), (cin, false), split, Border::Reflect).unwrap();
        let mut next = Act::new(&pool, cout, h, w, split).unwrap();
        let mut planes_buf = vec![0f32; cout * h * w + 16];
        let off = super::act::align_offset(planes_buf.as_ptr() as usize, 4);
        eprintln!("planes misaligned by {} floats", (16 - off) % 16);
        for (name, act, pl) in [
            ("act", true, false),
            ("planes", false, true),
            ("planes aligned", false, true),
            ("none", false, false),
            ("fixed A", false, false),
        ] {
            let o = if name == "planes aligned" { off } else { (off + 4) % 16 };
            let planes = &mut planes_buf[o..o + cout * h * w];
            let mut best = f64::MAX;
            let cpu = || {
                let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
                ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
            };
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
            for _ in 0..5 {
                let t = cpu();
                let mut src = Source::pixels(&input, &wts);
                if name == "fixed A" {
                    src.offsets.iter_mut().for_each(|o| *o = [0, 0]);
                    src.row_px = 0;
                }
                one.install(|| {
                    conv::run(
                        &wts,
                        &src,
                        (h, w),
                        split,
                        true,
                        Sink { act: act.then_some(&mut next), planes: pl.then_some(&mut planes[..]) },
                    )
                });
                best = best.min(cpu() - t);
            }
            let gf = 2.0 * 9.0 * (cin * cout * h * w) as f64 / 1e9;
            eprintln!("{split:?} {name}: {:.2} ms CPU (1 thread), {:.0} GFLOP/s", best * 1e3, gf / best);
        }
    }
}

#[test]
#[ignore]
fn amx_probe_loads() {
    use super::tiles::Tiles;
    if !available() {
        return;
    }
    let a = vec![0x3f80u16; 1 << 22];
    let b = vec![0x3f80u16; 1 << 20];
    let n = 200_000usize;
    for (name, a_step, b_step, a_stride) in [
        ("fixed", 0usize, 0usize, 128usize),
        ("a moves", 32, 0, 128),
        ("b moves (36K)", 0, 1024, 128),
        ("both", 32, 1024, 128),
        ("both stride64", 32, 1024, 64),
    ] {
        let t = std::time::Instant::now();
        let mut tiles = unsafe { Tiles::configure() };
        tiles.zero_accumulators();
        for i in 0..n {
            let ai = (i % 18) * a_step;
            let bi = (i % 18) * b_step * 2 % (1 << 19);
            unsafe {
                tiles.step(a.as_ptr().add(ai), a.as_ptr().add(ai + 16 * a_stride / 2), a_stride, b.as_ptr().add(bi))
            };
        }
        let mut acc = [[0f32; 256]; 4];
        tiles.store(&mut acc);
        let s = t.elapsed().as_secs_f64();
        eprintln!("{name}: {:.1} ns/step, {:.0} GFLOP/s", s * 1e9 / n as f64, n as f64 * 4.0 * 16384.0 / s / 1e9);
    }
}

#[test]
#[ignore]
fn amx_probe_orders() {
    use super::tiles::Tiles;
    use std::arch::asm;
    if !available() {
        return;
    }
    let a = vec![0x3f80u16; 1 << 16];
    let b = vec![0x3f80u16; 1 << 16];
    let n = 200_000usize;
    let align = |p: *const u16| unsafe { p.add((64 - (p as usize % 64)) % 64 / 2) };
    let (ap, bp, s, bs) = (align(a.as_ptr()), align(b.as_ptr()), 128usize, 64usize);
    eprintln!("alignment was {} {}", a.as_ptr() as usize % 64, b.as_ptr() as usize % 64);
    for v in [0, 4, 5, 6, 3] {
        let tdps = if v == 4 || v == 5 { 4.0 } else { 4.0 };
        let t = std::time::Instant::now();
        let mut tiles = unsafe { Tiles::configure() };
        tiles.zero_accumulators();
        for _ in 0..n {
            unsafe {
                match v {
                    0 => asm!(
                        "tileloadd tmm4, [{a} + {s}*1]", "tileloadd tmm6, [{b} + {bs}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm6",
                        "tileloadd tmm7, [{b1} + {bs}*1]",
                        "tdpbf16ps tmm1, tmm4, tmm7",
                        "tileloadd tmm5, [{a1} + {s}*1]",
                        "tdpbf16ps tmm2, tmm5, tmm6",
                        "tdpbf16ps tmm3, tmm5, tmm7",
                        a = in(reg) ap, a1 = in(reg) ap.add(2048), b = in(reg) bp, b1 = in(reg) bp.add(512), s = in(reg) s, bs = in(reg) bs),
                    1 => asm!(
                        "tileloadd tmm4, [{a} + {s}*1]", "tileloadd tmm5, [{a1} + {s}*1]",
                        "tileloadd tmm6, [{b} + {bs}*1]", "tileloadd tmm7, [{b1} + {bs}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm6",
                        "tdpbf16ps tmm1, tmm4, tmm7",
                        "tdpbf16ps tmm2, tmm5, tmm6",
                        "tdpbf16ps tmm3, tmm5, tmm7",
                        a = in(reg) ap, a1 = in(reg) ap.add(2048), b = in(reg) bp, b1 = in(reg) bp.add(512), s = in(reg) s, bs = in(reg) bs),
                    2 => asm!(
                        // only A reloaded, B fixed
                        "tileloadd tmm4, [{a} + {s}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm6",
                        "tdpbf16ps tmm1, tmm4, tmm7",
                        "tileloadd tmm5, [{a1} + {s}*1]",
                        "tdpbf16ps tmm2, tmm5, tmm6",
                        "tdpbf16ps tmm3, tmm5, tmm7",
                        a = in(reg) ap, a1 = in(reg) ap.add(2048), s = in(reg) s),
                    4 => asm!(
                        // 1x2, double-buffered operands, two steps
                        "tileloadd tmm2, [{a} + {s}*1]", "tileloadd tmm4, [{b} + {bs}*1]",
                        "tdpbf16ps tmm0, tmm2, tmm4",
                        "tileloadd tmm5, [{b1} + {bs}*1]",
                        "tdpbf16ps tmm1, tmm2, tmm5",
                        "tileloadd tmm3, [{a1} + {s}*1]", "tileloadd tmm6, [{b} + {bs}*1]",
                        "tdpbf16ps tmm0, tmm3, tmm6",
                        "tileloadd tmm7, [{b1} + {bs}*1]",
                        "tdpbf16ps tmm1, tmm3, tmm7",
                        a = in(reg) ap, a1 = in(reg) ap.add(2048), b = in(reg) bp, b1 = in(reg) bp.add(512), s = in(reg) s, bs = in(reg) bs),
                    5 => asm!(
                        // 2x2 accumulators, two steps, B double-buffered? no: A0/A1 alternate sets
                        "tileloadd tmm4, [{a} + {s}*1]", "tileloadd tmm6, [{b} + {bs}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm6",
                        "tileloadd tmm5, [{a1} + {s}*1]",
                        "tdpbf16ps tmm2, tmm5, tmm6",
                        "tileloadd tmm7, [{b1} + {bs}*1]",
                        "tdpbf16ps tmm1, tmm4, tmm7",
                        "tdpbf16ps tmm3, tmm5, tmm7",
                        a = in(reg) ap, a1 = in(reg) ap.add(2048), b = in(reg) bp, b1 = in(reg) bp.add(512), s = in(reg) s, bs = in(reg) bs),
                    6 => asm!(
                        // 3 accumulators (3 position blocks x 1 channel block), B fixed per 2 steps
                        "tileloadd tmm3, [{b} + {bs}*1]",
                        "tileloadd tmm4, [{a} + {s}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm3",
                        "tileloadd tmm5, [{a1} + {s}*1]",
                        "tdpbf16ps tmm1, tmm5, tmm3",
                        "tileloadd tmm6, [{a} + {s}*1]",
                        "tdpbf16ps tmm2, tmm6, tmm3",
                        "tileloadd tmm7, [{b1} + {bs}*1]",
                        "tileloadd tmm4, [{a1} + {s}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm7",
                        a = in(reg) ap, a1 = in(reg) ap.add(2048), b = in(reg) bp, b1 = in(reg) bp.add(512), s = in(reg) s, bs = in(reg) bs),
                    _ => asm!(
                        // no loads
                        "tdpbf16ps tmm0, tmm4, tmm6",
                        "tdpbf16ps tmm1, tmm4, tmm7",
                        "tdpbf16ps tmm2, tmm5, tmm6",
                        "tdpbf16ps tmm3, tmm5, tmm7"
                    ),
                }
            }
        }
        let mut acc = [[0f32; 256]; 4];
        tiles.store(&mut acc);
        let sec = t.elapsed().as_secs_f64();
        eprintln!(
            "variant {v}: {:.1} ns/step, {:.0} GFLOP/s",
            sec * 1e9 / n as f64,
            n as f64 * tdps * 16384.0 / sec / 1e9
        );
    }
}
