//! The fused kernel against candle's generic path (`pad1 → conv2d → + bias → relu`), for
//! every layer shape class of the network, both borders, every micro-kernel family this CPU
//! runs, several blockings, and degenerate image sizes.

use candle_core::{Device, Tensor};

use super::{Algo, AnyBlocking, Blocking, Geometry, Isa, PackedConv, WinoBlocking};
use crate::kernels::pad::{pad1, Border};
use crate::kernels::precision::Precision;

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

const ALGOS: [Algo; 2] = [Algo::Direct, Algo::Winograd4];

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
        {
            let algo = Algo::Winograd4;
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
                    // sums with weights up to 8²).
                    assert!(e < 1e-1, "{what}: error {e}");
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

/// A pooling or an upsampling folded into a Winograd convolution gives the values of the
/// separate steps bit for bit: odd and even sizes, both borders (a circular odd pooling is
/// refused), small blockings so that tiles, bands and column blocks all meet the resampling,
/// and both precisions.
#[test]
fn fused_resampling_equals_the_separate_steps() {
    use super::Fused;
    use crate::kernels::resample::{pool_into, upsample_into};
    for isa in Isa::available() {
        for (h, w) in [(12, 16), (13, 11), (7, 5), (2, 2), (1, 3)] {
            for border in BORDERS {
                for precision in [Precision::F32, Precision::Bf16] {
                    for blocking in [None, Some(WinoBlocking { tr: 1, tc: 2, co_group: isa.mr(), kc: 8 })] {
                        let (cin, cout) = (24, 2 * isa.mr());
                        let g = Geometry { n: 2, cin, cout, h, w };
                        let wts = randn((cout, cin, 3, 3), 7);
                        let bias = randn((1, 1, 1, cout), 8);
                        let conv = PackedConv::with(&wts, &bias, cin, cout, isa, Algo::Winograd4).unwrap();
                        let blocking = blocking.map(AnyBlocking::Winograd);
                        let run = |x: &[f32], g: Geometry, fused: Fused| {
                            let (oh, ow) = fused.output_dims(g);
                            let mut out = vec![f32::NAN; g.n * g.cout * oh * ow];
                            conv.forward_into(x, g, border, true, blocking, precision, fused, &mut out).map(|_| out)
                        };
                        let what = format!("{isa:?} {h}×{w} {border:?} {precision:?} {blocking:?}");
                        // Convolution, then pooling.
                        let x = randn((2, cin, h, w), 9);
                        let pool = Fused { up_in: false, pool_out: true };
                        if pool.fits(g, border) {
                            let full = run(&x, g, Fused::NONE).unwrap();
                            let mut want = vec![0f32; 2 * cout * h.div_ceil(2) * w.div_ceil(2)];
                            pool_into(&full, h, w, border, &mut want);
                            let got = run(&x, g, pool).unwrap();
                            assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "pool: {what}");
                        } else {
                            assert!(run(&x, g, pool).is_err(), "refused: {what}");
                        }
                        // Upsampling, then convolution (on the doubled grid).
                        let up = Fused { up_in: true, pool_out: false };
                        let g2 = Geometry { h: 2 * h, w: 2 * w, ..g };
                        let mut big = vec![0f32; 2 * cin * 4 * h * w];
                        upsample_into(&x, h, w, &mut big);
                        let want = run(&big, g2, Fused::NONE).unwrap();
                        let got = run(&x, g2, up).unwrap();
                        assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "up: {what}");
                    }
                }
            }
        }
    }
}
