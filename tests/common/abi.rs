//! The C ABI as a host sees it, for every test that calls it: the cdylib loaded with
//! `libloading` and its entry points resolved by name, owned pixel buffers with their
//! descriptors, option structs from the `_init` calls, handle wrappers that free themselves,
//! and a recording progress callback.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::Path;
use std::ptr::{null, null_mut};

use libloading::{Library, Symbol};
use unistyle::capi::*;

use super::cbuild::lib_path;
use super::relu3_weights;

pub type OptsInit<T> = unsafe extern "C" fn(*mut T) -> c_int;

/// The entry points, resolved by name from the loaded library.
pub struct Api {
    pub lib: &'static Library,
    pub abi_version: Symbol<'static, unsafe extern "C" fn() -> u32>,
    pub version: Symbol<'static, unsafe extern "C" fn() -> *const c_char>,
    pub last_error: Symbol<'static, unsafe extern "C" fn() -> *const c_char>,
    pub status_string: Symbol<'static, unsafe extern "C" fn(c_int) -> *const c_char>,
    pub context_create:
        Symbol<'static, unsafe extern "C" fn(*const c_char, *const c_char, *mut *mut UnistyleContext) -> c_int>,
    pub context_destroy: Symbol<'static, unsafe extern "C" fn(*mut UnistyleContext)>,
    pub context_levels: Symbol<'static, unsafe extern "C" fn(*const UnistyleContext, *mut u32, u32, *mut u32) -> c_int>,
    pub style_from_file: Symbol<
        'static,
        unsafe extern "C" fn(*const UnistyleContext, *const c_char, u32, *mut *mut UnistyleStyle) -> c_int,
    >,
    pub style_from_image: Symbol<
        'static,
        unsafe extern "C" fn(*const UnistyleContext, *const UnistyleImage, u32, *mut *mut UnistyleStyle) -> c_int,
    >,
    pub style_destroy: Symbol<'static, unsafe extern "C" fn(*mut UnistyleStyle)>,
    pub job_create: Symbol<'static, unsafe extern "C" fn(*mut *mut UnistyleJob) -> c_int>,
    pub job_cancel: Symbol<'static, unsafe extern "C" fn(*const UnistyleJob)>,
    pub job_progress: Symbol<'static, unsafe extern "C" fn(*const UnistyleJob) -> f32>,
    pub job_destroy: Symbol<'static, unsafe extern "C" fn(*mut UnistyleJob)>,
    pub stylize_init: Symbol<'static, OptsInit<UnistyleStylizeOptions>>,
    pub texture_init: Symbol<'static, OptsInit<UnistyleTextureOptions>>,
    pub stylize: Symbol<
        'static,
        unsafe extern "C" fn(
            *const UnistyleContext,
            *const UnistyleImage,
            *const UnistyleStylizeOptions,
            *const UnistyleImage,
        ) -> c_int,
    >,
    pub texture: Symbol<
        'static,
        unsafe extern "C" fn(*const UnistyleContext, *const UnistyleTextureOptions, *const UnistyleImage) -> c_int,
    >,
    pub preset_load:
        Symbol<'static, unsafe extern "C" fn(*const UnistyleContext, *const c_char, *mut *mut UnistylePreset) -> c_int>,
    pub preset_kind: Symbol<'static, unsafe extern "C" fn(*const UnistylePreset) -> c_int>,
    pub preset_name: Symbol<'static, unsafe extern "C" fn(*const UnistylePreset) -> *const c_char>,
    pub preset_destroy: Symbol<'static, unsafe extern "C" fn(*mut UnistylePreset)>,
    pub stylize_preset: Symbol<
        'static,
        unsafe extern "C" fn(
            *const UnistyleContext,
            *const UnistylePreset,
            *const UnistyleImage,
            *const UnistyleImage,
            Option<ProgressFn>,
            *mut c_void,
            *const UnistyleJob,
        ) -> c_int,
    >,
    pub texture_preset: Symbol<
        'static,
        unsafe extern "C" fn(
            *const UnistyleContext,
            *const UnistylePreset,
            *const UnistyleImage,
            Option<ProgressFn>,
            *mut c_void,
            *const UnistyleJob,
        ) -> c_int,
    >,
    pub preview: Symbol<
        'static,
        unsafe extern "C" fn(
            *const UnistyleContext,
            *const UnistyleImage,
            *const UnistyleStylizeOptions,
            *const UnistyleImage,
        ) -> c_int,
    >,
    pub run_init: Symbol<'static, unsafe extern "C" fn(*mut UnistyleRunOptions, u32) -> c_int>,
    pub style_init: Symbol<'static, unsafe extern "C" fn(*mut UnistyleStyleOptions, u32) -> c_int>,
    pub style_from_file_ex: Symbol<
        'static,
        unsafe extern "C" fn(
            *const UnistyleContext,
            *const c_char,
            *const UnistyleStyleOptions,
            *mut *mut UnistyleStyle,
        ) -> c_int,
    >,
    pub stylize_preset_ex: Symbol<
        'static,
        unsafe extern "C" fn(
            *const UnistyleContext,
            *const UnistylePreset,
            *const UnistyleImage,
            *const UnistyleImage,
            *const UnistyleRunOptions,
        ) -> c_int,
    >,
    pub texture_preset_ex: Symbol<
        'static,
        unsafe extern "C" fn(
            *const UnistyleContext,
            *const UnistylePreset,
            *const UnistyleImage,
            *const UnistyleRunOptions,
        ) -> c_int,
    >,
}

