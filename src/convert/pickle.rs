//! A small, safe pickle virtual machine: enough of protocols 0–4 to read the object graphs
//! PyTorch writes for state dicts, and a clear error for anything else.
//!
//! Objects live in an arena ([`Pickle::objects`]) and values refer to them by index, so
//! shared references (the memo) keep Python's aliasing semantics, cycles are harmless, and
//! dropping even a deeply nested graph never recurses. Nothing is ever executed: a call
//! (`REDUCE`, `NEWOBJ`) is recorded as [`Object::Call`] for the caller to interpret, except
//! `collections.OrderedDict`, which becomes a plain [`Object::Dict`].

use std::collections::HashMap;

/// One pickled value. Containers and calls are indices into [`Pickle::objects`].
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Value {
    #[default]
    None,
    Bool(bool),
    /// Integers up to 128 bits (the PyTorch magic number needs 80).
    Int(i128),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Obj(usize),
}

/// A container, global reference or recorded call.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Tuple(Vec<Value>),
    List(Vec<Value>),
    /// Entries in insertion order (keys are not deduplicated).
    Dict(Vec<(Value, Value)>),
    /// `module.name` from `GLOBAL` / `STACK_GLOBAL`.
    Global {
        module: String,
        name: String,
    },
    /// `func(*args)` from `REDUCE` or `NEWOBJ`, with the `BUILD` state if one followed.
    Call {
        func: Value,
        args: Value,
        state: Option<Value>,
    },
    /// A persistent id (`BINPERSID`), to be resolved by the caller.
    Persistent(Value),
}

/// The result of running a pickle: the top-level value and the object arena it refers to.
#[derive(Debug, Clone, Default)]
pub struct Pickle {
    pub root: Value,
    pub objects: Vec<Object>,
}

/// Why a pickle could not be read; `offset` is the byte position in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickleError {
    pub offset: usize,
    pub reason: String,
}

impl std::fmt::Display for PickleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pickle data at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for PickleError {}

/// Items on the VM stack: values, or a MARK.
#[derive(Debug, Clone)]
enum Slot {
    Mark,
    Val(Value),
}

impl Pickle {
    /// Runs one pickle starting at `data[start..]`; returns it and the offset just past `STOP`.
    pub fn load(data: &[u8], start: usize) -> Result<(Pickle, usize), PickleError> {
        let mut vm = Vm { data, pos: start, stack: Vec::new(), memo: HashMap::new(), objects: Vec::new() };
        let root = vm.run()?;
        Ok((Pickle { root, objects: vm.objects }, vm.pos))
    }

    /// The object `v` refers to, if it is one.
    pub fn obj(&self, v: &Value) -> Option<&Object> {
        match v {
            Value::Obj(i) => self.objects.get(*i),
            _ => None,
        }
    }

