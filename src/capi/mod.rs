//! The C ABI (`plugin-abi/unistyle.h`): a thin, safe shell over the Rust API for image
//! editors. Every entry point runs inside `catch_unwind`, validates every pointer and size,
//! returns a status code and records a message for `unistyle_last_error`. Outputs are
//! written only when a call succeeds.

#![allow(clippy::missing_safety_doc)]

mod clip;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod handles;
mod image;
mod options;
mod status;
mod versioned;

use std::ffi::{c_char, c_int, CStr};
use std::path::PathBuf;
use std::sync::Arc;

pub use clip::UnistyleClip;
pub use clip::UnistyleClipOptions;
use handles::{acquire, release, share, Shared};
pub use handles::{UnistyleContext, UnistyleJob, UnistylePreset, UnistyleStyle};
pub use image::{UnistyleImage, IMAGE_V1_SIZE, UNISTYLE_F32, UNISTYLE_U16, UNISTYLE_U8};
pub use options::{
    ProgressFn, UnistyleRunOptions, UnistyleStyleOptions, UnistyleStylizeOptions, UnistyleTextureOptions,
    UNISTYLE_PRECISION_BF16, UNISTYLE_PRECISION_F32, UNISTYLE_TRANSFORM_OST, UNISTYLE_TRANSFORM_WCT,
};
pub use status::*;

use image::check;
use options::{field_fail, HostProgress};
use status::{fail, guard, guard_void, last_error_ptr, Fail};
use versioned::{init_versioned, read_versioned, Versioned};

use crate::device::parse_device;
use crate::job::{Job, PictureInput, Prepared};
use crate::locate::locate_weights;
use crate::model::Model;
use crate::pipeline::{EncodedStyle, DEFAULT_TILE};
use crate::preset::{Preset, PresetKind};
use crate::progress::Span;
use crate::style_cache::StyleEncoder;

/// Share of a stylize call's progress spent encoding the styles again (stroke scale, patch
/// swap).
const REENCODE_SHARE: f32 = 0.3;

/// Version of the C ABI; bumped on incompatible changes. Structs grow compatibly through
/// their `struct_size` field.
pub const UNISTYLE_ABI_VERSION: u32 = 1;

/// Frozen size of `unistyle_stylize_options` version 1 (the end of `job`).
pub const STYLIZE_OPTIONS_V1_SIZE: u32 = <UnistyleStylizeOptions as Versioned>::V1_SIZE;
/// Frozen size of `unistyle_texture_options` version 1 (the end of `init`).
pub const TEXTURE_OPTIONS_V1_SIZE: u32 = <UnistyleTextureOptions as Versioned>::V1_SIZE;
/// Frozen size of `unistyle_run_options` version 1.
pub const RUN_OPTIONS_V1_SIZE: u32 = <UnistyleRunOptions as Versioned>::V1_SIZE;
/// Frozen size of `unistyle_style_options` version 1.
pub const STYLE_OPTIONS_V1_SIZE: u32 = <UnistyleStyleOptions as Versioned>::V1_SIZE;

/// # Safety
/// `p` must be NULL or a NUL-terminated string.
unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Fail> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: caller guarantees a NUL-terminated string.
    match unsafe { CStr::from_ptr(p) }.to_str() {
        Ok(s) => Ok(Some(s)),
        Err(_) => fail(UNISTYLE_ERR_INVALID, format!("{what} is not valid UTF-8")),
    }
}

/// The live context, style or preset `p`, held for the call: a handle destroyed meanwhile by
/// another thread stays valid until the call returns; a destroyed one is refused.
///
/// # Safety
/// None beyond `p` being a value the host holds (see [`handles::acquire`]).
unsafe fn handle<T: Shared>(p: *const T, what: &str) -> Result<std::sync::Arc<T>, Fail> {
    // SAFETY: forwarded.
    unsafe { acquire(p, what) }
}

/// Writes a new reference-counted handle to `*out`.
///
/// # Safety
/// `out` must be NULL or writable.
unsafe fn put_shared<T: Shared>(out: *mut *mut T, value: T, what: &str) -> Result<(), Fail> {
    if out.is_null() {
        return fail(UNISTYLE_ERR_NULL, format!("{what} is NULL"));
    }
    // SAFETY: checked non-NULL; the caller guarantees it is writable.
    unsafe { *out = share(value) };
    Ok(())
}

/// # Safety
/// `out` must be NULL or writable.
unsafe fn put<T>(out: *mut *mut T, value: T, what: &str) -> Result<(), Fail> {
    if out.is_null() {
        return fail(UNISTYLE_ERR_NULL, format!("{what} is NULL"));
    }
    // SAFETY: checked non-NULL; the caller guarantees it is writable.
    unsafe { *out = Box::into_raw(Box::new(value)) };
    Ok(())
}

