//! Unstable, undocumented access to single kernels for the timing examples
//! (`examples/conv_algorithms.rs`, `examples/amx_probe.rs`; feature `bench-internals`).

use super::conv::{AnyBlocking, Fused, Geometry, PackedConv, WinoBlocking};
use super::{config, Algo, Border, Isa, Precision};
use crate::error::Result;

/// One 3×3 convolution, packed for the configured family and a chosen algorithm.
pub struct Conv3x3 {
    conv: PackedConv,
}

/// A Winograd blocking: tile rows and columns per task, output channels per group, input
/// channels per chunk.
pub type WinogradBlocking = (usize, usize, usize, usize);

impl Conv3x3 {
    /// Packs `[cout, cin, 3, 3]` weights and `[cout]` biases for `algo`.
    pub fn new(weight: &[f32], bias: &[f32], cin: usize, cout: usize, algo: Algo) -> Result<Self> {
        Ok(Self { conv: PackedConv::with(weight, bias, cin, cout, config().isa, algo)? })
    }

    /// The micro-kernel family's output-channel block width.
    pub fn block_width() -> usize {
        config().isa.mr()
    }

    /// Convolves one `[cin, h, w]` image into `out` (`[cout, h, w]`), reflecting at the
    /// border, with ReLU; `blocking` overrides the Winograd blocking the kernel would choose.
    pub fn run(
        &self,
        x: &[f32],
        (h, w): (usize, usize),
        precision: Precision,
        blocking: Option<WinogradBlocking>,
        out: &mut [f32],
    ) -> Result<()> {
        let g = Geometry { n: 1, cin: self.conv.in_channels(), cout: self.conv.out_channels(), h, w };
        let blocking =
            blocking.map(|(tr, tc, co_group, kc)| AnyBlocking::Winograd(WinoBlocking { tr, tc, co_group, kc }));
        Ok(self.conv.forward_into(x, g, Border::Reflect, true, blocking, precision, Fused::NONE, out)?)
    }

    /// The Winograd blocking the kernel chooses for an `h × w` image on `threads` threads
    /// (`None` for families other than AVX-512, whose blockings are not swept).
    pub fn winograd_blocking(&self, (h, w): (usize, usize), threads: usize) -> Option<WinogradBlocking> {
        let g = Geometry { n: 1, cin: self.conv.in_channels(), cout: self.conv.out_channels(), h, w };
        let b = match config().isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => WinoBlocking::choose::<super::conv::Avx512>(g, threads, 4),
            _ => return None,
        };
        Some((b.tr, b.tc, b.co_group, b.kc))
    }
}

/// What an AMX convolution writes (or reads) in [`AmxConv::with_input`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmxOutput {
    /// The next layer's activations.
    Activations,
    /// f32 planes.
    Planes,
    /// Nothing: the products and the epilogue's reads alone.
    Nothing,
    /// Nothing, reading the same input block for every window: the products and weight
    /// loads alone.
    FixedInput,
}

/// One AMX convolution of an image whose input is already in the AMX layout.
#[cfg(target_arch = "x86_64")]
pub struct AmxConv {
    wts: super::amx::pack::AmxWeights,
    x: Vec<f32>,
    dims: (usize, usize, usize),
}

#[cfg(target_arch = "x86_64")]
impl AmxConv {
    /// The convolution of `[cin, h, w]` input `x`; `None` where this process has no AMX.
    pub fn new(
        weight: &[f32],
        bias: &[f32],
        x: Vec<f32>,
        (cin, cout): (usize, usize),
        (h, w): (usize, usize),
    ) -> Option<Self> {
        config().cpu.amx_bf16.then(|| Self {
            wts: super::amx::pack::AmxWeights::new(weight, bias, cin, cout),
            x,
            dims: (cin, h, w),
        })
    }

    /// Converts the input to bf16 (`bf16`) or bf16×3 activations once, then hands `f` a
    /// function running the convolution (with ReLU) into the given output form.
    pub fn with_input<R>(&self, bf16: bool, f: impl FnOnce(&mut dyn FnMut(AmxOutput)) -> R) -> Result<R> {
        use super::amx::{act::Act, conv, Split};
        let split = if bf16 { Split::Bf16 } else { Split::Bf16x3 };
        let (_, h, w) = self.dims;
        let pool = super::buffers::BufferPool::default();
        let input = Act::from_planes(
            &pool,
            &self.x,
            self.dims,
            (self.wts.cin_stored, self.wts.stacked),
            split,
            Border::Reflect,
        )?;
        let mut next = Act::new(&pool, self.wts.pairs * 32, h, w, split)?;
        let mut planes = super::buffers::zeroed(self.wts.cout * h * w)?;
        let mut run = |form: AmxOutput| {
            let mut src = conv::Source::pixels(&input, &self.wts);
            if form == AmxOutput::FixedInput {
                src.offsets.iter_mut().for_each(|o| *o = [0, 0]);
                src.row_px = 0;
            }
            let sink = conv::Sink {
                act: (form == AmxOutput::Activations).then_some(&mut next),
                planes: (form == AmxOutput::Planes).then_some(&mut planes[..]),
            };
            conv::run(&self.wts, &src, (h, w), split, true, sink);
        };
        Ok(f(&mut run))
    }
}