/// The library, loaded once per test binary.
pub fn api() -> &'static Api {
    static API: std::sync::OnceLock<Api> = std::sync::OnceLock::new();
    API.get_or_init(|| unsafe {
        let lib: &'static Library = Box::leak(Box::new(Library::new(lib_path()).expect("load cdylib")));
        Api {
            lib,
            abi_version: lib.get(b"unistyle_abi_version").unwrap(),
            version: lib.get(b"unistyle_version").unwrap(),
            last_error: lib.get(b"unistyle_last_error").unwrap(),
            status_string: lib.get(b"unistyle_status_string").unwrap(),
            context_create: lib.get(b"unistyle_context_create").unwrap(),
            context_destroy: lib.get(b"unistyle_context_destroy").unwrap(),
            context_levels: lib.get(b"unistyle_context_levels").unwrap(),
            style_from_file: lib.get(b"unistyle_style_create_from_file").unwrap(),
            style_from_image: lib.get(b"unistyle_style_create_from_image").unwrap(),
            style_destroy: lib.get(b"unistyle_style_destroy").unwrap(),
            job_create: lib.get(b"unistyle_job_create").unwrap(),
            job_cancel: lib.get(b"unistyle_job_cancel").unwrap(),
            job_progress: lib.get(b"unistyle_job_progress").unwrap(),
            job_destroy: lib.get(b"unistyle_job_destroy").unwrap(),
            stylize_init: lib.get(b"unistyle_stylize_options_init").unwrap(),
            texture_init: lib.get(b"unistyle_texture_options_init").unwrap(),
            stylize: lib.get(b"unistyle_stylize").unwrap(),
            texture: lib.get(b"unistyle_texture").unwrap(),
            preset_load: lib.get(b"unistyle_preset_load").unwrap(),
            preset_kind: lib.get(b"unistyle_preset_kind").unwrap(),
            preset_name: lib.get(b"unistyle_preset_name").unwrap(),
            preset_destroy: lib.get(b"unistyle_preset_destroy").unwrap(),
            stylize_preset: lib.get(b"unistyle_stylize_preset").unwrap(),
            texture_preset: lib.get(b"unistyle_texture_preset").unwrap(),
            preview: lib.get(b"unistyle_preview").unwrap(),
            run_init: lib.get(b"unistyle_run_options_init").unwrap(),
            style_init: lib.get(b"unistyle_style_options_init").unwrap(),
            style_from_file_ex: lib.get(b"unistyle_style_create_from_file_ex").unwrap(),
            stylize_preset_ex: lib.get(b"unistyle_stylize_preset_ex").unwrap(),
            texture_preset_ex: lib.get(b"unistyle_texture_preset_ex").unwrap(),
        }
    })
}

/// This thread's last error message.
pub fn last_error() -> String {
    unsafe { CStr::from_ptr((api().last_error)()) }.to_string_lossy().into_owned()
}

