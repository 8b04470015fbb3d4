//! Writes small checkpoints in PyTorch's legacy (non-zip) format, for tests: the same pickle
//! opcodes `torch.save` emits under protocol 2, with storages of our choosing.
#![allow(dead_code)]

/// One storage: its element class and raw little-endian bytes.
pub struct StorageSpec {
    pub key: String,
    /// `FloatStorage` or `HalfStorage`.
    pub class: &'static str,
    pub elem_size: usize,
    pub bytes: Vec<u8>,
}

impl StorageSpec {
    pub fn float(key: &str, values: &[f32]) -> Self {
        Self {
            key: key.into(),
            class: "FloatStorage",
            elem_size: 4,
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    pub fn half(key: &str, values: &[f32]) -> Self {
        Self {
            key: key.into(),
            class: "HalfStorage",
            elem_size: 2,
            bytes: values.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect(),
        }
    }

    fn numel(&self) -> usize {
        self.bytes.len() / self.elem_size
    }
}

/// One tensor: a view into `storages[storage]`.
pub struct TensorSpec {
    pub name: String,
    pub storage: usize,
    pub offset: usize,
    pub shape: Vec<usize>,
    pub stride: Vec<usize>,
}

struct Pickler {
    out: Vec<u8>,
}

impl Pickler {
    fn new() -> Self {
        Self { out: vec![0x80, 2] }
    }
    fn op(&mut self, b: &[u8]) -> &mut Self {
        self.out.extend_from_slice(b);
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.out.push(b'X');
        self.out.extend((s.len() as u32).to_le_bytes());
        self.out.extend(s.as_bytes());
        self
    }
    fn int(&mut self, v: usize) -> &mut Self {
        if v < 256 {
            self.out.extend([b'K', v as u8]);
        } else if v < 65536 {
            self.out.push(b'M');
            self.out.extend((v as u16).to_le_bytes());
        } else {
            self.out.push(b'J');
            self.out.extend((v as i32).to_le_bytes());
        }
        self
    }
    fn global(&mut self, module: &str, name: &str) -> &mut Self {
        self.out.push(b'c');
        self.out.extend(format!("{module}\n{name}\n").as_bytes());
        self
    }
    fn ints(&mut self, v: &[usize]) -> &mut Self {
        self.out.push(b'(');
        for &x in v {
            self.int(x);
        }
        self.out.push(b't');
        self
    }
    fn stop(mut self) -> Vec<u8> {
        self.out.push(b'.');
        self.out
    }
}

/// A legacy checkpoint whose saved object is an OrderedDict of `tensors` (nested under
/// `nest_under` in a plain dict when given).
pub fn legacy_bytes(tensors: &[TensorSpec], storages: &[StorageSpec], nest_under: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    // Magic number, protocol version, sys_info.
    let mut p = Pickler::new();
    p.op(&[0x8a, 10]).op(&0x1950a86a20f9469cfc6cu128.to_le_bytes()[..10]);
    out.extend(p.stop());
    let mut p = Pickler::new();
    p.int(1001);
    out.extend(p.stop());
    let mut p = Pickler::new();
    p.op(b"}(").str("protocol_version").int(1001).str("little_endian").op(&[0x88]);
    p.str("type_sizes").op(b"}(").str("short").int(2).str("int").int(4).str("long").int(4).op(b"u").op(b"u");
    out.extend(p.stop());

    let mut p = Pickler::new();
    if let Some(key) = nest_under {
        p.op(b"}").str(key);
    }
    p.global("collections", "OrderedDict").op(b"q\x00)R(");
    for t in tensors {
        let s = &storages[t.storage];
        p.str(&t.name).global("torch._utils", "_rebuild_tensor_v2").op(b"((");
        p.str("storage").global("torch", s.class).str(&s.key).str("cpu").int(s.numel()).op(b"Nt");
        p.op(b"Q").int(t.offset).ints(&t.shape).ints(&t.stride).op(&[0x89]).op(b"Nt").op(b"R");
    }
    p.op(b"u");
    // The OrderedDict's _metadata attribute, as torch writes it.
    p.op(b"}").str("_metadata").op(b"h\x00)R").op(b"s").op(b"b");
    if nest_under.is_some() {
        p.op(b"s");
    }
    out.extend(p.stop());

    let mut p = Pickler::new();
    p.op(b"](");
    for s in storages {
        p.str(&s.key);
    }
    p.op(b"e");
    out.extend(p.stop());
    for s in storages {
        out.extend((s.numel() as u64).to_le_bytes());
        out.extend(&s.bytes);
    }
    out
}

/// Contiguous f32 tensors, one storage each.
pub fn simple_state_dict(entries: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let storages: Vec<StorageSpec> =
        entries.iter().enumerate().map(|(i, (_, _, v))| StorageSpec::float(&format!("{}", 1000 + i), v)).collect();
    let tensors: Vec<TensorSpec> = entries
        .iter()
        .enumerate()
        .map(|(i, (name, shape, _))| TensorSpec {
            name: name.clone(),
            storage: i,
            offset: 0,
            shape: shape.clone(),
            stride: contiguous_stride(shape),
        })
        .collect();
    legacy_bytes(&tensors, &storages, None)
}

pub fn contiguous_stride(shape: &[usize]) -> Vec<usize> {
    let mut stride = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        stride[d] = stride[d + 1] * shape[d + 1];
    }
    stride
}
