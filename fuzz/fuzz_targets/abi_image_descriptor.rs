//! A `unistyle_image` descriptor built from fuzz bytes, through the C ABI's validation and
//! its conversions (to a picture, to a mask, and writing a picture back).
//!
//! The ABI cannot know the size of the host's buffer, so the descriptor is first validated
//! with a dangling pointer (the validation must not touch the pixels), which exercises the
//! size arithmetic on any width, height and stride. Descriptors that pass and whose span
//! is small enough then get a real buffer of that span placed against an inaccessible page
//! (exactly, or with the misalignment the input asks for and under 16 bytes of slack):
//! reading or writing past it faults, with or without a sanitizer.
//!
//! Input: byte 0 flags (bit 0 NULL data, bits 1–2 struct size, bit 3 wide, bits 4–5
//! misalignment, bit 6 buffer ending exactly at the guard page, bit 7 short stride), then either compact fields (u16 width, u16 height, u8 channels,
//! u8 sample type, u16 stride padding) or, in wide mode, raw u32/u64 fields; the rest is
//! the pixel bytes, repeated to fill the buffer.
#![no_main]

use std::ffi::c_void;

use libfuzzer_sys::fuzz_target;
use unistyle::capi::fuzzing::{
    check_image, image_to_mask, image_to_picture, picture_to_image, IMAGE_V1_SIZE, MAX_SIDE,
};
use unistyle::capi::{UnistyleImage, UNISTYLE_ERR_NULL, UNISTYLE_F32, UNISTYLE_U16, UNISTYLE_U8};

/// Largest buffer given to a descriptor that passes validation.
const MAX_SPAN: u128 = 1 << 18;

struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.bytes.len());
        out[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        out
    }
}

/// Bytes per sample of a valid sample type.
fn sample_size(t: u32) -> Option<u128> {
    match t {
        UNISTYLE_U8 => Some(1),
        UNISTYLE_U16 => Some(2),
        UNISTYLE_F32 => Some(4),
        _ => None,
    }
}

/// Bytes of one row, computed independently of the library, without overflow.
fn row_bytes(d: &UnistyleImage) -> Option<u128> {
    Some(d.width as u128 * d.channels as u128 * sample_size(d.sample_type)?)
}

/// The bytes a descriptor spans: `stride × (height − 1) + row`.
fn span(d: &UnistyleImage) -> Option<u128> {
    let row = row_bytes(d)?;
    (d.height > 0).then(|| d.stride as u128 * (d.height as u128 - 1) + row)
}

/// A buffer that ends at an inaccessible page, so that reading or writing one byte past it
/// faults even without a sanitizer. `data()` is where the descriptor points: either exactly
/// `span` bytes before the guard page (its alignment then follows from the span), or 16-byte
/// aligned plus `misalign` (leaving under 16 bytes of slack before the guard page).
/// `bytes_mut()` runs from `misalign` bytes before `data()` to the guard page.
struct Block {
    map: *mut u8,
    map_len: usize,
    start: usize,
    data: usize,
    guard: usize,
}

impl Block {
    fn new(span: usize, misalign: usize, exact_end: bool, fill: &[u8]) -> Block {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).expect("page size");
        let needed = span + misalign + 16;
        let guard = needed.div_ceil(page) * page;
        let map_len = guard + page;
        // SAFETY: an anonymous private mapping; the result is checked.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(map != libc::MAP_FAILED, "mmap of {map_len} bytes failed");
        let map = map.cast::<u8>();
        // SAFETY: `guard` is page-aligned and the page after it lies inside the mapping.
        let rc = unsafe { libc::mprotect(map.add(guard).cast(), page, libc::PROT_NONE) };
        assert_eq!(rc, 0, "mprotect of the guard page failed");
        let data = if exact_end { guard - span } else { ((guard - span - misalign) & !15) + misalign };
        debug_assert!(data + span <= guard && data >= misalign);
        let b = Block { map, map_len, start: data - misalign, data, guard };
        if !fill.is_empty() {
            for (i, v) in b.bytes_mut().iter_mut().enumerate() {
                *v = fill[i % fill.len()];
            }
        }
        b
    }

    fn data(&self) -> *mut c_void {
        // SAFETY: `data` is within the mapping.
        unsafe { self.map.add(self.data) }.cast()
    }

    fn bytes_mut(&self) -> &mut [u8] {
        // SAFETY: `start..guard` is readable and writable memory owned by this block.
        unsafe { std::slice::from_raw_parts_mut(self.map.add(self.start), self.guard - self.start) }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: mapped in `new` with this length.
        unsafe { libc::munmap(self.map.cast(), self.map_len) };
    }
}

struct Described<'a> {
    desc: UnistyleImage,
    misalign: u8,
    null_data: bool,
    exact_end: bool,
    pixels: &'a [u8],
}

/// A descriptor followed by 8 zero bytes, so a `struct_size` of up to v1 + 8 (a host's larger
/// struct) is readable: the library reads `struct_size` bytes.
#[repr(C)]
struct Grown {
    d: UnistyleImage,
    tail: [u8; 8],
}

impl Grown {
    fn new(d: &UnistyleImage) -> Self {
        Grown { d: *d, tail: [0; 8] }
    }

    fn ptr(&self) -> *const UnistyleImage {
        (self as *const Grown).cast()
    }
}

