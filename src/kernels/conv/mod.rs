//! Fused CPU convolution: `pad(border, 1) → 3×3 conv (stride 1) → + bias → ReLU?` on f32
//! NCHW tensors, in one pass without a padded copy of the image.
//!
//! Two algorithms share one set of micro-kernels (`kernel`: AVX-512F, AVX2+FMA or portable,
//! picked at run time by [`Isa::detect`]), which accumulate a register tile of output
//! channels × consecutive positions over a chunk of input channels:
//!
//! - **Direct** (`driver`, `band`, `pack`): each task takes a band of output rows and a group
//!   of output channels; per chunk of input channels it gathers the band's input rows with
//!   their border samples into per-thread scratch, then sweeps 3×3-window tiles across the
//!   band, accumulating in a per-thread band of outputs whose valid columns are copied out.
//!   Used for thin layers (fewer than 32 input or output channels, e.g. RGB in or out).
//! - **Winograd F(4×4, 3×3)** (`winograd`, the default for wide layers): 4× fewer
//!   multiplications than direct; tasks transform a rectangle of input tiles, run the 36
//!   products as 1×1 tiles against weights transformed at load time, and transform back with
//!   bias and ReLU.
//!
//! Weights are packed once, when the layer is built (their bf16 form for `--precision bf16`
//! on first use, see `winograd::bf16`). Scratch is per worker thread, bounded by the
//! blocking, not by the image, and kept between calls (`scratch`); the output is written
//! into a buffer the caller provides (see `kernels::buffers`). The family and the algorithm
//! come from the switchboard (`kernels::config`: `UNISTYLE_CONV_ISA`, `UNISTYLE_CONV_ALGO`).

mod band;
mod driver;
mod kernel;
mod pack;
mod scratch;
#[cfg(test)]
mod tests;
mod winograd;

use std::sync::{Arc, OnceLock};

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};

pub(crate) use driver::{Blocking, Geometry};
#[cfg(all(target_arch = "x86_64", feature = "bench-internals"))]
pub(crate) use kernel::avx512::Avx512;
use kernel::portable::Portable;
use kernel::MicroKernel;
use pack::PackedWeights;
pub(crate) use winograd::driver::WinoBlocking;
use winograd::pack::WinogradWeights;

use super::pad::Border;
use super::precision::Precision;
#[cfg(target_arch = "x86_64")]
pub(crate) use winograd::bf16::bf16_bits;
use winograd::bf16::Products;

#[cfg(target_arch = "x86_64")]
use super::amx::pack::AmxWeights;

/// Micro-kernel families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Portable,
}

impl Isa {
    /// The family the kernels run ([`crate::kernels::Config::isa`]).
    pub fn detect() -> Self {
        super::config().isa
    }

    /// Every family this CPU runs, best first.
    #[cfg(any(test, feature = "bench-internals"))]
    pub fn available() -> Vec<Self> {
        Self::supported_by(&super::config().cpu)
    }

    /// Every family a CPU with `cpu`'s features runs, best first.
    pub(crate) fn supported_by(cpu: &super::Cpu) -> Vec<Self> {
        let mut v = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if cpu.avx512f {
                v.push(Isa::Avx512);
            }
            if cpu.avx2_fma {
                v.push(Isa::Avx2);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = cpu;
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
    pub(crate) fn mr(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => kernel::avx512::Avx512::MR,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => kernel::avx2::Avx2::MR,
            Isa::Portable => Portable::MR,
        }
    }
}

/// Whether `isa` runs bf16 products in hardware (`avx512_bf16`, unless
/// `UNISTYLE_CONV_BF16=emulate`).
pub(crate) fn bf16_native(isa: Isa) -> bool {
    super::config().bf16_native_in(isa)
}

/// Whether a layer is wide (at least 32 channels in and out): the layers that take the fast
/// paths with reduced-precision or transformed products; the thin RGB layers keep f32 ones.
pub(crate) fn is_wide(cin: usize, cout: usize) -> bool {
    cin >= 32 && cout >= 32
}

/// Convolution algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// Direct convolution: any channel counts.
    Direct,
    /// Winograd F(4×4, 3×3): 4× fewer multiplications and cheaper transforms per output;
    /// the default for wide layers.
    Winograd4,
}

impl Algo {
    /// The algorithm of a `cin → cout` layer ([`crate::kernels::Config::algo`]).
    pub fn choose(cin: usize, cout: usize) -> Self {
        super::config().algo(cin, cout)
    }
}

/// Packed weights of either algorithm.
#[derive(Debug)]
enum Weights {
    Direct(PackedWeights),
    Winograd(WinogradWeights),
}

/// An explicit blocking (tests and tuning); it must match the layer's algorithm.
/// Resolution changes folded into a Winograd convolution, so that the resampled
/// activations are never written out: the input read through a 2× nearest upsampling
/// (`up_in`: `x` holds `h/2 × w/2` planes for an `h × w` convolution), the output written
/// 2×2 max-pooled in ceil mode (`pool_out`: `⌈h/2⌉ × ⌈w/2⌉` planes). The values are those
/// of the separate steps, bit for bit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Fused {
    pub up_in: bool,
    pub pool_out: bool,
}

