//! Building blocks: a padded 3×3 convolution with bias and optional ReLU, and the
//! generic runner that executes an encoder/decoder plan.

use candle_core::{DType, Module, Tensor};
use candle_nn::VarBuilder;

use super::architecture::{ConvSpec, Step};
use super::conv_cpu::PackedConv;
use super::pad::{pad1, Border};
use super::resample::{max_pool_ceil, upsample2};

/// `pad(1) → conv 3×3 → (+bias) → ReLU?`
///
/// On the CPU (f32) the whole layer runs as one fused kernel (`conv_cpu`) on weights packed
/// here, at load time; on other devices it runs as candle's `pad1 → conv2d → add → relu`.
/// Setting `UNISTYLE_CONV=candle` when a model is loaded keeps candle's path on the CPU too
/// (for comparisons and bisecting); so does `UNISTYLE_GENERIC_PATHS=1`
/// ([`crate::device::generic_paths`]).
#[derive(Debug, Clone)]
pub struct Conv3x3 {
    imp: ConvImpl,
    relu: bool,
}

#[derive(Debug, Clone)]
enum ConvImpl {
    /// CPU: weights packed for the fused kernel.
    Fused(PackedConv),
    /// Other devices: candle's generic ops.
    Generic { weight: Tensor, bias: Tensor },
}

impl Conv3x3 {
    pub fn new(vb: &VarBuilder, spec: &ConvSpec) -> candle_core::Result<Self> {
        let vb = vb.pp(&spec.name);
        let weight = vb.get((spec.out_channels, spec.in_channels, 3, 3), "weight")?;
        let bias = vb.get(spec.out_channels, "bias")?;
        Self::from_tensors(&weight, &bias, spec.relu)
    }

    /// Builds the layer from `[out, in, 3, 3]` weights and `[out]` biases; on the CPU the
    /// weights are packed for the fused kernel.
    pub fn from_tensors(weight: &Tensor, bias: &Tensor, relu: bool) -> candle_core::Result<Self> {
        let (cout, cin, kh, kw) = weight.dims4()?;
        if (kh, kw) != (3, 3) {
            candle_core::bail!("conv3x3: weights are {kh}x{kw}, not 3x3");
        }
        let bias = bias.flatten_all()?;
        if bias.dim(0)? != cout {
            candle_core::bail!("conv3x3: {} biases for {cout} output channels", bias.dim(0)?);
        }
        let candle_forced = std::env::var("UNISTYLE_CONV").is_ok_and(|v| v.trim() == "candle");
        let imp = if crate::device::cpu_kernels(weight.device()) && weight.dtype() == DType::F32 && !candle_forced {
            let w = weight.flatten_all()?.to_vec1::<f32>()?;
            let b = bias.to_dtype(DType::F32)?.to_vec1::<f32>()?;
            ConvImpl::Fused(PackedConv::new(&w, &b, cin, cout)?)
        } else {
            ConvImpl::Generic { weight: weight.clone(), bias: bias.reshape((1, cout, 1, 1))? }
        };
        Ok(Self { imp, relu })
    }

    #[cfg(any(test, feature = "bench-internals"))]
    /// The same layer on candle's generic path (`pad1 → conv2d → add → relu`), e.g. as a
    /// reference for the fused kernel.
    pub fn to_candle_path(&self) -> candle_core::Result<Self> {
        let imp = match &self.imp {
            ConvImpl::Fused(p) => {
                let (w, b) = p.unpack();
                let (cin, cout) = (p.in_channels(), p.out_channels());
                ConvImpl::Generic {
                    weight: Tensor::from_vec(w, (cout, cin, 3, 3), &candle_core::Device::Cpu)?,
                    bias: Tensor::from_vec(b, (1, cout, 1, 1), &candle_core::Device::Cpu)?,
                }
            }
            generic => generic.clone(),
        };
        Ok(Self { imp, relu: self.relu })
    }

    #[cfg(any(test, feature = "bench-internals"))]
    /// Whether this layer runs the fused CPU kernel.
    pub fn is_fused(&self) -> bool {
        matches!(self.imp, ConvImpl::Fused(_))
    }

