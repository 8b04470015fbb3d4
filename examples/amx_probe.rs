//! Timing probe of one AMX convolution (64→64 at 512², one thread) per output form: the
//! next layer's activations, f32 planes, nothing, and nothing while reading the same input
//! block for every window (the cost of the products and weight loads alone). Formerly an
//! `#[ignore]` test of `model::amx`.
//!
//! ```text
//! cargo run --release --features bench-internals --example amx_probe
//! ```

#[cfg(target_arch = "x86_64")]
fn main() -> unistyle::Result<()> {
    use unistyle::kernels::bench::{AmxConv, AmxOutput};
    let (cin, cout, h, w) = (64, 64, 512, 512);
    let values = |n: usize, seed: u32| -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.618 + seed as f32 * 1.3).sin() * 0.8 + 0.1).collect()
    };
    let Some(conv) =
        AmxConv::new(&values(cout * cin * 9, 1), &values(cout, 2), values(cin * h * w, 3), (cin, cout), (h, w))
    else {
        println!("no AMX here");
        return Ok(());
    };
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a thread pool");
    let gflop = 2.0 * 9.0 * (cin * cout * h * w) as f64 / 1e9;
    for bf16 in [true, false] {
        // The whole probe runs inside the one-thread pool: the convolution's tasks stay there.
        one.install(|| {
            conv.with_input(bf16, |run| {
                for form in [AmxOutput::Activations, AmxOutput::Planes, AmxOutput::Nothing, AmxOutput::FixedInput] {
                    let best = (0..5)
                        .map(|_| {
                            let t = std::time::Instant::now();
                            run(form);
                            t.elapsed().as_secs_f64()
                        })
                        .fold(f64::INFINITY, f64::min);
                    let split = if bf16 { "bf16" } else { "bf16x3" };
                    println!("{split} {form:?}: {:.2} ms (1 thread), {:.0} GFLOP/s", best * 1e3, gflop / best);
                }
            })
        })?;
    }
    Ok(())
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    println!("AMX is x86-64 only");
}
