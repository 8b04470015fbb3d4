//! Choosing the compute device: CPU by default, CUDA or Metal when built with those features;
//! and which code paths a device takes.
//!
//! The CPU runs kernels of its own (the fused 3×3 convolution, padding, ceil-mode pooling,
//! upsampling, feature statistics and the WCT map as single passes over the data); other
//! devices run the generic paths, built from candle's tensor operations. Setting
//! [`GENERIC_PATHS_ENV`] sends the CPU through the generic paths as well, so that they are
//! tested (against the golden outputs) on machines without a GPU.

use candle_core::Device;

use crate::error::{Error, Result};

/// Parses `cpu`, `cuda`, `cuda:N` or `metal` into a device, opening it.
///
/// A device this build cannot use is refused with one line ([`Error::Parameter`] about
/// `device`) that says what is missing: the cargo feature (`cuda`, `metal`) not built in, or
/// no device or driver that could be opened (the driver's reason quoted). Opening never
/// panics through here: a panic in the backend is caught and reported the same way.
pub fn parse_device(name: &str) -> Result<Device> {
    let name = name.trim().to_ascii_lowercase();
    let unsupported = |feature: &str| {
        Error::param(
            "device",
            format!("'{name}' needs unistyle built with the '{feature}' cargo feature; use 'cpu' instead"),
        )
    };
    match name.as_str() {
        "cpu" => Ok(Device::Cpu),
        "metal" => {
            if cfg!(feature = "metal") {
                open(&name, "Metal device 0", || Device::new_metal(0))
            } else {
                Err(unsupported("metal"))
            }
        }
        s if s == "cuda" || s.starts_with("cuda:") => {
            let ordinal = match s.strip_prefix("cuda:") {
                Some(n) => n.parse::<usize>().map_err(|_| {
                    Error::param("device", format!("bad CUDA ordinal in '{s}' (use cuda or cuda:N, N = 0, 1, …)"))
                })?,
                None => 0,
            };
            if cfg!(feature = "cuda") {
                open(&name, &format!("CUDA device {ordinal}"), || Device::new_cuda(ordinal))
            } else {
                Err(unsupported("cuda"))
            }
        }
        _ => Err(Error::param("device", format!("unknown device '{name}' (use cpu, cuda, cuda:N or metal)"))),
    }
}

/// Opens a device with `new`, turning a failure (or a panic in the backend) into one line
/// naming `what` could not be opened and why.
fn open(name: &str, what: &str, new: impl FnOnce() -> candle_core::Result<Device>) -> Result<Device> {
    let unavailable = |why: String| {
        let why = why.replace('\n', " ");
        Error::param(
            "device",
            format!("'{name}' is not available: {what} could not be opened ({why}); use 'cpu' instead"),
        )
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(new)) {
        Ok(Ok(device)) => Ok(device),
        Ok(Err(e)) => Err(unavailable(driver_reason(&e))),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("the backend panicked");
            Err(unavailable(why.to_string()))
        }
    }
}

/// The message of a backend error without the backtrace candle attaches when
/// `RUST_BACKTRACE` is set (it must not reach a one-line message).
fn driver_reason(e: &candle_core::Error) -> String {
    match e {
        candle_core::Error::WithBacktrace { inner, .. } => driver_reason(inner),
        candle_core::Error::Context { inner, context } => format!("{context}: {}", driver_reason(inner)),
        e => e.to_string(),
    }
}

/// Environment variable: `UNISTYLE_GENERIC_PATHS=1` makes the CPU take the code paths written
/// for other devices instead of its own kernels (read once, by the kernel switchboard,
/// [`crate::kernels::config`]).
pub use crate::kernels::GENERIC_PATHS_ENV;

/// Whether [`GENERIC_PATHS_ENV`] is set (to `1`, `true`, `yes` or `on`) in this process.
pub fn generic_paths() -> bool {
    crate::kernels::config().generic_paths
}

/// Whether `device` can hold f64 tensors: candle's Metal backend cannot (no f32 → f64 cast),
/// so f64 work for it is done on the host.
pub(crate) fn has_f64(device: &Device) -> bool {
    !device.is_metal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(name: &str) -> String {
        match parse_device(name) {
            Ok(d) => format!("opened {:?}", d.location()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn cpu_and_bad_names() {
        assert!(parse_device(" CPU ").unwrap().is_cpu());
        assert!(refusal("gpu").contains("unknown device 'gpu'"), "{}", refusal("gpu"));
        assert!(refusal("cuda:x").contains("bad CUDA ordinal"), "{}", refusal("cuda:x"));
        assert!(refusal("cuda:-1").contains("bad CUDA ordinal"), "{}", refusal("cuda:-1"));
    }

    #[test]
    fn devices_not_built_in_or_not_present_are_refused_in_one_line() {
        for name in ["cuda", "cuda:99", "metal"] {
            let msg = refusal(name);
            let (feature, built) =
                if name == "metal" { ("metal", cfg!(feature = "metal")) } else { ("cuda", cfg!(feature = "cuda")) };
            if !built {
                assert!(msg.contains(&format!("built with the '{feature}' cargo feature")), "{name}: {msg}");
            } else if !msg.starts_with("opened") {
                assert!(msg.contains("is not available") && msg.contains("could not be opened"), "{name}: {msg}");
            }
            assert!(!msg.contains('\n'), "{name}: {msg}");
        }
        if cfg!(feature = "cuda") {
            // No machine has a hundred GPUs: this ordinal never opens.
            assert!(refusal("cuda:99").contains("CUDA device 99 could not be opened"), "{}", refusal("cuda:99"));
        }
    }
}
