//! Building blocks: a padded 3×3 convolution with bias and optional ReLU, and the
//! generic runner that executes an encoder/decoder plan.

use candle_core::{DType, Module, Tensor};
use candle_nn::VarBuilder;

use super::architecture::{ConvSpec, Step};
use crate::kernels::conv::{is_wide, PackedConv};
use crate::kernels::pad::{pad1, Border};
use crate::kernels::pass::Step as KernelStep;
use crate::kernels::resample::{max_pool_ceil, upsample2};
use crate::kernels::{GenericBf16, Precision};

/// `pad(1) → conv 3×3 → (+bias) → ReLU?`
///
/// On the CPU (f32) the whole layer runs as one fused kernel (`kernels::conv`) on weights
/// packed here, at load time; on other devices it runs as candle's `pad1 → conv2d → add →
/// relu`. The kernel switchboard may keep candle's path on the CPU too
/// ([`crate::kernels::Config::fused_conv`]: `UNISTYLE_CONV=candle`, `UNISTYLE_GENERIC_PATHS=1`).
/// On candle's path `--precision bf16` runs the wide layers' convolution in bf16
/// ([`GenericBf16`]: natively on CUDA, with the same roundings on the CPU), as the CPU
/// kernels do; the thin RGB layers stay f32.
#[derive(Debug, Clone)]
pub struct Conv3x3 {
    imp: ConvImpl,
    relu: bool,
}

#[derive(Debug, Clone)]
enum ConvImpl {
    /// CPU: weights packed for the fused kernel.
    Fused(PackedConv),
    /// Other devices: candle's generic ops; `bf16` holds the weights for bf16 runs (wide
    /// layers on devices that run bf16, see [`GenericBf16`]).
    Generic { weight: Tensor, bias: Tensor, bf16: Option<Tensor> },
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
        let imp = if crate::kernels::config().fused_conv(weight.device()) && weight.dtype() == DType::F32 {
            let w = weight.flatten_all()?.to_vec1::<f32>()?;
            let b = bias.to_dtype(DType::F32)?.to_vec1::<f32>()?;
            ConvImpl::Fused(PackedConv::new(&w, &b, cin, cout)?)
        } else {
            Self::generic(weight.clone(), bias.reshape((1, cout, 1, 1))?)?
        };
        Ok(Self { imp, relu })
    }

    /// The generic form of a layer from its `[out, in, 3, 3]` weights and `[1, out, 1, 1]` biases.
    fn generic(weight: Tensor, bias: Tensor) -> candle_core::Result<ConvImpl> {
        let (cout, cin, _, _) = weight.dims4()?;
        let bf16 = if is_wide(cin, cout) { GenericBf16::on(weight.device()).weights(&weight)? } else { None };
        Ok(ConvImpl::Generic { weight, bias, bf16 })
    }

    #[cfg(any(test, feature = "bench-internals"))]
    /// The same layer on candle's generic path (`pad1 → conv2d → add → relu`), e.g. as a
    /// reference for the fused kernel.
    pub fn to_candle_path(&self) -> candle_core::Result<Self> {
        let imp = match &self.imp {
            ConvImpl::Fused(p) => {
                let (w, b) = p.unpack();
                let (cin, cout) = (p.in_channels(), p.out_channels());
                Self::generic(
                    Tensor::from_vec(w, (cout, cin, 3, 3), &candle_core::Device::Cpu)?,
                    Tensor::from_vec(b, (1, cout, 1, 1), &candle_core::Device::Cpu)?,
                )?
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

    #[cfg(any(test, feature = "bench-internals"))]
    /// Runs the layer in f32.
    pub fn forward(&self, x: &Tensor, border: Border) -> candle_core::Result<Tensor> {
        self.forward_at(x, border, Precision::F32)
    }

    /// Runs the layer at `precision` (the fused kernel runs f32 here: its bf16 form is a
    /// pass's, `kernels::pass`).
    pub fn forward_at(&self, x: &Tensor, border: Border, precision: Precision) -> candle_core::Result<Tensor> {
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
            ConvImpl::Generic { weight, bias, bf16 } => {
                let padded = pad1(x, border)?;
                let y = match (precision, bf16) {
                    (Precision::Bf16, Some(w)) => GenericBf16::on(x.device()).conv2d(&padded, w)?,
                    _ => padded.conv2d(weight, 0, 1, 1, 1)?,
                };
                let y = y.broadcast_add(bias)?;
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

impl Layer {
    /// This layer as a step of a CPU pass: `None` for a convolution not packed for the
    /// fused kernel.
    pub(crate) fn step(&self) -> Option<KernelStep<'_>> {
        Some(match self {
            Layer::Conv(Conv3x3 { imp: ConvImpl::Fused(p), relu }) => KernelStep::Conv(p, *relu),
            Layer::Conv(_) => return None,
            Layer::Pool => KernelStep::Pool,
            Layer::Up => KernelStep::Up,
            Layer::Tap => KernelStep::Tap,
        })
    }
}

/// `layers` as the steps of a CPU pass, when every convolution runs the fused kernel.
pub(crate) fn cpu_steps<'a>(layers: impl IntoIterator<Item = &'a Layer>) -> Option<Vec<KernelStep<'a>>> {
    layers.into_iter().map(Layer::step).collect()
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

/// Runs one layer at `precision` (taps are the caller's business and pass `x` through).
pub fn run_layer(layer: &Layer, x: &Tensor, border: Border, precision: Precision) -> candle_core::Result<Tensor> {
    match layer {
        Layer::Conv(c) => c.forward_at(x, border, precision),
        Layer::Pool => max_pool_ceil(x, border),
        Layer::Up => upsample2(x),
        Layer::Tap => Ok(x.clone()),
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.618 + seed as f32 * 1.3).sin()).collect()
    }

    #[test]
    fn layer_uses_fused_kernel_on_cpu_and_matches_candle_path() {
        let dev = Device::Cpu;
        let (cin, cout) = (16, 12);
        let w = Tensor::from_vec(values(cout * cin * 9, 1), (cout, cin, 3, 3), &dev).unwrap();
        let b = Tensor::from_vec(values(cout, 2), cout, &dev).unwrap();
        let fused = Conv3x3::from_tensors(&w, &b, true).unwrap();
        let generic = fused.to_candle_path().unwrap();
        assert_eq!(fused.is_fused(), crate::kernels::config().fused_conv(&dev));
        assert!(!generic.is_fused());
        let x = Tensor::from_vec(values(cin * 9 * 14, 3), (1, cin, 9, 14), &dev).unwrap();
        // A non-contiguous input goes through `contiguous()` first.
        let xt = x.transpose(2, 3).unwrap();
        for border in [Border::Reflect, Border::Circular] {
            for input in [&x, &xt] {
                let a = fused.forward(input, border).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
                let r = generic.forward(&input.contiguous().unwrap(), border).unwrap();
                let r = r.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                let scale = r.iter().fold(1e-20f32, |m, v| m.max(v.abs()));
                let diff = a.iter().zip(&r).fold(0f32, |m, (p, q)| m.max((p - q).abs()));
                assert!(diff / scale < 1e-4, "{border:?}: relative error {}", diff / scale);
            }
        }
        let wrong = Tensor::zeros((1, cin + 1, 4, 4), DType::F32, &dev).unwrap();
        assert!(fused.forward(&wrong, Border::Reflect).is_err());
    }
}
