//! Weight packing: `[out, in, 3, 3]` weights are reordered once, at load time, into the
//! order the micro-kernels stream them.
//!
//! Output channels are cut into blocks of `mr` (the last block may be narrower, `m < mr`).
//! Block `b` starts at output channel `c0 = b·mr` and occupies `m·cin·9` floats at offset
//! `c0·cin·9`, ordered `[ci][tap][j]` with `tap = ky·3 + kx` and `j` the channel within the
//! block. A micro-kernel working on input channels `ci0..` of that block therefore reads one
//! contiguous run starting at `c0·cin·9 + ci0·9·m`, `m` weights per tap.

/// Weights and bias of one 3×3 convolution in micro-kernel order.
#[derive(Clone)]
pub(crate) struct PackedWeights {
    pub cin: usize,
    pub cout: usize,
    /// Output-channel block width the weights were packed for.
    pub mr: usize,
    pub data: Vec<f32>,
    pub bias: Vec<f32>,
}

impl PackedWeights {
    /// Packs `weight` (`[cout, cin, 3, 3]`, row-major) and `bias` (`[cout]`).
    ///
    /// The caller guarantees the lengths (`cout·cin·9` and `cout`) and `mr ≥ 1`.
    pub fn new(weight: &[f32], bias: &[f32], cin: usize, cout: usize, mr: usize) -> Self {
        debug_assert_eq!(weight.len(), cout * cin * 9);
        debug_assert_eq!(bias.len(), cout);
        let mr = mr.max(1);
        let mut data = Vec::with_capacity(weight.len());
        for c0 in (0..cout).step_by(mr) {
            let m = mr.min(cout - c0);
            for ci in 0..cin {
                for tap in 0..9 {
                    for j in 0..m {
                        data.push(weight[((c0 + j) * cin + ci) * 9 + tap]);
                    }
                }
            }
        }
        Self { cin, cout, mr, data, bias: bias.to_vec() }
    }

    /// Offset of the weights of the block starting at output channel `c0` (a multiple of
    /// `mr`), input channel `ci0`, for a block of width `m`.
    pub fn offset(&self, c0: usize, ci0: usize, m: usize) -> usize {
        c0 * self.cin * 9 + ci0 * 9 * m
    }

    #[cfg(any(test, feature = "bench-internals"))]
    /// Restores the `[cout, cin, 3, 3]` row-major weights (for the reference path).
    pub fn unpack(&self) -> Vec<f32> {
        let mut w = vec![0f32; self.cout * self.cin * 9];
        for c0 in (0..self.cout).step_by(self.mr) {
            let m = self.mr.min(self.cout - c0);
            let base = self.offset(c0, 0, m);
            for ci in 0..self.cin {
                for tap in 0..9 {
                    for j in 0..m {
                        w[((c0 + j) * self.cin + ci) * 9 + tap] = self.data[base + (ci * 9 + tap) * m + j];
                    }
                }
            }
        }
        w
    }
}

impl std::fmt::Debug for PackedWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedWeights")
            .field("cin", &self.cin)
            .field("cout", &self.cout)
            .field("mr", &self.mr)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_roundtrip_and_offsets() {
        let (cin, cout) = (5, 7);
        let w: Vec<f32> = (0..cout * cin * 9).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..cout).map(|i| i as f32).collect();
        for mr in [1, 3, 4, 6, 8] {
            let p = PackedWeights::new(&w, &b, cin, cout, mr);
            assert_eq!(p.unpack(), w, "mr={mr}");
            // block at c0 = mr (if any): first weight is (co=mr, ci=0, tap=0)
            if mr < cout {
                let m = mr.min(cout - mr);
                assert_eq!(p.data[p.offset(mr, 0, m)], w[mr * cin * 9]);
                // ci0 = 2, tap 4, j = m-1
                assert_eq!(p.data[p.offset(mr, 2, m) + 4 * m + m - 1], w[((mr + m - 1) * cin + 2) * 9 + 4]);
            }
        }
    }
}
