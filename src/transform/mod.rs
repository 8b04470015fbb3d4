//! The whitening-and-colouring transform (WCT) on feature matrices, independent of the network.
//!
//! Content features `f_c` (C×N) are centred, whitened with their own covariance
//! (`E_c D_c^-1/2 E_cᵀ`), coloured with a style's (`E_s D_s^1/2 E_sᵀ`, plus the style mean),
//! and blended with the un-centred content features by `alpha`. Statistics and the map are
//! built in f64; the map (one matrix and one bias, alpha folded in) is applied in f32.
//!
//! On the CPU both passes over the features run kernels of their own (`kernels::stats`: the
//! moments and the affine map), of the family the kernel switchboard chose for the
//! convolutions too.

pub(crate) mod patch_swap;
pub(crate) mod perturbation;
mod stats;
mod symmetric;
pub(crate) mod temporal;
mod transport;

use candle_core::{CpuStorage, DType, Device, InplaceOp1, Layout, Tensor};
use faer::Mat;

pub(crate) use stats::Accumulator;
pub use stats::{Stats, EIGEN_EPS};

use crate::error::{Error, Result};

use crate::kernels::host;
use crate::kernels::stats::PackedMap;

/// How content features are mapped onto a style's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransformKind {
    /// Whitening and colouring (the paper).
    #[default]
    Wct,
    /// The optimal-transport map between the two Gaussians ([`transport`]).
    Ost,
}

impl TransformKind {
    /// Every kind, by the name the CLI, presets and C ABI use.
    pub const NAMES: [(&'static str, TransformKind); 2] = [("wct", TransformKind::Wct), ("ost", TransformKind::Ost)];

    /// The kind called `name` (`wct`, `ost`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|&(_, k)| k)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, k)| *k == self).map_or("wct", |(n, _)| n)
    }
}

/// What a feature map is: the transform kind and the perturbation of one transform.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MapOptions {
    pub kind: TransformKind,
    /// Strength λ in 0..1 of the random rotation ([`perturbation`]); 0 = none.
    pub variation: f64,
    /// Seed of the rotation (already derived per level and region).
    pub seed: u64,
}

/// The weighted sum of the styles' colouring matrices and of their means.
fn mixed_colouring(styles: &[WeightedStyle]) -> (Mat<f64>, Vec<f64>) {
    let c = styles[0].stats.channels();
    let mut colouring = Mat::<f64>::zeros(c, c);
    let mut mean = vec![0f64; c];
    for s in styles {
        colouring += s.stats.colouring() * faer::Scale(s.weight);
        for (m, v) in mean.iter_mut().zip(&s.stats.mean) {
            *m += s.weight * v;
        }
    }
    (colouring, mean)
}

/// One style's share of a transform: its statistics and a (normalised) weight.
#[derive(Debug, Clone, Copy)]
pub struct WeightedStyle<'a> {
    /// The style's feature statistics.
    pub stats: &'a Stats,
    /// Its share of the colouring; the weights of a transform sum to 1.
    pub weight: f64,
}

/// The affine map `x ↦ M x + b` that whitens with one content statistics, colours with a
/// weighted mix of styles and blends with the input by `alpha`:
/// `T = (Σ wᵢ Colᵢ) · W_c`, `m_s = Σ wᵢ mᵢ`, `M = αT + (1 − α)I`, `b = α(m_s − T m_c)`, which is
/// `α(T(x − m_c) + m_s) + (1 − α)x`. Built in f64, applied in f32.
#[derive(Debug, Clone)]
pub struct Affine {
    channels: usize,
    /// `M`, row-major C × C.
    matrix: Vec<f32>,
    bias: Vec<f32>,
    /// `M` and `b` packed for the CPU kernels (`kernels::stats::map_apply`).
    packed: PackedMap,
    /// `M` and `b` as tensors, for devices other than the CPU.
    on_device: Option<(Tensor, Tensor)>,
}

impl Affine {
    /// Builds the plain WCT map for features on `device`. Degenerate statistics are defined:
    /// with no usable content eigenvalue (flat region, one pixel) everything maps to the style
    /// mean.
    pub fn whiten_colour(content: &Stats, styles: &[WeightedStyle], alpha: f64, device: &Device) -> Result<Self> {
        Self::new(content, styles, alpha, &MapOptions::default(), device)
    }

