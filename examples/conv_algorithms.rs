//! Per-layer timings of each convolution algorithm on the network's layer shapes (f32, and
//! Winograd with bf16 products), and with `--sweep` a blocking sweep of the Winograd
//! algorithm (a tuning aid; AVX-512 only). Formerly `#[ignore]` tests of `conv_cpu`.
//!
//! ```text
//! cargo run --release --features bench-internals --example conv_algorithms [-- --sweep]
//! ```
//! The kernel family is the switchboard's (`UNISTYLE_CONV_ISA` picks a lower one).

use std::time::Instant;

use unistyle::kernels::bench::Conv3x3;
use unistyle::kernels::{config, Algo};
use unistyle::Precision;

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// Best of `reps` runs of `f`, in seconds.
fn best(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

struct Layer {
    cin: usize,
    cout: usize,
    side: usize,
    x: Vec<f32>,
    w: Vec<f32>,
    b: Vec<f32>,
}

impl Layer {
    fn new((cin, cout, side): (usize, usize, usize)) -> Self {
        Self { cin, cout, side, x: values(cin * side * side, 1), w: values(cout * cin * 9, 2), b: values(cout, 3) }
    }

    fn flops(&self) -> f64 {
        2.0 * (self.cin * self.cout * 9 * self.side * self.side) as f64
    }

    fn conv(&self, algo: Algo) -> Conv3x3 {
        Conv3x3::new(&self.w, &self.b, self.cin, self.cout, algo).expect("packing")
    }
}

fn timings() {
    for shape in [(64, 64, 512), (64, 128, 256), (128, 128, 256), (128, 256, 128), (256, 128, 128)] {
        let l = Layer::new(shape);
        let mut out = vec![0f32; l.cout * l.side * l.side];
        let mut line = format!("{:>4}→{:<4} {}²:", l.cin, l.cout, l.side);
        for (algo, precision) in
            [(Algo::Direct, Precision::F32), (Algo::Winograd4, Precision::F32), (Algo::Winograd4, Precision::Bf16)]
        {
            let conv = l.conv(algo);
            let t = best(5, || conv.run(&l.x, (l.side, l.side), precision, None, &mut out).expect("run"));
            line += &format!("  {algo:?}/{precision} {:.1} ms ({:.0} GF/s)", t * 1e3, l.flops() / t * 1e-9);
        }
        println!("{line}");
    }
}

fn sweep() {
    let threads = rayon::current_num_threads();
    let mr = Conv3x3::block_width();
    for shape in [(64, 64, 512), (128, 128, 256), (256, 128, 128)] {
        let l = Layer::new(shape);
        let conv = l.conv(Algo::Winograd4);
        let Some(auto) = conv.winograd_blocking((l.side, l.side), threads) else {
            println!("the blocking sweep needs the AVX-512 kernels");
            return;
        };
        let mut cands = vec![auto];
        for tiles in [16, 32, 64, 128] {
            for kc in [32, 64, 128] {
                for co in [5 * mr, 11 * mr, l.cout] {
                    let tc = (l.side / 4).min(64).min(tiles);
                    cands.push((tiles.div_ceil(tc).max(1), tc, co.min(l.cout), kc.min(l.cin)));
                }
            }
        }
        let mut out = vec![0f32; l.cout * l.side * l.side];
        let mut res: Vec<(f64, _)> = cands
            .into_iter()
            .map(|b| (best(3, || conv.run(&l.x, (l.side, l.side), Precision::F32, Some(b), &mut out).expect("run")), b))
            .collect();
        let auto_t = res[0].0;
        res.sort_by(|a, b| a.0.total_cmp(&b.0));
        let gf = |t: f64| l.flops() / t * 1e-9;
        println!(
            "{}→{} {}²: auto {:.0} GF/s; best {:.0} GF/s {:?}; 2nd {:.0} {:?}",
            l.cin,
            l.cout,
            l.side,
            gf(auto_t),
            gf(res[0].0),
            res[0].1,
            gf(res[1].0),
            res[1].1
        );
    }
}

fn main() {
    println!("kernels: {:?}", config());
    if std::env::args().any(|a| a == "--sweep") {
        sweep();
    } else {
        timings();
    }
}
