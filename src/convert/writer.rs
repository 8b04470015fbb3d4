//! Writes a tensor set as a `wct-vgg19/1` safetensors file.
//!
//! The header is produced here rather than by the `safetensors` crate so that the output is
//! byte-for-byte reproducible (sorted names, sorted metadata). The bytes are validated with
//! [`WeightsFile::from_bytes`] before anything touches the disk, and the file is written
//! atomically, so a failed conversion never leaves a partial or invalid file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::torch_legacy::TensorData;
use crate::error::{Error, Result};
use crate::image_io::write_atomically;
use crate::model::weights::{WeightsFile, FORMAT};

/// How values are stored in the output file (they are always loaded as f32).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StorageDtype {
    /// Exact.
    #[default]
    F32,
    /// Half the size; values rounded to the nearest f16.
    F16,
}

impl StorageDtype {
    /// The metadata spelling (`f32` / `f16`).
    pub fn name(self) -> &'static str {
        match self {
            StorageDtype::F32 => "f32",
            StorageDtype::F16 => "f16",
        }
    }

    fn header_name(self) -> &'static str {
        match self {
            StorageDtype::F32 => "F32",
            StorageDtype::F16 => "F16",
        }
    }
}

/// Largest finite f16.
const F16_MAX: f32 = 65504.0;

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Serialises `tensors` with header `metadata`, storing values as `dtype`.
/// `path` only labels messages.
pub fn to_safetensors_bytes(
    tensors: &BTreeMap<String, TensorData>,
    metadata: &BTreeMap<String, String>,
    dtype: StorageDtype,
    path: &Path,
) -> Result<Vec<u8>> {
    let mut header = String::from("{\"__metadata__\":{");
    let meta: Vec<String> = metadata.iter().map(|(k, v)| format!("{}:{}", json_string(k), json_string(v))).collect();
    header.push_str(&meta.join(","));
    header.push('}');
    let mut data: Vec<u8> = Vec::new();
    for (name, t) in tensors {
        let start = data.len();
        match dtype {
            StorageDtype::F32 => data.extend(t.data.iter().flat_map(|v| v.to_le_bytes())),
            StorageDtype::F16 => {
                if let Some(v) = t.data.iter().find(|v| v.abs() > F16_MAX) {
                    return Err(Error::Weights {
                        path: path.to_path_buf(),
                        reason: format!("tensor '{name}' holds {v}, beyond the f16 range; store it as f32"),
                    });
                }
                data.extend(t.data.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()));
            }
        }
        let shape: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
        header.push_str(&format!(
            ",{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
            json_string(name),
            dtype.header_name(),
            shape.join(","),
            start,
            data.len()
        ));
    }
    header.push('}');
    // Pad the header with spaces to a multiple of 8 bytes so the data stays aligned.
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + data.len());
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    Ok(out)
}

/// The standard metadata of a converted file.
pub fn layout_metadata(levels: &[usize], dtype: StorageDtype, source: &str) -> BTreeMap<String, String> {
    let levels = levels.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(",");
    [
        ("format", FORMAT.to_string()),
        ("levels", levels),
        ("dtype", dtype.name().to_string()),
        ("source", source.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Validates `bytes` as a `wct-vgg19/1` file and writes them atomically to `out`.
pub fn write_validated(bytes: &[u8], out: &Path) -> Result<WeightsFile> {
    let checked = WeightsFile::from_bytes(bytes, out)?;
    write_atomically(out, "cannot write weights", |w| w.write_all(bytes).map_err(|e| e.to_string()))?;
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping() {
        assert_eq!(json_string("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
    }

    #[test]
    fn header_parses_and_is_aligned() {
        let mut tensors = BTreeMap::new();
        tensors.insert(
            "b".to_string(),
            TensorData { shape: vec![2], data: vec![1.0, -2.5], storage: "FloatStorage".into() },
        );
        tensors
            .insert("a".to_string(), TensorData { shape: vec![1, 1], data: vec![0.5], storage: "FloatStorage".into() });
        let meta = layout_metadata(&[1], StorageDtype::F16, "test \"quoted\"");
        let bytes = to_safetensors_bytes(&tensors, &meta, StorageDtype::F16, Path::new("x")).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0);
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let b = st.tensor("b").unwrap();
        assert_eq!(b.dtype(), safetensors::Dtype::F16);
        assert_eq!(b.data(), [0x00, 0x3c, 0x00, 0xc1]);
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let m = header.metadata().clone().unwrap();
        assert_eq!(m["source"], "test \"quoted\"");
        assert_eq!(m["dtype"], "f16");
        // Data follows name order.
        assert_eq!(st.tensor("a").unwrap().data(), [0x00, 0x38]);
    }

    #[test]
    fn f16_overflow_is_refused() {
        let mut tensors = BTreeMap::new();
        tensors
            .insert("big".to_string(), TensorData { shape: vec![1], data: vec![1e6], storage: "FloatStorage".into() });
        let meta = layout_metadata(&[1], StorageDtype::F16, "t");
        assert!(to_safetensors_bytes(&tensors, &meta, StorageDtype::F16, Path::new("x")).is_err());
        assert!(to_safetensors_bytes(&tensors, &meta, StorageDtype::F32, Path::new("x")).is_ok());
    }
}