/// The ABI version this library implements (`UNISTYLE_ABI_VERSION`).
#[no_mangle]
pub extern "C" fn unistyle_abi_version() -> u32 {
    UNISTYLE_ABI_VERSION
}

/// The library version, e.g. "0.1.0" (static string).
#[no_mangle]
pub extern "C" fn unistyle_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The message of the last failed call on this thread ("" if none). Valid until the next
/// failing call on the same thread.
#[no_mangle]
pub extern "C" fn unistyle_last_error() -> *const c_char {
    last_error_ptr()
}

/// A static description of a status code.
#[no_mangle]
pub extern "C" fn unistyle_status_string(status: c_int) -> *const c_char {
    let s: &'static str = match status {
        UNISTYLE_OK => "ok\0",
        UNISTYLE_ERR_NULL => "a required pointer was NULL\0",
        UNISTYLE_ERR_INVALID => "invalid argument\0",
        UNISTYLE_ERR_VERSION => "unsupported struct version\0",
        UNISTYLE_ERR_IO => "file input/output failed\0",
        UNISTYLE_ERR_IMAGE => "image could not be decoded\0",
        UNISTYLE_ERR_WEIGHTS => "weights missing or invalid\0",
        UNISTYLE_ERR_LEVEL => "level not in the weights\0",
        UNISTYLE_ERR_CANCELLED => "cancelled\0",
        UNISTYLE_ERR_LIMITS => "size limit exceeded\0",
        UNISTYLE_ERR_INTERNAL => "internal error\0",
        UNISTYLE_ERR_PRESET => "invalid preset\0",
        _ => "unknown status\0",
    };
    s.as_ptr().cast()
}

/// Loads the weights (`weights_path` NULL: $UNISTYLE_WEIGHTS, then the project's weights/)
/// onto `device` ("cpu", "cuda", "cuda:N", "metal"; NULL = "cpu").
#[no_mangle]
pub unsafe extern "C" fn unistyle_context_create(
    weights_path: *const c_char,
    device: *const c_char,
    out: *mut *mut UnistyleContext,
) -> c_int {
    guard("unistyle_context_create", || {
        if out.is_null() {
            return fail(UNISTYLE_ERR_NULL, "out is NULL");
        }
        // SAFETY: documented string arguments.
        let path = unsafe { str_arg(weights_path, "weights_path")? }.map(PathBuf::from);
        let device = parse_device(unsafe { str_arg(device, "device")? }.unwrap_or("cpu"))?;
        let model = Model::load(locate_weights(path.as_deref(), "weights_path")?, &device)?;
        // SAFETY: checked above.
        unsafe { put_shared(out, UnistyleContext::new(model), "out") }
    })
}

/// Releases a context (NULL, or one already destroyed, is ignored). Calls running with it
/// on other threads finish first; it is freed when the last returns.
#[no_mangle]
pub unsafe extern "C" fn unistyle_context_destroy(ctx: *mut UnistyleContext) {
    guard_void(|| {
        // SAFETY: only a live handle is used.
        unsafe { release(ctx) };
        // The context's large blocks were kept for its next run; there is none.
        crate::allocator::release();
    })
}

/// Writes the model's levels (ascending) into `levels[0..capacity]` and their number into
/// `*count` (which may exceed `capacity`: call again with a larger buffer).
#[no_mangle]
pub unsafe extern "C" fn unistyle_context_levels(
    ctx: *const UnistyleContext,
    levels: *mut u32,
    capacity: u32,
    count: *mut u32,
) -> c_int {
    guard("unistyle_context_levels", || {
        // SAFETY: documented handle/pointer arguments.
        let ctx = unsafe { handle(ctx, "ctx")? };
        if count.is_null() {
            return fail(UNISTYLE_ERR_NULL, "count is NULL");
        }
        if levels.is_null() && capacity > 0 {
            return fail(UNISTYLE_ERR_NULL, "levels is NULL but capacity > 0");
        }
        let l = ctx.model.levels();
        for (i, &v) in l.iter().take(capacity as usize).enumerate() {
            // SAFETY: i < capacity, buffer provided by the caller.
            unsafe { *levels.add(i) = v as u32 };
        }
        // SAFETY: checked non-NULL.
        unsafe { *count = l.len() as u32 };
        Ok(())
    })
}

/// Reads the optional style options (NULL: defaults).
///
/// # Safety
/// `opts` must be NULL or point to a struct of `struct_size` bytes.
unsafe fn style_options(opts: *const UnistyleStyleOptions) -> Result<UnistyleStyleOptions, Fail> {
    if opts.is_null() {
        return Ok(UnistyleStyleOptions::current());
    }
    // SAFETY: forwarded from the caller.
    unsafe { read_versioned(opts, "opts") }
}

