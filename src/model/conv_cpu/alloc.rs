//! Output buffers. A fresh multi-megabyte buffer costs one page fault per 4 KiB page on first
//! touch (a 64 MiB layer output: 16k faults, a sizeable share of a shallow layer's time).
//! On Linux, large buffers ask for transparent huge pages, which cuts that to one fault per
//! 2 MiB; elsewhere this is a plain zeroed allocation.

/// Buffers at least this large (in bytes) ask for huge pages.
#[cfg(target_os = "linux")]
const HUGE_MIN_BYTES: usize = 4 << 20;

/// A zeroed `Vec<f32>` of length `len`.
pub(crate) fn zeroed(len: usize) -> Vec<f32> {
    let v = vec![0f32; len];
    #[cfg(target_os = "linux")]
    advise_huge(&v);
    v
}

#[cfg(target_os = "linux")]
fn advise_huge(v: &[f32]) {
    const HUGE: usize = 2 << 20;
    let bytes = std::mem::size_of_val(v);
    if bytes < HUGE_MIN_BYTES {
        return;
    }
    let start = v.as_ptr() as usize;
    let first = start.div_ceil(HUGE) * HUGE;
    let end = (start + bytes) / HUGE * HUGE;
    if end > first {
        // SAFETY: `first..end` lies inside `v`'s allocation, which stays alive; MADV_HUGEPAGE
        // only changes how future page faults in that range are served, never the contents.
        // Failure (e.g. THP disabled) is harmless and ignored.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}
