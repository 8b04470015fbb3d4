//! Raw tensor storages: the element types we convert to f32, and copying a strided view of a
//! storage into a contiguous vector with every index checked.

/// Element types of storages that convert to f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    F32,
    F64,
    F16,
    Bf16,
}

impl Elem {
    /// From a storage class name such as `FloatStorage`, `torch.FloatStorage` or
    /// `torch.CudaStorage` (Torch7's CUDA float storage).
    pub fn from_class(name: &str) -> Option<Self> {
        match name.rsplit('.').next().unwrap_or(name) {
            "FloatStorage" | "CudaStorage" => Some(Elem::F32),
            "DoubleStorage" | "CudaDoubleStorage" => Some(Elem::F64),
            "HalfStorage" | "CudaHalfStorage" => Some(Elem::F16),
            "BFloat16Storage" => Some(Elem::Bf16),
            _ => None,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Elem::F32 => 4,
            Elem::F64 => 8,
            Elem::F16 | Elem::Bf16 => 2,
        }
    }

    /// Decodes one little-endian element; `b` holds at least [`Elem::size`] bytes.
    fn read(self, b: &[u8]) -> f32 {
        match self {
            Elem::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            Elem::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32,
            Elem::F16 => half::f16::from_le_bytes([b[0], b[1]]).to_f32(),
            Elem::Bf16 => half::bf16::from_le_bytes([b[0], b[1]]).to_f32(),
        }
    }
}

/// Copies the view `offset`/`shape`/`stride` (in elements) of the storage bytes `raw` into a
/// contiguous row-major f32 vector. Views that reach outside the storage, or that have more
/// elements than it (broadcast strides), are refused.
pub fn gather(elem: Elem, raw: &[u8], offset: usize, shape: &[usize], stride: &[usize]) -> Result<Vec<f32>, String> {
    if shape.len() != stride.len() {
        return Err(format!("size has {} dimensions but stride has {}", shape.len(), stride.len()));
    }
    let es = elem.size();
    let storage_len = raw.len() / es;
    let numel = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or("size overflows")?;
    if numel == 0 {
        return Ok(Vec::new());
    }
    if numel > storage_len {
        return Err(format!("{numel} elements but its storage holds only {storage_len}"));
    }
    let last = shape
        .iter()
        .zip(stride)
        .try_fold(offset, |acc, (&d, &s)| (d - 1).checked_mul(s).and_then(|x| acc.checked_add(x)))
        .ok_or("strides overflow")?;
    if last >= storage_len {
        return Err(format!("offset/size/stride reach element {last} but the storage holds only {storage_len}"));
    }
    let mut out = Vec::with_capacity(numel);
    let mut index = vec![0usize; shape.len()];
    for _ in 0..numel {
        let at = offset + index.iter().zip(stride).map(|(i, s)| i * s).sum::<usize>();
        out.push(elem.read(&raw[at * es..at * es + es]));
        // Advance the row-major multi-index.
        for d in (0..index.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn follows_offsets_and_strides() {
        let r = raw(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        // Transposed 3×2 view of a 2×3 block starting at element 1.
        assert_eq!(gather(Elem::F32, &r, 1, &[3, 2], &[1, 3]).unwrap(), [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(gather(Elem::F32, &r[16..], 1, &[2], &[2]).unwrap(), [5.0, 7.0]);
        // Scalars and empty tensors.
        assert_eq!(gather(Elem::F32, &r, 2, &[], &[]).unwrap(), [2.0]);
        assert!(gather(Elem::F32, &r, 0, &[0, 5], &[5, 1]).unwrap().is_empty());
    }

    #[test]
    fn refuses_out_of_range_views() {
        let r = raw(&[0.0; 8]);
        assert!(gather(Elem::F32, &r, 1, &[8], &[1]).is_err());
        assert!(gather(Elem::F32, &r, 0, &[2, 2], &[7, 1]).is_err());
        assert!(gather(Elem::F32, &r, 0, &[2, 2], &[6, 1]).is_ok());
        assert!(gather(Elem::F32, &r, 0, &[usize::MAX, 2], &[1, 1]).is_err());
        assert!(gather(Elem::F32, &r, 0, &[2], &[1, 1]).is_err());
        // More elements than the storage holds (broadcast strides).
        assert!(gather(Elem::F32, &r, 0, &[4, 4], &[0, 1]).is_err());
    }

    #[test]
    fn element_types_convert_to_f32() {
        assert_eq!(Elem::F16.read(&half::f16::from_f32(-2.5).to_le_bytes()), -2.5);
        assert_eq!(Elem::Bf16.read(&half::bf16::from_f32(0.5).to_le_bytes()), 0.5);
        assert_eq!(Elem::F64.read(&1.25f64.to_le_bytes()), 1.25);
        assert_eq!(Elem::from_class("torch.CudaStorage"), Some(Elem::F32));
        assert_eq!(Elem::from_class("FloatStorage"), Some(Elem::F32));
        assert_eq!(Elem::from_class("LongStorage"), None);
    }
}