/// Parses a levels string as the CLI's `--levels` does (`"3,2,1"`, spaces allowed; `""` =
/// every level, `*count` 0) into `levels[0..capacity]`, in the order given; `*count` is the
/// number of levels (it may exceed `capacity`: call again with a larger buffer; 5 always
/// suffices). Errors (`UNISTYLE_ERR_INVALID`) carry the CLI's message.
#[no_mangle]
pub unsafe extern "C" fn unistyle_levels_parse(
    text: *const c_char,
    levels: *mut u32,
    capacity: u32,
    count: *mut u32,
) -> c_int {
    guard("unistyle_levels_parse", || {
        // SAFETY: documented string argument.
        let Some(text) = (unsafe { str_arg(text, "text")? }) else {
            return fail(UNISTYLE_ERR_NULL, "text is NULL");
        };
        if count.is_null() {
            return fail(UNISTYLE_ERR_NULL, "count is NULL");
        }
        if levels.is_null() && capacity > 0 {
            return fail(UNISTYLE_ERR_NULL, "levels is NULL but capacity > 0");
        }
        let parsed =
            crate::levels::parse_levels(text, "levels").map_err(|e| Fail(UNISTYLE_ERR_INVALID, e.to_string()))?;
        let parsed = parsed.unwrap_or_default();
        for (i, &v) in parsed.iter().take(capacity as usize).enumerate() {
            // SAFETY: i < capacity, buffer provided by the caller.
            unsafe { *levels.add(i) = v as u32 };
        }
        // SAFETY: checked non-NULL.
        unsafe { *count = parsed.len() as u32 };
        Ok(())
    })
}

/// The range of the numeric parameter `key` (a preset key such as `alpha`, `feather`,
/// `stroke_scale` or `texture.width`; `-` for `_` and a bare `width` accepted): writes its
/// minimum, maximum, the library's default and whether it takes whole numbers only into the
/// non-NULL outputs. An unknown key is `UNISTYLE_ERR_INVALID`. Hosts build their controls
/// from this, so their bounds never drift from the library's rules.
#[no_mangle]
pub unsafe extern "C" fn unistyle_param_bounds(
    key: *const c_char,
    min: *mut f64,
    max: *mut f64,
    default_value: *mut f64,
    integer: *mut c_int,
) -> c_int {
    guard("unistyle_param_bounds", || {
        // SAFETY: documented string argument.
        let Some(key) = (unsafe { str_arg(key, "key")? }) else {
            return fail(UNISTYLE_ERR_NULL, "key is NULL");
        };
        let Some(b) = crate::rules::bound_of(key) else {
            let known: Vec<&str> = crate::rules::BOUNDS.iter().map(|b| b.key).collect();
            let shown: String = key.chars().take(64).collect();
            return fail(UNISTYLE_ERR_INVALID, format!("'{shown}' has no numeric range; known: {}", known.join(", ")));
        };
        for (out, v) in [(min, b.min), (max, b.max), (default_value, b.default)] {
            // SAFETY: each output is NULL or a caller's double.
            if let Some(out) = unsafe { out.as_mut() } {
                *out = v;
            }
        }
        // SAFETY: NULL or a caller's int.
        if let Some(out) = unsafe { integer.as_mut() } {
            *out = c_int::from(b.integer);
        }
        Ok(())
    })
}

fn encode_style(
    ctx: &UnistyleContext,
    picture: crate::Picture,
    opts: &UnistyleStyleOptions,
) -> Result<UnistyleStyle, Fail> {
    let picture = if opts.max_size > 0 { picture.fit_within(opts.max_size as usize) } else { picture };
    let mut progress = opts.host_progress();
    // Tile by tile: progress after every tile, cancel honoured between tiles.
    let style = EncodedStyle::encode_tiled(&ctx.model, &picture, &ctx.model.levels(), DEFAULT_TILE, &mut progress)?;
    Ok(UnistyleStyle { context_id: ctx.id, style: Arc::new(style), source: Arc::new(picture) })
}

/// # Safety
/// As `unistyle_style_create_from_file_ex`.
unsafe fn style_from_file(
    ctx: *const UnistyleContext,
    path: *const c_char,
    opts: &UnistyleStyleOptions,
    out: *mut *mut UnistyleStyle,
) -> Result<(), Fail> {
    // SAFETY: documented arguments.
    let ctx = unsafe { handle(ctx, "ctx")? };
    let Some(path) = (unsafe { str_arg(path, "path")? }) else {
        return fail(UNISTYLE_ERR_NULL, "path is NULL");
    };
    if out.is_null() {
        return fail(UNISTYLE_ERR_NULL, "out is NULL");
    }
    opts.check_rules()?;
    let picture = crate::image_io::load_picture(path.as_ref(), "style image")?;
    let style = encode_style(&ctx, picture, opts)?;
    // SAFETY: checked above.
    unsafe { put_shared(out, style, "out") }
}

