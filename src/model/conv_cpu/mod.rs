//! Fused CPU convolution: `pad(border, 1) → 3×3 conv (stride 1) → + bias → ReLU?` on f32
//! NCHW tensors, in one pass without a padded copy of the image.
//!
//! Design: direct convolution. The weights are packed once (`pack`) for the micro-kernel
//! family picked at run time (`Isa`): AVX-512F, AVX2+FMA, or a portable fallback. Each task
//! takes a band of output rows and a group of output channels; per chunk of input channels
//! it gathers the band's input rows with their border samples into per-thread scratch
//! (`band`), then sweeps register tiles of output channels × consecutive positions across
//! the band (`kernel`), accumulating in a per-thread band of outputs whose valid columns are
//! copied out at the end (`driver`). Scratch is bounded by the blocking, not the image.

mod alloc;
mod band;
mod driver;
mod kernel;
mod pack;
#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};

pub(crate) use driver::{Blocking, Geometry};
use kernel::portable::Portable;
use kernel::MicroKernel;
use pack::PackedWeights;

use super::pad::Border;

/// Micro-kernel families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Portable,
}

impl Isa {
    /// The best family this CPU runs (detected once). `UNISTYLE_CONV_ISA` = `avx512`,
    /// `avx2` or `portable` picks a lower one (for comparisons); unknown or unavailable
    /// values are ignored.
    pub fn detect() -> Self {
        static ISA: OnceLock<Isa> = OnceLock::new();
        *ISA.get_or_init(|| {
            let available = Self::available();
            let wanted = std::env::var("UNISTYLE_CONV_ISA").ok().and_then(|v| {
                available.iter().copied().find(|isa| isa.name() == v.trim().to_ascii_lowercase())
            });
            wanted.unwrap_or(available[0])
        })
    }

    /// Every family this CPU runs, best first.
    pub fn available() -> Vec<Self> {
        let mut v = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                v.push(Isa::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                v.push(Isa::Avx2);
            }
        }
        v.push(Isa::Portable);
        v
    }

    pub fn name(self) -> &'static str {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => "avx512",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }

    /// Output-channel block width the weights must be packed for.
    fn mr(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => kernel::avx512::Avx512::MR,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => kernel::avx2::Avx2::MR,
            Isa::Portable => Portable::MR,
        }
    }
}

/// A 3×3 convolution's weights, packed for one micro-kernel family.
#[derive(Debug, Clone)]
pub struct PackedConv {
    isa: Isa,
    w: Arc<PackedWeights>,
}

impl PackedConv {
    /// Packs `weight` (`[cout, cin, 3, 3]` row-major) and `bias` (`[cout]`) for the best
    /// family of this CPU.
    pub(crate) fn new(weight: &[f32], bias: &[f32], cin: usize, cout: usize) -> candle_core::Result<Self> {
        Self::with_isa(weight, bias, cin, cout, Isa::detect())
    }

    pub(crate) fn with_isa(
        weight: &[f32],
        bias: &[f32],
        cin: usize,
        cout: usize,
        isa: Isa,
    ) -> candle_core::Result<Self> {
        if cin == 0 || cout == 0 || weight.len() != cout * cin * 9 || bias.len() != cout {
            candle_core::bail!(
                "conv3x3 packing: {} weights / {} biases do not fit {cout}x{cin}x3x3",
                weight.len(),
                bias.len()
            );
        }
        Ok(Self {
            isa,
            w: Arc::new(PackedWeights::new(weight, bias, cin, cout, isa.mr())),
        })
    }

    pub fn in_channels(&self) -> usize {
        self.w.cin
    }

    pub fn out_channels(&self) -> usize {
        self.w.cout
    }

    /// The `[cout, cin, 3, 3]` weights and `[cout]` bias, unpacked.
    pub(crate) fn unpack(&self) -> (Vec<f32>, Vec<f32>) {
        (self.w.unpack(), self.w.bias.clone())
    }

