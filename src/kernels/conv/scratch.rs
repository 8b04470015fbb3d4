//! Per-thread scratch for the convolution workers, kept between calls: the gathered input
//! bands, Winograd-domain tiles and accumulators of one task are reused by every later task,
//! layer, level and run on the same thread instead of being allocated (and faulted in) anew.
//! Each thread's scratch grows to the largest blocking it has run and stays bounded by it.

use std::cell::RefCell;

thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Floats each part is rounded up to, so every part starts 64-byte aligned relative to the
/// scratch's start.
const ALIGN: usize = 16;

/// Runs `f` with `N` disjoint scratch slices of the given lengths. Their contents are what
/// an earlier task left (zero when new): callers write before they read, or only read
/// values that end up discarded.
pub(crate) fn with<const N: usize, R>(lens: [usize; N], f: impl FnOnce([&mut [f32]; N]) -> R) -> R {
    let total: usize = lens.iter().map(|l| l.next_multiple_of(ALIGN)).sum();
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut v) => {
            if v.len() < total {
                v.resize(total, 0.0);
            }
            f(split(&mut v[..total], lens))
        }
        // Re-entered on this thread (never by the drivers): a scratch of its own.
        Err(_) => f(split(&mut vec![0f32; total], lens)),
    })
}

/// Cuts `rest` into parts of `lens` floats, each starting at a multiple of `ALIGN`.
fn split<const N: usize>(mut rest: &mut [f32], lens: [usize; N]) -> [&mut [f32]; N] {
    let mut parts: [&mut [f32]; N] = std::array::from_fn(|_| Default::default());
    for (part, &len) in parts.iter_mut().zip(&lens) {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(len.next_multiple_of(ALIGN));
        *part = &mut head[..len];
        rest = tail;
    }
    parts
}

#[cfg(test)]
mod tests {
    #[test]
    fn parts_are_disjoint_and_reused() {
        let first = super::with([3, 20, 1], |[a, b, c]| {
            assert_eq!((a.len(), b.len(), c.len()), (3, 20, 1));
            a.fill(1.0);
            b.fill(2.0);
            c.fill(3.0);
            b.as_ptr()
        });
        let again = super::with([3, 20], |[a, b]| {
            assert_eq!((a[0], b[19]), (1.0, 2.0), "the same memory, as left");
            super::with([4], |[inner]| assert_eq!(inner.len(), 4));
            b.as_ptr()
        });
        assert_eq!(first, again);
    }
}