/// # Safety
/// As `unistyle_style_create_from_image_ex`.
unsafe fn style_from_image(
    ctx: *const UnistyleContext,
    image: *const UnistyleImage,
    opts: &UnistyleStyleOptions,
    out: *mut *mut UnistyleStyle,
) -> Result<(), Fail> {
    // SAFETY: documented arguments.
    let ctx = unsafe { handle(ctx, "ctx")? };
    if out.is_null() {
        return fail(UNISTYLE_ERR_NULL, "out is NULL");
    }
    opts.check_rules()?;
    // SAFETY: the descriptor's buffer is the caller's responsibility (documented).
    let picture = unsafe { check(image, "style image")?.to_picture("style image")? };
    let style = encode_style(&ctx, picture, opts)?;
    // SAFETY: checked above.
    unsafe { put_shared(out, style, "out") }
}

/// Encodes a style image file once for every level (`max_size` > 0 downscales it so its
/// longer side is at most that many pixels). Same as `unistyle_style_create_from_file_ex`
/// with only `max_size` set.
#[no_mangle]
pub unsafe extern "C" fn unistyle_style_create_from_file(
    ctx: *const UnistyleContext,
    path: *const c_char,
    max_size: u32,
    out: *mut *mut UnistyleStyle,
) -> c_int {
    guard("unistyle_style_create_from_file", || {
        let opts = UnistyleStyleOptions { max_size, ..UnistyleStyleOptions::current() };
        // SAFETY: documented arguments.
        unsafe { style_from_file(ctx, path, &opts, out) }
    })
}

/// Encodes a style from pixels in memory.
#[no_mangle]
pub unsafe extern "C" fn unistyle_style_create_from_image(
    ctx: *const UnistyleContext,
    image: *const UnistyleImage,
    max_size: u32,
    out: *mut *mut UnistyleStyle,
) -> c_int {
    guard("unistyle_style_create_from_image", || {
        let opts = UnistyleStyleOptions { max_size, ..UnistyleStyleOptions::current() };
        // SAFETY: documented arguments.
        unsafe { style_from_image(ctx, image, &opts, out) }
    })
}

/// Fills style options with defaults for a host struct of `struct_size` bytes
/// (`sizeof(unistyle_style_options)`).
#[no_mangle]
pub unsafe extern "C" fn unistyle_style_options_init(opts: *mut UnistyleStyleOptions, struct_size: u32) -> c_int {
    // SAFETY: documented: `opts` spans `struct_size` writable bytes.
    guard("unistyle_style_options_init", || unsafe { init_versioned(opts, struct_size, "opts") })
}

/// Encodes a style image file with versioned options (NULL: defaults): size limit,
/// progress callback and job (cancellable).
#[no_mangle]
pub unsafe extern "C" fn unistyle_style_create_from_file_ex(
    ctx: *const UnistyleContext,
    path: *const c_char,
    opts: *const UnistyleStyleOptions,
    out: *mut *mut UnistyleStyle,
) -> c_int {
    guard("unistyle_style_create_from_file_ex", || {
        // SAFETY: documented arguments.
        let opts = unsafe { style_options(opts)? };
        unsafe { style_from_file(ctx, path, &opts, out) }
    })
}

/// Encodes a style from pixels in memory with versioned options (NULL: defaults).
#[no_mangle]
pub unsafe extern "C" fn unistyle_style_create_from_image_ex(
    ctx: *const UnistyleContext,
    image: *const UnistyleImage,
    opts: *const UnistyleStyleOptions,
    out: *mut *mut UnistyleStyle,
) -> c_int {
    guard("unistyle_style_create_from_image_ex", || {
        // SAFETY: documented arguments.
        let opts = unsafe { style_options(opts)? };
        unsafe { style_from_image(ctx, image, &opts, out) }
    })
}

/// Releases a style (NULL, or one already destroyed, is ignored). Calls using it on other
/// threads finish first; it is freed when the last returns.
#[no_mangle]
pub unsafe extern "C" fn unistyle_style_destroy(style: *mut UnistyleStyle) {
    // SAFETY: only a live handle is used.
    guard_void(|| unsafe { release(style) })
}

/// Creates a job: a cancel flag and progress value other threads may use while a call runs.
#[no_mangle]
pub unsafe extern "C" fn unistyle_job_create(out: *mut *mut UnistyleJob) -> c_int {
    // SAFETY: documented out-pointer.
    guard("unistyle_job_create", || unsafe { put(out, UnistyleJob::default(), "out") })
}

/// Asks the call running with this job to stop at its next progress step (thread-safe).
#[no_mangle]
pub unsafe extern "C" fn unistyle_job_cancel(job: *const UnistyleJob) {
    // SAFETY: NULL or a live job (documented).
    guard_void(|| {
        if let Some(j) = unsafe { job.as_ref() } {
            j.cancel()
        }
    })
}

/// Progress (0..1) of the call running with this job (thread-safe; 0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn unistyle_job_progress(job: *const UnistyleJob) -> f32 {
    // SAFETY: NULL or a live job (documented).
    unsafe { job.as_ref() }.map_or(0.0, |j| j.progress())
}

