//! Reader for PyTorch's legacy (pre-1.6, non-zip) `torch.save` format.
//!
//! The file is a run of pickles followed by raw storage data:
//! 1. the magic number `0x1950a86a20f9469cfc6c`,
//! 2. the protocol version (1001),
//! 3. a `sys_info` dict (`little_endian`, `type_sizes`, …),
//! 4. the saved object, whose tensors are calls to `torch._utils._rebuild_tensor_v2`
//!    (or `_rebuild_tensor`) with a persistent id
//!    `('storage', torch.FloatStorage, key, location, numel[, view])` as storage,
//! 5. the list of storage keys, in the order their data follows,
//! 6. for each key: a little-endian `u64` element count, then the elements, little-endian.
//!
//! [`read_state_dict`] turns such a file into named, contiguous f32 tensors.

use std::collections::HashMap;
use std::path::Path;

use super::pickle::{Object, Pickle, Value};
use super::storage::{gather, Elem};
use crate::error::{Error, Result};

/// The number `torch.save` writes first in the legacy format.
pub const MAGIC: i128 = 0x1950a86a20f9469cfc6c;
/// The legacy format's protocol version.
pub const PROTOCOL_VERSION: i128 = 1001;

/// A tensor read from a checkpoint, made contiguous and converted to f32.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorData {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Row-major values, `shape.iter().product()` of them.
    pub data: Vec<f32>,
    /// The storage class it came from, e.g. `FloatStorage`.
    pub storage: String,
}

/// The tensors of a checkpoint, in file order, keyed by their state-dict name.
pub type StateDict = Vec<(String, TensorData)>;

/// A storage reference from a persistent id.
#[derive(Debug, Clone)]
struct StorageRef {
    class: String,
    elem: Elem,
    /// Key of the root storage whose bytes are in the file.
    key: String,
    /// Element offset and length of a storage view within its root (whole root when `None`).
    view: Option<(usize, usize)>,
}

/// A tensor before its storage data has been read.
struct PendingTensor {
    storage: StorageRef,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

/// Reads the file at `path` (see the module docs) and returns its tensors.
pub fn read_state_dict(path: &Path) -> Result<StateDict> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        what: "cannot read checkpoint",
        path: path.to_path_buf(),
        source,
    })?;
    parse_state_dict(&bytes, path)
}

/// Parses an in-memory legacy checkpoint; `path` only labels messages.
pub fn parse_state_dict(bytes: &[u8], path: &Path) -> Result<StateDict> {
    check_container(bytes, path)?;
    let pickle_err = |e: super::pickle::PickleError| Error::weights(path, e.to_string());
    let (magic, pos) = Pickle::load(bytes, 0).map_err(pickle_err)?;
    if magic.root != Value::Int(MAGIC) {
        return Err(Error::weights(path, "not a PyTorch checkpoint (the legacy magic number is missing)"));
    }
    let (version, pos) = Pickle::load(bytes, pos).map_err(pickle_err)?;
    if version.root != Value::Int(PROTOCOL_VERSION) {
        let found = match &version.root {
            Value::Int(v) => v.to_string(),
            other => format!("a {}", version.kind(other)),
        };
        return Err(Error::weights(
            path,
            format!("unsupported PyTorch legacy protocol version {found} (expected {PROTOCOL_VERSION})"),
        ));
    }
    let (sys_info, pos) = Pickle::load(bytes, pos).map_err(pickle_err)?;
    check_sys_info(&sys_info, path)?;
    let (object, pos) = Pickle::load(bytes, pos).map_err(pickle_err)?;
    let (keys, mut pos) = Pickle::load(bytes, pos).map_err(pickle_err)?;
    let keys: Vec<String> = keys
        .seq(&keys.root)
        .ok_or_else(|| Error::weights(path, "the storage key list is not a list"))?
        .iter()
        .map(|k| match k {
            Value::Str(s) => Ok(s.clone()),
            _ => Err(Error::weights(path, "a storage key is not a string")),
        })
        .collect::<Result<_>>()?;

    let pending = collect_tensors(&object, path)?;
    let mut elem_of: HashMap<&str, Elem> = HashMap::new();
    for (_, t) in &pending {
        if let Some(prev) = elem_of.insert(&t.storage.key, t.storage.elem) {
            if prev != t.storage.elem {
                return Err(Error::weights(
                    path,
                    format!("storage '{}' is used with two element types", t.storage.key),
                ));
            }
        }
    }

    // Storage data, in key order.
    let mut storages: HashMap<&str, (Elem, &[u8])> = HashMap::new();
    for key in &keys {
        let Some(&elem) = elem_of.get(key.as_str()) else {
            return Err(Error::weights(path, format!("storage '{key}' is listed but no tensor uses it")));
        };
        let count_bytes = bytes
            .get(pos..pos + 8)
            .ok_or_else(|| Error::weights(path, format!("truncated: storage '{key}' has no size")))?;
        let mut c = [0u8; 8];
        c.copy_from_slice(count_bytes);
        let count = u64::from_le_bytes(c);
        let len = usize::try_from(count)
            .ok()
            .and_then(|n| n.checked_mul(elem.size()))
            .filter(|&n| n <= bytes.len() - (pos + 8))
            .ok_or_else(|| {
                Error::weights(
                    path,
                    format!("truncated: storage '{key}' claims {count} elements, more than the file holds"),
                )
            })?;
        storages.insert(key.as_str(), (elem, &bytes[pos + 8..pos + 8 + len]));
        pos += 8 + len;
    }
    if pos != bytes.len() {
        return Err(Error::weights(path, format!("{} unexpected bytes after the last storage", bytes.len() - pos)));
    }

    pending
        .into_iter()
        .map(|(name, t)| {
            let Some(&(_, raw)) = storages.get(t.storage.key.as_str()) else {
                return Err(Error::weights(
                    path,
                    format!("tensor '{name}': storage '{}' is not in the file", t.storage.key),
                ));
            };
            let data =
                materialize(raw, &t).map_err(|reason| Error::weights(path, format!("tensor '{name}': {reason}")))?;
            Ok((name, TensorData { shape: t.shape, data, storage: t.storage.class }))
        })
        .collect()
}

