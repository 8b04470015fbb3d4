//! Changing resolution inside the network: the encoder's 2×2 ceil-mode max-pooling and the
//! decoder's 2× nearest upsampling. On the CPU both run as one parallel pass over the planes
//! (candle's own kernels are single-threaded); other devices use candle's ops.

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_kernels;
use super::pad::Border;

/// 2×2 max-pool with stride 2 in ceil mode: odd sizes keep their last row/column as a
/// window of its own (PyTorch `ceil_mode=True`). Under [`Border::Circular`] the partial
/// window wraps around instead, which keeps the result periodic.
pub fn max_pool_ceil(x: &Tensor, border: Border) -> candle_core::Result<Tensor> {
    if cpu_kernels(x.device()) && x.dtype() == DType::F32 {
        return x.contiguous()?.apply_op1_no_bwd(&PoolCpu(border));
    }
    let (_, _, h, w) = x.dims4()?;
    let mut x = x.clone();
    if h % 2 == 1 {
        x = match border {
            Border::Reflect => x.pad_with_same(2, 0, 1)?,
            Border::Circular => Tensor::cat(&[&x, &x.narrow(2, 0, 1)?], 2)?,
        };
    }
    if w % 2 == 1 {
        x = match border {
            Border::Reflect => x.pad_with_same(3, 0, 1)?,
            Border::Circular => Tensor::cat(&[&x, &x.narrow(3, 0, 1)?], 3)?,
        };
    }
    x.max_pool2d(2)
}

/// 2× nearest-neighbour upsampling of the last two dimensions.
pub fn upsample2(x: &Tensor) -> candle_core::Result<Tensor> {
    if cpu_kernels(x.device()) && x.dtype() == DType::F32 {
        return x.contiguous()?.apply_op1_no_bwd(&UpsampleCpu);
    }
    let (_, _, h, w) = x.dims4()?;
    x.upsample_nearest2d(2 * h, 2 * w)
}

/// The contiguous f32 values and `[N·C, H, W]` geometry of a CPU tensor.
fn planes<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    op: &str,
) -> candle_core::Result<(&'a [f32], usize, usize, usize)> {
    let (n, c, h, w) = layout.shape().dims4()?;
    let CpuStorage::F32(v) = storage else { candle_core::bail!("{op}: only f32 is supported on the CPU path") };
    let Some((a, b)) = layout.contiguous_offsets() else { candle_core::bail!("{op}: input must be contiguous") };
    Ok((&v[a..b], n * c, h, w))
}

/// The index pooled with even index `i` of an axis of length `len`: the next one, or for the
/// last row/column of an odd axis itself (ceil mode) or, on a torus, the first one.
pub(crate) fn pool_partner(i: usize, len: usize, border: Border) -> usize {
    match (i + 1 < len, border) {
        (true, _) => i + 1,
        (false, Border::Reflect) => i,
        (false, Border::Circular) => 0,
    }
}

/// The CPU max-pool: `src` holds `h × w` planes, `out` the same number of
/// `⌈h/2⌉ × ⌈w/2⌉` planes (every value written).
pub(crate) fn pool_into(src: &[f32], h: usize, w: usize, border: Border, out: &mut [f32]) {
    let (oh, ow) = (h.div_ceil(2), w.div_ceil(2));
    let partner = |i: usize, len: usize| pool_partner(i, len, border);
    if oh * ow > 0 {
        out.par_chunks_exact_mut(oh * ow).zip(src.par_chunks_exact(h * w)).for_each(|(o, p)| {
            for (oy, orow) in o.chunks_exact_mut(ow).enumerate() {
                let r0 = &p[2 * oy * w..][..w];
                let r1 = &p[partner(2 * oy, h) * w..][..w];
                for (ox, v) in orow.iter_mut().enumerate() {
                    let (x0, x1) = (2 * ox, partner(2 * ox, w));
                    *v = r0[x0].max(r0[x1]).max(r1[x0]).max(r1[x1]);
                }
            }
        });
    }
}