/// Frees a job (NULL is ignored). Not while a call is using it.
#[no_mangle]
pub unsafe extern "C" fn unistyle_job_destroy(job: *mut UnistyleJob) {
    guard_void(|| {
        if !job.is_null() {
            // SAFETY: a handle from unistyle_job_create, freed once (documented).
            drop(unsafe { Box::from_raw(job) });
        }
    })
}

/// Fills `opts` with the defaults of version 1 (alpha 1, every level, no masks) and sets
/// `struct_size` to the v1 size. Writes exactly the v1 bytes, so hosts built against any
/// header may call it; hosts that use newer fields call `unistyle_stylize_options_init_ex`.
#[no_mangle]
pub unsafe extern "C" fn unistyle_stylize_options_init(opts: *mut UnistyleStylizeOptions) -> c_int {
    // SAFETY: a v1 host struct is writable (documented).
    guard("unistyle_stylize_options_init", || unsafe { init_versioned(opts, UnistyleStylizeOptions::V1_SIZE, "opts") })
}

/// Fills `opts` (a host struct of `struct_size` bytes, `sizeof(unistyle_stylize_options)`)
/// with defaults and sets `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn unistyle_stylize_options_init_ex(
    opts: *mut UnistyleStylizeOptions,
    struct_size: u32,
) -> c_int {
    // SAFETY: documented: `opts` spans `struct_size` writable bytes.
    guard("unistyle_stylize_options_init_ex", || unsafe { init_versioned(opts, struct_size, "opts") })
}

/// Fills `opts` with the defaults of version 1 (3 iterations, seed 0, every level); writes
/// exactly the v1 bytes (see `unistyle_stylize_options_init`).
#[no_mangle]
pub unsafe extern "C" fn unistyle_texture_options_init(opts: *mut UnistyleTextureOptions) -> c_int {
    // SAFETY: a v1 host struct is writable (documented).
    guard("unistyle_texture_options_init", || unsafe { init_versioned(opts, UnistyleTextureOptions::V1_SIZE, "opts") })
}

/// Fills `opts` (a host struct of `struct_size` bytes) with defaults and sets `struct_size`.
#[no_mangle]
pub unsafe extern "C" fn unistyle_texture_options_init_ex(
    opts: *mut UnistyleTextureOptions,
    struct_size: u32,
) -> c_int {
    // SAFETY: documented: `opts` spans `struct_size` writable bytes.
    guard("unistyle_texture_options_init_ex", || unsafe { init_versioned(opts, struct_size, "opts") })
}

/// Fills run options (a host struct of `struct_size` bytes) with defaults.
#[no_mangle]
pub unsafe extern "C" fn unistyle_run_options_init(opts: *mut UnistyleRunOptions, struct_size: u32) -> c_int {
    // SAFETY: documented: `opts` spans `struct_size` writable bytes.
    guard("unistyle_run_options_init", || unsafe { init_versioned(opts, struct_size, "opts") })
}

/// Validates the input and output descriptors of a stylize call (same size) and copies the
/// input's pixels out.
///
/// # Safety
/// Both descriptors must be NULL or valid, their buffers `stride × height` bytes.
unsafe fn input_output<'a>(
    input: *const UnistyleImage,
    output: *const UnistyleImage,
) -> Result<(crate::Picture, image::Checked<'a>), Fail> {
    // SAFETY: forwarded from the caller.
    let inp = unsafe { check(input, "input")? };
    let out = unsafe { check(output, "output")? };
    if (out.width(), out.height()) != (inp.width(), inp.height()) {
        return fail(
            UNISTYLE_ERR_INVALID,
            format!("output is {}×{} but input is {}×{}", out.width(), out.height(), inp.width(), inp.height()),
        );
    }
    // SAFETY: forwarded from the caller.
    Ok((unsafe { inp.to_picture("input")? }, out))
}

/// Reads the host's job: the options translated into a [`Job`] (`read`), every rule checked
/// with the broken one named by its C field, before any image of the call is looked at.
///
/// # Safety
/// Every pointer in `o` must be NULL or valid for its count.
unsafe fn checked_job<O: Versioned>(
    ctx: &UnistyleContext,
    o: &O,
    read: unsafe fn(&O, &UnistyleContext) -> Result<Job, Fail>,
) -> Result<Job, Fail> {
    // SAFETY: forwarded from the caller.
    let job = unsafe { read(o, ctx)? };
    job.check().map_err(|v| field_fail(v, O::C_NAME))?;
    Ok(job)
}

/// Reads the job's inputs for `ctx`: styles the modes need at other scales (or with their
/// feature maps) are encoded again in the first [`REENCODE_SHARE`] of `progress`, which
/// then reports the rest of the call from there.
pub(crate) fn prepare(ctx: &UnistyleContext, job: &Job, progress: &mut HostProgress) -> Result<Prepared, Fail> {
    let reencodes = !job.style_encoding(&job.levels_for(&ctx.model)?).is_plain();
    let mut encoder = StyleEncoder::new(&ctx.model, None);
    let prepared =
        job.prepare_with(&mut encoder, &mut Span { inner: &mut *progress, from: 0.0, to: REENCODE_SHARE })?;
    if reencodes {
        progress.from = REENCODE_SHARE;
    }
    Ok(prepared)
}

