//! A pass of the network's layers on AMX (see the module docs of `amx`): planes in,
//! activations in the AMX layout between layers, planes out at the taps and the end.

use super::act::Act;
use super::conv::{self, Sink, Source};
use super::pack::AmxWeights;
use super::Split;
use crate::error::{Error, Result};
use crate::kernels::conv::is_wide;
use crate::kernels::pass::{Pass, Planes, Step};
use crate::kernels::resample::{pool_into, upsample_into};

/// Whether a pass over `layers` on `n` images can run here with `split`.
pub(crate) fn supports(layers: &[Step], n: usize) -> bool {
    n == 1
        && layers.iter().all(|l| match l {
            Step::Conv(c, _) => c.amx().is_some(),
            _ => true,
        })
}

/// Runs `layers` (see [`supports`]) on `[1, c, h, w]` planes `input`; `tap` as in
/// [`Pass::run`].
pub(crate) fn run<'p>(
    pass: &Pass<'p>,
    split: Split,
    layers: &[Step],
    input: &[f32],
    (c, h, w): (usize, usize, usize),
    wants: &dyn Fn(usize) -> bool,
    mut tap: impl FnMut(usize, &Planes<'p>) -> Result<()>,
) -> Result<Planes<'p>> {
    // What the current activations are held as: planes (the input, or a tap's copy) and/or
    // AMX activations.
    let mut planes: Option<Planes<'p>> = None;
    let mut act: Option<Act<'p>> = None;
    let (mut c, mut h, mut w) = (c, h, w);
    let mut taps = 0;
    for (i, layer) in layers.iter().enumerate() {
        crate::progress::probe()?;
        let rest = &layers[i + 1..];
        match layer {
            Step::Conv(cv, relu) => {
                let wts = cv.amx().ok_or_else(|| Error::Tensor("conv3x3: not packed for AMX".into()))?;
                // Later layers that read activations, and whether planes are seen next.
                let act_out = rest.iter().any(|l| !matches!(l, Step::Tap));
                let planes_out = !act_out || matches!(rest.first(), Some(Step::Tap) if wants(taps + 1));
                // The split this layer reads, and the one the next convolution reads.
                let own = layer_split(wts, split);
                let next_split = rest
                    .iter()
                    .find_map(|l| match l {
                        Step::Conv(n, _) => n.amx().map(|n| layer_split(n, split)),
                        _ => None,
                    })
                    .unwrap_or(split);
                let mut next =
                    if act_out { Some(Act::new(pass.pool, wts.pairs * 32, h, w, next_split)?) } else { None };
                let mut out_planes = if planes_out { Some(pass.pool.take(wts.cout * h * w)?) } else { None };
                // The input as this convolution reads it (activations from another layout are
                // rebuilt from planes).
                if act.as_ref().is_some_and(|a| a.c != wts.cin_stored || a.split != own || a.stacked != wts.stacked) {
                    ensure_planes(pass, &mut planes, &act, input, (c, h, w))?;
                    act = None;
                }
                if act.is_none() {
                    let src = planes.as_ref().map_or(input, |p| &p.buf[..]);
                    let layout = (wts.cin_stored, wts.stacked);
                    act = Some(Act::from_planes(pass.pool, src, (c, h, w), layout, own, pass.border)?);
                }
                let a = act.as_ref().ok_or_else(|| Error::Tensor("AMX activations".into()))?;
                let source = Source::pixels(a, wts);
                let sink = Sink { act: next.as_mut(), planes: out_planes.as_deref_mut() };
                crate::progress::watched(|| {
                    conv::run(wts, &source, (h, w), own, *relu, sink);
                    Ok(())
                })?;
                drop(source);
                if let Some(a) = next.as_mut() {
                    a.fill_border(pass.border);
                }
                c = wts.cout;
                act = next;
                planes = out_planes.map(|buf| Planes { buf, n: 1, c, h, w });
            }
            Step::Pool | Step::Up => {
                let up = matches!(layer, Step::Up);
                let (oh, ow) = if up { (2 * h, 2 * w) } else { (h.div_ceil(2), w.div_ceil(2)) };
                match act.take() {
                    Some(a) => {
                        act = Some(if up {
                            a.upsample(pass.pool, pass.border)?
                        } else {
                            a.pool(pass.pool, pass.border)?
                        });
                        planes = None;
                    }
                    None => {
                        let src = planes.as_ref().map_or(input, |p| &p.buf[..]);
                        let mut buf = pass.pool.take(c * oh * ow)?;
                        if up {
                            upsample_into(src, h, w, &mut buf);
                        } else {
                            pool_into(src, h, w, pass.border, &mut buf);
                        }
                        planes = Some(Planes { buf, n: 1, c, h: oh, w: ow });
                    }
                }
                (h, w) = (oh, ow);
            }
            Step::Tap => {
                taps += 1;
                if !wants(taps) {
                    continue;
                }
                let p = ensure_planes(pass, &mut planes, &act, input, (c, h, w))?;
                tap(taps, p)?;
            }
        }
    }
    ensure_planes(pass, &mut planes, &act, input, (c, h, w))?;
    planes.ok_or_else(|| Error::Tensor("AMX pass produced nothing".into()))
}

/// The split a convolution runs at in a pass at `split`: the thin layers (RGB in or out,
/// where a rounding is seen directly in the picture) always keep f32 accuracy.
fn layer_split(wts: &AmxWeights, split: Split) -> Split {
    if is_wide(wts.cin, wts.cout) {
        split
    } else {
        Split::Bf16x3
    }
}

/// The current activations as planes: kept ones, converted activations, or a copy of the
/// input (an empty pass).
fn ensure_planes<'a, 'p>(
    pass: &Pass<'p>,
    planes: &'a mut Option<Planes<'p>>,
    act: &Option<Act<'p>>,
    input: &[f32],
    (c, h, w): (usize, usize, usize),
) -> Result<&'a Planes<'p>> {
    if planes.is_none() {
        let mut buf = pass.pool.take(c * h * w)?;
        match act {
            Some(a) => a.to_planes(&mut buf),
            None => buf.copy_from_slice(input),
        }
        *planes = Some(Planes { buf, n: 1, c, h, w });
    }
    planes.as_ref().ok_or_else(|| Error::Tensor("AMX planes".into()))
}
