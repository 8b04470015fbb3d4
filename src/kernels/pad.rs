//! Border handling for the network: 1-pixel reflection padding before every 3×3 convolution
//! (candle only pads with zeros), and the circular variant that puts a texture on a torus so
//! that it tiles.

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};

/// How the network sees beyond the image border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Border {
    /// Mirror without repeating the edge (PyTorch `ReflectionPad2d`), as the model was trained.
    #[default]
    Reflect,
    /// Wrap around: the image is treated as a torus, so results tile seamlessly.
    Circular,
}

impl Border {
    /// The source index for padded position `i` in `-1..=n` of an axis of length `n`.
    /// Reflection of a length-1 axis degenerates to repeating its only sample.
    pub(crate) fn source(self, i: isize, n: usize) -> usize {
        let n = n as isize;
        let j = match self {
            Border::Reflect => {
                if n == 1 {
                    0
                } else if i < 0 {
                    -i
                } else if i >= n {
                    2 * n - 2 - i
                } else {
                    i
                }
            }
            Border::Circular => i.rem_euclid(n),
        };
        j as usize
    }

    /// Index map of a padded axis: `n + 2` source indices.
    pub(crate) fn index_map(self, n: usize) -> Vec<usize> {
        (-1..=n as isize).map(|i| self.source(i, n)).collect()
    }
}

/// Pads the last two dimensions of an `[N, C, H, W]` tensor by one sample on every side.
pub fn pad1(x: &Tensor, border: Border) -> candle_core::Result<Tensor> {
    if super::cpu_kernels(x.device()) && x.dtype() == DType::F32 {
        x.apply_op1_no_bwd(&Pad1Cpu(border))
    } else {
        let (_, _, h, w) = x.dims4()?;
        let dev = x.device();
        let rows: Vec<u32> = border.index_map(h).into_iter().map(|v| v as u32).collect();
        let cols: Vec<u32> = border.index_map(w).into_iter().map(|v| v as u32).collect();
        let rows = Tensor::from_vec(rows, h + 2, dev)?;
        let cols = Tensor::from_vec(cols, w + 2, dev)?;
        x.index_select(&cols, 3)?.index_select(&rows, 2)
    }
}

/// CPU kernel for [`pad1`]: one pass, writing each padded row once.
struct Pad1Cpu(Border);

impl CustomOp1 for Pad1Cpu {
    fn name(&self) -> &'static str {
        "unistyle-pad1"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = layout.shape().dims4()?;
        let src = match storage {
            CpuStorage::F32(v) => v,
            _ => candle_core::bail!("pad1: only f32 is supported on the CPU path"),
        };
        let src = match layout.contiguous_offsets() {
            Some((a, b)) => &src[a..b],
            None => candle_core::bail!("pad1: input must be contiguous"),
        };
        let (ph, pw) = (h + 2, w + 2);
        let rows = self.0.index_map(h);
        let cols = self.0.index_map(w);
        let mut out = vec![0f32; n * c * ph * pw];
        for (plane_out, plane_in) in out.chunks_exact_mut(ph * pw).zip(src.chunks_exact(h * w)) {
            for (row_out, &r) in plane_out.chunks_exact_mut(pw).zip(rows.iter()) {
                let row_in = &plane_in[r * w..(r + 1) * w];
                row_out[1..=w].copy_from_slice(row_in);
                row_out[0] = row_in[cols[0]];
                row_out[w + 1] = row_in[cols[w + 1]];
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((n, c, ph, pw))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn grid(h: usize, w: usize) -> Tensor {
        let v: Vec<f32> = (0..h * w).map(|i| i as f32).collect();
        Tensor::from_vec(v, (1, 1, h, w), &Device::Cpu).unwrap()
    }

    #[test]
    fn reflect_matches_pytorch_rule() {
        let p = pad1(&grid(3, 4), Border::Reflect).unwrap();
        let v = p.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        // first padded row mirrors row 1: [5, 4, 5, 6, 7, 6]
        assert_eq!(&v[0..6], &[5.0, 4.0, 5.0, 6.0, 7.0, 6.0]);
        // last padded row mirrors row 1 (h=3, row 3 -> 1)
        assert_eq!(&v[24..30], &[5.0, 4.0, 5.0, 6.0, 7.0, 6.0]);
    }

    #[test]
    fn cpu_kernel_equals_generic_path() {
        for border in [Border::Reflect, Border::Circular] {
            for (h, w) in [(1, 1), (1, 5), (2, 3), (7, 4)] {
                let x = grid(h, w);
                let fast = pad1(&x, border).unwrap();
                let rows: Vec<u32> = border.index_map(h).iter().map(|&v| v as u32).collect();
                let cols: Vec<u32> = border.index_map(w).iter().map(|&v| v as u32).collect();
                let slow = x
                    .index_select(&Tensor::new(cols, &Device::Cpu).unwrap(), 3)
                    .unwrap()
                    .index_select(&Tensor::new(rows, &Device::Cpu).unwrap(), 2)
                    .unwrap();
                let d = (fast - slow).unwrap().abs().unwrap().sum_all().unwrap();
                assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
            }
        }
    }
}
