//! Mean and sum of centred outer products of row-major f32 features (`C × n`), in f64, in
//! one pass over the data.
//!
//! Each block of pixels is widened to f64 into a scratch that stays in the L2 cache (rows
//! padded to a multiple of [`TILE`] channels, pixels to a multiple of [`LANES`]) after
//! subtracting a per-channel shift (the mean of the first pixels). The lower triangle of the
//! block's cross-products is a set of register-tiled dot products over the pixels, [`TILE`] ×
//! [`TILE`] channels at a time. The pixels are halved recursively (split points that depend
//! only on the sizes) down to runs of [`LEAF_BLOCKS`] blocks, the halves summed in a fixed
//! order: threads pick up halves as they are free, and every sum is the same whatever the
//! thread count. With `d = x − shift`, `M2 = Σ d dᵀ − (Σ d)(Σ d)ᵀ / n` and
//! `mean = shift + Σ d / n`: the shift is close to the mean, so nothing cancels.

use std::cell::RefCell;
use std::ops::Range;

use crate::kernels::Isa;

/// Pixels (at most) whose mean is the shift.
const SHIFT_PIXELS: usize = 256;
/// Channels per tile edge; the scratch has a multiple of this many rows.
pub(crate) const TILE: usize = 4;
/// Pixels per vector of the widest kernel (f64 lanes of AVX-512); blocks are padded to it.
pub(crate) const LANES: usize = 8;
/// Pixels per stretch of a tile's dot products: its rows stay in the L1 cache.
pub(crate) const STRETCH: usize = 512;
/// Bytes of the f64 scratch (one block of pixels), sized for the L2 cache.
const SCRATCH_BYTES: usize = 1 << 20;
/// Blocks of pixels summed by one task at most (then halved).
const LEAF_BLOCKS: usize = 2;

/// Per-channel mean and the sum of centred outer products (row-major `c × c`, both
/// triangles) of the row-major `c × n` values `x`, with the best kernels of this CPU.
pub(crate) fn moments(x: &[f32], c: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    moments_with(Isa::detect(), x, c, n)
}

/// [`moments`] with the kernels of `isa` (which the CPU must run).
pub(crate) fn moments_with(isa: Isa, x: &[f32], c: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(x.len(), c * n, "moments of {c} × {n} values");
    if c == 0 || n == 0 {
        return (vec![0.0; c], vec![0.0; c * c]);
    }
    let shift: Vec<f64> = x
        .chunks_exact(n)
        .map(|row| {
            let head = &row[..n.min(SHIFT_PIXELS)];
            head.iter().map(|&v| v as f64).sum::<f64>() / head.len() as f64
        })
        .collect();
    let cp = c.next_multiple_of(TILE);
    let block = (SCRATCH_BYTES / 8 / cp / LANES * LANES).clamp(STRETCH, 4096);
    let job = Job { isa, x, c, n, cp, block, shift: &shift, stop: crate::progress::stop_flag() };
    let (sums, cross) = job.sum(0..n.div_ceil(block));
    let nf = n as f64;
    let mean = shift.iter().zip(&sums).map(|(k, s)| k + s / nf).collect();
    let m2 = (0..c * c)
        .map(|k| {
            let (i, j) = (k / c, k % c);
            cross[i.max(j) * cp + i.min(j)] - sums[i] * sums[j] / nf
        })
        .collect();
    (mean, m2)
}

/// One feature set's sums, split into blocks of `block` pixels.
struct Job<'a> {
    isa: Isa,
    x: &'a [f32],
    c: usize,
    n: usize,
    /// `c` rounded up to whole tiles.
    cp: usize,
    block: usize,
    shift: &'a [f64],
    /// Raised by a cancel (`progress::watched`): the leaves stop, the sums are dropped.
    stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

