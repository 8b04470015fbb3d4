//! Reconstruction decoders: decoder `k` inverts the encoder from relu{k}_1 back to RGB.

use candle_core::{DType, Tensor};
use candle_nn::VarBuilder;

use super::architecture::decoder_plan;
use super::layers::{cpu_steps, load_plan, run_layer, Layer};
use crate::error::{Error, Result};
use crate::kernels::host::with_cpu_f32;
use crate::kernels::pass::Pass;
use crate::kernels::{Border, Precision};

#[derive(Debug, Clone)]
pub struct Decoder {
    level: usize,
    layers: Vec<Layer>,
}

impl Decoder {
    /// Loads decoder `level` from `vb` (prefix `decoder{level}`).
    pub fn new(vb: &VarBuilder, level: usize) -> candle_core::Result<Self> {
        Ok(Self { level, layers: load_plan(vb, &decoder_plan(level))? })
    }

    /// Decodes `[1, C, h, w]` features to `[1, 3, height, width]` at `precision`, layer by
    /// layer through candle: the upsampled output is at least the original size (ceil-mode
    /// pooling) and is cropped back to it.
    pub fn forward(
        &self,
        features: &Tensor,
        (height, width): (usize, usize),
        border: Border,
        precision: Precision,
    ) -> candle_core::Result<Tensor> {
        let mut x = features.clone();
        for layer in &self.layers {
            x = run_layer(layer, &x, border, precision)?;
        }
        let (_, _, h, w) = x.dims4()?;
        self.check_size(h, w, height, width).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        if h != height || w != width {
            x = x.narrow(2, 0, height)?.narrow(3, 0, width)?.contiguous()?;
        }
        Ok(x)
    }

    fn check_size(&self, h: usize, w: usize, height: usize, width: usize) -> Result<()> {
        if h < height || w < width {
            return Err(Error::Tensor(format!(
                "decoder{} produced {h}x{w}, smaller than the requested {height}x{width}",
                self.level
            )));
        }
        Ok(())
    }

    /// As [`Self::forward`]; on the CPU the layers run over `pass`'s pooled buffers at its
    /// precision.
    pub(crate) fn forward_pass(&self, features: &Tensor, height: usize, width: usize, pass: Pass) -> Result<Tensor> {
        let steps = cpu_steps(&self.layers)
            .filter(|_| crate::kernels::cpu_kernels(features.device()) && features.dtype() == DType::F32);
        let Some(steps) = steps else {
            return Ok(self.forward(features, (height, width), pass.border, pass.precision)?);
        };
        let dims = features.dims4()?;
        let out = with_cpu_f32(features, |src| pass.run(&steps, src, dims, &|_| false, |_, _| Ok(())))?
            .ok_or_else(|| Error::Tensor("decoder input is not on the CPU".into()))??;
        self.check_size(out.h, out.w, height, width)?;
        let plane = out.h * out.w;
        let mut rgb = crate::kernels::buffers::with_capacity(out.n * out.c * height * width)?;
        for p in out.buf.chunks_exact(plane) {
            for row in p.chunks_exact(out.w).take(height) {
                rgb.extend_from_slice(&row[..width]);
            }
        }
        Ok(Tensor::from_vec(rgb, (out.n, out.c, height, width), features.device())?)
    }
}