/// The progress adapter of the stylize options.
fn stylize_progress(o: &UnistyleStylizeOptions) -> HostProgress {
    HostProgress::new(o.progress, o.progress_user_data, o.job)
}

/// Stylizes `input` into `output` (same width and height; any channel layout and sample
/// type; may be the same buffer as `input`). `output` is written only on success.
#[no_mangle]
pub unsafe extern "C" fn unistyle_stylize(
    ctx: *const UnistyleContext,
    input: *const UnistyleImage,
    opts: *const UnistyleStylizeOptions,
    output: *const UnistyleImage,
) -> c_int {
    guard("unistyle_stylize", || {
        // SAFETY: documented arguments; buffers are the caller's responsibility.
        let ctx = unsafe { handle(ctx, "ctx")? };
        let o = unsafe { read_versioned(opts, "opts")? };
        let job = unsafe { checked_job(&ctx, &o, UnistyleStylizeOptions::job)? };
        let (content, out) = unsafe { input_output(input, output)? };
        let mut progress = stylize_progress(&o);
        let prepared = prepare(&ctx, &job, &mut progress)?;
        let result = job.stylizer(&ctx.model, &prepared).build()?.run(&content, &mut progress)?;
        // SAFETY: validated output descriptor.
        unsafe { out.write_picture(&result) };
        Ok(())
    })
}

/// Stylizes a preview of `input` at the output's width × height (any size and aspect, any
/// channels/sample type): the input and the masks are downsampled by area average, then
/// stylized with `opts`. Cancel a stale preview through `opts->job`. Written only on success.
#[no_mangle]
pub unsafe extern "C" fn unistyle_preview(
    ctx: *const UnistyleContext,
    input: *const UnistyleImage,
    opts: *const UnistyleStylizeOptions,
    output: *const UnistyleImage,
) -> c_int {
    guard("unistyle_preview", || {
        // SAFETY: documented arguments; buffers are the caller's responsibility.
        let ctx = unsafe { handle(ctx, "ctx")? };
        let o = unsafe { read_versioned(opts, "opts")? };
        let job = unsafe { checked_job(&ctx, &o, UnistyleStylizeOptions::job)? };
        let out = unsafe { check(output, "output")? };
        let content = unsafe { check(input, "input")?.to_picture("input")? };
        let mut progress = stylize_progress(&o);
        let prepared = prepare(&ctx, &job, &mut progress)?;
        let stylizer = job.stylizer(&ctx.model, &prepared).build()?;
        let result = stylizer.preview(&content, out.width(), out.height(), &mut progress)?;
        // SAFETY: validated output descriptor.
        unsafe { out.write_picture(&result) };
        Ok(())
    })
}

/// Synthesizes a texture of the output's size into `output`. Written only on success.
#[no_mangle]
pub unsafe extern "C" fn unistyle_texture(
    ctx: *const UnistyleContext,
    opts: *const UnistyleTextureOptions,
    output: *const UnistyleImage,
) -> c_int {
    guard("unistyle_texture", || {
        // SAFETY: documented arguments; buffers are the caller's responsibility.
        let ctx = unsafe { handle(ctx, "ctx")? };
        let o = unsafe { read_versioned(opts, "opts")? };
        let mut job = unsafe { checked_job(&ctx, &o, UnistyleTextureOptions::job)? };
        let out = unsafe { check(output, "output")? };
        (job.texture.width, job.texture.height) = (Some(out.width()), Some(out.height()));
        if !o.init.is_null() {
            // SAFETY: the host promises `init` points to a valid image descriptor for the call's
            // duration (the header's contract); `check` validates its fields and spans.
            let init = unsafe { check(o.init, "init")?.to_picture("init")? };
            job.texture.init = Some(PictureInput::Picture(init));
        }
        let prepared = job.prepare(&mut StyleEncoder::new(&ctx.model, None))?;
        let b = job.texture(&ctx.model, &prepared)?;
        let mut progress = HostProgress::new(o.progress, o.progress_user_data, o.job);
        let result = b.build()?.run(&mut progress)?;
        // SAFETY: validated output descriptor.
        unsafe { out.write_picture(&result) };
        Ok(())
    })
}

/// Preset kind: a stylization look.
pub const UNISTYLE_PRESET_STYLIZE: c_int = 0;
/// Preset kind: a texture (has a `[texture]` table).
pub const UNISTYLE_PRESET_TEXTURE: c_int = 1;