    /// Convolves contiguous `[n, cin, h, w]` data; returns `[n, cout, h, w]`.
    pub(crate) fn forward_slice(
        &self,
        x: &[f32],
        g: Geometry,
        border: Border,
        relu: bool,
    ) -> candle_core::Result<Vec<f32>> {
        self.forward_blocked(x, g, border, relu, None)
    }

    /// As [`Self::forward_slice`], with an explicit blocking (tests and tuning).
    pub(crate) fn forward_blocked(
        &self,
        x: &[f32],
        g: Geometry,
        border: Border,
        relu: bool,
        blocking: Option<Blocking>,
    ) -> candle_core::Result<Vec<f32>> {
        if g.cin != self.w.cin || g.cout != self.w.cout {
            candle_core::bail!(
                "conv3x3: input has {} channels for a {}→{} convolution",
                g.cin,
                self.w.cin,
                self.w.cout
            );
        }
        if x.len() != g.n * g.cin * g.h * g.w {
            candle_core::bail!("conv3x3: {} values for shape {g:?}", x.len());
        }
        if g.n == 0 || g.h == 0 || g.w == 0 {
            return Ok(Vec::new());
        }
        if let Some(b) = blocking {
            let mr = self.isa.mr();
            if b.rows == 0 || b.kc == 0 || b.co_group == 0 || (b.co_group % mr != 0 && b.co_group < g.cout) {
                candle_core::bail!("conv3x3: blocking {b:?} does not fit micro-kernel width {mr}");
            }
        }
        // TEMPORARY tuning knob: rows,co_group,kc
        let blocking = blocking.or_else(|| {
            let v = std::env::var("UNISTYLE_CONV_BLOCKING").ok()?;
            let p: Vec<usize> = v.split(',').filter_map(|t| t.trim().parse().ok()).collect();
            (p.len() == 3).then(|| Blocking { rows: p[0], co_group: p[1], kc: p[2] })
        });
        let threads = rayon::current_num_threads();
        fn go<K: MicroKernel>(
            p: &PackedWeights,
            x: &[f32],
            g: Geometry,
            border: Border,
            relu: bool,
            b: Option<Blocking>,
            threads: usize,
        ) -> Vec<f32> {
            let b = b.unwrap_or_else(|| Blocking::choose::<K>(g, threads));
            driver::run::<K>(p, x, g, border, relu, b)
        }
        let w = &self.w;
        Ok(match self.isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => go::<kernel::avx512::Avx512>(w, x, g, border, relu, blocking, threads),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => go::<kernel::avx2::Avx2>(w, x, g, border, relu, blocking, threads),
            Isa::Portable => go::<Portable>(w, x, g, border, relu, blocking, threads),
        })
    }

    /// The candle custom op running this convolution on a CPU tensor.
    pub(crate) fn op(&self, border: Border, relu: bool) -> FusedConv3x3<'_> {
        FusedConv3x3 {
            conv: self,
            border,
            relu,
        }
    }
}

/// `CustomOp1` wrapper: f32, contiguous `[n, cin, h, w]` in, `[n, cout, h, w]` out.
pub(crate) struct FusedConv3x3<'a> {
    conv: &'a PackedConv,
    border: Border,
    relu: bool,
}

impl CustomOp1 for FusedConv3x3<'_> {
    fn name(&self) -> &'static str {
        "unistyle-conv3x3"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, cin, h, w) = layout.shape().dims4()?;
        let src = match storage {
            CpuStorage::F32(v) => v,
            _ => candle_core::bail!("conv3x3: only f32 is supported on the CPU path"),
        };
        let src = match layout.contiguous_offsets() {
            Some((a, b)) => &src[a..b],
            None => candle_core::bail!("conv3x3: input must be contiguous"),
        };
        let cout = self.conv.out_channels();
        let g = Geometry { n, cin, cout, h, w };
        let out = self.conv.forward_slice(src, g, self.border, self.relu)?;
        Ok((CpuStorage::F32(out), Shape::from((n, cout, h, w))))
    }
}
