//! The AMX instructions the convolutions use, as inline assembly (Rust has no stable AMX
//! intrinsics): tile configuration, loads, stores, zeroing and the bf16 dot product
//! `tdpbf16ps`. Every tile is configured as 16 rows of 64 bytes:
//!
//! - `tmm0..tmm3`: f32 accumulators, 16 positions × 16 output channels, a 2 × 2 block
//!   (positions `0..16`, `16..32` × channels `0..16`, `16..32`);
//! - `tmm4`, `tmm5`: input operands, 16 positions × 32 bf16 input values each;
//! - `tmm6`, `tmm7`: weight operands, 16 pairs of input values × 16 output channels, each
//!   row holding 16 `(k, k + 1)` bf16 pairs (the layout `tdpbf16ps` reads).
//!
//! Callers must have checked [`super::available`] (the CPU has AMX and the kernel lets this
//! process use it) before anything here runs.

use std::arch::asm;

/// Bytes in one tile row.
pub(crate) const ROW_BYTES: usize = 64;
/// Rows in one tile.
pub(crate) const ROWS: usize = 16;
/// bf16 values in one tile row (the input values one product consumes per position).
pub(crate) const K: usize = ROW_BYTES / 2;

/// The 64-byte tile configuration `ldtilecfg` reads (palette 1).
#[repr(C, align(64))]
struct Config([u8; 64]);

impl Config {
    fn uniform() -> Self {
        let mut c = [0u8; 64];
        c[0] = 1; // palette
        for t in 0..8 {
            c[16 + 2 * t..18 + 2 * t].copy_from_slice(&(ROW_BYTES as u16).to_le_bytes());
            c[48 + t] = ROWS as u8;
        }
        Config(c)
    }
}

/// The tiles configured on this thread for as long as it lives; released when dropped (so
/// the thread's extended state goes back to its initial, cheap-to-save form).
pub(crate) struct Tiles(());

impl Tiles {
    /// Configures the tiles.
    ///
    /// # Safety
    /// AMX must be available to this process ([`super::available`]).
    pub(crate) unsafe fn configure() -> Self {
        let cfg = Config::uniform();
        // SAFETY: the caller guarantees AMX; `cfg` is a valid 64-byte palette-1 config.
        unsafe { asm!("ldtilecfg [{}]", in(reg) cfg.0.as_ptr(), options(nostack, readonly)) };
        Tiles(())
    }

    /// Zeroes the four accumulators.
    #[inline(always)]
    pub(crate) fn zero_accumulators(&mut self) {
        // SAFETY: the tiles are configured (`self` exists).
        unsafe { asm!("tilezero tmm0", "tilezero tmm1", "tilezero tmm2", "tilezero tmm3", options(nostack, nomem)) };
    }

    /// One step of the 2 × 2 block: loads the input operands for positions `0..16` (`a0`) and
    /// `16..32` (`a1`), rows `a_stride` bytes apart, and the weight operands for channels
    /// `0..16` (`b`) and `16..32` (`b + 1024` bytes), and accumulates their four products.
    ///
    /// # Safety
    /// `a0`/`a1` must be readable for 16 rows of 64 bytes at `a_stride`, `b` for 2048 bytes.
    #[inline(always)]
    pub(crate) unsafe fn step(&mut self, a0: *const u16, a1: *const u16, a_stride: usize, b: *const u16) {
        // SAFETY: the caller guarantees the operands' memory; the tiles are configured.
        unsafe {
            asm!(
                "tileloadd tmm4, [{a0} + {s}*1]",
                "tileloadd tmm6, [{b} + {bs}*1]",
                "tileloadd tmm7, [{b1} + {bs}*1]",
                "tdpbf16ps tmm0, tmm4, tmm6",
                "tileloadd tmm5, [{a1} + {s}*1]",
                "tdpbf16ps tmm1, tmm4, tmm7",
                "tdpbf16ps tmm2, tmm5, tmm6",
                "tdpbf16ps tmm3, tmm5, tmm7",
                a0 = in(reg) a0,
                a1 = in(reg) a1,
                s = in(reg) a_stride,
                b = in(reg) b,
                b1 = in(reg) b.add(ROWS * K),
                bs = in(reg) ROW_BYTES,
                options(nostack, readonly),
            )
        };
    }

