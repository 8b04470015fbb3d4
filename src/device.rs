//! Choosing the compute device: CPU by default, CUDA or Metal when built with those features.

use candle_core::Device;

use crate::error::{Error, Result};

/// Parses `cpu`, `cuda`, `cuda:N` or `metal` into a device.
pub fn parse_device(name: &str) -> Result<Device> {
    let name = name.trim().to_ascii_lowercase();
    let unsupported = |feature: &str| {
        Error::param(
            "device",
            format!("'{name}' needs unistyle built with the '{feature}' cargo feature"),
        )
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
                Some(n) => n
                    .parse::<usize>()
                    .map_err(|_| Error::param("device", format!("bad CUDA ordinal in '{s}'")))?,
                None => 0,
            };
            if cfg!(feature = "cuda") {
                Ok(Device::new_cuda(ordinal)?)
            } else {
                Err(unsupported("cuda"))
            }
        }
        _ => Err(Error::param(
            "device",
            format!("unknown device '{name}' (use cpu, cuda, cuda:N or metal)"),
        )),
    }
}
