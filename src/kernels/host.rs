//! Direct access to the f32 values of CPU tensors, so that the statistics and the affine map
//! run as single passes over the feature map instead of chains of whole-map tensor ops.

use candle_core::{CpuStorage, DType, Storage, Tensor};

use crate::error::Result;

/// Runs `f` on the contiguous row-major f32 values of a CPU tensor (converted or made
/// contiguous first when needed). `None` for tensors on other devices, and on the CPU when
/// the generic paths are forced ([`super::Config::generic_paths`]).
pub(crate) fn with_cpu_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<Option<R>> {
    if !super::cpu_kernels(t.device()) {
        return Ok(None);
    }
    let t = if t.dtype() == DType::F32 { t.clone() } else { t.to_dtype(DType::F32)? };
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cpu(CpuStorage::F32(values)) = &*storage else {
        return Ok(None);
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        return Ok(None);
    };
    Ok(Some(f(&values[start..end])))
}