    /// Builds the map of `options` (WCT or optimal transport, optionally perturbed) from
    /// `content` to the weighted styles, blended with the input by `alpha`.
    pub fn new(
        content: &Stats,
        styles: &[WeightedStyle],
        alpha: f64,
        options: &MapOptions,
        device: &Device,
    ) -> Result<Self> {
        let c = content.channels();
        if styles.is_empty() {
            return Err(Error::param("styles", "at least one style is needed"));
        }
        for s in styles {
            if s.stats.channels() != c {
                return Err(Error::param(
                    "style statistics",
                    format!("{} channels, content features have {c}", s.stats.channels()),
                ));
            }
        }
        let (mut t, style_mean) = match options.kind {
            TransformKind::Wct => {
                let (colouring, mean) = mixed_colouring(styles);
                (&colouring * content.whitening(), mean)
            }
            TransformKind::Ost => transport::transport(content, styles)?,
        };
        if options.variation > 0.0 {
            // Deep feature perturbation: a rotated whiten-colour map blended in by λ (for
            // WCT exactly `Col ((1 − λ) I + λ Q) W`).
            let (colouring, _) = mixed_colouring(styles);
            let rotated = &colouring * perturbation::random_orthogonal(c, options.seed) * content.whitening();
            t = rotated * faer::Scale(options.variation) + t * faer::Scale(1.0 - options.variation);
        }
        Self::from_linear(&t, &content.mean, &style_mean, alpha, device)
    }

    /// The map `x ↦ α (T (x − m_from) + m_to) + (1 − α) x` for a linear part `T` built
    /// elsewhere.
    pub fn from_linear(t: &Mat<f64>, from_mean: &[f64], to_mean: &[f64], alpha: f64, device: &Device) -> Result<Self> {
        let c = t.nrows();
        let matrix: Vec<f32> = (0..c * c)
            .map(|k| {
                let (i, j) = (k / c, k % c);
                (alpha * t[(i, j)] + if i == j { 1.0 - alpha } else { 0.0 }) as f32
            })
            .collect();
        let bias: Vec<f32> = (0..c)
            .map(|i| {
                let tm: f64 = (0..c).map(|j| t[(i, j)] * from_mean[j]).sum();
                (alpha * (to_mean[i] - tm)) as f32
            })
            .collect();
        let on_device = if crate::kernels::cpu_kernels(device) {
            None
        } else {
            Some((Tensor::from_slice(&matrix, (c, c), device)?, Tensor::from_slice(&bias, (c, 1), device)?))
        };
        let packed = PackedMap::new(&matrix, &bias);
        Ok(Self { channels: c, matrix, bias, packed, on_device })
    }

    /// Applies the map to `[C, N]` features (any float dtype); returns f32.
    pub fn apply(&self, features: &Tensor) -> Result<Tensor> {
        let (c, n) = features.dims2()?;
        if c != self.channels {
            return Err(Error::Tensor(format!("a map of {} channels applied to {c}", self.channels)));
        }
        if n == 0 {
            return Ok(features.to_dtype(DType::F32)?);
        }
        if let Some(out) = host::with_cpu_f32(features, |x| self.apply_f32(x, n))? {
            return Ok(Tensor::from_vec(out?, (c, n), features.device())?);
        }
        let (m, b) = match &self.on_device {
            Some(mb) => mb.clone(),
            None => {
                let dev = features.device();
                (Tensor::from_slice(&self.matrix, (c, c), dev)?, Tensor::from_slice(&self.bias, (c, 1), dev)?)
            }
        };
        Ok(m.matmul(&features.to_dtype(DType::F32)?)?.broadcast_add(&b)?)
    }

    /// `M x + b` on row-major `C × n` values, into a new buffer.
    fn apply_f32(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        self.packed.apply(x, n)
    }

