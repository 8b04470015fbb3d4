//! Writes Torch7 binary `.t7` models for tests, laid out like the WCT authors' files: an
//! `nn.Sequential` of reflection padding, convolution, ReLU, pooling / upsampling modules.
#![allow(dead_code)]

use unistyle::model::architecture::Step;

/// A Torch7 value to serialise.
pub enum T7 {
    Nil,
    Num(f64),
    Bool(bool),
    Str(String),
    /// A Lua table (array part keyed 1…n as numbers).
    Table(Vec<(T7, T7)>),
    /// A torch class instance with its field table.
    Module {
        class: String,
        fields: Vec<(String, T7)>,
    },
    /// A contiguous tensor and its storage.
    Tensor {
        class: &'static str,
        storage: &'static str,
        shape: Vec<usize>,
        data: Vec<f32>,
    },
    /// One empty tensor object shared by every use (written once, then referenced).
    SharedEmpty,
}

#[derive(Default)]
struct Writer {
    out: Vec<u8>,
    next: i32,
    shared_empty: Option<i32>,
}

impl Writer {
    fn int(&mut self, v: i32) {
        self.out.extend(v.to_le_bytes());
    }
    fn long(&mut self, v: i64) {
        self.out.extend(v.to_le_bytes());
    }
    fn raw_str(&mut self, s: &str) {
        self.int(s.len() as i32);
        self.out.extend(s.as_bytes());
    }
    fn new_index(&mut self) -> i32 {
        self.next += 1;
        self.next
    }
    fn torch_header(&mut self, class: &str) -> i32 {
        let idx = self.new_index();
        self.int(4);
        self.int(idx);
        self.raw_str("V 1");
        self.raw_str(class);
        idx
    }
    fn tensor(&mut self, class: &str, storage: &str, shape: &[usize], data: &[f32]) -> i32 {
        let idx = self.torch_header(class);
        self.int(shape.len() as i32);
        let mut stride = vec![1usize; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            stride[d] = stride[d + 1] * shape[d + 1];
        }
        for &s in shape {
            self.long(s as i64);
        }
        for &s in &stride {
            self.long(s as i64);
        }
        self.long(1);
        if shape.is_empty() {
            self.int(0); // no storage
        } else {
            self.torch_header(storage);
            self.long(data.len() as i64);
            for v in data {
                self.out.extend(v.to_le_bytes());
            }
        }
        idx
    }
    fn value(&mut self, v: &T7) {
        match v {
            T7::Nil => self.int(0),
            T7::Num(n) => {
                self.int(1);
                self.out.extend(n.to_le_bytes());
            }
            T7::Bool(b) => {
                self.int(5);
                self.int(*b as i32);
            }
            T7::Str(s) => {
                self.int(2);
                self.raw_str(s);
            }
            T7::Table(entries) => {
                let idx = self.new_index();
                self.int(3);
                self.int(idx);
                self.int(entries.len() as i32);
                for (k, v) in entries {
                    self.value(k);
                    self.value(v);
                }
            }
            T7::Module { class, fields } => {
                self.torch_header(class);
                let idx = self.new_index();
                self.int(3);
                self.int(idx);
                self.int(fields.len() as i32);
                for (k, v) in fields {
                    self.value(&T7::Str(k.clone()));
                    self.value(v);
                }
            }
            T7::Tensor { class, storage, shape, data } => {
                self.tensor(class, storage, shape, data);
            }
            T7::SharedEmpty => match self.shared_empty {
                Some(idx) => {
                    self.int(4);
                    self.int(idx);
                }
                None => {
                    let idx = self.tensor("torch.FloatTensor", "torch.FloatStorage", &[], &[]);
                    self.shared_empty = Some(idx);
                }
            },
        }
    }
}

/// The bytes of a `.t7` file holding `root`.
pub fn t7_bytes(root: &T7) -> Vec<u8> {
    let mut w = Writer::default();
    w.value(root);
    w.out
}

fn module(class: &str, mut fields: Vec<(String, T7)>) -> T7 {
    fields.push(("train".into(), T7::Bool(false)));
    fields.push(("output".into(), T7::SharedEmpty));
    fields.push(("gradInput".into(), T7::SharedEmpty));
    T7::Module { class: class.into(), fields }
}

/// A convolution module; `cuda` uses the cudnn class and CUDA tensors.
pub fn conv(weight: (&[usize], Vec<f32>), bias: Vec<f32>, cuda: bool) -> T7 {
    let (shape, data) = weight;
    let (class, tensor, storage) = if cuda {
        ("cudnn.SpatialConvolution", "torch.CudaTensor", "torch.CudaStorage")
    } else {
        ("nn.SpatialConvolution", "torch.FloatTensor", "torch.FloatStorage")
    };
    let n = |v: usize| T7::Num(v as f64);
    module(
        class,
        vec![
            ("nOutputPlane".into(), n(shape[0])),
            ("nInputPlane".into(), n(shape[1])),
            ("kH".into(), n(shape[2])),
            ("kW".into(), n(shape[3])),
            ("dH".into(), n(1)),
            ("dW".into(), n(1)),
            ("padH".into(), n(0)),
            ("padW".into(), n(0)),
            ("bias".into(), T7::Tensor { class: tensor, storage, shape: vec![bias.len()], data: bias }),
            ("weight".into(), T7::Tensor { class: tensor, storage, shape: shape.to_vec(), data }),
            ("gradWeight".into(), T7::SharedEmpty),
        ],
    )
}

/// A conv layer's weight shape, weight values and bias values.
pub type ConvParams = (Vec<usize>, Vec<f32>, Vec<f32>);

/// An `nn.Sequential` running `steps`; `params(name)` gives a conv layer's weight shape,
/// weight values and bias values. `first` modules (such as the encoder's 1×1 conv) go first.
pub fn sequential(first: Vec<T7>, steps: &[Step], params: &mut dyn FnMut(&str) -> ConvParams, cuda: bool) -> T7 {
    let mut modules = first;
    for s in steps {
        match s {
            Step::Conv(c) => {
                let pad = |v| ("pad_".to_string() + v, T7::Num(1.0));
                modules.push(module("nn.SpatialReflectionPadding", vec![pad("l"), pad("r"), pad("t"), pad("b")]));
                let (shape, w, b) = params(&c.name);
                modules.push(conv((&shape, w), b, cuda));
                if c.relu {
                    modules.push(module("nn.ReLU", vec![("inplace".into(), T7::Bool(false))]));
                }
            }
            Step::Pool => modules.push(module(
                "nn.SpatialMaxPooling",
                vec![("kW".into(), T7::Num(2.0)), ("ceil_mode".into(), T7::Bool(true))],
            )),
            Step::Up => {
                modules.push(module("nn.SpatialUpSamplingNearest", vec![("scale_factor".into(), T7::Num(2.0))]))
            }
            Step::Tap(_) => {}
        }
    }
    let table = T7::Table(modules.into_iter().enumerate().map(|(i, m)| (T7::Num((i + 1) as f64), m)).collect());
    module("nn.Sequential", vec![("modules".into(), table)])
}