    /// One chunk of the bf16×3 products: `hi·hi + hi·lo + lo·hi` for the 2 × 2 block, the
    /// input's high parts at `a0`/`a1` and low parts `lo` values further, the weights' high
    /// and low tiles at `bh` and `bl` — ten tile loads for twelve products instead of twelve.
    ///
    /// # Safety
    /// As [`Self::step`], for both parts.
    #[inline(always)]
    pub(crate) unsafe fn step3(
        &mut self,
        a0: *const u16,
        a1: *const u16,
        lo: usize,
        a_stride: usize,
        bh: *const u16,
        bl: *const u16,
    ) {
        // SAFETY: the caller guarantees the operands' memory; the tiles are configured.
        unsafe {
            asm!(
                "tileloadd tmm4, [{a0} + {s}*1]",
                "tileloadd tmm6, [{bh} + {bs}*1]",
                "tileloadd tmm7, [{bh1} + {bs}*1]",
                "tdpbf16ps tmm0, tmm4, tmm6",
                "tileloadd tmm5, [{a1} + {s}*1]",
                "tdpbf16ps tmm1, tmm4, tmm7",
                "tdpbf16ps tmm2, tmm5, tmm6",
                "tdpbf16ps tmm3, tmm5, tmm7",
                "tileloadd tmm6, [{bl} + {bs}*1]",
                "tdpbf16ps tmm0, tmm4, tmm6",
                "tileloadd tmm7, [{bl1} + {bs}*1]",
                "tdpbf16ps tmm1, tmm4, tmm7",
                "tdpbf16ps tmm2, tmm5, tmm6",
                "tdpbf16ps tmm3, tmm5, tmm7",
                "tileloadd tmm4, [{a0l} + {s}*1]",
                "tileloadd tmm6, [{bh} + {bs}*1]",
                "tdpbf16ps tmm0, tmm4, tmm6",
                "tileloadd tmm7, [{bh1} + {bs}*1]",
                "tdpbf16ps tmm1, tmm4, tmm7",
                "tileloadd tmm5, [{a1l} + {s}*1]",
                "tdpbf16ps tmm2, tmm5, tmm6",
                "tdpbf16ps tmm3, tmm5, tmm7",
                a0 = in(reg) a0,
                a1 = in(reg) a1,
                a0l = in(reg) a0.add(lo),
                a1l = in(reg) a1.add(lo),
                s = in(reg) a_stride,
                bh = in(reg) bh,
                bh1 = in(reg) bh.add(ROWS * K),
                bl = in(reg) bl,
                bl1 = in(reg) bl.add(ROWS * K),
                bs = in(reg) ROW_BYTES,
                options(nostack, readonly),
            )
        };
    }

    /// Stores the four accumulators to `out`: `out[t]` gets accumulator `t` (positions
    /// `16 * (t / 2)..`, channels `16 * (t % 2)..`) as 16 rows (positions) of 16 f32.
    #[inline(always)]
    pub(crate) fn store(&mut self, out: &mut [[f32; ROWS * 16]; 4]) {
        let p = out.as_mut_ptr() as *mut f32;
        // SAFETY: `out` holds four 16 × 16 f32 tiles, 64-byte rows; the tiles are configured.
        unsafe {
            asm!(
                "tilestored [{p} + {s}*1], tmm0",
                "tilestored [{p1} + {s}*1], tmm1",
                "tilestored [{p2} + {s}*1], tmm2",
                "tilestored [{p3} + {s}*1], tmm3",
                p = in(reg) p,
                p1 = in(reg) p.add(256),
                p2 = in(reg) p.add(512),
                p3 = in(reg) p.add(768),
                s = in(reg) ROW_BYTES,
                options(nostack),
            )
        };
    }
}

impl Drop for Tiles {
    fn drop(&mut self) {
        // SAFETY: the tiles were configured by `configure`.
        unsafe { asm!("tilerelease", options(nostack, nomem)) };
    }
}
