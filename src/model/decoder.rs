//! Reconstruction decoders: decoder `k` inverts the encoder from relu{k}_1 back to RGB.

use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::architecture::decoder_plan;
use super::layers::{load_plan, run_layer, Layer};
use super::pad::Border;

#[derive(Debug, Clone)]
pub struct Decoder {
    level: usize,
    layers: Vec<Layer>,
}

impl Decoder {
    /// Loads decoder `level` from `vb` (prefix `decoder{level}`).
    pub fn new(vb: &VarBuilder, level: usize) -> candle_core::Result<Self> {
        Ok(Self {
            level,
            layers: load_plan(vb, &decoder_plan(level))?,
        })
    }

    /// Decodes `[1, C, h, w]` features to `[1, 3, height, width]`: the upsampled output is
    /// at least the original size (ceil-mode pooling) and is cropped back to it.
    pub fn forward(
        &self,
        features: &Tensor,
        height: usize,
        width: usize,
        border: Border,
    ) -> candle_core::Result<Tensor> {
        let mut x = features.clone();
        for layer in &self.layers {
            x = run_layer(layer, &x, border)?;
        }
        let (_, _, h, w) = x.dims4()?;
        if h < height || w < width {
            candle_core::bail!(
                "decoder{} produced {h}x{w}, smaller than the requested {height}x{width}",
                self.level
            );
        }
        if h != height || w != width {
            x = x.narrow(2, 0, height)?.narrow(3, 0, width)?.contiguous()?;
        }
        Ok(x)
    }
}
