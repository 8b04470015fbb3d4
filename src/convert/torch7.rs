//! Reader for Torch7 binary `.t7` files (`torch.save` in Lua Torch), as the WCT authors
//! distribute their models: an `nn.Sequential` whose `SpatialConvolution` modules hold the
//! weights.
//!
//! The format is a tree of typed records, all integers little-endian:
//! `i32 type`, then by type: 0 nil; 1 number (`f64`); 2 string (`i32` length, bytes);
//! 5 boolean (`i32`); 6 function (bytecode string, upvalue record; 7 and 8 are referenced
//! functions, skipped alike); 3 table and 4 torch object start with an `i32` reference index — an
//! index seen before refers back to that object, a new one is followed by its contents:
//! a table is `i32` count and that many key/value records; a torch object is a version string
//! (`"V 1"`, else the string is already the class name), the class name, then its data:
//! tensors write `i32` dims, `i64` sizes, `i64` strides, `i64` 1-based storage offset and
//! their storage record; storages write an `i64` element count and the raw elements; other
//! classes (the `nn` modules) write their field table.
//!
//! [`parse_state_dict`] returns the convolutions in module order as `{i}.weight` /
//! `{i}.bias`, the same form as an `nn.Sequential` state dict, so the usual key mapping applies.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use super::storage::{gather, Elem};
use super::torch_legacy::{StateDict, TensorData};
use crate::error::{Error, Result};

/// Deepest nesting of records accepted (real models use a handful of levels).
const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Nil,
    Number(f64),
    Bool(bool),
    Str(String),
    /// Index into the object arena.
    Ref(usize),
}

#[derive(Debug, Clone)]
enum Obj {
    /// Being read (a reference to it from inside itself is a cycle).
    Pending,
    Table(Vec<(Val, Val)>),
    Tensor {
        shape: Vec<usize>,
        stride: Vec<usize>,
        /// 0-based element offset.
        offset: usize,
        storage: Val,
    },
    Storage {
        class: String,
        /// Byte range in the file.
        start: usize,
        len: usize,
    },
    /// Any other torch class: its name and field table.
    Instance {
        class: String,
        fields: Val,
    },
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    objects: Vec<Obj>,
    /// File reference index → arena index.
    index: HashMap<i32, usize>,
}

/// Bytes per element of a Torch7 storage class, for skipping storages we do not convert.
fn storage_elem_size(class: &str) -> Option<usize> {
    let base = class.rsplit('.').next().unwrap_or(class);
    let base = base.strip_prefix("Cuda").unwrap_or(base);
    match base {
        "ByteStorage" | "CharStorage" | "BoolStorage" => Some(1),
        "ShortStorage" | "HalfStorage" => Some(2),
        "IntStorage" | "FloatStorage" | "Storage" => Some(4),
        "LongStorage" | "DoubleStorage" => Some(8),
        _ => None,
    }
}

impl<'a> Reader<'a> {
    fn err<T>(&self, reason: impl Into<String>) -> std::result::Result<T, String> {
        Err(format!("at byte {}: {}", self.pos, reason.into()))
    }

    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let data: &'a [u8] = self.data;
        match self.pos.checked_add(n).filter(|&end| end <= data.len()) {
            Some(end) => {
                let s = &data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => self.err(format!("truncated: needs {n} more bytes, {} left", data.len().saturating_sub(self.pos))),
        }
    }

