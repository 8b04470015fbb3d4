//! Growable C structs: every versioned struct starts with `u32 struct_size` and only ever
//! gains fields at its end. The library reads `min(struct_size, size_of::<T>())` bytes over a
//! copy pre-filled with [`Default`], so fields a host did not pass take their defaults, and
//! accepts larger structs whose unknown tail is all zero bytes.
//!
//! Adding a field is a one-place change: append it to the struct (and the header), give it a
//! value in the struct's `Default` impl, and document it. Never move, resize or remove a
//! field, and never change `V1_SIZE`.

use super::status::{fail, Fail, UNISTYLE_ERR_NULL, UNISTYLE_ERR_VERSION};

/// A `#[repr(C)]` struct starting with `u32 struct_size` whose defaults are its `Default`.
pub(crate) trait Versioned: Copy + Default {
    /// The C name, for messages.
    const C_NAME: &'static str;
    /// Size of the first published version (frozen forever): the end of its last v1 field.
    const V1_SIZE: u32;
    /// Every field after version 1, as `(name, offset, end)` in order: a `struct_size`
    /// ending inside one of them is refused by name.
    const LATER_FIELDS: &'static [(&'static str, u32, u32)];

    /// Defaults with `struct_size` set to this library's size.
    fn current() -> Self;
}

/// The end offset of a field: `offset_of!` plus the field's size.
macro_rules! end_of {
    ($t:ty, $f:ident) => {{
        const fn size_of_return<T, F>(_: fn(&T) -> &F) -> usize {
            std::mem::size_of::<F>()
        }
        (std::mem::offset_of!($t, $f) + size_of_return::<$t, _>(|s: &$t| &s.$f)) as u32
    }};
}
pub(crate) use end_of;

/// Most bytes a host's struct may have beyond this library's: room for many fields of newer
/// versions, yet a garbage `struct_size` (an uninitialised struct) is refused rather than
/// scanned.
pub(crate) const MAX_UNKNOWN_TAIL: usize = 256;

/// Refuses a `struct_size` (at least the v1 size) that ends inside a field, or that runs
/// more than [`MAX_UNKNOWN_TAIL`] bytes past this library's struct.
fn check_size<T: Versioned>(size: u32, what: &str) -> Result<(), Fail> {
    let ours = std::mem::size_of::<T>();
    if let Some((name, start, end)) = T::LATER_FIELDS.iter().find(|&&(_, start, end)| start < size && size < end) {
        return fail(
            UNISTYLE_ERR_VERSION,
            format!(
                "{what}.struct_size {size} ends inside the field `{name}` (bytes {start}..{end}) of {}: \
                 set struct_size to sizeof({}) of the header you build with",
                T::C_NAME,
                T::C_NAME
            ),
        );
    }
    if size as usize > ours + MAX_UNKNOWN_TAIL {
        return fail(
            UNISTYLE_ERR_VERSION,
            format!(
                "{what}.struct_size {size} is more than {MAX_UNKNOWN_TAIL} bytes beyond this library's {} ({ours} bytes): \
                 not a size a header ever had (is the struct initialised?); nothing past byte {ours} was read",
                T::C_NAME
            ),
        );
    }
    Ok(())
}

/// Reads a versioned struct the host passed (`what` names it in messages).
///
/// - `struct_size` < v1 size: `UNISTYLE_ERR_VERSION` (not initialised, or garbage).
/// - v1 size ≤ `struct_size` ≤ this library's size: the bytes given, defaults for the rest;
///   a size ending inside a field is refused naming the field (`UNISTYLE_ERR_VERSION`).
/// - larger than this library knows: accepted when the unknown tail is all zero (the host
///   left newer fields at zero); a non-zero byte there means the host asks for something
///   this library cannot do, refused with `UNISTYLE_ERR_VERSION` rather than ignored. The
///   library reads the host's `struct_size` bytes and never more; a size more than
///   [`MAX_UNKNOWN_TAIL`] bytes beyond this library's struct is taken for garbage (an
///   uninitialised struct) and refused before anything past the known fields is read.
///
/// # Safety
/// `p` must be NULL or point to `struct_size` readable bytes (the host's own struct).
pub(crate) unsafe fn read_versioned<T: Versioned>(p: *const T, what: &str) -> Result<T, Fail> {
    if p.is_null() {
        return fail(UNISTYLE_ERR_NULL, format!("{what} is NULL"));
    }
    // SAFETY: every versioned struct starts with a u32 `struct_size` (the caller's pointer is
    // to such a struct, aligned for it).
    let size = unsafe { *(p as *const u32) };
    let ours = std::mem::size_of::<T>();
    if size < T::V1_SIZE {
        return fail(
            UNISTYLE_ERR_VERSION,
            format!(
                "{what}.struct_size {size} is smaller than {} v1 ({} bytes): set it with the struct's _init function or to sizeof({})",
                T::C_NAME,
                T::V1_SIZE,
                T::C_NAME
            ),
        );
    }
    check_size::<T>(size, what)?;
    let given = (size as usize).min(ours);
    let mut value = T::default();
    // SAFETY: `given` bytes are readable at `p` (≤ struct_size) and writable in `value`
    // (≤ size_of::<T>()); the two do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(p as *const u8, &mut value as *mut T as *mut u8, given) };
    if size as usize > ours {
        // SAFETY: the host's struct spans `size` readable bytes.
        let tail = unsafe { std::slice::from_raw_parts((p as *const u8).add(ours), size as usize - ours) };
        if let Some(i) = tail.iter().position(|&b| b != 0) {
            return fail(
                UNISTYLE_ERR_VERSION,
                format!(
                    "{what}: byte {} is set but this library's {} ends at byte {ours} (struct_size {size}): \
                     the host uses a field of a newer unistyle (library {}); update the library or leave that field 0",
                    ours + i,
                    T::C_NAME,
                    env!("CARGO_PKG_VERSION")
                ),
            );
        }
    }
    Ok(value)
}

/// Fills `*p` with defaults for a host whose struct is `struct_size` bytes: the fields this
/// library knows get their defaults, a longer host struct gets zeros after them, and
/// `struct_size` is set to the host's size so later calls read all of its fields.
///
/// # Safety
/// `p` must be NULL or point to `struct_size` writable bytes.
pub(crate) unsafe fn init_versioned<T: Versioned>(p: *mut T, struct_size: u32, what: &str) -> Result<(), Fail> {
    if p.is_null() {
        return fail(UNISTYLE_ERR_NULL, format!("{what} is NULL"));
    }
    if struct_size < T::V1_SIZE {
        return fail(
            UNISTYLE_ERR_VERSION,
            format!("struct_size {struct_size} is smaller than {} v1 ({} bytes)", T::C_NAME, T::V1_SIZE),
        );
    }
    check_size::<T>(struct_size, what)?;
    let value = T::current();
    let ours = std::mem::size_of::<T>();
    let n = (struct_size as usize).min(ours);
    // SAFETY: `p` spans `struct_size` writable bytes; `value` is `ours` readable bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(&value as *const T as *const u8, p as *mut u8, n);
        if struct_size as usize > ours {
            std::ptr::write_bytes((p as *mut u8).add(ours), 0, struct_size as usize - ours);
        }
        *(p as *mut u32) = struct_size;
    }
    Ok(())
}