fn describe(data: &[u8]) -> Described<'_> {
    let mut inp = Input { bytes: data };
    let [flags] = inp.take::<1>();
    let wide = flags & 0x08 != 0;
    let misalign = (flags >> 4) & 3;
    let struct_size = match flags & 0x06 {
        0 | 2 => IMAGE_V1_SIZE,
        4 => IMAGE_V1_SIZE + 8,
        _ => u32::from(inp.take::<1>()[0]) % IMAGE_V1_SIZE,
    };
    let mut d = UnistyleImage {
        struct_size,
        width: 0,
        height: 0,
        channels: 0,
        sample_type: 0,
        stride: 0,
        data: std::ptr::null_mut(),
    };
    if wide {
        d.width = u32::from_le_bytes(inp.take());
        d.height = u32::from_le_bytes(inp.take());
        d.channels = u32::from_le_bytes(inp.take());
        d.sample_type = u32::from_le_bytes(inp.take());
        d.stride = u64::from_le_bytes(inp.take()) as usize;
    } else {
        d.width = u16::from_le_bytes(inp.take()).into();
        d.height = u16::from_le_bytes(inp.take()).into();
        d.channels = inp.take::<1>()[0].into();
        d.sample_type = inp.take::<1>()[0].into();
        let pad = u16::from_le_bytes(inp.take()) as u128;
        let row = row_bytes(&d).unwrap_or(d.width as u128 * d.channels as u128);
        // Bit 7: a stride short of the row (rejected), else the row plus padding.
        let stride = if flags & 0x80 != 0 { row.saturating_sub(pad.max(1)) } else { row + pad };
        d.stride = stride.min(usize::MAX as u128) as usize;
    }
    Described { desc: d, misalign, null_data: flags & 0x01 != 0, exact_end: flags & 0x40 != 0, pixels: inp.bytes }
}

fuzz_target!(|data: &[u8]| {
    let Described { desc: mut d, misalign, null_data, exact_end, pixels } = describe(data);

    // A NULL descriptor.
    assert_eq!(unsafe { check_image(std::ptr::null()) }.map_err(|e| e.0), Err(UNISTYLE_ERR_NULL));

    // Validation alone, with a pointer that must not be dereferenced.
    // It has the alignment the real buffer below will have.
    let span = span(&d);
    let align = if exact_end { (16 - span.unwrap_or(0) % 16) as usize % 16 } else { misalign as usize };
    let fake = 0x1000usize + align;
    d.data = if null_data { std::ptr::null_mut() } else { fake as *mut c_void };
    let checked = unsafe { check_image(Grown::new(&d).ptr()) };
    if checked.is_ok() {
        assert!(!null_data);
        assert!(d.struct_size >= IMAGE_V1_SIZE);
        assert!((1..=MAX_SIDE).contains(&d.width) && (1..=MAX_SIDE).contains(&d.height));
        assert!((1..=4).contains(&d.channels));
        let row = row_bytes(&d).expect("accepted sample type");
        assert!(d.stride as u128 >= row, "stride {} below the row of {row} bytes accepted", d.stride);
        let span = span.expect("accepted descriptor has a span");
        assert!(span <= isize::MAX as u128, "span of {span} bytes accepted");
    }
    let Some(span) = span.filter(|&s| s <= MAX_SPAN) else { return };

    // The conversions, on a buffer of the span that ends at (or within 16 bytes of) a guard page.
    let block = Block::new(span as usize, misalign as usize, exact_end, pixels);
    d.data = if null_data { std::ptr::null_mut() } else { block.data() };
    assert_eq!(block.data() as usize % 16, align);
    let before = block.bytes_mut().to_vec();
    let grown = Grown::new(&d);
    let picture = unsafe { image_to_picture(grown.ptr()) };
    let mask = unsafe { image_to_mask(grown.ptr()) };
    assert_eq!(
        picture.is_ok(),
        mask.is_ok(),
        "picture {:?} and mask {:?} disagree",
        picture.as_ref().err(),
        mask.as_ref().err()
    );
    if let Err(e) = &checked {
        let got = picture.as_ref().map(|_| ()).map_err(|e| e.0);
        // Only the pointer (alignment) or the samples (NaN) can change the verdict.
        assert!(got.is_err(), "rejected with a dangling pointer ({e:?}) but accepted with a buffer");
    }
    let Ok(picture) = picture else { return };
    let (w, h) = (d.width as usize, d.height as usize);
    assert_eq!((picture.width, picture.height), (w, h));
    assert_eq!(picture.rgb.len(), 3 * w * h);
    assert_eq!(picture.alpha.as_ref().map(Vec::len), (d.channels % 2 == 0).then_some(w * h));
    assert!(picture.rgb.iter().all(|v| v.is_finite()));
    if d.sample_type != UNISTYLE_F32 {
        assert!(picture.rgb.iter().chain(picture.alpha.iter().flatten()).all(|v| (0.0..=1.0).contains(v)));
    }
    let mask = mask.unwrap_or_default();
    assert_eq!(mask.len(), w * h);
    assert!(mask.iter().all(|v| (0.0..=1.0).contains(v)));

    // Writing the picture back: integer samples come back bit-identical, padding between
    // rows is never touched.
    assert_eq!(unsafe { picture_to_image(&picture, grown.ptr()) }, Ok(()));
    let after = block.bytes_mut();
    let base = misalign as usize; // data() lies `misalign` bytes into bytes_mut()
    let row = row_bytes(&d).expect("valid") as usize;
    for (i, (a, b)) in before.iter().zip(after.iter()).enumerate() {
        let in_row = i >= base && (i - base) % d.stride < row && (i - base) / d.stride < h;
        if !in_row || d.sample_type != UNISTYLE_F32 {
            assert_eq!(a, b, "byte {i} changed by writing the picture back ({:?})", d);
        }
    }
});