    fn i32(&mut self) -> std::result::Result<i32, String> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> std::result::Result<i64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }

    fn count(&mut self, what: &str) -> std::result::Result<usize, String> {
        let n = self.i64()?;
        match usize::try_from(n) {
            Ok(n) => Ok(n),
            Err(_) => self.err(format!("negative {what} {n}")),
        }
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        let n = self.i32()?;
        let Ok(n) = usize::try_from(n) else {
            return self.err(format!("negative string length {n}"));
        };
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    fn value(&mut self, depth: usize) -> std::result::Result<Val, String> {
        if depth > MAX_DEPTH {
            return self.err("records nested too deeply");
        }
        let kind = self.i32()?;
        match kind {
            0 => Ok(Val::Nil),
            1 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Ok(Val::Number(f64::from_le_bytes(a)))
            }
            2 => Ok(Val::Str(self.string()?)),
            5 => Ok(Val::Bool(self.i32()? != 0)),
            3 | 4 => {
                let idx = self.i32()?;
                if let Some(&at) = self.index.get(&idx) {
                    return Ok(Val::Ref(at));
                }
                let at = self.objects.len();
                self.objects.push(Obj::Pending);
                self.index.insert(idx, at);
                let obj = if kind == 3 { self.table(depth)? } else { self.torch(depth)? };
                self.objects[at] = obj;
                Ok(Val::Ref(at))
            }
            // Functions: Lua bytecode and an upvalue table, skipped. 7 and 8 (recursive
            // functions) are referenced like tables.
            6 => {
                self.string()?;
                self.value(depth + 1)?;
                Ok(Val::Nil)
            }
            7 | 8 => {
                let idx = self.i32()?;
                if let Some(&at) = self.index.get(&idx) {
                    return Ok(Val::Ref(at));
                }
                let at = self.objects.len();
                self.objects.push(Obj::Pending);
                self.index.insert(idx, at);
                self.string()?;
                self.value(depth + 1)?;
                Ok(Val::Ref(at))
            }
            other => self.err(format!("unknown record type {other} (not a binary Torch7 file?)")),
        }
    }

    fn table(&mut self, depth: usize) -> std::result::Result<Obj, String> {
        let n = self.i32()?;
        let Ok(n) = usize::try_from(n) else {
            return self.err(format!("negative table size {n}"));
        };
        let mut entries = Vec::new();
        for _ in 0..n {
            let k = self.value(depth + 1)?;
            let v = self.value(depth + 1)?;
            entries.push((k, v));
        }
        Ok(Obj::Table(entries))
    }

    fn torch(&mut self, depth: usize) -> std::result::Result<Obj, String> {
        let version = self.string()?;
        let class = if version.starts_with("V ") { self.string()? } else { version };
        if class.starts_with("torch.") && class.ends_with("Tensor") {
            let dims = self.i32()?;
            let Ok(dims) = usize::try_from(dims) else {
                return self.err(format!("negative tensor dimension count {dims}"));
            };
            if dims > 64 {
                return self.err(format!("{dims} tensor dimensions"));
            }
            let shape = (0..dims).map(|_| self.count("size")).collect::<std::result::Result<Vec<_>, _>>()?;
            let stride = (0..dims).map(|_| self.count("stride")).collect::<std::result::Result<Vec<_>, _>>()?;
            let offset = self.count("storage offset")?.saturating_sub(1);
            let storage = self.value(depth + 1)?;
            // Torch7 has no 0-dimensional tensors: no dimensions means empty.
            let shape = if dims == 0 { vec![0] } else { shape };
            let stride = if dims == 0 { vec![1] } else { stride };
            Ok(Obj::Tensor { shape, stride, offset, storage })
        } else if class.starts_with("torch.") && class.ends_with("Storage") {
            let Some(es) = storage_elem_size(&class) else {
                return self.err(format!("unknown storage class {class}"));
            };
            let n = self.count("storage size")?;
            let Some(len) = n.checked_mul(es) else {
                return self.err(format!("storage of {n} elements is too large"));
            };
            let start = self.pos;
            self.take(len)?;
            Ok(Obj::Storage { class, start, len })
        } else {
            let fields = self.value(depth + 1)?;
            Ok(Obj::Instance { class, fields })
        }
    }
}

/// Reads the `.t7` file at `path` and returns its convolutions (see the module docs).
pub fn read_state_dict(path: &Path) -> Result<StateDict> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        what: "cannot read Torch7 model",
        path: path.to_path_buf(),
        source,
    })?;
    parse_state_dict(&bytes, path)
}

/// Parses an in-memory `.t7` model; `path` only labels messages.
pub fn parse_state_dict(bytes: &[u8], path: &Path) -> Result<StateDict> {
    if bytes.is_empty() {
        return Err(Error::weights(path, "the file is empty"));
    }
    let mut r = Reader { data: bytes, pos: 0, objects: Vec::new(), index: HashMap::new() };
    let root = r.value(0).map_err(|e| Error::weights(path, format!("Torch7 data {e}")))?;
    if r.pos != bytes.len() {
        return Err(Error::weights(path, format!("{} unexpected bytes after the model", bytes.len() - r.pos)));
    }
    let model = Model { objects: &r.objects, data: bytes };
    let mut convs = Vec::new();
    model.collect_convs(&root, 0, &mut HashSet::new(), &mut convs).map_err(|e| Error::weights(path, e))?;
    if convs.is_empty() {
        return Err(Error::weights(path, "no convolution modules found in the Torch7 model"));
    }
    let mut out = Vec::with_capacity(2 * convs.len());
    for (i, (weight, bias)) in convs.into_iter().enumerate() {
        out.push((format!("{i}.weight"), weight));
        if let Some(b) = bias {
            out.push((format!("{i}.bias"), b));
        }
    }
    Ok(out)
}

