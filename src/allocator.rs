//! The crate's global allocator: the system's, except that on Unix large blocks are mapped
//! page by page and, when freed, kept for reuse instead of going back to the operating
//! system at once.
//!
//! A stylization's large values (the encoder's taps handed to tensors, the transformed
//! features, tiles, decoded images) live one level and are freed. The system allocator maps
//! each such block afresh and unmaps it on free, so every level pays a page fault and the
//! kernel's zeroing for every page again: a 1024² stylization spent about a third of its
//! CPU time in the kernel, and the convolutions writing fresh activations slowed down with
//! it. Here a freed block is kept; a later request takes the smallest kept block that fits
//! and the rest of that block stays kept, and neighbouring kept blocks merge again, so
//! memory freed by one level serves the next whatever their sizes.
//!
//! Keeping costs no peak memory: when no kept run fits a request, kept runs as large as the
//! request go back (smallest first) before new pages are mapped, so pages on loan and kept
//! together never exceed the most ever on loan at once. At most [`MAX_KEPT_BYTES`] are kept
//! (the largest runs give up their ends first) in at most [`MAX_KEPT`] pieces. [`release`] gives everything kept back (a C ABI context's end
//! does), and [`kept_bytes`] tells the memory budget what is reusable. Because the
//! allocator is the crate's, a host that loads the library keeps its own. Elsewhere than on
//! Unix every request goes to the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
#[cfg(unix)]
use std::sync::Mutex;

/// Requests of at least this many bytes get pages of their own, kept when freed.
pub const LARGE: usize = 4 << 20;
/// Bytes kept at most.
pub const MAX_KEPT_BYTES: usize = 1 << 30;
/// Separate pieces kept at most.
pub const MAX_KEPT: usize = 32;
/// Large blocks are sized in steps of this (a huge page).
const STEP: usize = 2 << 20;
/// Alignment a large block gives (its start is page-aligned; the caller's part follows a
/// header of at least 64 bytes holding the block's size).
const MAX_ALIGN: usize = 4096;

/// The allocator (see the module documentation).
pub struct Recycling;

/// A run of pages: its start and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pages {
    base: usize,
    bytes: usize,
}

const NONE: Pages = Pages { base: 0, bytes: 0 };

/// Pages to unmap once the shelf's lock is released.
#[cfg_attr(not(unix), allow(dead_code))]
struct Unmap {
    list: [Pages; MAX_KEPT + 2],
    len: usize,
}

#[cfg_attr(not(unix), allow(dead_code))]
impl Unmap {
    fn new() -> Self {
        Self { list: [NONE; MAX_KEPT + 2], len: 0 }
    }

    fn push(&mut self, p: Pages) {
        self.list[self.len] = p;
        self.len += 1;
    }

    fn run(&self) {
        for p in &self.list[..self.len] {
            pages::unmap(*p);
        }
    }
}

/// Kept runs of pages, sorted by address, never adjacent (neighbours merge).
#[cfg_attr(not(unix), allow(dead_code))]
struct Shelf {
    runs: [Pages; MAX_KEPT],
    len: usize,
    bytes: usize,
}

#[cfg_attr(not(unix), allow(dead_code))]
impl Shelf {
    const fn new() -> Self {
        Self { runs: [NONE; MAX_KEPT], len: 0, bytes: 0 }
    }

    fn remove(&mut self, i: usize) -> Pages {
        let p = self.runs[i];
        self.runs.copy_within(i + 1..self.len, i);
        self.len -= 1;
        self.bytes -= p.bytes;
        p
    }

    fn insert(&mut self, i: usize, p: Pages) {
        self.runs.copy_within(i..self.len, i + 1);
        self.runs[i] = p;
        self.len += 1;
        self.bytes += p.bytes;
    }

    /// `need` bytes from the smallest kept run that has them; the rest stays kept.
    fn take(&mut self, need: usize) -> Option<Pages> {
        let i = (0..self.len).filter(|&i| self.runs[i].bytes >= need).min_by_key(|&i| self.runs[i].bytes)?;
        let r = &mut self.runs[i];
        let got = Pages { base: r.base, bytes: need };
        if r.bytes == need {
            self.remove(i);
        } else {
            r.base += need;
            r.bytes -= need;
            self.bytes -= need;
        }
        Some(got)
    }

