//! Activation buffers reused across layers, levels and runs.
//!
//! A fresh multi-megabyte buffer costs one page fault per 4 KiB page on first touch, and a
//! freed one goes straight back to the operating system (glibc unmaps large blocks), so a
//! network that allocates every layer's output anew spends a large share of its time in the
//! kernel. A [`BufferPool`] (one per model, i.e. per context) keeps the buffers a pass has
//! released and hands them to the next layer, level or run: after the first run, the
//! encoder and decoders touch no fresh memory for their activations.
//!
//! The pool keeps at most [`MAX_KEPT`] buffers; a request that no kept buffer fits replaces
//! the largest one that is too small, so what it holds follows the sizes in use rather than
//! every size ever seen; dropping the model gives everything back.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Buffers the pool keeps at most (an encoder or decoder pass holds two at a time, a
/// stylization with a tap a third; concurrent runs on one model share the rest).
pub const MAX_KEPT: usize = 10;

/// Buffers at least this large (bytes) ask for transparent huge pages on Linux.
#[cfg(target_os = "linux")]
const HUGE_MIN_BYTES: usize = 4 << 20;

/// Released buffers, ready for reuse.
#[derive(Debug, Default)]
pub struct BufferPool {
    free: Mutex<Vec<Vec<f32>>>,
}

/// A buffer of `len` floats on loan from a pool; it returns there when dropped. Its contents
/// are whatever the previous user left: callers write every value they later read.
pub struct Buffer<'p> {
    data: Vec<f32>,
    len: usize,
    pool: &'p BufferPool,
}

impl BufferPool {
    #[cfg(test)]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<f32>>> {
        // A panic while holding the lock cannot leave the list inconsistent (push/remove only).
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A buffer of `len` floats: the smallest kept one that fits, or a new one (an error,
    /// not an abort, when memory runs out).
    pub fn take(&self, len: usize) -> Result<Buffer<'_>> {
        let reused = {
            let mut free = self.lock();
            let fit = (0..free.len()).filter(|&i| free[i].len() >= len).min_by_key(|&i| free[i].len());
            match fit {
                Some(i) => Some(free.swap_remove(i)),
                None => {
                    // Nothing fits: the largest kept buffer is too small, so let it go.
                    if let Some(i) = (0..free.len()).max_by_key(|&i| free[i].len()) {
                        drop(free.swap_remove(i));
                    }
                    None
                }
            }
        };
        let data = match reused {
            Some(v) => v,
            None => zeroed(len)?,
        };
        Ok(Buffer { data, len, pool: self })
    }

    fn put(&self, v: Vec<f32>) {
        let mut free = self.lock();
        free.push(v);
        if free.len() > MAX_KEPT {
            if let Some(i) = (0..free.len()).min_by_key(|&i| free[i].len()) {
                drop(free.swap_remove(i));
            }
        }
    }

    /// Floats currently kept for reuse (not counting buffers on loan).
    #[cfg(test)]
    pub fn kept(&self) -> usize {
        self.lock().iter().map(Vec::len).sum()
    }

    /// Gives every kept buffer back to the allocator.
    #[cfg(test)]
    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// A zero-filled vector of `len` floats, asking for huge pages when large.
pub(crate) fn zeroed(len: usize) -> Result<Vec<f32>> {
    let mut v = with_capacity(len)?;
    v.resize(len, 0.0);
    Ok(v)
}

/// An empty vector with room for `len` floats, asking for huge pages when large (before
/// anything is written, so that the first touch maps 2 MiB pages, not 4 KiB ones).
pub(crate) fn with_capacity(len: usize) -> Result<Vec<f32>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::Limits {
        what: "activation memory".into(),
        reason: format!("cannot allocate {} MiB", len.saturating_mul(4) >> 20),
    })?;
    #[cfg(target_os = "linux")]
    advise_huge(v.as_ptr() as usize, len * std::mem::size_of::<f32>());
    Ok(v)
}

/// A copy of `src` in memory that asks for huge pages when large.
pub(crate) fn copied(src: &[f32]) -> Result<Vec<f32>> {
    let mut v = with_capacity(src.len())?;
    v.extend_from_slice(src);
    Ok(v)
}

/// Asks for transparent huge pages over the 2 MiB-aligned part of `start .. start + bytes`.
#[cfg(target_os = "linux")]
pub(crate) fn advise_huge(start: usize, bytes: usize) {
    const HUGE: usize = 2 << 20;
    if bytes < HUGE_MIN_BYTES {
        return;
    }
    let first = start.div_ceil(HUGE) * HUGE;
    let end = (start + bytes) / HUGE * HUGE;
    if end > first {
        // SAFETY: `first..end` lies inside an allocation the caller owns; MADV_HUGEPAGE only
        // changes how future page faults in that range are served, never the contents.
        // Failure (e.g. THP disabled) is harmless and ignored.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

impl Buffer<'_> {
    /// Takes the values out of the pool for good (e.g. to hand them to a tensor).
    pub fn into_vec(mut self) -> Vec<f32> {
        let mut v = std::mem::take(&mut self.data);
        v.truncate(self.len);
        v
    }
}

impl Deref for Buffer<'_> {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.data[..self.len]
    }
}

impl DerefMut for Buffer<'_> {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.data[..self.len]
    }
}

impl Drop for Buffer<'_> {
    fn drop(&mut self) {
        if self.data.capacity() > 0 {
            self.pool.put(std::mem::take(&mut self.data));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_smallest_fit_first() {
        let pool = BufferPool::new();
        let (a, b) = (pool.take(1000).unwrap(), pool.take(5000).unwrap());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        drop(a);
        drop(b);
        assert_eq!(pool.kept(), 6000);
        // 900 fits both; the smaller is handed out.
        let c = pool.take(900).unwrap();
        assert_eq!((c.as_ptr(), c.len()), (pa, 900));
        let d = pool.take(4000).unwrap();
        assert_eq!(d.as_ptr(), pb);
        drop((c, d));
        // Nothing fits 8000: the largest kept one (5000) is let go, a new one made.
        let e = pool.take(8000).unwrap();
        assert_eq!(pool.kept(), 1000);
        assert_eq!(e.into_vec().len(), 8000);
        assert_eq!(pool.kept(), 1000, "into_vec leaves the pool");
        pool.clear();
        assert_eq!(pool.kept(), 0);
    }

    #[test]
    fn the_pool_keeps_a_bounded_number() {
        let pool = BufferPool::new();
        let held: Vec<_> = (1..=MAX_KEPT + 3).map(|i| pool.take(i * 10).unwrap()).collect();
        drop(held);
        assert_eq!(pool.lock().len(), MAX_KEPT);
        // The smallest were let go.
        assert!(pool.lock().iter().all(|v| v.len() > 30));
    }

    #[test]
    fn running_out_of_memory_is_an_error() {
        let pool = BufferPool::new();
        assert!(pool.take(usize::MAX / 8).is_err());
    }
}