thread_local! {
    /// Each thread's f64 scratch, reused across blocks, tasks and calls.
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl Job<'_> {
    /// Shifted row sums and lower-triangle cross-products (`cp × cp`) of the pixels of
    /// `blocks`, halved recursively.
    fn sum(&self, blocks: Range<usize>) -> (Vec<f64>, Vec<f64>) {
        if blocks.len() <= LEAF_BLOCKS {
            return self.leaf(blocks);
        }
        let mid = blocks.start + blocks.len() / 2;
        let ((mut sums, mut cross), (s2, c2)) =
            rayon::join(|| self.sum(blocks.start..mid), || self.sum(mid..blocks.end));
        sums.iter_mut().zip(&s2).for_each(|(a, b)| *a += b);
        cross.iter_mut().zip(&c2).for_each(|(a, b)| *a += b);
        (sums, cross)
    }

    fn leaf(&self, blocks: Range<usize>) -> (Vec<f64>, Vec<f64>) {
        let (c, n, cp, block) = (self.c, self.n, self.cp, self.block);
        let mut sums = vec![0f64; c];
        let mut cross = vec![0f64; cp * cp];
        SCRATCH.with_borrow_mut(|scratch| {
            if scratch.len() < cp * block {
                scratch.resize(cp * block, 0.0);
            }
            // Rows c..cp are padding: zero (a row below c is written up to its padded
            // length before each block's products read it).
            scratch[c * block..cp * block].fill(0.0);
            for b in blocks {
                if crate::progress::stopped(&self.stop) {
                    break;
                }
                let start = b * block;
                let len = block.min(n - start);
                let padded = len.next_multiple_of(LANES);
                for (i, row) in scratch.chunks_exact_mut(block).take(c).enumerate() {
                    sums[i] += widen(&self.x[i * n + start..][..len], self.shift[i], &mut row[..padded]);
                }
                for (t, rows) in cross.chunks_exact_mut(TILE * cp).enumerate() {
                    cross_rows(self.isa, scratch, block, padded, t * TILE, rows);
                }
            }
        });
        (sums, cross)
    }
}

/// Writes `src − shift` widened to f64 into `dst` (zeros past `src.len()`); returns its sum.
fn widen(src: &[f32], shift: f64, dst: &mut [f64]) -> f64 {
    let full = src.len() / LANES * LANES;
    let mut lanes = [0f64; LANES];
    for (d, s) in dst[..full].chunks_exact_mut(LANES).zip(src[..full].chunks_exact(LANES)) {
        for l in 0..LANES {
            let v = s[l] as f64 - shift;
            d[l] = v;
            lanes[l] += v;
        }
    }
    let mut rest = 0.0;
    for (d, &s) in dst[full..src.len()].iter_mut().zip(&src[full..]) {
        let v = s as f64 - shift;
        *d = v;
        rest += v;
    }
    dst[src.len()..].fill(0.0);
    lanes.iter().sum::<f64>() + rest
}

/// Adds to `rows` (rows `ib .. ib + TILE` of a row-major matrix with `S`'s row count as
/// its width) the tiles `(ib, jb)`, `jb ≤ ib`, of `S Sᵀ`, where `S` is rows of `stride`
/// values of which the first `len` count (`len` a multiple of [`LANES`]; `ib` of [`TILE`]).
pub(crate) fn cross_rows(isa: Isa, s: &[f64], stride: usize, len: usize, ib: usize, rows: &mut [f64]) {
    cross_shape(s, stride, len, ib, rows);
    match isa {
        // SAFETY: `Isa::Avx512` and `Isa::Avx2` are only produced (by `Isa::available`) when
        // the CPU has those features.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { super::avx512::cross_rows(s, stride, len, ib, rows) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { super::avx2::cross_rows(s, stride, len, ib, rows) },
        Isa::Portable => cross_portable::<false>(s, stride, len, ib, rows),
    }
}

/// Checks the shapes [`cross_rows`] promises its kernels (they index by pointer within
/// them) and returns the padded channel count `cp`.
pub(crate) fn cross_shape(s: &[f64], stride: usize, len: usize, ib: usize, rows: &[f64]) -> usize {
    let cp = rows.len() / TILE;
    assert!(len.is_multiple_of(LANES) && len <= stride && ib.is_multiple_of(TILE) && ib < cp);
    assert!(s.len() >= cp * stride && rows.len() == TILE * cp);
    cp
}

