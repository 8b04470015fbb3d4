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

/// Parses `cpu`, `cuda`, `cuda:N` or `metal` into a device.
pub fn parse_device(name: &str) -> Result<Device> {
    let name = name.trim().to_ascii_lowercase();
    let unsupported = |feature: &str| {
        Error::param("device", format!("'{name}' needs unistyle built with the '{feature}' cargo feature"))
    };
    match name.as_str() {
        "cpu" => Ok(Device::Cpu),
        "metal" => {
            if cfg!(feature = "metal") {
                Ok(Device::new_metal(0)?)
            } else {
                Err(unsupported("metal"))
            }
        }
        s if s == "cuda" || s.starts_with("cuda:") => {
            let ordinal = match s.strip_prefix("cuda:") {
                Some(n) => {
                    n.parse::<usize>().map_err(|_| Error::param("device", format!("bad CUDA ordinal in '{s}'")))?
                }
                None => 0,
            };
            if cfg!(feature = "cuda") {
                Ok(Device::new_cuda(ordinal)?)
            } else {
                Err(unsupported("cuda"))
            }
        }
        _ => Err(Error::param("device", format!("unknown device '{name}' (use cpu, cuda, cuda:N or metal)"))),
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