/// A parsed file: the object arena and the bytes storages point into.
struct Model<'a> {
    objects: &'a [Obj],
    data: &'a [u8],
}

impl Model<'_> {
    fn obj(&self, v: &Val) -> Option<&Obj> {
        match v {
            Val::Ref(i) => self.objects.get(*i),
            _ => None,
        }
    }

    fn fields(&self, v: &Val) -> BTreeMap<String, &Val> {
        match self.obj(v) {
            Some(Obj::Table(entries)) => entries
                .iter()
                .filter_map(|(k, v)| match k {
                    Val::Str(s) => Some((s.clone(), v)),
                    _ => None,
                })
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// Walks containers (`modules` fields, in index order) and collects every convolution's
    /// weight and bias.
    fn collect_convs(
        &self,
        v: &Val,
        depth: usize,
        seen: &mut HashSet<usize>,
        out: &mut Vec<(TensorData, Option<TensorData>)>,
    ) -> std::result::Result<(), String> {
        let Val::Ref(id) = v else {
            return Ok(());
        };
        if depth > MAX_DEPTH || !seen.insert(*id) {
            return Ok(());
        }
        let Some(Obj::Instance { class, fields }) = self.obj(v) else {
            return Ok(());
        };
        let f = self.fields(fields);
        if class.ends_with("SpatialConvolution") || class.ends_with("SpatialConvolutionMM") {
            let weight = f.get("weight").ok_or_else(|| format!("{class} module without weight"))?;
            let mut weight = self.tensor(weight).map_err(|e| format!("{class} weight: {e}"))?;
            let bias = match f.get("bias") {
                Some(b) if !matches!(b, Val::Nil) => Some(self.tensor(b).map_err(|e| format!("{class} bias: {e}"))?),
                _ => None,
            };
            // Older modules keep the weight as [out, in·kh·kw].
            let dims: Option<Vec<usize>> = ["nOutputPlane", "nInputPlane", "kH", "kW"]
                .iter()
                .map(|k| match f.get(*k) {
                    Some(Val::Number(n)) if *n >= 0.0 && n.fract() == 0.0 && *n < 1e9 => Some(*n as usize),
                    _ => None,
                })
                .collect();
            if let Some(dims) = dims {
                let numel = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
                if weight.shape.len() == 2 && numel == Some(weight.data.len()) {
                    weight.shape = dims;
                }
            }
            out.push((weight, bias));
            return Ok(());
        }
        if let Some(modules) = f.get("modules") {
            let Some(Obj::Table(entries)) = self.obj(modules) else {
                return Err(format!("{class}.modules is not a table"));
            };
            let mut ordered: Vec<(f64, &Val)> = entries
                .iter()
                .filter_map(|(k, v)| match k {
                    Val::Number(n) => Some((*n, v)),
                    _ => None,
                })
                .collect();
            ordered.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (_, m) in ordered {
                self.collect_convs(m, depth + 1, seen, out)?;
            }
        }
        Ok(())
    }

    fn tensor(&self, v: &Val) -> std::result::Result<TensorData, String> {
        let Some(Obj::Tensor { shape, stride, offset, storage }) = self.obj(v) else {
            return Err("not a tensor".into());
        };
        let numel = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or("size overflows")?;
        if numel == 0 {
            return Ok(TensorData { shape: shape.clone(), data: Vec::new(), storage: String::new() });
        }
        let Some(Obj::Storage { class, start, len }) = self.obj(storage) else {
            return Err("tensor without storage".into());
        };
        let elem = Elem::from_class(class)
            .ok_or_else(|| format!("storage {class} is not supported (need float, double or half)"))?;
        let raw = &self.data[*start..*start + *len];
        let data = gather(elem, raw, *offset, shape, stride)?;
        Ok(TensorData { shape: shape.clone(), data, storage: class.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny writer for the records this reader understands.
    #[derive(Default)]
    struct W {
        out: Vec<u8>,
        next: i32,
    }

    impl W {
        fn int(&mut self, v: i32) -> &mut Self {
            self.out.extend(v.to_le_bytes());
            self
        }
        fn long(&mut self, v: i64) -> &mut Self {
            self.out.extend(v.to_le_bytes());
            self
        }
        fn raw_str(&mut self, s: &str) -> &mut Self {
            self.int(s.len() as i32);
            self.out.extend(s.as_bytes());
            self
        }
        fn str(&mut self, s: &str) -> &mut Self {
            self.int(2).raw_str(s)
        }
        fn num(&mut self, v: f64) -> &mut Self {
            self.int(1);
            self.out.extend(v.to_le_bytes());
            self
        }
        fn torch(&mut self, class: &str) -> i32 {
            self.next += 1;
            let idx = self.next;
            self.int(4).int(idx).raw_str("V 1").raw_str(class);
            idx
        }
        fn table(&mut self, n: i32) -> i32 {
            self.next += 1;
            let idx = self.next;
            self.int(3).int(idx).int(n);
            idx
        }
        fn tensor(&mut self, shape: &[i64], stride: &[i64], offset: i64, values: &[f32]) {
            self.torch("torch.FloatTensor");
            self.int(shape.len() as i32);
            for &s in shape {
                self.long(s);
            }
            for &s in stride {
                self.long(s);
            }
            self.long(offset + 1);
            self.torch("torch.FloatStorage");
            self.long(values.len() as i64);
            for v in values {
                self.out.extend(v.to_le_bytes());
            }
        }
    }

    fn conv_model(weight_shape: &[i64], with_dims: bool) -> Vec<u8> {
        let mut w = W::default();
        w.torch("nn.Sequential");
        w.table(1);
        w.str("modules");
        w.table(2);
        // modules[2] is written first: order must come from the keys.
        w.num(2.0);
        w.torch("nn.ReLU");
        w.table(0);
        w.num(1.0);
        w.torch("nn.SpatialConvolution");
        w.table(if with_dims { 6 } else { 2 });
        w.str("weight");
        let n = weight_shape.iter().product::<i64>() as usize;
        let values: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let mut stride = vec![1i64; weight_shape.len()];
        for d in (0..weight_shape.len().saturating_sub(1)).rev() {
            stride[d] = stride[d + 1] * weight_shape[d + 1];
        }
        w.tensor(weight_shape, &stride, 0, &values);
        w.str("bias");
        w.tensor(&[2], &[1], 1, &[9.0, 1.5, -2.0]);
        if with_dims {
            for (k, v) in [("nOutputPlane", 2.0), ("nInputPlane", 1.0), ("kH", 1.0), ("kW", 2.0)] {
                w.str(k).num(v);
            }
        }
        w.out
    }

    #[test]
    fn reads_convolutions_in_module_order() {
        let d = parse_state_dict(&conv_model(&[2, 1, 1, 2], false), Path::new("m.t7")).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].0, "0.weight");
        assert_eq!(d[0].1.shape, [2, 1, 1, 2]);
        assert_eq!(d[0].1.data, [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(d[1].0, "0.bias");
        assert_eq!(d[1].1.data, [1.5, -2.0]);
    }

    #[test]
    fn two_dimensional_weights_are_reshaped() {
        let d = parse_state_dict(&conv_model(&[2, 2], true), Path::new("m.t7")).unwrap();
        assert_eq!(d[0].1.shape, [2, 1, 1, 2]);
    }

    #[test]
    fn functions_are_skipped() {
        let mut w = W::default();
        w.torch("nn.Sequential");
        w.table(2);
        w.str("hook").int(6).raw_str("\x1bLuaJ bytecode");
        w.table(0);
        w.str("modules");
        w.table(1);
        w.num(1.0);
        w.torch("nn.SpatialConvolution");
        w.table(2);
        w.str("weight");
        w.tensor(&[1, 1, 1, 1], &[1, 1, 1, 1], 0, &[4.0]);
        w.str("bias");
        w.tensor(&[1], &[1], 0, &[0.5]);
        let d = parse_state_dict(&w.out, Path::new("m.t7")).unwrap();
        assert_eq!(d[0].1.data, [4.0]);
        assert_eq!(d[1].1.data, [0.5]);
    }

    #[test]
    fn truncation_and_garbage_are_errors() {
        let good = conv_model(&[2, 1, 1, 2], false);
        for n in 0..good.len() {
            assert!(parse_state_dict(&good[..n], Path::new("m.t7")).is_err(), "cut at {n}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(parse_state_dict(&longer, Path::new("m.t7")).is_err());
        assert!(parse_state_dict(b"4\n1\n3\nV 1", Path::new("m.t7")).is_err());
        // A table that contains itself is read without looping.
        let mut w = W::default();
        w.table(1);
        w.str("self").int(3).int(1);
        assert!(parse_state_dict(&w.out, Path::new("m.t7")).unwrap_err().to_string().contains("no convolution"));
        // Deep nesting is refused, not a stack overflow.
        let mut w = W::default();
        for _ in 0..10_000 {
            w.table(1);
            w.str("x");
        }
        assert!(parse_state_dict(&w.out, Path::new("m.t7")).is_err());
    }
}
