//! Runs a plan's steps on the CPU over pooled buffers (see `buffers`): each step writes
//! into a buffer taken from the model's pool and hands its input buffer back, so a pass
//! allocates nothing once the pool is warm. Used by the encoder and decoders whenever every
//! convolution runs the fused CPU kernel; other devices go layer by layer through candle.
//! Where the switchboard lets AMX serve the pass's precision, the pass runs there (`amx`).

#[cfg(target_arch = "x86_64")]
use super::amx::{self, Split};
use super::buffers::{Buffer, BufferPool};
use super::conv::{Fused, Geometry, PackedConv};
use super::pad::Border;
use super::precision::Precision;
use super::resample::{pool_into, upsample_into};
use crate::error::{Error, Result};

/// One step of a pass: what the network's layer is, to the kernels.
#[derive(Clone, Copy)]
pub(crate) enum Step<'a> {
    /// A packed 3×3 convolution, with ReLU after it or not.
    Conv(&'a PackedConv, bool),
    /// 2×2 ceil-mode max-pooling.
    Pool,
    /// 2× nearest upsampling.
    Up,
    /// The end of a level: the caller may see the activations here.
    Tap,
}

/// `[n, c, h, w]` activations in a pooled buffer.
pub(crate) struct Planes<'p> {
    pub buf: Buffer<'p>,
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

/// How a pass runs: border handling, precision and the pool it draws buffers from.
#[derive(Clone, Copy)]
pub(crate) struct Pass<'p> {
    pub border: Border,
    pub precision: Precision,
    pub pool: &'p BufferPool,
}

impl<'p> Pass<'p> {
    /// Runs `steps` on contiguous `[n, c, h, w]` values `input`; `tap(k, planes)` sees the
    /// activations at the k-th tap (1-based: `steps` starting at level 1, the level) when
    /// `wants(k)`. Returns the last activations (a copy of `input` when `steps` is empty).
    pub fn run(
        &self,
        layers: &[Step],
        input: &[f32],
        (n, c, h, w): (usize, usize, usize, usize),
        wants: &dyn Fn(usize) -> bool,
        mut tap: impl FnMut(usize, &Planes<'p>) -> Result<()>,
    ) -> Result<Planes<'p>> {
        if input.len() != n * c * h * w {
            return Err(Error::Tensor(format!("{} values for a [{n}, {c}, {h}, {w}] input", input.len())));
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(split) = Split::for_precision(self.precision) {
            if amx::pass::supports(layers, n) {
                return amx::pass::run(self, split, layers, input, (c, h, w), wants, tap);
            }
        }
        let mut cur: Option<Planes<'p>> = None;
        // Taps are numbered from 1 in the order met (the encoder's levels).
        let mut taps = 0;
        // An upsampling the next convolution reads through (never written out), and a
        // pooling the previous convolution wrote (nothing left to do).
        let (mut pending_up, mut pooled) = (false, false);
        for (i, &layer) in layers.iter().enumerate() {
            crate::progress::probe()?;
            let (src, (c, h, w)) = match &cur {
                Some(p) => (&p.buf[..], (p.c, p.h, p.w)),
                None => (input, (c, h, w)),
            };
            let next = match layer {
                Step::Conv(packed, relu) => {
                    let up_in = std::mem::take(&mut pending_up);
                    let (h, w) = if up_in { (2 * h, 2 * w) } else { (h, w) };
                    let g = Geometry { n, cin: c, cout: packed.out_channels(), h, w };
                    let pool_out = matches!(layers.get(i + 1), Some(Step::Pool))
                        && packed.fuses(Fused { up_in, pool_out: true }, g, self.border);
                    let fused = Fused { up_in, pool_out };
                    let (oh, ow) = fused.output_dims(g);
                    let mut buf = self.pool.take(n * g.cout * oh * ow)?;
                    let (border, precision) = (self.border, self.precision);
                    crate::progress::watched(|| {
                        Ok(packed.forward_into(src, g, border, relu, None, precision, fused, &mut buf)?)
                    })?;
                    pooled = pool_out;
                    Planes { buf, n, c: g.cout, h: oh, w: ow }
                }
                Step::Pool if std::mem::take(&mut pooled) => continue,
                Step::Up if self.up_fuses_into(layers.get(i + 1), (n, c, h, w)) => {
                    pending_up = true;
                    continue;
                }
                Step::Pool => {
                    let (oh, ow) = (h.div_ceil(2), w.div_ceil(2));
                    let mut buf = self.pool.take(n * c * oh * ow)?;
                    pool_into(src, h, w, self.border, &mut buf);
                    Planes { buf, n, c, h: oh, w: ow }
                }
                Step::Up => {
                    let mut buf = self.pool.take(n * c * 4 * h * w)?;
                    upsample_into(src, h, w, &mut buf);
                    Planes { buf, n, c, h: 2 * h, w: 2 * w }
                }
                Step::Tap => {
                    taps += 1;
                    if !wants(taps) {
                        continue;
                    }
                    if cur.is_none() {
                        cur = Some(self.copy(input, (n, c, h, w))?);
                    }
                    if let Some(p) = &cur {
                        tap(taps, p)?;
                    }
                    continue;
                }
            };
            // The input buffer goes back to the pool here.
            cur = Some(next);
        }
        match cur {
            Some(p) => Ok(p),
            None => self.copy(input, (n, c, h, w)),
        }
    }

    /// Whether an upsampling of `[n, c, h, w]` activations can be left to `next`, a
    /// convolution reading its input through it.
    fn up_fuses_into(&self, next: Option<&Step>, (n, c, h, w): (usize, usize, usize, usize)) -> bool {
        let Some(Step::Conv(packed, _)) = next else { return false };
        let g = Geometry { n, cin: c, cout: packed.out_channels(), h: 2 * h, w: 2 * w };
        packed.fuses(Fused { up_in: true, pool_out: false }, g, self.border)
    }

    fn copy(&self, input: &[f32], (n, c, h, w): (usize, usize, usize, usize)) -> Result<Planes<'p>> {
        let mut buf = self.pool.take(input.len())?;
        buf.copy_from_slice(input);
        Ok(Planes { buf, n, c, h, w })
    }
}