/// Recognises the other PyTorch containers to explain why they are refused.
fn check_container(bytes: &[u8], path: &Path) -> Result<()> {
    if bytes.is_empty() {
        return Err(Error::weights(path, "the file is empty"));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(Error::weights(
            path,
            "this is a zip-based checkpoint (PyTorch 1.6 or later), not the legacy format; re-save it with \
             torch.save(obj, f, _use_new_zipfile_serialization=False)",
        ));
    }
    if bytes.get(257..262) == Some(b"ustar".as_slice()) {
        return Err(Error::weights(path, "this is a tar-based checkpoint (PyTorch 0.1.x), which is not supported"));
    }
    if bytes[0] != 0x80 {
        return Err(Error::weights(path, "not a PyTorch checkpoint (it does not start with a pickle)"));
    }
    Ok(())
}

fn check_sys_info(p: &Pickle, path: &Path) -> Result<()> {
    let entries = p.dict(&p.root).ok_or_else(|| Error::weights(path, "the sys_info record is not a dict"))?;
    for (k, v) in entries {
        if *k == Value::Str("little_endian".into()) && *v == Value::Bool(false) {
            return Err(Error::weights(
                path,
                "the checkpoint was written on a big-endian machine, which is not supported",
            ));
        }
    }
    Ok(())
}

fn as_usize(v: &Value) -> Option<usize> {
    match v {
        Value::Int(i) => usize::try_from(*i).ok(),
        _ => None,
    }
}

fn usize_seq(p: &Pickle, v: &Value) -> Option<Vec<usize>> {
    p.seq(v)?.iter().map(as_usize).collect()
}

/// Finds the state dict in the saved object (the object itself, or a dict nested under a key
/// such as `state_dict`) and resolves each of its tensors.
fn collect_tensors(p: &Pickle, path: &Path) -> Result<Vec<(String, PendingTensor)>> {
    let root = p
        .dict(&p.root)
        .ok_or_else(|| Error::weights(path, format!("the saved object is a {}, not a state dict", p.kind(&p.root))))?;
    let is_tensor = |v: &Value| matches!(p.obj(v), Some(Object::Call { .. }));
    let entries = if !root.is_empty() && root.iter().all(|(_, v)| is_tensor(v)) {
        root
    } else {
        let nested: Vec<&[(Value, Value)]> = root
            .iter()
            .filter_map(|(_, v)| p.dict(v))
            .filter(|d| !d.is_empty() && d.iter().all(|(_, v)| is_tensor(v)))
            .collect();
        match nested.as_slice() {
            [one] => *one,
            [] => return Err(Error::weights(path, "no state dict (a dict of tensors) found in the checkpoint")),
            _ => {
                return Err(Error::weights(path, "several nested state dicts; cannot tell which one holds the weights"))
            }
        }
    };
    entries
        .iter()
        .map(|(k, v)| {
            let Value::Str(name) = k else {
                return Err(Error::weights(path, format!("a state dict key is a {}, not a string", p.kind(k))));
            };
            let t =
                resolve_tensor(p, v).map_err(|reason| Error::weights(path, format!("tensor '{name}': {reason}")))?;
            Ok((name.clone(), t))
        })
        .collect()
}

