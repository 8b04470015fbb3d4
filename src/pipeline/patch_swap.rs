//! Patch swap inside the stylization pipeline: at the coarsest level the (tile's) content
//! features are swapped against the styles' kept feature maps
//! ([`crate::transform::patch_swap`]) instead of being whitened and coloured globally.

use candle_core::Tensor;

use super::stylize::Stylizer;
use crate::error::{Error, Result};
use crate::kernels::host::with_cpu_f32;
use crate::transform::patch_swap::{patch_swap, FeatureMap};
use crate::transform::{Stats, WeightedStyle};

/// Swaps `features` (`[C, fw·fh]`, one tile's extended features at `level`) with the
/// styles of the stylizer's only group; returns `[C, fw·fh]` f32 on the features' device.
/// `tick` receives the fraction matched and stops the swap by returning an error (cancel).
pub(crate) fn swap(
    st: &Stylizer,
    level: usize,
    content_stats: Option<&Stats>,
    features: &Tensor,
    fw: usize,
    fh: usize,
    tick: &mut dyn FnMut(f32) -> Result<()>,
) -> Result<Tensor> {
    let stats = content_stats.ok_or_else(|| Error::Tensor("patch swap: no content statistics".into()))?;
    let c = features.dims2()?.0;
    let cpu = features.to_device(&candle_core::Device::Cpu)?;
    let mut styles = Vec::new();
    for (s, w) in &st.groups[0] {
        let maps = s.features(level).ok_or_else(|| Error::param("patch_swap", "a style has no feature maps"))?;
        let style_stats = s.stats(level).ok_or_else(|| Error::param("patch_swap", "a style has no statistics"))?;
        for (mw, mh, values) in &maps.maps {
            let map = FeatureMap { values, channels: maps.channels, width: *mw, height: *mh };
            // Each scale's maps share the style's weight.
            styles.push((map, WeightedStyle { stats: style_stats, weight: *w / maps.maps.len() as f64 }));
        }
    }
    let out = with_cpu_f32(&cpu, |x| {
        let content = FeatureMap { values: x, channels: c, width: fw, height: fh };
        patch_swap(&content, stats, &styles, st.alpha_at(level), tick)
    })?
    .ok_or_else(|| Error::Tensor("patch swap: features not readable".into()))??;
    Ok(Tensor::from_vec(out, (c, fw * fh), features.device())?)
}

/// Style positions (over every style and stroke scale) and channels of the feature maps the
/// stylizer's patch swap at `level` reads.
pub(crate) fn style_positions(st: &Stylizer, level: usize) -> (usize, usize) {
    let mut positions = 0;
    let mut channels = 0;
    for (s, _) in st.groups.iter().flatten() {
        if let Some(maps) = s.features(level) {
            channels = maps.channels;
            positions += maps.maps.iter().map(|(w, h, _)| w * h).sum::<usize>();
        }
    }
    (positions, channels)
}