    /// Lets kept runs go, smallest first, until `need` bytes have gone (or none is left):
    /// a request that no kept run fits maps new pages in their stead, so that the pages on
    /// loan and kept together never grow past the most ever on loan at once.
    fn give_up(&mut self, need: usize, out: &mut Unmap) {
        let mut gone = 0;
        while gone < need && self.len > 0 {
            let s = (0..self.len).min_by_key(|&j| self.runs[j].bytes).expect("len > 0");
            let p = self.remove(s);
            gone += p.bytes;
            out.push(p);
        }
    }

    /// Keeps `p`, merging it with its neighbours; what goes over the bounds is put in `out`.
    fn keep(&mut self, p: Pages, out: &mut Unmap) {
        let i = self.runs[..self.len].partition_point(|r| r.base < p.base);
        let joins_prev = i > 0 && self.runs[i - 1].base + self.runs[i - 1].bytes == p.base;
        let joins_next = i < self.len && p.base + p.bytes == self.runs[i].base;
        match (joins_prev, joins_next) {
            (true, true) => {
                let next = self.remove(i);
                self.runs[i - 1].bytes += p.bytes + next.bytes;
                self.bytes += p.bytes + next.bytes;
            }
            (true, false) => {
                self.runs[i - 1].bytes += p.bytes;
                self.bytes += p.bytes;
            }
            (false, true) => {
                self.runs[i].base = p.base;
                self.runs[i].bytes += p.bytes;
                self.bytes += p.bytes;
            }
            (false, false) => {
                if self.len == MAX_KEPT {
                    // No room for another piece: the smallest goes.
                    let s = (0..self.len).min_by_key(|&j| self.runs[j].bytes).expect("full");
                    if self.runs[s].bytes >= p.bytes {
                        out.push(p);
                        return;
                    }
                    out.push(self.remove(s));
                }
                let i = self.runs[..self.len].partition_point(|r| r.base < p.base);
                self.insert(i, p);
            }
        }
        // Over the byte bound: the largest runs give up their ends.
        while self.bytes > MAX_KEPT_BYTES {
            let l = (0..self.len).max_by_key(|&j| self.runs[j].bytes).expect("bytes > 0");
            let cut = (self.bytes - MAX_KEPT_BYTES).min(self.runs[l].bytes);
            if cut == self.runs[l].bytes {
                out.push(self.remove(l));
            } else {
                let r = &mut self.runs[l];
                r.bytes -= cut;
                out.push(Pages { base: r.base + r.bytes, bytes: cut });
                self.bytes -= cut;
            }
        }
    }
}

#[cfg(unix)]
static SHELF: Mutex<Shelf> = Mutex::new(Shelf::new());

#[cfg(unix)]
fn shelf() -> std::sync::MutexGuard<'static, Shelf> {
    // Nothing in a critical section panics; a poisoned lock still holds a consistent shelf.
    SHELF.lock().unwrap_or_else(|e| e.into_inner())
}

/// The operating system's page mappings.
mod pages {
    use super::Pages;

    /// `bytes` (a multiple of [`super::STEP`]) of fresh zeroed pages starting on a huge-page
    /// boundary, asking Linux for transparent huge pages (a convolution walking many
    /// channel planes at once misses the TLB on every plane with 4 KiB pages), or `None`.
    #[cfg(unix)]
    pub fn map(bytes: usize) -> Option<usize> {
        let step = super::STEP;
        let len = bytes.checked_add(step)?;
        // SAFETY: an anonymous private mapping touches no existing memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANON,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        let start = p as usize;
        let base = start.next_multiple_of(step);
        // The unaligned head and the tail beyond `bytes` go back at once.
        if base > start {
            unmap(Pages { base: start, bytes: base - start });
        }
        if start + len > base + bytes {
            unmap(Pages { base: base + bytes, bytes: start + len - (base + bytes) });
        }
        #[cfg(target_os = "linux")]
        // SAFETY: MADV_HUGEPAGE only changes how later faults in our own fresh range are
        // served; failure (THP off) is harmless.
        unsafe {
            libc::madvise(base as *mut libc::c_void, bytes, libc::MADV_HUGEPAGE);
        }
        Some(base)
    }

    /// Gives the pages back.
    #[cfg(unix)]
    pub fn unmap(p: Pages) {
        // SAFETY: `p` is a page-aligned run this allocator mapped and nobody uses any more.
        unsafe { libc::munmap(p.base as *mut libc::c_void, p.bytes) };
    }

    #[cfg(not(unix))]
    pub fn unmap(_: Pages) {}
}