/// Four-lane dot products, `TILE × TILE` at a time; `FMA` fuses the multiply-adds.
#[inline(always)]
fn cross_portable<const FMA: bool>(s: &[f64], stride: usize, len: usize, ib: usize, rows: &mut [f64]) {
    const L: usize = 4;
    let cp = rows.len() / TILE;
    for p0 in (0..len).step_by(STRETCH) {
        let plen = STRETCH.min(len - p0);
        let a: [&[f64]; TILE] = std::array::from_fn(|i| &s[(ib + i) * stride + p0..][..plen]);
        for jb in (0..=ib).step_by(TILE) {
            let b: [&[f64]; TILE] = std::array::from_fn(|j| &s[(jb + j) * stride + p0..][..plen]);
            let mut t = [[[0f64; L]; TILE]; TILE];
            for p in (0..plen).step_by(L) {
                let av: [[f64; L]; TILE] = std::array::from_fn(|i| std::array::from_fn(|l| a[i][p + l]));
                let bv: [[f64; L]; TILE] = std::array::from_fn(|j| std::array::from_fn(|l| b[j][p + l]));
                for i in 0..TILE {
                    for j in 0..TILE {
                        for l in 0..L {
                            t[i][j][l] = if FMA {
                                av[i][l].mul_add(bv[j][l], t[i][j][l])
                            } else {
                                av[i][l] * bv[j][l] + t[i][j][l]
                            };
                        }
                    }
                }
            }
            for i in 0..TILE {
                for j in 0..TILE {
                    rows[i * cp + jb + j] += t[i][j].iter().sum::<f64>();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean and centred cross-products the plain way, in f64.
    fn naive(x: &[f32], c: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
        let mean: Vec<f64> = x.chunks_exact(n).map(|r| r.iter().map(|&v| v as f64).sum::<f64>() / n as f64).collect();
        let mut m2 = vec![0f64; c * c];
        for i in 0..c {
            for j in 0..c {
                m2[i * c + j] = (0..n).map(|p| (x[i * n + p] as f64 - mean[i]) * (x[j * n + p] as f64 - mean[j])).sum();
            }
        }
        (mean, m2)
    }

    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                // An offset far from zero per channel-ish stretch, as relu features have.
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 3.0 + (i % 7) as f32 * 10.0
            })
            .collect()
    }

    #[test]
    fn every_kernel_matches_the_naive_sums_at_odd_sizes() {
        for (c, n) in
            [(1, 1), (3, 5), (5, 77), (6, 4096 + 3), (13, 1000), (64, 9), (67, 2 * 1024 + 131), (3, 9 * 4096 + 5)]
        {
            let x = values(c * n, (c * 131 + n) as u64);
            let (mean, m2) = naive(&x, c, n);
            let scale = m2.iter().fold(1.0f64, |a, v| a.max(v.abs()));
            for isa in Isa::available() {
                let (gm, g2) = moments_with(isa, &x, c, n);
                for (a, b) in gm.iter().zip(&mean) {
                    assert!((a - b).abs() < 1e-12 * b.abs().max(1.0), "{isa:?} {c}×{n}: mean {a} vs {b}");
                }
                for (k, (a, b)) in g2.iter().zip(&m2).enumerate() {
                    assert!((a - b).abs() < 1e-12 * scale, "{isa:?} {c}×{n}: m2[{k}] {a} vs {b}");
                }
            }
        }
    }

    /// The AVX2 kernel sums exactly as the portable one with fused multiply-adds did.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_cross_products_equal_the_portable_ones_bit_for_bit() {
        if !Isa::available().contains(&Isa::Avx2) {
            return;
        }
        let (cp, stride, len) = (12, 1100, 1096);
        let s: Vec<f64> = values(cp * stride, 5).iter().map(|&v| v as f64 - 20.0).collect();
        for ib in (0..cp).step_by(TILE) {
            let mut want = vec![0.5f64; TILE * cp];
            let mut got = want.clone();
            // SAFETY: AVX2 and FMA are available (checked above).
            unsafe {
                #[target_feature(enable = "avx2,fma")]
                fn portable(s: &[f64], stride: usize, len: usize, ib: usize, rows: &mut [f64]) {
                    cross_portable::<true>(s, stride, len, ib, rows)
                }
                portable(&s, stride, len, ib, &mut want);
                super::super::avx2::cross_rows(&s, stride, len, ib, &mut got);
            }
            assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "tile row {ib}");
        }
    }

    #[test]
    fn constant_channels_have_exactly_zero_spread() {
        let (c, n) = (5, 3001);
        let x: Vec<f32> = (0..c * n).map(|i| (i / n) as f32 * 0.37 + 100.0).collect();
        for isa in Isa::available() {
            let (mean, m2) = moments_with(isa, &x, c, n);
            assert!(m2.iter().all(|&v| v == 0.0), "{isa:?}: {m2:?}");
            for (i, m) in mean.iter().enumerate() {
                assert_eq!(*m, (i as f32 * 0.37 + 100.0) as f64);
            }
        }
    }
}