    /// The items of a tuple or list.
    pub fn seq(&self, v: &Value) -> Option<&[Value]> {
        match self.obj(v)? {
            Object::Tuple(items) | Object::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a dict (or `OrderedDict`).
    pub fn dict(&self, v: &Value) -> Option<&[(Value, Value)]> {
        match self.obj(v)? {
            Object::Dict(items) => Some(items),
            _ => None,
        }
    }

    /// `module.name` of a global.
    pub fn global(&self, v: &Value) -> Option<String> {
        match self.obj(v)? {
            Object::Global { module, name } => Some(format!("{module}.{name}")),
            _ => None,
        }
    }

    /// A short human description of a value's kind, for messages (never recursive).
    pub fn kind(&self, v: &Value) -> String {
        match v {
            Value::None => "None".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float".into(),
            Value::Str(_) => "str".into(),
            Value::Bytes(_) => "bytes".into(),
            Value::Obj(_) => match self.obj(v) {
                Some(Object::Tuple(_)) => "tuple".into(),
                Some(Object::List(_)) => "list".into(),
                Some(Object::Dict(_)) => "dict".into(),
                Some(Object::Global { module, name }) => format!("global {module}.{name}"),
                Some(Object::Call { func, .. }) => match self.global(func) {
                    Some(g) => format!("call to {g}"),
                    None => "call".into(),
                },
                Some(Object::Persistent(_)) => "persistent id".into(),
                None => "dangling reference".into(),
            },
        }
    }
}

/// Globals that construct a dict; calls to them become [`Object::Dict`].
const DICT_CLASSES: [&str; 2] = ["collections.OrderedDict", "builtins.dict"];

struct Vm<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Slot>,
    memo: HashMap<u32, Value>,
    objects: Vec<Object>,
}

impl<'a> Vm<'a> {
    fn err<T>(&self, at: usize, reason: impl Into<String>) -> Result<T, PickleError> {
        Err(PickleError { offset: at, reason: reason.into() })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PickleError> {
        let data: &'a [u8] = self.data;
        match self.pos.checked_add(n).filter(|&end| end <= data.len()) {
            Some(end) => {
                let s = &data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => self.err(
                self.pos,
                format!("truncated: needs {n} more bytes, {} left", data.len().saturating_sub(self.pos)),
            ),
        }
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn le<const N: usize>(&mut self) -> Result<[u8; N], PickleError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn len_u64(&mut self, raw: u64) -> Result<usize, PickleError> {
        match usize::try_from(raw) {
            Ok(n) if n <= self.data.len() - self.pos.min(self.data.len()) => Ok(n),
            _ => self.err(self.pos, format!("length {raw} runs past the end of the data")),
        }
    }

    /// A newline-terminated line (for `GLOBAL`).
    fn line(&mut self) -> Result<String, PickleError> {
        let start = self.pos;
        let rest = &self.data[self.pos.min(self.data.len())..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            return self.err(start, "truncated: unterminated line");
        };
        let bytes = self.take(nl + 1)?;
        match std::str::from_utf8(&bytes[..nl]) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => self.err(start, "GLOBAL name is not valid text"),
        }
    }

    fn text(&mut self, n: usize, at: usize) -> Result<Value, PickleError> {
        let bytes = self.take(n)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Value::Str(s.to_string())),
            Err(_) => self.err(at, "string is not valid UTF-8"),
        }
    }

    /// Python 2 `str` (BINSTRING): UTF-8 when it is, else Latin-1.
    fn py2_text(&mut self, n: usize) -> Result<Value, PickleError> {
        let bytes = self.take(n)?;
        Ok(Value::Str(match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => bytes.iter().map(|&b| b as char).collect(),
        }))
    }

    fn long(&mut self, n: usize, at: usize) -> Result<Value, PickleError> {
        if n > 16 {
            return self.err(at, format!("integer of {n} bytes is too large"));
        }
        let bytes = self.take(n)?;
        let mut buf = [0u8; 16];
        buf[..n].copy_from_slice(bytes);
        if n > 0 && n < 16 && bytes[n - 1] & 0x80 != 0 {
            for b in &mut buf[n..] {
                *b = 0xff;
            }
        }
        Ok(Value::Int(i128::from_le_bytes(buf)))
    }

    fn push(&mut self, v: Value) {
        self.stack.push(Slot::Val(v));
    }

    fn alloc(&mut self, o: Object) -> Value {
        self.objects.push(o);
        Value::Obj(self.objects.len() - 1)
    }

    fn pop(&mut self, at: usize) -> Result<Value, PickleError> {
        match self.stack.pop() {
            Some(Slot::Val(v)) => Ok(v),
            Some(Slot::Mark) => self.err(at, "unexpected MARK on the stack"),
            None => self.err(at, "stack underflow"),
        }
    }

    fn top(&self, at: usize) -> Result<&Value, PickleError> {
        match self.stack.last() {
            Some(Slot::Val(v)) => Ok(v),
            Some(Slot::Mark) => self.err(at, "unexpected MARK on the stack"),
            None => self.err(at, "stack underflow"),
        }
    }