/// Offset of the caller's memory in a large block: room for the size word, keeping the
/// caller's alignment.
fn header(align: usize) -> usize {
    align.max(64)
}

fn is_large(layout: &Layout) -> bool {
    cfg!(unix) && layout.size() >= LARGE && layout.align() <= MAX_ALIGN
}

/// Size of the block a large `layout` needs.
fn block_bytes(layout: &Layout) -> Option<usize> {
    layout.size().checked_add(header(layout.align()))?.checked_next_multiple_of(STEP)
}

impl Recycling {
    /// A large block for `layout`, kept pages or new ones (`zeroed`: cleared when kept).
    /// Returns the caller's pointer.
    #[cfg(unix)]
    unsafe fn alloc_large(&self, layout: Layout, zeroed: bool) -> *mut u8 {
        let Some(need) = block_bytes(&layout) else { return std::ptr::null_mut() };
        let hdr = header(layout.align());
        let mut out = Unmap::new();
        let kept = {
            let mut shelf = shelf();
            let kept = shelf.take(need);
            if kept.is_none() {
                shelf.give_up(need, &mut out);
            }
            kept
        };
        out.run();
        let base = match kept {
            Some(p) => {
                if zeroed {
                    // SAFETY: the pages are ours, `need ≥ hdr + size`.
                    unsafe { (p.base as *mut u8).add(hdr).write_bytes(0, layout.size()) };
                }
                p.base
            }
            None => match pages::map(need) {
                Some(b) => b,
                None => return std::ptr::null_mut(),
            },
        } as *mut u8;
        // SAFETY: the block starts page-aligned with `hdr` ≥ 64 bytes before the caller's part,
        // which keeps any alignment up to 4096.
        unsafe {
            (base as *mut usize).write(need);
            base.add(hdr)
        }
    }

