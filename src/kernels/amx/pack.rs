//! A 3×3 convolution's weights packed for the AMX products, once, when the layer is built.
//!
//! The reduction (input channel × window tap) is cut into chunks of 32 values, one product
//! each: chunk `(tap, c0)` takes channels `c0..c0 + 32` of the pixel under window tap `tap`,
//! read in place from [`super::act::Act`]. Input channels are padded to a multiple of 32
//! (the activations store as many, zeros beyond the real ones), so the RGB input layer
//! runs the same way, with nine chunks of mostly zeros.
//!
//! A thin input (at most 10 channels, the RGB layer) is read *stacked* instead: each pixel
//! of its activations holds its row neighbourhood — the channels at `x - 1`, `x`, `x + 1` —
//! so one chunk covers a whole window row and three chunks the window, not nine.
//!
//! Weights are laid out per pair of 16-channel output blocks, per chunk, per block, as the
//! weight tile `tdpbf16ps` reads: 16 rows of 16 `(k, k + 1)` pairs. Output channels are padded
//! with zero weights to a multiple of 32. Both bf16 parts of each weight are kept (the low
//! one is used by [`super::Split::Bf16x3`]).

use super::act::{align_offset, split_bits};
use super::tiles::{K, ROWS};

/// Values in one weight tile.
pub(crate) const TILE: usize = ROWS * K;

/// Packed weights and bias of one convolution.
#[derive(Debug)]
pub(crate) struct AmxWeights {
    pub cin: usize,
    /// Values per pixel of the input activations (`cin`, or `3 · cin` stacked, rounded up
    /// to 32).
    pub cin_stored: usize,
    /// Whether the input is stacked (see the module docs).
    pub stacked: bool,
    pub cout: usize,
    /// Chunks of 32 reduction values.
    pub chunks: usize,
    /// Pairs of 16-channel output blocks.
    pub pairs: usize,
    /// High and low parts, `[pair][chunk][block][TILE]`, from `start` (64-byte aligned).
    parts: [Vec<u16>; 2],
    start: [usize; 2],
    /// Bias, padded with zeros to `32 · pairs`.
    pub bias: Vec<f32>,
}

impl AmxWeights {
    /// Packs `weight` (`[cout, cin, 3, 3]`) and `bias`.
    pub(crate) fn new(weight: &[f32], bias: &[f32], cin: usize, cout: usize) -> Self {
        let stacked = 3 * cin <= K;
        let cin_stored = if stacked { K } else { cin.next_multiple_of(K) };
        let per_tap = cin_stored / K;
        let chunks = if stacked { 3 } else { 9 * per_tap };
        let pairs = cout.div_ceil(2 * ROWS);
        // The weight at reduction index `k` of chunk `q` for output channel `co`.
        let value = |q: usize, k: usize, co: usize| -> f32 {
            let (tap, ci) = if stacked {
                if k >= 3 * cin {
                    return 0.0;
                }
                (3 * q + k / cin, k % cin)
            } else {
                (q / per_tap, (q % per_tap) * K + k)
            };
            if co >= cout || ci >= cin {
                return 0.0;
            }
            weight[(co * cin + ci) * 9 + tap]
        };
        let len = pairs * chunks * 2 * TILE;
        let mut parts = [vec![0u16; len + 32], vec![0u16; len + 32]];
        let start = [align_offset(parts[0].as_ptr() as usize, 2), align_offset(parts[1].as_ptr() as usize, 2)];
        for p in 0..pairs {
            for q in 0..chunks {
                for b in 0..2 {
                    let base = ((p * chunks + q) * 2 + b) * TILE;
                    for r in 0..ROWS {
                        for j in 0..16 {
                            for i in 0..2 {
                                let (hi, lo) = split_bits(value(q, 2 * r + i, 32 * p + 16 * b + j));
                                let at = base + r * K + 2 * j + i;
                                parts[0][start[0] + at] = hi;
                                parts[1][start[1] + at] = lo;
                            }
                        }
                    }
                }
            }
        }
        let mut padded = bias.to_vec();
        padded.resize(pairs * 2 * ROWS, 0.0);
        Self { cin, cin_stored, stacked, cout, chunks, pairs, parts, start, bias: padded }
    }

    /// The weight tiles of output pair `p`, part `part`: two per chunk.
    pub(crate) fn tiles(&self, part: usize, p: usize) -> &[u16] {
        &self.parts[part][self.start[part] + p * self.chunks * 2 * TILE..][..self.chunks * 2 * TILE]
    }
}