    /// Pops everything down to the most recent MARK (removing it).
    fn pop_mark(&mut self, at: usize) -> Result<Vec<Value>, PickleError> {
        let Some(m) = self.stack.iter().rposition(|s| matches!(s, Slot::Mark)) else {
            return self.err(at, "no MARK on the stack");
        };
        let items = self
            .stack
            .drain(m..)
            .skip(1)
            .filter_map(|s| match s {
                Slot::Val(v) => Some(v),
                Slot::Mark => None,
            })
            .collect();
        Ok(items)
    }

    fn object_mut(&mut self, v: &Value, at: usize) -> Result<&mut Object, PickleError> {
        match v {
            Value::Obj(i) if *i < self.objects.len() => Ok(&mut self.objects[*i]),
            _ => Err(PickleError { offset: at, reason: "expected a container on the stack".into() }),
        }
    }

    fn set_items(&mut self, target: &Value, items: Vec<Value>, at: usize) -> Result<(), PickleError> {
        if !items.len().is_multiple_of(2) {
            return self.err(at, "SETITEMS with an odd number of items");
        }
        let mut pairs = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            pairs.push((k, v));
        }
        match self.object_mut(target, at)? {
            Object::Dict(d) => {
                d.extend(pairs);
                Ok(())
            }
            _ => self.err(at, "SETITEM on something that is not a dict"),
        }
    }

    fn append(&mut self, target: &Value, items: Vec<Value>, at: usize) -> Result<(), PickleError> {
        match self.object_mut(target, at)? {
            Object::List(l) => {
                l.extend(items);
                Ok(())
            }
            _ => self.err(at, "APPEND on something that is not a list"),
        }
    }

    fn memo_put(&mut self, key: u32, at: usize) -> Result<(), PickleError> {
        let v = self.top(at)?.clone();
        self.memo.insert(key, v);
        Ok(())
    }

    fn memo_get(&mut self, key: u32, at: usize) -> Result<(), PickleError> {
        match self.memo.get(&key) {
            Some(v) => {
                let v = v.clone();
                self.push(v);
                Ok(())
            }
            None => self.err(at, format!("memo key {key} was never stored")),
        }
    }

    /// The items of a tuple or list value (cloned).
    fn seq_of(&self, v: &Value) -> Option<Vec<Value>> {
        match v {
            Value::Obj(i) => match self.objects.get(*i) {
                Some(Object::Tuple(t) | Object::List(t)) => Some(t.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    fn call(&mut self, func: Value, args: Value, at: usize) -> Result<Value, PickleError> {
        let name = match &func {
            Value::Obj(i) => match self.objects.get(*i) {
                Some(Object::Global { module, name }) => Some(format!("{module}.{name}")),
                _ => None,
            },
            _ => None,
        };
        if name.as_deref().is_some_and(|n| DICT_CLASSES.contains(&n)) {
            // OrderedDict() or OrderedDict([(k, v), …]).
            let Some(arg_items) = self.seq_of(&args) else {
                return self.err(at, "dict constructor arguments are not a tuple");
            };
            let mut entries = Vec::new();
            if let Some(first) = arg_items.first() {
                let Some(pairs) = self.seq_of(first) else {
                    return self.err(at, "unsupported dict constructor argument");
                };
                for p in pairs {
                    match self.seq_of(&p) {
                        Some(kv) if kv.len() == 2 => entries.push((kv[0].clone(), kv[1].clone())),
                        _ => return self.err(at, "dict constructor item is not a pair"),
                    }
                }
            }
            return Ok(self.alloc(Object::Dict(entries)));
        }
        Ok(self.alloc(Object::Call { func, args, state: None }))
    }

    fn run(&mut self) -> Result<Value, PickleError> {
        loop {
            let at = self.pos;
            if at >= self.data.len() {
                return self.err(at, "truncated: no STOP opcode");
            }
            let op = self.u8()?;
            match op {
                // PROTO
                0x80 => {
                    let v = self.u8()?;
                    if v > 5 {
                        return self.err(at, format!("unsupported pickle protocol {v}"));
                    }
                }
                // FRAME: a length hint only.
                0x95 => {
                    self.take(8)?;
                }
                b'.' => {
                    let v = self.pop(at)?;
                    return Ok(v);
                }
                b'(' => self.stack.push(Slot::Mark),
                b'0' => {
                    match self.stack.pop() {
                        Some(_) => {}
                        None => return self.err(at, "stack underflow"),
                    };
                }
                b'1' => {
                    self.pop_mark(at)?;
                }
                b'2' => {
                    let v = self.top(at)?.clone();
                    self.push(v);
                }
                b'N' => self.push(Value::None),
                0x88 => self.push(Value::Bool(true)),
                0x89 => self.push(Value::Bool(false)),
                b'J' => {
                    let v = i32::from_le_bytes(self.le()?);
                    self.push(Value::Int(v.into()));
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push(Value::Int(v.into()));
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.le()?);
                    self.push(Value::Int(v.into()));
                }
                0x8a => {
                    let n = self.u8()? as usize;
                    let v = self.long(n, at)?;
                    self.push(v);
                }
                0x8b => {
                    let n = i32::from_le_bytes(self.le()?);
                    if n < 0 {
                        return self.err(at, "negative LONG4 length");
                    }
                    let v = self.long(n as usize, at)?;
                    self.push(v);
                }
                b'G' => {
                    let v = f64::from_be_bytes(self.le()?);
                    self.push(Value::Float(v));
                }
                b'X' => {
                    let n = u32::from_le_bytes(self.le()?);
                    let n = self.len_u64(n.into())?;
                    let v = self.text(n, at)?;
                    self.push(v);
                }
                0x8c => {
                    let n = self.u8()? as usize;
                    let v = self.text(n, at)?;
                    self.push(v);
                }
                0x8d => {
                    let n = u64::from_le_bytes(self.le()?);
                    let n = self.len_u64(n)?;
                    let v = self.text(n, at)?;
                    self.push(v);
                }
                b'T' => {
                    let n = i32::from_le_bytes(self.le()?);
                    if n < 0 {
                        return self.err(at, "negative BINSTRING length");
                    }
                    let n = self.len_u64(n as u64)?;
                    let v = self.py2_text(n)?;
                    self.push(v);
                }
                b'U' => {
                    let n = self.u8()? as usize;
                    let v = self.py2_text(n)?;
                    self.push(v);
                }
                b'B' => {
                    let n = u32::from_le_bytes(self.le()?);
                    let n = self.len_u64(n.into())?;
                    let v = self.take(n)?.to_vec();
                    self.push(Value::Bytes(v));
                }
                b'C' => {
                    let n = self.u8()? as usize;
                    let v = self.take(n)?.to_vec();
                    self.push(Value::Bytes(v));
                }
                b'}' => {
                    let v = self.alloc(Object::Dict(Vec::new()));
                    self.push(v);
                }
                b']' => {
                    let v = self.alloc(Object::List(Vec::new()));
                    self.push(v);
                }
                b')' => {
                    let v = self.alloc(Object::Tuple(Vec::new()));
                    self.push(v);
                }
                b't' => {
                    let items = self.pop_mark(at)?;
                    let v = self.alloc(Object::Tuple(items));
                    self.push(v);
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop(at)?);
                    }
                    items.reverse();
                    let v = self.alloc(Object::Tuple(items));
                    self.push(v);
                }
                b'l' => {
                    let items = self.pop_mark(at)?;
                    let v = self.alloc(Object::List(items));
                    self.push(v);
                }
                b'd' => {
                    let items = self.pop_mark(at)?;
                    let v = self.alloc(Object::Dict(Vec::new()));
                    self.set_items(&v, items, at)?;
                    self.push(v);
                }
                b'a' => {
                    let item = self.pop(at)?;
                    let target = self.top(at)?.clone();
                    self.append(&target, vec![item], at)?;
                }
                b'e' => {
                    let items = self.pop_mark(at)?;
                    let target = self.top(at)?.clone();
                    self.append(&target, items, at)?;
                }
                b's' => {
                    let v = self.pop(at)?;
                    let k = self.pop(at)?;
                    let target = self.top(at)?.clone();
                    self.set_items(&target, vec![k, v], at)?;
                }
                b'u' => {
                    let items = self.pop_mark(at)?;
                    let target = self.top(at)?.clone();
                    self.set_items(&target, items, at)?;
                }
                b'q' => {
                    let k = self.u8()?;
                    self.memo_put(k.into(), at)?;
                }
                b'r' => {
                    let k = u32::from_le_bytes(self.le()?);
                    self.memo_put(k, at)?;
                }
                0x94 => {
                    let k = u32::try_from(self.memo.len()).unwrap_or(u32::MAX);
                    self.memo_put(k, at)?;
                }
                b'h' => {
                    let k = self.u8()?;
                    self.memo_get(k.into(), at)?;
                }
                b'j' => {
                    let k = u32::from_le_bytes(self.le()?);
                    self.memo_get(k, at)?;
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let v = self.alloc(Object::Global { module, name });
                    self.push(v);
                }
                0x93 => {
                    let name = self.pop(at)?;
                    let module = self.pop(at)?;
                    let (Value::Str(module), Value::Str(name)) = (module, name) else {
                        return self.err(at, "STACK_GLOBAL needs two strings");
                    };
                    let v = self.alloc(Object::Global { module, name });
                    self.push(v);
                }
                b'R' | 0x81 => {
                    let args = self.pop(at)?;
                    let func = self.pop(at)?;
                    let v = self.call(func, args, at)?;
                    self.push(v);
                }
                b'b' => {
                    let state = self.pop(at)?;
                    let target = self.top(at)?.clone();
                    match self.object_mut(&target, at)? {
                        Object::Call { state: s, .. } => *s = Some(state),
                        // OrderedDict attributes (`_metadata`) carry nothing we need.
                        Object::Dict(_) => {}
                        _ => return self.err(at, "BUILD on an object that cannot take state"),
                    }
                }
                b'Q' => {
                    let pid = self.pop(at)?;
                    let v = self.alloc(Object::Persistent(pid));
                    self.push(v);
                }
                other => {
                    return self.err(at, format!("unsupported pickle opcode 0x{other:02x}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(data: &[u8]) -> Result<Pickle, PickleError> {
        Pickle::load(data, 0).map(|(p, end)| {
            assert_eq!(end, data.len());
            p
        })
    }

    #[test]
    fn ints_of_every_width() {
        assert_eq!(load(b"\x80\x02K\x07.").unwrap().root, Value::Int(7));
        assert_eq!(load(b"M\x01\x02.").unwrap().root, Value::Int(0x0201));
        assert_eq!(load(b"J\xff\xff\xff\xff.").unwrap().root, Value::Int(-1));
        assert_eq!(load(b"\x8a\x01\xff.").unwrap().root, Value::Int(-1));
        assert_eq!(load(b"\x8a\x02\xff\x00.").unwrap().root, Value::Int(255));
        assert_eq!(load(b"\x8a\x00.").unwrap().root, Value::Int(0));
        // The PyTorch legacy magic number.
        let magic = load(b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.").unwrap().root;
        assert_eq!(magic, Value::Int(0x1950a86a20f9469cfc6c));
        assert_eq!(load(b"G\x3f\xf8\x00\x00\x00\x00\x00\x00.").unwrap().root, Value::Float(1.5));
    }

    #[test]
    fn strings_and_flags() {
        assert_eq!(load(b"X\x02\x00\x00\x00hi.").unwrap().root, Value::Str("hi".into()));
        assert_eq!(load(b"\x8c\x03abc.").unwrap().root, Value::Str("abc".into()));
        assert_eq!(load(b"U\x02\xe9x.").unwrap().root, Value::Str("éx".into()));
        assert_eq!(load(b"C\x02\x00\x01.").unwrap().root, Value::Bytes(vec![0, 1]));
        assert_eq!(load(b"\x88.").unwrap().root, Value::Bool(true));
        assert_eq!(load(b"N.").unwrap().root, Value::None);
    }

    #[test]
    fn containers_memo_and_aliasing() {
        // d = {}; memo[0] = d; d['a'] = [1, 2]; then (d, memo[0]) — both must be the same dict.
        let p = load(b"}q\x00(X\x01\x00\x00\x00a](K\x01K\x02euh\x00\x86.").unwrap();
        let items = p.seq(&p.root).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], items[1]);
        let d = p.dict(&items[0]).unwrap();
        assert_eq!(d[0].0, Value::Str("a".into()));
        assert_eq!(p.seq(&d[0].1).unwrap(), &[Value::Int(1), Value::Int(2)]);
    }

    #[test]
    fn ordered_dict_and_calls() {
        let data = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00kctorch._utils\n_rebuild_tensor_v2\n(K\x01tRs}b.";
        let p = load(data).unwrap();
        let d = p.dict(&p.root).unwrap();
        assert_eq!(d.len(), 1);
        match p.obj(&d[0].1) {
            Some(Object::Call { func, args, .. }) => {
                assert_eq!(p.global(func).unwrap(), "torch._utils._rebuild_tensor_v2");
                assert_eq!(p.seq(args).unwrap(), &[Value::Int(1)]);
            }
            other => panic!("not a call: {other:?}"),
        }
        assert_eq!(p.kind(&d[0].1), "call to torch._utils._rebuild_tensor_v2");
    }

    #[test]
    fn persistent_ids() {
        let p = load(b"(X\x07\x00\x00\x00storagetQ.").unwrap();
        match p.obj(&p.root) {
            Some(Object::Persistent(pid)) => assert_eq!(p.seq(pid).unwrap(), &[Value::Str("storage".into())]),
            other => panic!("not persistent: {other:?}"),
        }
    }

    #[test]
    fn errors_never_panic() {
        let bad: &[&[u8]] = &[
            b"",
            b"\x80",
            b"X\xff\xff\xff\xffab.",
            b"\x8d\xff\xff\xff\xff\xff\xff\xff\xff.",
            b"K",
            b"t.",
            b"a.",
            b"h\x05.",
            b"}K\x01s.",
            b"]K\x01K\x02s.",
            b"}a.",
            b"cfoo",
            b"\x8a\x20",
            b"\x8b\xff\xff\xff\xff",
            b"(.",
            b"\xff.",
            b"X\x02\x00\x00\x00\xff\xfe.",
            b"K\x01b.",
            b"\x93.",
            b"R.",
            b"0",
            b"\x80\x09N.",
        ];
        for (i, data) in bad.iter().enumerate() {
            let r = Pickle::load(data, 0);
            assert!(r.is_err(), "case {i} should fail: {r:?}");
        }
        // Every prefix of a valid pickle is an error, never a panic.
        let good = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00k(K\x01K\x02tq\x02Qs.";
        assert!(Pickle::load(good, 0).is_ok());
        for n in 0..good.len() {
            assert!(Pickle::load(&good[..n], 0).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn deep_nesting_is_harmless() {
        let mut data = vec![b'N'];
        data.extend(std::iter::repeat_n(0x85u8, 200_000));
        data.push(b'.');
        let p = load(&data).unwrap();
        assert_eq!(p.objects.len(), 200_000);
    }

    #[test]
    fn starts_mid_buffer() {
        let data = b"K\x01.K\x02.";
        let (p, end) = Pickle::load(data, 3).unwrap();
        assert_eq!((p.root, end), (Value::Int(2), 6));
    }
}
