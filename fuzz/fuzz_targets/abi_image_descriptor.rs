//! A `unistyle_image` descriptor built from fuzz bytes, through the C ABI's validation and
//! its conversions (to a picture, to a mask, and writing a picture back).
//!
//! The ABI cannot know the size of the host's buffer, so the descriptor is first validated
//! with a dangling pointer (the validation must not touch the pixels), which exercises the
//! size arithmetic on any width, height and stride. Descriptors that pass and whose span
//! is small enough then get a real buffer of exactly that span (plus the misalignment the
//! input asks for): reading or writing one byte outside it is caught by the sanitizer.
//!
//! Input: byte 0 flags, then either compact fields (u16 width, u16 height, u8 channels,
//! u8 sample type, u16 stride padding) or, in wide mode, raw u32/u64 fields; the rest is
//! the pixel bytes, repeated to fill the buffer.
#![no_main]

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ffi::c_void;

use libfuzzer_sys::fuzz_target;
use unistyle::capi::fuzzing::{check_image, image_to_mask, image_to_picture, picture_to_image, IMAGE_V1_SIZE, MAX_SIDE};
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

/// A heap block of exactly `size` bytes (at least 1), 16-byte aligned.
struct Block {
    ptr: *mut u8,
    layout: Layout,
}

impl Block {
    fn new(size: usize, fill: &[u8]) -> Block {
        let layout = Layout::from_size_align(size.max(1), 16).expect("layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        assert!(!ptr.is_null(), "allocation of {size} bytes failed");
        let b = Block { ptr, layout };
        if !fill.is_empty() {
            for (i, v) in b.bytes_mut().iter_mut().enumerate() {
                *v = fill[i % fill.len()];
            }
        }
        b
    }

    fn bytes_mut(&self) -> &mut [u8] {
        // SAFETY: `ptr` owns `layout.size()` initialised bytes.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.layout.size()) }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

fn describe(data: &[u8]) -> (UnistyleImage, u8, bool, &[u8]) {
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
    (d, misalign, flags & 0x01 != 0, inp.bytes)
}

fuzz_target!(|data: &[u8]| {
    let (mut d, misalign, null_data, pixels) = describe(data);

    // A NULL descriptor.
    assert_eq!(unsafe { check_image(std::ptr::null()) }.map_err(|e| e.0), Err(UNISTYLE_ERR_NULL));

    // Validation alone, with a pointer that must not be dereferenced.
    let fake = 0x1000usize + misalign as usize;
    d.data = if null_data { std::ptr::null_mut() } else { fake as *mut c_void };
    let checked = unsafe { check_image(&d) };
    let span = span(&d);
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

    // The conversions, on a buffer of exactly the span.
    let block = Block::new(misalign as usize + span as usize, pixels);
    // SAFETY: misalign < 4 ≤ the block's size whenever span ≥ 1; span 0 means an invalid
    // descriptor, whose pointer is never read.
    d.data = if null_data { std::ptr::null_mut() } else { unsafe { block.ptr.add(misalign as usize) }.cast() };
    let before = block.bytes_mut().to_vec();
    let picture = unsafe { image_to_picture(&d) };
    let mask = unsafe { image_to_mask(&d) };
    assert_eq!(picture.is_ok(), mask.is_ok(), "picture {:?} and mask {:?} disagree", picture.as_ref().err(), mask.as_ref().err());
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
    assert_eq!(unsafe { picture_to_image(&picture, &d) }, Ok(()));
    let after = block.bytes_mut();
    let base = misalign as usize;
    let row = row_bytes(&d).expect("valid") as usize;
    for (i, (a, b)) in before.iter().zip(after.iter()).enumerate() {
        let in_row = i >= base && (i - base) % d.stride < row && (i - base) / d.stride < h;
        if !in_row || d.sample_type != UNISTYLE_F32 {
            assert_eq!(a, b, "byte {i} changed by writing the picture back ({:?})", d);
        }
    }
});
