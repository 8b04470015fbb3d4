//! Winograd-domain weights: `U = G g Gᵀ` of every (output, input) channel pair, ordered for
//! the 1×1 micro-kernel: for each of the `(tile + 2)²` positions `ξ`, output channels in blocks of `mr`
//! (the last may be narrower, `m < mr`), each block `[ci][j]`. Block `c0` of position `ξ`
//! starts at `ξ·cout·cin + c0·cin`; input channel `ci0` of it at `+ ci0·m`.

use super::transform;

#[derive(Clone)]
pub(crate) struct WinogradWeights {
    /// Output tile edge: 4 (F(4×4, 3×3)).
    pub tile: usize,
    pub cin: usize,
    pub cout: usize,
    pub mr: usize,
    pub u: Vec<f32>,
    pub bias: Vec<f32>,
}

impl WinogradWeights {
    /// Transforms and packs `weight` (`[cout, cin, 3, 3]`) and `bias` (`[cout]`) for output
    /// tiles of `tile` (4); the caller guarantees the lengths and `mr ≥ 1`.
    pub fn new(weight: &[f32], bias: &[f32], cin: usize, cout: usize, mr: usize, tile: usize) -> Self {
        debug_assert_eq!(weight.len(), cout * cin * 9);
        debug_assert!(tile == 4);
        let mr = mr.max(1);
        let mut u = vec![0f32; (tile + 2) * (tile + 2) * cout * cin];
        for co in 0..cout {
            let c0 = co / mr * mr;
            let m = mr.min(cout - c0);
            for ci in 0..cin {
                let k = (co * cin + ci) * 9;
                let t = transform::weight_of(tile, &weight[k..k + 9]);
                for (xi, &v) in t.iter().enumerate() {
                    u[xi * cout * cin + c0 * cin + ci * m + (co - c0)] = v;
                }
            }
        }
        Self { tile, cin, cout, mr, u, bias: bias.to_vec() }
    }

    /// Number of Winograd-domain positions, `(tile + 2)²`.
    pub fn positions(&self) -> usize {
        (self.tile + 2) * (self.tile + 2)
    }

    /// Offset of position `ξ`, block `c0` (a multiple of `mr`, width `m`), input channel `ci0`.
    pub fn offset(&self, xi: usize, c0: usize, ci0: usize, m: usize) -> usize {
        xi * self.cout * self.cin + c0 * self.cin + ci0 * m
    }

    /// `U` rounded to bf16 (same layout), for products on bf16 operands without bf16
    /// hardware.
    pub fn bf16_rounded(&self) -> Vec<f32> {
        self.u.iter().map(|&x| super::bf16::to_bf16(x)).collect()
    }

    /// `U` as bf16 pairs of input channels for `vdpbf16ps`: for each position `ξ`, output
    /// channels in blocks of `mr` (width `m`), each block `[pair][j]` with the even input
    /// channel in the low half of the word (a missing odd partner is zero). Block `c0` of
    /// position `ξ` starts at `ξ·cout·pairs + c0·pairs`, pair `ci0/2` of it at `+ (ci0/2)·m`.
    pub fn bf16_pairs(&self) -> Vec<u32> {
        let pairs = self.cin.div_ceil(2);
        let mut out = vec![0u32; self.positions() * self.cout * pairs];
        for xi in 0..self.positions() {
            for co in 0..self.cout {
                let c0 = co / self.mr * self.mr;
                let m = self.mr.min(self.cout - c0);
                for pp in 0..pairs {
                    let at = |ci: usize| {
                        if ci < self.cin {
                            super::bf16::bf16_bits(self.u[self.offset(xi, c0, ci, m) + co - c0]) as u32
                        } else {
                            0
                        }
                    };
                    out[self.pair_offset(xi, c0, 2 * pp, m) + co - c0] = at(2 * pp) | at(2 * pp + 1) << 16;
                }
            }
        }
        out
    }

    /// Offset in [`Self::bf16_pairs`] of position `ξ`, block `c0` (width `m`), input channel
    /// `ci0` (even).
    pub fn pair_offset(&self, xi: usize, c0: usize, ci0: usize, m: usize) -> usize {
        let pairs = self.cin.div_ceil(2);
        xi * self.cout * pairs + c0 * pairs + ci0 / 2 * m
    }

    #[cfg(any(test, feature = "bench-internals"))]
    /// The `[cout, cin, 3, 3]` weights back (exact up to the rounding of `U`).
    pub fn unpack(&self) -> Vec<f32> {
        let mut w = vec![0f32; self.cout * self.cin * 9];
        for co in 0..self.cout {
            let c0 = co / self.mr * self.mr;
            let m = self.mr.min(self.cout - c0);
            for ci in 0..self.cin {
                let t: Vec<f32> =
                    (0..self.positions()).map(|xi| self.u[self.offset(xi, c0, ci, m) + co - c0]).collect();
                let k = (co * self.cin + ci) * 9;
                w[k..k + 9].copy_from_slice(&transform::weight_inverse_of(self.tile, &t));
            }
        }
        w
    }
}

impl std::fmt::Debug for WinogradWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WinogradWeights")
            .field("tile", &self.tile)
            .field("cin", &self.cin)
            .field("cout", &self.cout)
            .field("mr", &self.mr)
            .finish_non_exhaustive()
    }
}