    /// The packed weights of the fused CPU kernel, if this layer runs it.
    pub(crate) fn packed(&self) -> Option<&PackedConv> {
        match &self.imp {
            ConvImpl::Fused(p) => Some(p),
            ConvImpl::Generic { .. } => None,
        }
    }

    /// Whether ReLU follows the convolution.
    pub fn relu(&self) -> bool {
        self.relu
    }

    pub fn forward(&self, x: &Tensor, border: Border) -> candle_core::Result<Tensor> {
        match &self.imp {
            ConvImpl::Fused(p) => {
                if !x.device().is_cpu() || x.dtype() != DType::F32 {
                    candle_core::bail!(
                        "conv3x3: weights live on the CPU, input is {:?} on {:?}",
                        x.dtype(),
                        x.device().location()
                    );
                }
                x.contiguous()?.apply_op1_no_bwd(&p.op(border, self.relu))
            }
            ConvImpl::Generic { weight, bias } => {
                let y = pad1(x, border)?.conv2d(weight, 0, 1, 1, 1)?.broadcast_add(bias)?;
                if self.relu {
                    y.relu()
                } else {
                    Ok(y)
                }
            }
        }
    }
}

/// The 1×1 preprocessing convolution (RGB 0..1 → mean-subtracted BGR×255).
#[derive(Debug, Clone)]
pub struct Conv1x1 {
    weight: Tensor,
    bias: Tensor,
    /// The same weights (`[cout, cin]`) and bias on the host, for [`Self::apply`].
    host: (Vec<f32>, Vec<f32>),
}

impl Conv1x1 {
    pub fn new(vb: &VarBuilder, name: &str, cin: usize, cout: usize) -> candle_core::Result<Self> {
        let vb = vb.pp(name);
        let (weight, bias) = (vb.get((cout, cin, 1, 1), "weight")?, vb.get(cout, "bias")?);
        let host = (weight.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?, bias.to_dtype(DType::F32)?.to_vec1()?);
        Ok(Self { weight, bias: bias.reshape((1, cout, 1, 1))?, host })
    }

    /// Applies the layer to `[cin, n]` planes `src`, writing `[cout, n]` planes into `out`
    /// (the CPU path: no tensor allocated).
    pub(crate) fn apply(&self, src: &[f32], out: &mut [f32]) {
        let (w, b) = &self.host;
        let (cout, cin) = (b.len(), w.len() / b.len().max(1));
        let n = src.len() / cin.max(1);
        for (o, plane) in out.chunks_exact_mut(n).enumerate().take(cout) {
            plane.fill(b[o]);
            for i in 0..cin {
                let k = w[o * cin + i];
                for (d, s) in plane.iter_mut().zip(&src[i * n..(i + 1) * n]) {
                    *d += k * s;
                }
            }
        }
    }
}

impl Module for Conv1x1 {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.conv2d(&self.weight, 0, 1, 1, 1)?.broadcast_add(&self.bias)
    }
}

/// A step of a plan with its weights loaded.
#[derive(Debug, Clone)]
pub enum Layer {
    Conv(Conv3x3),
    Pool,
    Up,
    /// The end of a level: the encoder keeps the features here.
    Tap,
}

/// Loads the weights for every step of `plan` from `vb`.
pub fn load_plan(vb: &VarBuilder, plan: &[Step]) -> candle_core::Result<Vec<Layer>> {
    plan.iter()
        .map(|s| {
            Ok(match s {
                Step::Conv(spec) => Layer::Conv(Conv3x3::new(vb, spec)?),
                Step::Pool => Layer::Pool,
                Step::Up => Layer::Up,
                Step::Tap(_) => Layer::Tap,
            })
        })
        .collect()
}

/// Runs one layer (taps are the caller's business and pass `x` through).
pub fn run_layer(layer: &Layer, x: &Tensor, border: Border) -> candle_core::Result<Tensor> {
    match layer {
        Layer::Conv(c) => c.forward(x, border),
        Layer::Pool => max_pool_ceil(x, border),
        Layer::Up => upsample2(x),
        Layer::Tap => Ok(x.clone()),
    }
}