    /// Frees a large block given the caller's pointer and layout.
    #[cfg(unix)]
    unsafe fn dealloc_large(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc_large` with this layout, so the block starts
        // `header` bytes before it with its size in the first word.
        let p = unsafe {
            let base = ptr.sub(header(layout.align()));
            Pages { base: base as usize, bytes: (base as *const usize).read() }
        };
        let mut out = Unmap::new();
        shelf().keep(p, &mut out);
        out.run();
    }

    #[cfg(not(unix))]
    unsafe fn alloc_large(&self, layout: Layout, zeroed: bool) -> *mut u8 {
        // SAFETY: as the trait asks (never reached: nothing is large here).
        unsafe {
            if zeroed {
                System.alloc_zeroed(layout)
            } else {
                System.alloc(layout)
            }
        }
    }

    #[cfg(not(unix))]
    unsafe fn dealloc_large(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as the trait asks (never reached: nothing is large here).
        unsafe { System.dealloc(ptr, layout) }
    }
}

// SAFETY: small requests go to the system allocator unchanged; a large one gets pages of
// its own (header + at least `size` bytes, aligned as asked) that are never handed out twice
// at once: a page is on loan, kept on the shelf, or unmapped.
unsafe impl GlobalAlloc for Recycling {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_large(&layout) {
            // SAFETY: as the trait asks.
            unsafe { self.alloc_large(layout, false) }
        } else {
            // SAFETY: as the trait asks.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_large(&layout) {
            // SAFETY: as the trait asks.
            unsafe { self.alloc_large(layout, true) }
        } else {
            // SAFETY: as the trait asks.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_large(&layout) {
            // SAFETY: as the trait asks.
            unsafe { self.dealloc_large(ptr, layout) }
        } else {
            // SAFETY: as the trait asks.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the trait's contract makes this layout valid.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !is_large(&layout) && !is_large(&new) {
            // SAFETY: as the trait asks.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        if is_large(&layout) && is_large(&new) && block_bytes(&layout) == block_bytes(&new) {
            // The block already has room.
            return ptr;
        }
        // SAFETY: as the trait asks; the copy covers what both sizes hold.
        unsafe {
            let p = self.alloc(new);
            if !p.is_null() {
                std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            p
        }
    }
}

/// Bytes kept for reuse now (memory the process holds but may count as available).
pub fn kept_bytes() -> u64 {
    #[cfg(unix)]
    let kept = shelf().bytes as u64;
    #[cfg(not(unix))]
    let kept = 0;
    kept
}

/// Gives every kept page back to the operating system.
pub fn release() {
    #[cfg(unix)]
    {
        let mut out = Unmap::new();
        {
            let mut s = shelf();
            for p in &s.runs[..s.len] {
                out.push(*p);
            }
            s.len = 0;
            s.bytes = 0;
        }
        out.run();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // These tests run with this allocator as the global one, beside other tests: they check
    // single blocks and a private shelf, not the global shelf's totals.

    #[test]
    fn large_blocks_hold_their_values_and_come_zeroed_when_asked() {
        let mut a: Vec<u8> = vec![7; 16 << 20];
        a[123] = 9;
        let b: Vec<u8> = vec![0; 12 << 20];
        assert!(a.iter().enumerate().all(|(i, &x)| x == if i == 123 { 9 } else { 7 }));
        drop(a);
        // Whether or not it reuses a's pages, zeroed memory is zero.
        let c: Vec<u8> = vec![0; 16 << 20];
        assert!(c.iter().all(|&x| x == 0), "zeroed memory from kept pages");
        assert!(b.iter().all(|&x| x == 0));
    }

    #[test]
    fn growing_and_shrinking_keeps_the_values() {
        let mut v: Vec<u64> = (0..100).collect();
        v.reserve(1 << 20); // small → large
        assert!(v.capacity() * 8 >= LARGE);
        v.extend(100..(1 << 20));
        v.reserve(4 << 20); // large → larger
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
        v.truncate(50);
        v.shrink_to_fit(); // large → small
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
    }

    #[test]
    fn alignment_is_kept() {
        for align in [8usize, 64, 4096] {
            let layout = Layout::from_size_align(LARGE + 1, align).unwrap();
            // SAFETY: non-zero size; freed with the same layout.
            unsafe {
                let p = Recycling.alloc(layout);
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0);
                p.write_bytes(1, layout.size());
                Recycling.dealloc(p, layout);
            }
        }
    }

    const M: usize = STEP;

    fn runs(s: &Shelf) -> Vec<(usize, usize)> {
        s.runs[..s.len].iter().map(|p| (p.base / M, p.bytes / M)).collect()
    }

    #[test]
    fn kept_runs_split_and_merge() {
        let mut s = Shelf::new();
        let mut out = Unmap::new();
        s.keep(Pages { base: 10 * M, bytes: 4 * M }, &mut out);
        s.keep(Pages { base: 20 * M, bytes: 2 * M }, &mut out);
        // Smallest that fits: the 2-run serves 2, the 4-run serves 3 and keeps 1.
        assert_eq!(s.take(2 * M), Some(Pages { base: 20 * M, bytes: 2 * M }));
        assert_eq!(s.take(3 * M), Some(Pages { base: 10 * M, bytes: 3 * M }));
        assert_eq!(runs(&s), vec![(13, 1)]);
        assert_eq!(s.take(5 * M), None);
        // Freed neighbours merge on both sides.
        s.keep(Pages { base: 10 * M, bytes: 3 * M }, &mut out);
        assert_eq!(runs(&s), vec![(10, 4)]);
        s.keep(Pages { base: 15 * M, bytes: M }, &mut out);
        s.keep(Pages { base: 14 * M, bytes: M }, &mut out);
        assert_eq!(runs(&s), vec![(10, 6)]);
        assert_eq!((s.bytes, out.len), (6 * M, 0));
    }

    #[test]
    fn the_shelf_is_bounded() {
        let mut s = Shelf::new();
        let mut out = Unmap::new();
        // Pieces: the smallest goes when there is no room for another.
        for i in 0..MAX_KEPT {
            s.keep(Pages { base: (3 * i + 100) * M, bytes: M + (i % 2) * M }, &mut out);
        }
        s.keep(Pages { base: 5000 * M, bytes: 2 * M }, &mut out);
        assert_eq!((s.len, out.len), (MAX_KEPT, 1));
        assert_eq!(out.list[0].bytes, M);
        // Bytes: the largest run gives up its end.
        let mut s = Shelf::new();
        let mut out = Unmap::new();
        s.keep(Pages { base: 0, bytes: MAX_KEPT_BYTES - 4 * M }, &mut out);
        s.keep(Pages { base: 1 << 40, bytes: 10 * M }, &mut out);
        assert_eq!(s.bytes, MAX_KEPT_BYTES);
        assert_eq!(out.list[..out.len], [Pages { base: MAX_KEPT_BYTES - 10 * M, bytes: 6 * M }]);
        assert_eq!(runs(&s), vec![(0, MAX_KEPT_BYTES / M - 10), (1 << 40 >> 21, 10)]);
    }
}