pub fn cstr(p: &Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

fn sample_bytes(sample_type: u32) -> usize {
    match sample_type {
        UNISTYLE_U8 => 1,
        UNISTYLE_U16 => 2,
        _ => 4,
    }
}

/// An owned pixel buffer with its descriptor.
pub struct Buf {
    pub bytes: Vec<u8>,
    pub desc: UnistyleImage,
}

// The descriptor points into `bytes`, which moves with it (a Vec's heap buffer never moves).
unsafe impl Send for Buf {}

impl Buf {
    /// `w`×`h` pixels of `channels` samples of `sample_type`, rows padded by `pad` samples,
    /// every byte `fill`.
    pub fn new(w: u32, h: u32, channels: u32, sample_type: u32, pad: usize, fill: u8) -> Buf {
        let bps = sample_bytes(sample_type);
        let stride = w as usize * channels as usize * bps + pad * bps;
        let mut bytes = vec![fill; stride * h as usize + 16];
        let desc = UnistyleImage {
            struct_size: std::mem::size_of::<UnistyleImage>() as u32,
            width: w,
            height: h,
            channels,
            sample_type,
            stride,
            data: bytes.as_mut_ptr().cast(),
        };
        Buf { bytes, desc }
    }

    /// A picture in a given layout (RGB or RGBA/gray variants), samples converted.
    pub fn from_picture(p: &unistyle::Picture, channels: u32, sample_type: u32, pad: usize) -> Buf {
        let mut b = Buf::new(p.width as u32, p.height as u32, channels, sample_type, pad, 0);
        let n = p.width * p.height;
        for y in 0..p.height {
            for x in 0..p.width {
                let i = y * p.width + x;
                let (r, g, bl) = (p.rgb[i], p.rgb[n + i], p.rgb[2 * n + i]);
                let gray = 0.2126 * r + 0.7152 * g + 0.0722 * bl;
                let vals: Vec<f32> = match channels {
                    1 => vec![gray],
                    2 => vec![gray, 1.0],
                    3 => vec![r, g, bl],
                    _ => vec![r, g, bl, 1.0],
                };
                for (c, v) in vals.into_iter().enumerate() {
                    b.set(x, y, c, v);
                }
            }
        }
        b
    }

    fn offset(&self, x: usize, y: usize, c: usize) -> usize {
        let d = self.desc;
        y * d.stride + (x * d.channels as usize + c) * sample_bytes(d.sample_type)
    }

    pub fn set(&mut self, x: usize, y: usize, c: usize, v: f32) {
        let off = self.offset(x, y, c);
        match self.desc.sample_type {
            UNISTYLE_U8 => self.bytes[off] = (v * 255.0 + 0.5) as u8,
            UNISTYLE_U16 => self.bytes[off..off + 2].copy_from_slice(&((v * 65535.0 + 0.5) as u16).to_ne_bytes()),
            _ => self.bytes[off..off + 4].copy_from_slice(&v.to_ne_bytes()),
        }
    }

    pub fn get(&self, x: usize, y: usize, c: usize) -> f32 {
        let off = self.offset(x, y, c);
        match self.desc.sample_type {
            UNISTYLE_U8 => self.bytes[off] as f32 / 255.0,
            UNISTYLE_U16 => u16::from_ne_bytes([self.bytes[off], self.bytes[off + 1]]) as f32 / 65535.0,
            _ => f32::from_ne_bytes(self.bytes[off..off + 4].try_into().unwrap()),
        }
    }

    /// Planar RGB of the first three channels.
    pub fn rgb(&self) -> Vec<f32> {
        let (w, h) = (self.desc.width as usize, self.desc.height as usize);
        (0..3)
            .flat_map(|c| (0..h).flat_map(move |y| (0..w).map(move |x| (x, y, c))))
            .map(|(x, y, c)| self.get(x, y, c))
            .collect()
    }

    /// Whether every byte (padding included) is still `byte`, e.g. the fill of an output a
    /// failed call must not write.
    pub fn all(&self, byte: u8) -> bool {
        self.bytes.iter().all(|&b| b == byte)
    }
}

/// A handle wrapper, destroyed on drop. Contexts and styles may be shared by threads
/// (unistyle.h); a job is cancelled from any thread.
macro_rules! handle {
    ($name:ident, $handle:ty, $destroy:ident) => {
        pub struct $name(pub *mut $handle);
        unsafe impl Send for $name {}
        unsafe impl Sync for $name {}
        impl Drop for $name {
            fn drop(&mut self) {
                unsafe { (api().$destroy)(self.0) }
            }
        }
    };
}

handle!(Ctx, UnistyleContext, context_destroy);
// Styles are dropped before their context.
handle!(Style, UnistyleStyle, style_destroy);
handle!(Job, UnistyleJob, job_destroy);

/// A context on the shared level 1–3 weights.
pub fn context() -> Ctx {
    let mut ctx = null_mut();
    let st = unsafe { (api().context_create)(cstr(&relu3_weights()).as_ptr(), null(), &mut ctx) };
    assert_eq!(st, UNISTYLE_OK, "{}", last_error());
    Ctx(ctx)
}

/// A style from an image file, scaled to `max_size` (0: as is).
pub fn style(ctx: &Ctx, path: &Path, max_size: u32) -> Style {
    let mut s = null_mut();
    let st = unsafe { (api().style_from_file)(ctx.0, cstr(path).as_ptr(), max_size, &mut s) };
    assert_eq!(st, UNISTYLE_OK, "{}", last_error());
    Style(s)
}

pub fn job() -> Job {
    let mut j = null_mut();
    assert_eq!(unsafe { (api().job_create)(&mut j) }, UNISTYLE_OK);
    Job(j)
}

/// Options as `_init` sets them.
fn init_options<T>(init: &OptsInit<T>) -> T {
    // The v1 init writes the v1 fields only: later fields start zeroed (their defaults).
    let mut o = std::mem::MaybeUninit::<T>::zeroed();
    assert_eq!(unsafe { init(o.as_mut_ptr()) }, UNISTYLE_OK);
    unsafe { o.assume_init() }
}

pub fn stylize_options() -> UnistyleStylizeOptions {
    init_options(&api().stylize_init)
}

pub fn texture_options() -> UnistyleTextureOptions {
    init_options(&api().texture_init)
}

/// Stylize options with these styles, alpha and levels, the rest as `_init` sets it.
pub fn stylize_opts(styles: &[*const UnistyleStyle], alpha: f32, levels: &[u32]) -> UnistyleStylizeOptions {
    let mut o = stylize_options();
    o.style_count = styles.len() as u32;
    o.styles = styles.as_ptr();
    o.alpha = alpha;
    o.level_count = levels.len() as u32;
    o.levels = levels.as_ptr();
    o
}

/// Texture options with these styles, the rest as `_init` sets it.
pub fn texture_opts(styles: &[*const UnistyleStyle]) -> UnistyleTextureOptions {
    let mut t = texture_options();
    t.style_count = styles.len() as u32;
    t.styles = styles.as_ptr();
    t
}

/// What a progress callback does, driven through `progress_user_data`.
#[derive(Default)]
pub struct Steps {
    /// Fractions reported so far.
    pub fractions: Vec<f32>,
    /// Return non-zero (cancel) at this call (0-based).
    pub cancel_at: Option<usize>,
    /// Call `unistyle_job_cancel` on this job at call `cancel_at`, returning 0.
    pub job: Option<*const UnistyleJob>,
}

impl Steps {
    /// An options struct's `progress` and `progress_user_data`: [`record`] into `steps`, or
    /// no callback.
    pub fn hook(steps: Option<&mut Steps>) -> (Option<ProgressFn>, *mut c_void) {
        match steps {
            Some(s) => (Some(record), (s as *mut Steps).cast()),
            None => (None, null_mut()),
        }
    }
}

/// The progress callback for [`Steps`].
pub unsafe extern "C" fn record(fraction: f32, user: *mut c_void) -> c_int {
    let s = unsafe { &mut *(user as *mut Steps) };
    let i = s.fractions.len();
    s.fractions.push(fraction);
    if s.cancel_at == Some(i) {
        match s.job {
            Some(j) => unsafe { (api().job_cancel)(j) },
            None => return 1,
        }
    }
    0
}
