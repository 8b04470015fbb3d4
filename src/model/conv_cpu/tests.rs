//! The fused kernel against candle's generic path (`pad1 → conv2d → + bias → relu`), for
//! every layer shape class of the network, both borders, every micro-kernel family this CPU
//! runs, several blockings, and degenerate image sizes.

use candle_core::{Device, Tensor};

use super::{Algo, AnyBlocking, Blocking, Geometry, Isa, PackedConv, WinoBlocking};
use crate::model::layers::Conv3x3;
use crate::model::pad::{pad1, Border};
use crate::model::precision::Precision;

const BORDERS: [Border; 2] = [Border::Reflect, Border::Circular];

/// (cin, cout) of every encoder and decoder convolution class of `wct-vgg19/1`.
const LAYER_CLASSES: [(usize, usize); 12] = [
    (3, 64),
    (64, 64),
    (64, 128),
    (128, 128),
    (128, 256),
    (256, 256),
    (256, 512),
    (512, 512),
    (512, 256),
    (256, 128),
    (128, 64),
    (64, 3),
];

fn randn(shape: (usize, usize, usize, usize), seed: u64) -> Vec<f32> {
    // xorshift + Box–Muller-free approximation: sum of uniforms, roughly unit variance.
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let n = shape.0 * shape.1 * shape.2 * shape.3;
    (0..n)
        .map(|_| {
            let mut acc = 0f32;
            for _ in 0..4 {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                acc += (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            }
            acc * 1.7
        })
        .collect()
}

/// Candle's generic path on the same data.
fn reference(x: &[f32], g: Geometry, w: &[f32], b: &[f32], border: Border, relu: bool) -> Vec<f32> {
    let dev = Device::Cpu;
    let xt = Tensor::from_vec(x.to_vec(), (g.n, g.cin, g.h, g.w), &dev).unwrap();
    let wt = Tensor::from_vec(w.to_vec(), (g.cout, g.cin, 3, 3), &dev).unwrap();
    let bt = Tensor::from_vec(b.to_vec(), (1, g.cout, 1, 1), &dev).unwrap();
    let y = pad1(&xt, border).unwrap().conv2d(&wt, 0, 1, 1, 1).unwrap().broadcast_add(&bt).unwrap();
    let y = if relu { y.relu().unwrap() } else { y };
    y.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// max |got − want| / max |want|.
fn rel_err(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-20);
    let diff = got.iter().zip(want).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    diff / scale
}

const ALGOS: [Algo; 3] = [Algo::Direct, Algo::Winograd, Algo::Winograd4];

#[allow(clippy::too_many_arguments)]
fn check(isa: Isa, algo: Algo, g: Geometry, border: Border, relu: bool, blocking: Option<AnyBlocking>, seed: u64) {
    let x = randn((g.n, g.cin, g.h, g.w), seed);
    let w: Vec<f32> = randn((g.cout, g.cin, 3, 3), seed + 1).iter().map(|v| v / (g.cin as f32 * 9.0).sqrt()).collect();
    let b = randn((1, 1, 1, g.cout), seed + 2);
    let conv = PackedConv::with(&w, &b, g.cin, g.cout, isa, algo).unwrap();
    let got = conv.forward_blocked(&x, g, border, relu, blocking, Precision::F32).unwrap();
    let want = reference(&x, g, &w, &b, border, relu);
    let e = rel_err(&got, &want);
    assert!(e < 1e-4, "{isa:?} {algo:?} {g:?} {border:?} relu={relu} {blocking:?}: relative error {e:e}");
}

#[test]
fn every_layer_class_matches_candle() {
    for isa in Isa::available() {
        for algo in ALGOS {
            for (i, &(cin, cout)) in LAYER_CLASSES.iter().enumerate() {
                let (h, w) = if cin >= 256 || cout >= 256 { (7, 11) } else { (13, 18) };
                for border in BORDERS {
                    let g = Geometry { n: 1, cin, cout, h, w };
                    check(isa, algo, g, border, cout != 3, None, 10 * i as u64);
                }
            }
        }
    }
}

#[test]
fn small_and_odd_images_match_candle() {
    let sizes = [(1, 1), (1, 2), (2, 1), (1, 7), (9, 1), (2, 2), (3, 3), (5, 4), (17, 33)];
    for isa in Isa::available() {
        for algo in ALGOS {
            for (i, &(h, w)) in sizes.iter().enumerate() {
                for border in BORDERS {
                    for (cin, cout) in [(3, 5), (8, 3), (13, 9)] {
                        let g = Geometry { n: 1, cin, cout, h, w };
                        check(isa, algo, g, border, true, None, 100 + i as u64);
                    }
                }
            }
        }
    }
}

#[test]
fn blockings_and_batches_match_candle() {
    // Chunked input channels, several output-channel groups, bands of different heights,
    // a last band shorter than the others, and a batch of 2.
    for isa in Isa::available() {
        let mr = isa.mr();
        for (h, w) in [(10, 23), (9, 14)] {
            let g = Geometry { n: 2, cin: 37, cout: 3 * mr + 1, h, w };
            for border in BORDERS {
                for (rows, groups, kc) in [(1, 1, 37), (3, 1, 8), (4, 2, 16), (10, 4, 5), (7, 4, 1)] {
                    let b = AnyBlocking::Direct(Blocking { rows, co_group: groups * mr, kc });
                    check(isa, Algo::Direct, g, border, true, Some(b), 7);
                }
                for (tr, tc, groups, kc) in [(1, 1, 1, 37), (2, 3, 1, 8), (5, 12, 2, 16), (3, 5, 4, 5), (1, 7, 4, 1)] {
                    let b = AnyBlocking::Winograd(WinoBlocking { tr, tc, co_group: groups * mr, kc });
                    check(isa, Algo::Winograd, g, border, true, Some(b), 7);
                    check(isa, Algo::Winograd4, g, border, true, Some(b), 7);
                }
                for algo in ALGOS {
                    check(isa, algo, g, border, false, None, 8);
                }
            }
        }
    }
}

/// bf16 products: within bf16's rounding of the f32 reference (and visibly not f32), for
/// every family (avx512 runs `vdpbf16ps` where the CPU has it, the others the emulation),
/// odd channel counts (a zero partner in the last pair) and odd input chunks (rounded up to
/// whole pairs); the hardware and emulated paths agree up to summation order.
#[test]
fn bf16_products_stay_within_bf16_rounding() {
    for (cin, cout, h, w) in [(64, 64, 13, 21), (128, 96, 9, 40), (37, 45, 7, 5)] {
        let g = Geometry { n: 1, cin, cout, h, w };
        let x = randn((1, cin, h, w), 11);
        let wt: Vec<f32> = randn((cout, cin, 3, 3), 12).iter().map(|v| v / (cin as f32 * 9.0).sqrt()).collect();
        let b = randn((1, 1, 1, cout), 13);
        let want = reference(&x, g, &wt, &b, Border::Reflect, false);
        for algo in [Algo::Winograd, Algo::Winograd4] {
            let mut results = Vec::new();
            for isa in Isa::available() {
                let conv = PackedConv::with(&wt, &b, cin, cout, isa, algo).unwrap();
                let f32_err =
                    rel_err(&conv.forward_blocked(&x, g, Border::Reflect, false, None, Precision::F32).unwrap(), &want);
                let blockings =
                    [None, Some(AnyBlocking::Winograd(WinoBlocking { tr: 2, tc: 3, co_group: isa.mr(), kc: 5 }))];
                for blocking in blockings {
                    let got = conv.forward_blocked(&x, g, Border::Reflect, false, blocking, Precision::Bf16).unwrap();
                    let e = rel_err(&got, &want);
                    let what =
                        format!("{isa:?} {algo:?} {cin}→{cout} {blocking:?} bf16_native={}", super::bf16_native(isa));
                    // F(4×4)'s transforms amplify the operands' rounding (its output transform
                    // sums with weights up to 8²) well beyond F(2×2)'s.
                    let bound = if algo == Algo::Winograd4 { 1e-1 } else { 2e-2 };
                    assert!(e < bound, "{what}: error {e}");
                    assert!(e > 10.0 * f32_err && e > 1e-4, "{what}: error {e} is f32's ({f32_err}), not bf16's");
                    results.push(got);
                }
            }
            for r in &results[1..] {
                assert!(rel_err(r, &results[0]) < 1e-4, "{algo:?} {cin}→{cout}: families disagree");
            }
        }
    }
}

#[test]
fn layer_uses_fused_kernel_on_cpu_and_matches_candle_path() {
    let dev = Device::Cpu;
    let (cin, cout) = (16, 12);
    let w = Tensor::from_vec(randn((cout, cin, 3, 3), 1), (cout, cin, 3, 3), &dev).unwrap();
    let b = Tensor::from_vec(randn((1, 1, 1, cout), 2), cout, &dev).unwrap();
    let fused = Conv3x3::from_tensors(&w, &b, true).unwrap();
    let generic = fused.to_candle_path().unwrap();
    assert!(fused.is_fused());
    assert!(!generic.is_fused());
    let x = Tensor::from_vec(randn((1, cin, 9, 14), 3), (1, cin, 9, 14), &dev).unwrap();
    // A non-contiguous input goes through `contiguous()` first.
    let xt = x.transpose(2, 3).unwrap();
    for border in BORDERS {
        for input in [&x, &xt] {
            let a = fused.forward(input, border).unwrap();
            let r = generic.forward(&input.contiguous().unwrap(), border).unwrap();
            assert_eq!(a.dims(), r.dims());
            let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let r = r.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert!(rel_err(&a, &r) < 1e-4);
        }
    }
    let wrong = Tensor::zeros((1, cin + 1, 4, 4), candle_core::DType::F32, &dev).unwrap();
    assert!(fused.forward(&wrong, Border::Reflect).is_err());
}

/// Per-layer timings of each algorithm on the network's layer shapes (not a check: run with
/// `cargo test --release --lib conv_cpu::tests::algorithm_timings -- --ignored --nocapture`).
#[test]
#[ignore]
fn algorithm_timings() {
    let isa = Isa::detect();
    for (cin, cout, side) in [(64, 64, 512), (64, 128, 256), (128, 128, 256), (128, 256, 128), (256, 128, 128)] {
        let g = Geometry { n: 1, cin, cout, h: side, w: side };
        let x = randn((1, cin, side, side), 1);
        let w = randn((cout, cin, 3, 3), 2);
        let b = randn((1, 1, 1, cout), 3);
        let flops = 2.0 * (cin * cout * 9 * side * side) as f64;
        let mut line = format!("{cin:>4}→{cout:<4} {side}²:");
        let mut out = vec![0f32; cout * side * side];
        let runs = ALGOS.iter().map(|&a| (a, Precision::F32)).chain([(Algo::Winograd4, Precision::Bf16)]);
        for (algo, precision) in runs {
            let conv = PackedConv::with(&w, &b, cin, cout, isa, algo).unwrap();
            let best = (0..5)
                .map(|_| {
                    let t = std::time::Instant::now();
                    conv.forward_into(&x, g, Border::Reflect, true, None, precision, &mut out).unwrap();
                    std::hint::black_box(&out);
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min);
            line += &format!("  {algo:?}/{precision} {:.1} ms ({:.0} GF/s)", best * 1e3, flops / best * 1e-9);
        }
        println!("{line}");
    }
}

/// Blocking sweep for the Winograd algorithms (tuning aid, `--ignored`).
#[test]
#[ignore]
fn winograd_blocking_sweep() {
    let isa = Isa::detect();
    let threads = rayon::current_num_threads();
    for (cin, cout, side) in [(64, 64, 512), (128, 128, 256), (256, 128, 128)] {
        let g = Geometry { n: 1, cin, cout, h: side, w: side };
        let x = randn((1, cin, side, side), 1);
        let w = randn((cout, cin, 3, 3), 2);
        let b = randn((1, 1, 1, cout), 3);
        let flops = 2.0 * (cin * cout * 9 * side * side) as f64;
        for algo in [Algo::Winograd, Algo::Winograd4] {
            let conv = PackedConv::with(&w, &b, cin, cout, isa, algo).unwrap();
            let tile = if algo == Algo::Winograd4 { 4 } else { 2 };
            let auto = match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => WinoBlocking::choose::<super::kernel::avx512::Avx512>(g, threads, tile),
                _ => continue,
            };
            let mut cands = vec![auto];
            for tiles in [16, 32, 64, 128] {
                for kc in [32, 64, 128] {
                    for co in [5 * isa.mr(), 11 * isa.mr(), cout] {
                        let tc = (side / tile).min(64).min(tiles);
                        let tr = tiles.div_ceil(tc).max(1);
                        cands.push(WinoBlocking { tr, tc, co_group: co.min(cout), kc: kc.min(cin) });
                    }
                }
            }
            let mut res: Vec<(f64, WinoBlocking)> = cands
                .into_iter()
                .map(|bl| {
                    let best = (0..3)
                        .map(|_| {
                            let t = std::time::Instant::now();
                            std::hint::black_box(
                                conv.forward_blocked(
                                    &x,
                                    g,
                                    Border::Reflect,
                                    true,
                                    Some(AnyBlocking::Winograd(bl)),
                                    Precision::F32,
                                )
                                .unwrap(),
                            );
                            t.elapsed().as_secs_f64()
                        })
                        .fold(f64::INFINITY, f64::min);
                    (best, bl)
                })
                .collect();
            let auto_t = res[0].0;
            res.sort_by(|a, b| a.0.total_cmp(&b.0));
            println!(
                "{cin}→{cout} {side}² {algo:?}: auto {:.0} GF/s; best {:.0} GF/s {:?}; 2nd {:.0} {:?}",
                flops / auto_t * 1e-9,
                flops / res[0].0 * 1e-9,
                res[0].1,
                flops / res[1].0 * 1e-9,
                res[1].1
            );
        }
    }
}
