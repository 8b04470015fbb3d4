//! The VGG-19 ("vgg_normalised") encoder trunk: one network with taps at relu1_1…relu5_1,
//! so a single pass yields every level's features.

use candle_core::{DType, Module, Tensor};
use candle_nn::VarBuilder;

use super::architecture::encoder_segment;
use super::layers::{cpu_steps, load_plan, run_layer, Conv1x1, Layer};
use crate::error::Result;
use crate::kernels::host::with_cpu_f32;
use crate::kernels::pass::Pass;
use crate::kernels::{Border, Precision};

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
        let segments =
            (1..=max_level).map(|k| load_plan(vb, &encoder_segment(k))).collect::<candle_core::Result<_>>()?;
        Ok(Self { preprocess, segments })
    }

    /// Highest level this trunk reaches.
    pub fn max_level(&self) -> usize {
        self.segments.len()
    }

    /// Encodes `[1, 3, H, W]` RGB in 0..1 to the features of levels `1..=upto` (index `k-1`
    /// holds `relu{k}_1`, `[1, C_k, h_k, w_k]`), keeping only the taps `keep` selects (the
    /// others are `None`);
    /// on the CPU the trunk runs over `pass`'s pooled buffers at its precision.
    pub(crate) fn taps(
        &self,
        image: &Tensor,
        upto: usize,
        keep: &dyn Fn(usize) -> bool,
        pass: Pass,
    ) -> Result<Vec<Option<Tensor>>> {
        let steps = cpu_steps(self.segments.iter().take(upto).flatten());
        let Some(steps) =
            steps.filter(|_| upto > 0 && crate::kernels::cpu_kernels(image.device()) && image.dtype() == DType::F32)
        else {
            let all = self.forward_from(self.preprocess.forward(image)?, upto, pass.border, pass.precision)?;
            return Ok(all.into_iter().enumerate().map(|(i, t)| keep(i + 1).then_some(t)).collect());
        };
        let dims = image.dims4()?;
        let device = image.device().clone();
        let mut out: Vec<Option<Tensor>> = vec![None; upto];
        let last = with_cpu_f32(image, |rgb| {
            // The preprocessing 1×1 layer into a pooled buffer, then the trunk.
            let mut src = pass.pool.take(rgb.len())?;
            self.preprocess.apply(rgb, &mut src);
            pass.run(&steps, &src, dims, &|level| level < upto && keep(level), |level, p| {
                // The top tap is the pass's result, handed over below without a copy.
                if level < upto && keep(level) {
                    let copy = crate::kernels::buffers::copied(&p.buf)?;
                    out[level - 1] = Some(Tensor::from_vec(copy, (p.n, p.c, p.h, p.w), &device)?);
                }
                Ok(())
            })
        })?
        .ok_or_else(|| crate::Error::Tensor("encoder input is not on the CPU".into()))??;
        if keep(upto) {
            let shape = (last.n, last.c, last.h, last.w);
            out[upto - 1] = Some(Tensor::from_vec(last.buf.into_vec(), shape, &device)?);
        }
        Ok(out)
    }

    /// Runs the trunk layer by layer through candle from the preprocessed image.
    fn forward_from(
        &self,
        mut x: Tensor,
        upto: usize,
        border: Border,
        precision: Precision,
    ) -> candle_core::Result<Vec<Tensor>> {
        let mut taps = Vec::with_capacity(upto);
        for segment in self.segments.iter().take(upto) {
            for layer in segment {
                x = run_layer(layer, &x, border, precision)?;
                if let Layer::Tap = layer {
                    taps.push(x.clone());
                }
            }
        }
        Ok(taps)
    }
}
