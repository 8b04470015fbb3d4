//! Building blocks: a padded 3×3 convolution with bias and optional ReLU, and the
//! generic runner that executes an encoder/decoder plan.

use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

use super::architecture::{ConvSpec, Step};
use super::pad::{max_pool_ceil, pad1, Border};

/// `pad(1) → conv 3×3 → (+bias) → ReLU?`
#[derive(Debug, Clone)]
pub struct Conv3x3 {
    weight: Tensor,
    bias: Tensor,
    relu: bool,
}

impl Conv3x3 {
    pub fn new(vb: &VarBuilder, spec: &ConvSpec) -> candle_core::Result<Self> {
        let vb = vb.pp(&spec.name);
        let weight = vb.get((spec.out_channels, spec.in_channels, 3, 3), "weight")?;
        let bias = vb
            .get(spec.out_channels, "bias")?
            .reshape((1, spec.out_channels, 1, 1))?;
        Ok(Self {
            weight,
            bias,
            relu: spec.relu,
        })
    }

    pub fn forward(&self, x: &Tensor, border: Border) -> candle_core::Result<Tensor> {
        let y = pad1(x, border)?
            .conv2d(&self.weight, 0, 1, 1, 1)?
            .broadcast_add(&self.bias)?;
        if self.relu {
            y.relu()
        } else {
            Ok(y)
        }
    }
}

/// The 1×1 preprocessing convolution (RGB 0..1 → mean-subtracted BGR×255).
#[derive(Debug, Clone)]
pub struct Conv1x1 {
    weight: Tensor,
    bias: Tensor,
}

impl Conv1x1 {
    pub fn new(vb: &VarBuilder, name: &str, cin: usize, cout: usize) -> candle_core::Result<Self> {
        let vb = vb.pp(name);
        Ok(Self {
            weight: vb.get((cout, cin, 1, 1), "weight")?,
            bias: vb.get(cout, "bias")?.reshape((1, cout, 1, 1))?,
        })
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
    Tap(usize),
}

/// Loads the weights for every step of `plan` from `vb`.
pub fn load_plan(vb: &VarBuilder, plan: &[Step]) -> candle_core::Result<Vec<Layer>> {
    plan.iter()
        .map(|s| {
            Ok(match s {
                Step::Conv(spec) => Layer::Conv(Conv3x3::new(vb, spec)?),
                Step::Pool => Layer::Pool,
                Step::Up => Layer::Up,
                Step::Tap(k) => Layer::Tap(*k),
            })
        })
        .collect()
}

/// Runs one layer (taps are the caller's business and pass `x` through).
pub fn run_layer(layer: &Layer, x: &Tensor, border: Border) -> candle_core::Result<Tensor> {
    match layer {
        Layer::Conv(c) => c.forward(x, border),
        Layer::Pool => max_pool_ceil(x, border),
        Layer::Up => {
            let (_, _, h, w) = x.dims4()?;
            x.upsample_nearest2d(2 * h, 2 * w)
        }
        Layer::Tap(_) => Ok(x.clone()),
    }
}
