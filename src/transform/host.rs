//! Direct access to the f32 values of CPU tensors, so that the statistics and the affine map
//! run as single passes over the feature map instead of chains of whole-map tensor ops.

use candle_core::{CpuStorage, DType, Storage, Tensor};

use crate::error::Result;

/// Columns per block of work: blocks are the unit of parallelism and of the f64 scratch.
pub(crate) const BLOCK: usize = 1024;

/// Runs `f` on the contiguous row-major f32 values of a CPU tensor (converted or made
/// contiguous first when needed). `None` for tensors on other devices, and on the CPU when
/// the generic paths are forced ([`crate::device::generic_paths`]).
pub(crate) fn with_cpu_f32<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<Option<R>> {
    if !crate::device::cpu_kernels(t.device()) {
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

/// Splits `0..n` into at most `parts` contiguous ranges of whole [`BLOCK`]s. The split depends
/// only on `n`, never on the thread count, so sums over the parts are reproducible.
pub(crate) fn ranges(n: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let blocks = n.div_ceil(BLOCK).max(1);
    let per = blocks.div_ceil(parts.max(1));
    (0..blocks).step_by(per).map(|b| b * BLOCK..((b + per) * BLOCK).min(n)).filter(|r| !r.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_everything_once() {
        for n in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 17 * BLOCK + 5, 300 * BLOCK] {
            let r = ranges(n, 16);
            assert!(r.len() <= 16);
            let mut next = 0;
            for x in &r {
                assert_eq!(x.start, next);
                next = x.end;
            }
            assert_eq!(next, n);
        }
    }
}