/// Loads a TOML preset (style images beside it or on `UNISTYLE_STYLE_PATH`) and encodes its
/// styles for `ctx`, through the style cache beside the preset. The v1 form of
/// `unistyle_preset_load_ex` (no progress, not cancellable).
#[no_mangle]
pub unsafe extern "C" fn unistyle_preset_load(
    ctx: *const UnistyleContext,
    path: *const c_char,
    out: *mut *mut UnistylePreset,
) -> c_int {
    guard("unistyle_preset_load", || {
        // SAFETY: documented arguments.
        unsafe { preset_load(ctx, path, &UnistyleRunOptions::current(), out) }
    })
}

/// `unistyle_preset_load` with versioned run options (NULL: none): progress over the styles'
/// encoding and a job that cancels it.
#[no_mangle]
pub unsafe extern "C" fn unistyle_preset_load_ex(
    ctx: *const UnistyleContext,
    path: *const c_char,
    run: *const UnistyleRunOptions,
    out: *mut *mut UnistylePreset,
) -> c_int {
    guard("unistyle_preset_load_ex", || {
        // SAFETY: documented arguments.
        let run = unsafe { run_options(run)? };
        unsafe { preset_load(ctx, path, &run, out) }
    })
}

/// # Safety
/// As `unistyle_preset_load_ex`.
unsafe fn preset_load(
    ctx: *const UnistyleContext,
    path: *const c_char,
    run: &UnistyleRunOptions,
    out: *mut *mut UnistylePreset,
) -> Result<(), Fail> {
    // SAFETY: documented arguments.
    let ctx = unsafe { handle(ctx, "ctx")? };
    let Some(path) = (unsafe { str_arg(path, "path")? }) else {
        return fail(UNISTYLE_ERR_NULL, "path is NULL");
    };
    if out.is_null() {
        return fail(UNISTYLE_ERR_NULL, "out is NULL");
    }
    let mut progress = run.host_progress();
    crate::progress::step(&mut progress, 0.0)?;
    let preset = Preset::load(path)?;
    let mut encoder = StyleEncoder::new(&ctx.model, Some(preset.default_cache()));
    encoder.set_progress(Box::new(progress));
    let prepared = preset.settings.prepare(&mut encoder)?;
    let c = |s: &str| std::ffi::CString::new(s.replace('\0', " ")).unwrap_or_default();
    let value = UnistylePreset {
        context_id: ctx.id,
        name: c(&preset.name),
        description: c(&preset.description),
        preset,
        prepared,
    };
    // SAFETY: checked above.
    unsafe { put_shared(out, value, "out") }
}

/// The preset's name (valid until the preset is destroyed; "" for NULL or a dead handle).
#[no_mangle]
pub unsafe extern "C" fn unistyle_preset_name(preset: *const UnistylePreset) -> *const c_char {
    // SAFETY: only a live handle is used; the string lives as long as the preset.
    unsafe { acquire(preset, "preset") }.map_or(c"".as_ptr(), |p| p.name.as_ptr())
}

/// The preset's one-line description (valid until the preset is destroyed; "" for NULL or a
/// dead handle).
#[no_mangle]
pub unsafe extern "C" fn unistyle_preset_description(preset: *const UnistylePreset) -> *const c_char {
    // SAFETY: only a live handle is used; the string lives as long as the preset.
    unsafe { acquire(preset, "preset") }.map_or(c"".as_ptr(), |p| p.description.as_ptr())
}

/// `UNISTYLE_PRESET_STYLIZE` or `UNISTYLE_PRESET_TEXTURE` (negative status for NULL or a
/// dead handle).
#[no_mangle]
pub unsafe extern "C" fn unistyle_preset_kind(preset: *const UnistylePreset) -> c_int {
    // SAFETY: only a live handle is used.
    match unsafe { acquire(preset, "preset") } {
        Err(Fail(code, _)) => code,
        Ok(p) => match p.preset.kind() {
            PresetKind::Stylize => UNISTYLE_PRESET_STYLIZE,
            PresetKind::Texture => UNISTYLE_PRESET_TEXTURE,
        },
    }
}

/// Releases a preset (NULL, or one already destroyed, is ignored). Calls using it on other
/// threads finish first; it is freed when the last returns.
#[no_mangle]
pub unsafe extern "C" fn unistyle_preset_destroy(preset: *mut UnistylePreset) {
    // SAFETY: only a live handle is used.
    guard_void(|| unsafe { release(preset) })
}

/// # Safety
/// `preset` must be NULL or a live preset.
unsafe fn preset_for(
    ctx: &UnistyleContext,
    preset: *const UnistylePreset,
) -> Result<std::sync::Arc<UnistylePreset>, Fail> {
    // SAFETY: forwarded from the caller.
    let p = unsafe { handle(preset, "preset")? };
    if p.context_id != ctx.id {
        return fail(UNISTYLE_ERR_INVALID, "preset was loaded with another context");
    }
    Ok(p)
}