/// The CPU 2× nearest upsampling: `src` holds `h × w` planes, `out` the same number of
/// `2h × 2w` planes (every value written).
pub(crate) fn upsample_into(src: &[f32], h: usize, w: usize, out: &mut [f32]) {
    let ow = 2 * w;
    if h * w > 0 {
        out.par_chunks_exact_mut(4 * h * w).zip(src.par_chunks_exact(h * w)).for_each(|(o, p)| {
            for (row, pair) in p.chunks_exact(w).zip(o.chunks_exact_mut(2 * ow)) {
                let (first, second) = pair.split_at_mut(ow);
                for (d, &v) in first.chunks_exact_mut(2).zip(row) {
                    d[0] = v;
                    d[1] = v;
                }
                second.copy_from_slice(first);
            }
        });
    }
}

struct PoolCpu(Border);

impl CustomOp1 for PoolCpu {
    fn name(&self) -> &'static str {
        "unistyle-maxpool2-ceil"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (src, _, h, w) = planes(storage, layout, "max_pool_ceil")?;
        let (n, c, ..) = layout.shape().dims4()?;
        let (oh, ow) = (h.div_ceil(2), w.div_ceil(2));
        let mut out = vec![0f32; n * c * oh * ow];
        pool_into(src, h, w, self.0, &mut out);
        Ok((CpuStorage::F32(out), Shape::from((n, c, oh, ow))))
    }
}

struct UpsampleCpu;

impl CustomOp1 for UpsampleCpu {
    fn name(&self) -> &'static str {
        "unistyle-upsample2"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (src, _, h, w) = planes(storage, layout, "upsample2")?;
        let (n, c, ..) = layout.shape().dims4()?;
        let (oh, ow) = (2 * h, 2 * w);
        let mut out = vec![0f32; n * c * oh * ow];
        upsample_into(src, h, w, &mut out);
        Ok((CpuStorage::F32(out), Shape::from((n, c, oh, ow))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn grid(c: usize, h: usize, w: usize) -> Tensor {
        let v: Vec<f32> = (0..c * h * w).map(|i| ((i * 37) % 101) as f32).collect();
        Tensor::from_vec(v, (1, c, h, w), &Device::Cpu).unwrap()
    }

    /// Candle's generic ops, the reference for the CPU kernels.
    fn generic_pool(x: &Tensor, border: Border) -> Tensor {
        let (_, _, h, w) = x.dims4().unwrap();
        let mut x = x.clone();
        let extend = |x: Tensor, dim: usize| match border {
            Border::Reflect => x.pad_with_same(dim, 0, 1).unwrap(),
            Border::Circular => Tensor::cat(&[&x, &x.narrow(dim, 0, 1).unwrap()], dim).unwrap(),
        };
        if h % 2 == 1 {
            x = extend(x, 2);
        }
        if w % 2 == 1 {
            x = extend(x, 3);
        }
        x.max_pool2d(2).unwrap()
    }

    fn same(a: &Tensor, b: &Tensor) -> bool {
        a.dims() == b.dims()
            && a.flatten_all().unwrap().to_vec1::<f32>().unwrap() == b.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    #[test]
    fn ceil_pool_keeps_odd_edges() {
        let v: Vec<f32> = (0..15).map(|i| i as f32).collect();
        let x = Tensor::from_vec(v, (1, 1, 3, 5), &Device::Cpu).unwrap();
        let p = max_pool_ceil(&x, Border::Reflect).unwrap();
        assert_eq!(p.dims4().unwrap(), (1, 1, 2, 3));
        assert_eq!(p.flatten_all().unwrap().to_vec1::<f32>().unwrap(), vec![6.0, 8.0, 9.0, 11.0, 13.0, 14.0]);
    }

    #[test]
    fn cpu_kernels_equal_candle_ops() {
        for border in [Border::Reflect, Border::Circular] {
            for (h, w) in [(1, 1), (1, 4), (3, 5), (4, 4), (7, 2), (6, 9)] {
                let x = grid(3, h, w);
                assert!(
                    same(&max_pool_ceil(&x, border).unwrap(), &generic_pool(&x, border)),
                    "pool {h}x{w} {border:?}"
                );
                assert!(same(&upsample2(&x).unwrap(), &x.upsample_nearest2d(2 * h, 2 * w).unwrap()), "up {h}x{w}");
            }
        }
    }
}
