//! The VGG-19 ("vgg_normalised") encoder trunk: one network with taps at relu1_1…relu5_1,
//! so a single pass yields every level's features.

use candle_core::{Module, Tensor};
use candle_nn::VarBuilder;

use super::architecture::encoder_segment;
use super::layers::{load_plan, run_layer, Conv1x1, Layer};
use super::pad::Border;

#[derive(Debug, Clone)]
pub struct Encoder {
    preprocess: Conv1x1,
    /// `segments[k-1]` takes relu{k-1}_1 (or the preprocessed image) to relu{k}_1.
    segments: Vec<Vec<Layer>>,
}

impl Encoder {
    /// Loads the trunk up to `relu{max_level}_1` from `vb` (prefix `encoder`).
    pub fn new(vb: &VarBuilder, max_level: usize) -> candle_core::Result<Self> {
        let preprocess = Conv1x1::new(vb, "conv0", 3, 3)?;
        let segments = (1..=max_level)
            .map(|k| load_plan(vb, &encoder_segment(k)))
            .collect::<candle_core::Result<_>>()?;
        Ok(Self {
            preprocess,
            segments,
        })
    }

    /// Highest level this trunk reaches.
    pub fn max_level(&self) -> usize {
        self.segments.len()
    }

    /// Encodes `[1, 3, H, W]` RGB in 0..1 and returns the features of levels `1..=upto`
    /// (index `k-1` holds `relu{k}_1`, `[1, C_k, h_k, w_k]`).
    pub fn forward(&self, image: &Tensor, upto: usize, border: Border) -> candle_core::Result<Vec<Tensor>> {
        let mut x = self.preprocess.forward(image)?;
        let mut taps = Vec::with_capacity(upto);
        for segment in self.segments.iter().take(upto) {
            for layer in segment {
                x = run_layer(layer, &x, border)?;
                if let Layer::Tap = layer {
                    taps.push(x.clone());
                }
            }
        }
        Ok(taps)
    }
}