    /// As [`Affine::apply`], but overwrites the features' own storage where it can (f32,
    /// contiguous, on the CPU): no second feature map is allocated. The caller hands over
    /// features nothing else reads any more (views sharing their storage see the result),
    /// hence crate-only: the stylizer's unmasked path, whose encoder output is its own.
    pub(crate) fn apply_in_place(&self, features: Tensor) -> Result<Tensor> {
        let (c, n) = features.dims2()?;
        let fits = crate::kernels::cpu_kernels(features.device())
            && features.dtype() == DType::F32
            && features.is_contiguous()
            && c == self.channels
            && n > 0;
        if !fits {
            return self.apply(&features);
        }
        features.inplace_op1(&InPlace { map: &self.packed, n })?;
        Ok(features)
    }
}

/// [`Affine::apply_in_place`]'s candle operation.
struct InPlace<'a> {
    map: &'a PackedMap,
    n: usize,
}

impl InplaceOp1 for InPlace<'_> {
    fn name(&self) -> &'static str {
        "wct-map-in-place"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let (CpuStorage::F32(values), Some((start, end))) = (storage, layout.contiguous_offsets()) else {
            candle_core::bail!("the WCT map runs in place on contiguous f32 features only");
        };
        self.map.apply_in_place(&mut values[start..end], self.n);
        Ok(())
    }
}

/// Whitens `content` (`[C, N]`) with its own statistics, colours it with the weighted mix of
/// styles and blends the result with `content` by `alpha`. Returns f32 `[C, N]`.
pub fn whiten_colour(content: &Tensor, styles: &[WeightedStyle], alpha: f64) -> Result<Tensor> {
    let stats = Stats::of(content)?;
    Affine::whiten_colour(&stats, styles, alpha, content.device())?.apply(content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn features(c: usize, n: usize, seed: u64) -> Tensor {
        let mut s = seed;
        let v: Vec<f32> = (0..c * n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 33) as f32 / (1u64 << 31) as f32) * 4.0
            })
            .collect();
        Tensor::from_vec(v, (c, n), &Device::Cpu).unwrap()
    }

    #[test]
    fn output_takes_the_style_statistics() {
        let content = features(4, 500, 1);
        let style = features(4, 300, 2);
        let style = (style.clone() + style.narrow(0, 0, 1).unwrap().broadcast_as((4, 300)).unwrap()).unwrap();
        let ss = Stats::of(&style).unwrap();
        let out = whiten_colour(&content, &[WeightedStyle { stats: &ss, weight: 1.0 }], 1.0).unwrap();
        let os = Stats::of(&out).unwrap();
        for (a, b) in os.mean.iter().zip(&ss.mean) {
            assert!((a - b).abs() < 1e-4, "mean {a} vs {b}");
        }
        let (ca, cb) = (os.matrix_power(1.0), ss.matrix_power(1.0));
        let diff = (&ca - &cb).norm_max();
        assert!(diff < 1e-3 * cb.norm_max(), "covariance differs by {diff}");
    }

    #[test]
    fn flat_content_gives_style_mean_without_nan() {
        let content = Tensor::ones((3, 16), DType::F32, &Device::Cpu).unwrap();
        let ss = Stats::of(&features(3, 50, 3)).unwrap();
        let out = whiten_colour(&content, &[WeightedStyle { stats: &ss, weight: 1.0 }], 1.0).unwrap();
        let v: Vec<Vec<f32>> = out.to_vec2().unwrap();
        for (row, m) in v.iter().zip(&ss.mean) {
            for x in row {
                assert!(x.is_finite() && (*x as f64 - m).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn alpha_blends_with_the_content() {
        let content = features(3, 200, 4);
        let ss = Stats::of(&features(3, 120, 5)).unwrap();
        let style = [WeightedStyle { stats: &ss, weight: 1.0 }];
        let zero = whiten_colour(&content, &style, 0.0).unwrap();
        let d: f32 = (zero - &content).unwrap().abs().unwrap().max_all().unwrap().to_scalar().unwrap();
        assert!(d < 1e-5, "alpha 0 keeps the content ({d})");
        let full = whiten_colour(&content, &style, 1.0).unwrap();
        let half = whiten_colour(&content, &style, 0.4).unwrap();
        let expect = ((full * 0.4).unwrap() + (&content * 0.6).unwrap()).unwrap();
        let d: f32 = (half - expect).unwrap().abs().unwrap().max_all().unwrap().to_scalar().unwrap();
        assert!(d < 1e-4, "alpha 0.4 is the linear blend ({d})");
    }
}