fn resolve_tensor(p: &Pickle, v: &Value) -> std::result::Result<PendingTensor, String> {
    let Some(Object::Call { func, args, .. }) = p.obj(v) else {
        return Err(format!("is a {}, not a tensor", p.kind(v)));
    };
    let func_name = p.global(func).unwrap_or_default();
    let args = p.seq(args).ok_or("rebuild arguments are not a tuple")?;
    match func_name.as_str() {
        "torch._utils._rebuild_parameter" => match args.first() {
            Some(data) => resolve_tensor(p, data),
            None => Err("_rebuild_parameter without arguments".into()),
        },
        "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_tensor" => {
            if args.len() < 4 {
                return Err(format!("{func_name} needs at least 4 arguments, got {}", args.len()));
            }
            let storage = resolve_storage(p, &args[0])?;
            let offset = as_usize(&args[1]).ok_or("storage offset is not a non-negative integer")?;
            let shape = usize_seq(p, &args[2]).ok_or("size is not a tuple of non-negative integers")?;
            let stride = usize_seq(p, &args[3]).ok_or("stride is not a tuple of non-negative integers")?;
            if shape.len() != stride.len() {
                return Err(format!("size has {} dimensions but stride has {}", shape.len(), stride.len()));
            }
            Ok(PendingTensor { storage, offset, shape, stride })
        }
        _ => Err(format!("is a {}, not a tensor", p.kind(v))),
    }
}

fn resolve_storage(p: &Pickle, v: &Value) -> std::result::Result<StorageRef, String> {
    let Some(Object::Persistent(pid)) = p.obj(v) else {
        return Err(format!("storage is a {}, not a persistent storage id", p.kind(v)));
    };
    let items = p.seq(pid).ok_or("persistent id is not a tuple")?;
    if items.len() < 5 || items[0] != Value::Str("storage".into()) {
        return Err("persistent id is not ('storage', type, key, location, size, …)".into());
    }
    let class_path = p.global(&items[1]).ok_or("storage type is not a class")?;
    let class = class_path.rsplit('.').next().unwrap_or_default().to_string();
    let elem = Elem::from_class(&class)
        .ok_or_else(|| format!("storage type {class_path} is not supported (need Float, Double, Half or BFloat16)"))?;
    let Value::Str(key) = &items[2] else {
        return Err("storage key is not a string".into());
    };
    let view = match items.get(5) {
        None | Some(Value::None) => None,
        Some(meta) => {
            let m = p.seq(meta).ok_or("storage view metadata is not a tuple")?;
            match m {
                [_, off, len] => Some((
                    as_usize(off).ok_or("storage view offset is not an integer")?,
                    as_usize(len).ok_or("storage view size is not an integer")?,
                )),
                _ => return Err("storage view metadata is not (key, offset, size)".into()),
            }
        }
    };
    Ok(StorageRef { class, elem, key: key.clone(), view })
}

/// The tensor's values, contiguous, from the bytes of its root storage.
fn materialize(raw: &[u8], t: &PendingTensor) -> std::result::Result<Vec<f32>, String> {
    let es = t.storage.elem.size();
    let root_len = raw.len() / es;
    let raw = match t.storage.view {
        Some((off, len)) => {
            if off.checked_add(len).is_none_or(|end| end > root_len) {
                return Err(format!("storage view {off}+{len} exceeds its storage of {root_len} elements"));
            }
            &raw[off * es..(off + len) * es]
        }
        None => raw,
    };
    gather(t.storage.elem, raw, t.offset, &t.shape, &t.stride)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(view: Option<(usize, usize)>, offset: usize, shape: &[usize], stride: &[usize]) -> PendingTensor {
        PendingTensor {
            storage: StorageRef { class: "FloatStorage".into(), elem: Elem::F32, key: "0".into(), view },
            offset,
            shape: shape.to_vec(),
            stride: stride.to_vec(),
        }
    }

    #[test]
    fn storage_views_are_honoured() {
        let raw: Vec<u8> = (0..8).flat_map(|v| (v as f32).to_le_bytes()).collect();
        assert_eq!(materialize(&raw, &pending(Some((4, 4)), 1, &[2], &[2])).unwrap(), [5.0, 7.0]);
        assert!(materialize(&raw, &pending(Some((6, 4)), 0, &[1], &[1])).is_err());
        assert!(materialize(&raw, &pending(Some((4, 4)), 0, &[5], &[1])).is_err());
        assert_eq!(materialize(&raw, &pending(None, 0, &[2, 2], &[1, 2])).unwrap(), [0.0, 2.0, 1.0, 3.0]);
    }

    #[test]
    fn other_containers_are_explained() {
        let p = Path::new("x.pth");
        let mut tar = vec![0u8; 600];
        tar[257..262].copy_from_slice(b"ustar");
        assert!(parse_state_dict(&tar, p).unwrap_err().to_string().contains("tar"));
        assert!(parse_state_dict(b"PK\x03\x04", p).unwrap_err().to_string().contains("zip"));
        // A valid pickle that is not the magic number.
        assert!(parse_state_dict(b"\x80\x02K\x01.", p).unwrap_err().to_string().contains("magic"));
    }
}
