//! The AMX convolutions against the f32 kernels of `conv_cpu`, on odd sizes and both borders.

use super::act::Act;
use super::conv::{self, Sink, Source};
use super::pack::AmxWeights;
use super::{available, Split};
use crate::kernels::buffers::BufferPool;
use crate::kernels::conv::{Geometry, PackedConv};
use crate::kernels::pad::Border;

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

/// Two layers whose first has a channel count short of its stored width (40 of 64): the
/// padding channels the second reads are zeros even in a pool buffer left full of NaN.
#[test]
fn padding_channels_are_written() {
    if !available() {
        return;
    }
    let (cin, mid, cout, h, w) = (32, 40, 32, 6, 21);
    let w1: Vec<f32> = values(mid * cin * 9, 5).iter().map(|v| v / 17.0).collect();
    let w2: Vec<f32> = values(cout * mid * 9, 6).iter().map(|v| v / 19.0).collect();
    let (b1, b2) = (values(mid, 7), values(cout, 8));
    let x = values(cin * h * w, 9);
    let (a1, a2) = (AmxWeights::new(&w1, &b1, cin, mid), AmxWeights::new(&w2, &b2, mid, cout));
    for split in [Split::Bf16x3, Split::Bf16] {
        let pool = BufferPool::new();
        let input =
            Act::from_planes(&pool, &x, (cin, h, w), (a1.cin_stored, a1.stacked), split, Border::Reflect).unwrap();
        // The only buffer kept: the hidden activations get it.
        pool.take(1 << 16).unwrap().fill(f32::NAN);
        let mut hidden = Act::new(&pool, a1.pairs * 32, h, w, split).unwrap();
        conv::run(
            &a1,
            &Source::pixels(&input, &a1),
            (h, w),
            split,
            true,
            Sink { act: Some(&mut hidden), planes: None },
        );
        hidden.fill_border(Border::Reflect);
        let mut got = vec![0f32; cout * h * w];
        conv::run(&a2, &Source::pixels(&hidden, &a2), (h, w), split, false, Sink { act: None, planes: Some(&mut got) });
        let g1 = Geometry { n: 1, cin, cout: mid, h, w };
        let mid_f32 =
            PackedConv::new(&w1, &b1, cin, mid).unwrap().forward_slice(&x, g1, Border::Reflect, true).unwrap();
        let g2 = Geometry { n: 1, cin: mid, cout, h, w };
        let want =
            PackedConv::new(&w2, &b2, mid, cout).unwrap().forward_slice(&mid_f32, g2, Border::Reflect, false).unwrap();
        assert!(got.iter().all(|v| v.is_finite()), "{split:?}: non-finite output");
        let e = rel_error(&got, &want);
        assert!(e < if split == Split::Bf16 { 3e-2 } else { 1e-4 }, "{split:?}: error {e}");
    }
}

#[test]
fn border_pool_and_upsample_match_planes() {
    if !available() {
        return;
    }
    use crate::kernels::resample::{pool_into, upsample_into};
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