/// Reads the optional run options (NULL: defaults).
///
/// # Safety
/// `run` must be NULL or point to a struct of `struct_size` bytes.
unsafe fn run_options(run: *const UnistyleRunOptions) -> Result<UnistyleRunOptions, Fail> {
    if run.is_null() {
        return Ok(UnistyleRunOptions::current());
    }
    // SAFETY: forwarded from the caller.
    unsafe { read_versioned(run, "run") }
}

/// # Safety
/// As `unistyle_stylize_preset_ex`.
unsafe fn stylize_preset(
    ctx: *const UnistyleContext,
    preset: *const UnistylePreset,
    input: *const UnistyleImage,
    output: *const UnistyleImage,
    run: &UnistyleRunOptions,
) -> Result<(), Fail> {
    // SAFETY: documented arguments; buffers are the caller's responsibility.
    let ctx = unsafe { handle(ctx, "ctx")? };
    let p = unsafe { preset_for(&ctx, preset)? };
    let (content, out) = unsafe { input_output(input, output)? };
    let mut progress = run.host_progress();
    let result = p.preset.settings.stylizer(&ctx.model, &p.prepared).build()?.run(&content, &mut progress)?;
    // SAFETY: validated output descriptor.
    unsafe { out.write_picture(&result) };
    Ok(())
}

/// # Safety
/// As `unistyle_texture_preset_ex`.
unsafe fn texture_preset(
    ctx: *const UnistyleContext,
    preset: *const UnistylePreset,
    output: *const UnistyleImage,
    run: &UnistyleRunOptions,
) -> Result<(), Fail> {
    // SAFETY: documented arguments; buffers are the caller's responsibility.
    let ctx = unsafe { handle(ctx, "ctx")? };
    let p = unsafe { preset_for(&ctx, preset)? };
    let out = unsafe { check(output, "output")? };
    let builder = p.preset.settings.texture(&ctx.model, &p.prepared)?.size(out.width(), out.height());
    let mut progress = run.host_progress();
    let result = builder.build()?.run(&mut progress)?;
    // SAFETY: validated output descriptor.
    unsafe { out.write_picture(&result) };
    Ok(())
}

/// Stylizes `input` into `output` with everything the preset says (styles, blend, masks,
/// levels, alpha, colour preservation). Same buffer rules as `unistyle_stylize`. The v1 form
/// of `unistyle_stylize_preset_ex`.
#[no_mangle]
pub unsafe extern "C" fn unistyle_stylize_preset(
    ctx: *const UnistyleContext,
    preset: *const UnistylePreset,
    input: *const UnistyleImage,
    output: *const UnistyleImage,
    progress: Option<ProgressFn>,
    progress_user_data: *mut std::ffi::c_void,
    job: *const UnistyleJob,
) -> c_int {
    guard("unistyle_stylize_preset", || {
        let run = UnistyleRunOptions { progress, progress_user_data, job, ..UnistyleRunOptions::current() };
        // SAFETY: documented arguments.
        unsafe { stylize_preset(ctx, preset, input, output, &run) }
    })
}

/// Synthesizes the preset's texture at the output's size (seed, iterations, tileable from
/// the preset). The v1 form of `unistyle_texture_preset_ex`.
#[no_mangle]
pub unsafe extern "C" fn unistyle_texture_preset(
    ctx: *const UnistyleContext,
    preset: *const UnistylePreset,
    output: *const UnistyleImage,
    progress: Option<ProgressFn>,
    progress_user_data: *mut std::ffi::c_void,
    job: *const UnistyleJob,
) -> c_int {
    guard("unistyle_texture_preset", || {
        let run = UnistyleRunOptions { progress, progress_user_data, job, ..UnistyleRunOptions::current() };
        // SAFETY: documented arguments.
        unsafe { texture_preset(ctx, preset, output, &run) }
    })
}

/// `unistyle_stylize_preset` with versioned run options (NULL: no progress, no job).
#[no_mangle]
pub unsafe extern "C" fn unistyle_stylize_preset_ex(
    ctx: *const UnistyleContext,
    preset: *const UnistylePreset,
    input: *const UnistyleImage,
    output: *const UnistyleImage,
    run: *const UnistyleRunOptions,
) -> c_int {
    guard("unistyle_stylize_preset_ex", || {
        // SAFETY: documented arguments.
        let run = unsafe { run_options(run)? };
        unsafe { stylize_preset(ctx, preset, input, output, &run) }
    })
}

/// `unistyle_texture_preset` with versioned run options (NULL: no progress, no job).
#[no_mangle]
pub unsafe extern "C" fn unistyle_texture_preset_ex(
    ctx: *const UnistyleContext,
    preset: *const UnistylePreset,
    output: *const UnistyleImage,
    run: *const UnistyleRunOptions,
) -> c_int {
    guard("unistyle_texture_preset_ex", || {
        // SAFETY: documented arguments.
        let run = unsafe { run_options(run)? };
        unsafe { texture_preset(ctx, preset, output, &run) }
    })
}