impl Fused {
    /// Nothing folded in.
    pub const NONE: Self = Self { up_in: false, pool_out: false };

    /// Whether this can run on an `h × w` convolution grid under `border`: an upsampled grid
    /// is even, and a pooled odd grid under a circular border would pair its last row with
    /// the first, which another tile computes.
    pub fn fits(self, g: Geometry, border: Border) -> bool {
        let even = g.h.is_multiple_of(2) && g.w.is_multiple_of(2);
        (!self.up_in || even) && (!self.pool_out || even || border == Border::Reflect)
    }

    /// Planes of the input for a convolution over `g`.
    pub fn input_dims(self, g: Geometry) -> (usize, usize) {
        if self.up_in {
            (g.h / 2, g.w / 2)
        } else {
            (g.h, g.w)
        }
    }

    /// Planes of the output of a convolution over `g`.
    pub fn output_dims(self, g: Geometry) -> (usize, usize) {
        if self.pool_out {
            (g.h.div_ceil(2), g.w.div_ceil(2))
        } else {
            (g.h, g.w)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum AnyBlocking {
    Direct(Blocking),
    Winograd(WinoBlocking),
}

/// A 3×3 convolution's weights, packed for one algorithm and micro-kernel family.
#[derive(Debug, Clone)]
pub struct PackedConv {
    isa: Isa,
    cin: usize,
    cout: usize,
    w: Arc<Weights>,
    /// The Winograd weights' bf16 form, made on first bf16 use.
    bf16: Arc<OnceLock<Products>>,
    /// The weights packed for AMX products, where the CPU has them (see `kernels::amx`).
    #[cfg(target_arch = "x86_64")]
    amx: Option<Arc<AmxWeights>>,
}

impl PackedConv {
    /// Packs `weight` (`[cout, cin, 3, 3]` row-major) and `bias` (`[cout]`) for the best
    /// family of this CPU and the algorithm suiting the layer's width.
    pub(crate) fn new(weight: &[f32], bias: &[f32], cin: usize, cout: usize) -> candle_core::Result<Self> {
        Self::with(weight, bias, cin, cout, Isa::detect(), Algo::choose(cin, cout))
    }

    pub(crate) fn with(
        weight: &[f32],
        bias: &[f32],
        cin: usize,
        cout: usize,
        isa: Isa,
        algo: Algo,
    ) -> candle_core::Result<Self> {
        if cin == 0 || cout == 0 || weight.len() != cout * cin * 9 || bias.len() != cout {
            candle_core::bail!(
                "conv3x3 packing: {} weights / {} biases do not fit {cout}x{cin}x3x3",
                weight.len(),
                bias.len()
            );
        }
        let w = match algo {
            Algo::Direct => Weights::Direct(PackedWeights::new(weight, bias, cin, cout, isa.mr())),
            Algo::Winograd4 => Weights::Winograd(WinogradWeights::new(weight, bias, cin, cout, isa.mr(), 4)),
        };
        #[cfg(target_arch = "x86_64")]
        // Packed for AMX only where some pass may run there (not with UNISTYLE_CONV_AMX=off).
        let amx =
            super::config().amx_serves(Precision::Bf16).then(|| Arc::new(AmxWeights::new(weight, bias, cin, cout)));
        Ok(Self {
            isa,
            cin,
            cout,
            w: Arc::new(w),
            bf16: Arc::default(),
            #[cfg(target_arch = "x86_64")]
            amx,
        })
    }

    #[cfg(any(test, feature = "bench-internals"))]
    pub fn in_channels(&self) -> usize {
        self.cin
    }

    pub fn out_channels(&self) -> usize {
        self.cout
    }

    /// The weights packed for AMX, where this CPU runs it and the layer's width fits.
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn amx(&self) -> Option<&AmxWeights> {
        self.amx.as_deref()
    }

    #[cfg(any(test, feature = "bench-internals"))]
    /// The `[cout, cin, 3, 3]` weights and `[cout]` bias, unpacked (Winograd weights are
    /// transformed back, exact up to rounding).
    pub(crate) fn unpack(&self) -> (Vec<f32>, Vec<f32>) {
        match &*self.w {
            Weights::Direct(p) => (p.unpack(), p.bias.clone()),
            Weights::Winograd(p) => (p.unpack(), p.bias.clone()),
        }
    }

    /// How the Winograd products run at `precision` (bf16 weights are made on first use).
    /// Whether `fused` can be folded into this convolution over `g` (Winograd layers only).
    pub(crate) fn fuses(&self, fused: Fused, g: Geometry, border: Border) -> bool {
        fused == Fused::NONE || (matches!(*self.w, Weights::Winograd(_)) && fused.fits(g, border))
    }

    fn products(&self, precision: Precision) -> &Products {
        static F32: Products = Products::F32;
        match (&*self.w, precision) {
            (Weights::Winograd(p), Precision::Bf16) => self.bf16.get_or_init(|| {
                if bf16_native(self.isa) {
                    Products::Native(p.bf16_pairs())
                } else {
                    Products::Emulated(p.bf16_rounded())
                }
            }),
            _ => &F32,
        }
    }

    /// Convolves contiguous `[n, cin, h, w]` data in f32; returns `[n, cout, h, w]`.
    pub(crate) fn forward_slice(
        &self,
        x: &[f32],
        g: Geometry,
        border: Border,
        relu: bool,
    ) -> candle_core::Result<Vec<f32>> {
        self.forward_blocked(x, g, border, relu, None, Precision::F32)
    }

    /// As [`Self::forward_slice`], with an explicit blocking (tests and tuning) and precision.
    pub(crate) fn forward_blocked(
        &self,
        x: &[f32],
        g: Geometry,
        border: Border,
        relu: bool,
        blocking: Option<AnyBlocking>,
        precision: Precision,
    ) -> candle_core::Result<Vec<f32>> {
        let len = g.n * g.cout * g.h * g.w;
        let mut out = super::buffers::zeroed(len).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        self.forward_into(x, g, border, relu, blocking, precision, Fused::NONE, &mut out)?;
        Ok(out)
    }

    /// Convolves contiguous `[n, cin, h, w]` data into `out` (`[n, cout, h, w]`, every value
    /// written).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn forward_into(
        &self,
        x: &[f32],
        g: Geometry,
        border: Border,
        relu: bool,
        blocking: Option<AnyBlocking>,
        precision: Precision,
        fused: Fused,
        out: &mut [f32],
    ) -> candle_core::Result<()> {
        if g.cin != self.cin || g.cout != self.cout {
            candle_core::bail!("conv3x3: input has {} channels for a {}→{} convolution", g.cin, self.cin, self.cout);
        }
        if !self.fuses(fused, g, border) {
            candle_core::bail!("conv3x3: {fused:?} cannot be folded into this convolution over {g:?}");
        }
        let ((sh, sw), (oh, ow)) = (fused.input_dims(g), fused.output_dims(g));
        if x.len() != g.n * g.cin * sh * sw {
            candle_core::bail!("conv3x3: {} values for shape {g:?} ({fused:?})", x.len());
        }
        if out.len() != g.n * g.cout * oh * ow {
            candle_core::bail!("conv3x3: {} output values for shape {g:?} ({fused:?})", out.len());
        }
        if g.n == 0 || g.h == 0 || g.w == 0 {
            return Ok(());
        }
        let mr = self.isa.mr();
        let group_ok = |co: usize| co > 0 && (co.is_multiple_of(mr) || co >= g.cout);
        match blocking {
            Some(AnyBlocking::Direct(b)) if b.rows == 0 || b.kc == 0 || !group_ok(b.co_group) => {
                candle_core::bail!("conv3x3: blocking {b:?} does not fit micro-kernel width {mr}")
            }
            Some(AnyBlocking::Winograd(b)) if b.tr == 0 || b.tc == 0 || b.kc == 0 || !group_ok(b.co_group) => {
                candle_core::bail!("conv3x3: blocking {b:?} does not fit micro-kernel width {mr}")
            }
            _ => {}
        }
        let threads = rayon::current_num_threads();
        let products = self.products(precision);
        #[allow(clippy::too_many_arguments)]
        fn go<K: MicroKernel>(
            w: &Weights,
            x: &[f32],
            g: Geometry,
            border: Border,
            relu: bool,
            b: Option<AnyBlocking>,
            threads: usize,
            products: &Products,
            fused: Fused,
            out: &mut [f32],
        ) -> candle_core::Result<()> {
            match (w, b) {
                (Weights::Direct(p), None) => {
                    driver::run::<K>(p, x, g, border, relu, Blocking::choose::<K>(g, threads), out)
                }
                (Weights::Direct(p), Some(AnyBlocking::Direct(b))) => driver::run::<K>(p, x, g, border, relu, b, out),
                (Weights::Winograd(p), None) => winograd::driver::run::<K>(
                    p,
                    x,
                    g,
                    border,
                    relu,
                    WinoBlocking::choose::<K>(g, threads, p.tile),
                    products,
                    fused,
                    out,
                ),
                (Weights::Winograd(p), Some(AnyBlocking::Winograd(b))) => {
                    winograd::driver::run::<K>(p, x, g, border, relu, b, products, fused, out)
                }
                (_, Some(b)) => {
                    candle_core::bail!("conv3x3: blocking {b:?} is for the other algorithm")
                }
            }
            Ok(())
        }
        let w = &*self.w;
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => go::<kernel::avx512::Avx512>(w, x, g, border, relu, blocking, threads, products, fused, out),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => go::<kernel::avx2::Avx2>(w, x, g, border, relu, blocking, threads, products, fused, out),
            Isa::Portable => go::<Portable>(w, x, g, border, relu, blocking, threads, products, fused, out),
        }
    }

    /// The candle custom op running this convolution on a CPU tensor.
    pub(crate) fn op(&self, border: Border, relu: bool) -> FusedConv3x3<'_> {
        FusedConv3x3 { conv: self, border, relu }
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
