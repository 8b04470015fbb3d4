//! How fast this CPU multiplies: the throughput of one core's f32 fused multiply-adds
//! (`vfmadd231ps`, 16 lanes) against its bf16 pair dot products (`vdpbf16ps`, 16 lanes of two
//! products each), with enough independent accumulators that only throughput counts. It
//! tells whether `--precision bf16` can be faster than f32 on the AVX-512 path (without AMX)
//! of this CPU: only where a bf16 dot product costs less than two f32 multiply-adds.
//!
//! ```text
//! cargo run --release --example dot_rate
//! ```

#[cfg(target_arch = "x86_64")]
mod rate {
    use std::arch::x86_64::*;
    use std::hint::black_box;
    use std::time::Instant;

    /// Independent accumulators: more than latency × ports of either instruction.
    const CHAINS: usize = 12;
    const ROUNDS: usize = 4_000_000;

    #[target_feature(enable = "avx512f")]
    unsafe fn fma() -> f32 {
        let (b, c) = (_mm512_set1_ps(black_box(0.999_9)), _mm512_set1_ps(black_box(1e-7)));
        let mut acc = [_mm512_set1_ps(1.0); CHAINS];
        for _ in 0..ROUNDS {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, b, c);
            }
        }
        acc.iter().map(|a| _mm512_reduce_add_ps(*a)).sum()
    }

    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn dpbf16() -> f32 {
        // 0x3f80 is bf16 1.0, 0x3380 a small value: the sums stay finite.
        let x: __m512bh = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi16(black_box(0x3380)));
        let y: __m512bh = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi16(black_box(0x3f80)));
        let mut acc = [_mm512_setzero_ps(); CHAINS];
        for _ in 0..ROUNDS {
            for a in acc.iter_mut() {
                *a = _mm512_dpbf16_ps(*a, x, y);
            }
        }
        acc.iter().map(|a| _mm512_reduce_add_ps(*a)).sum()
    }

    /// Best of five: nanoseconds per instruction.
    fn time(f: impl Fn() -> f32) -> f64 {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                black_box(f());
                t.elapsed().as_secs_f64() * 1e9 / (ROUNDS * CHAINS) as f64
            })
            .fold(f64::INFINITY, f64::min)
    }

    pub fn main() {
        if !is_x86_feature_detected!("avx512f") {
            println!("no AVX-512 on this CPU");
            return;
        }
        // SAFETY: avx512f was detected above.
        let f = time(|| unsafe { fma() });
        println!("vfmadd231ps zmm: {f:.3} ns per instruction, {:.1} multiply-adds per ns", 16.0 / f);
        if !is_x86_feature_detected!("avx512bf16") {
            println!("no avx512_bf16 on this CPU");
            return;
        }
        // SAFETY: avx512f and avx512bf16 were detected above.
        let d = time(|| unsafe { dpbf16() });
        println!("vdpbf16ps   zmm: {d:.3} ns per instruction, {:.1} multiply-adds per ns", 32.0 / d);
        println!(
            "bf16 products run at {:.2}× the f32 multiply-add rate on one core (2 would double the products' speed)",
            (32.0 / d) / (16.0 / f)
        );
    }
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    rate::main();
    #[cfg(not(target_arch = "x86_64"))]
    println!("x86-64 only");
}
