//! The cdylib loaded with `libloading` exactly as a host loads it: the entry points resolved
//! by name, owned pixel buffers with their descriptors, and handle wrappers that free
//! themselves.

use std::ffi::{c_char, c_int, CStr, CString};
use std::path::PathBuf;
use std::ptr::{null, null_mut};

use libloading::{Library, Symbol};
use unistyle::capi::*;

use super::{image, relu3_weights};

/// The library built for this test run (`target/<profile>/deps/libunistyle.so`).
pub fn lib_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let name = format!("{}unistyle{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    [deps.join(&name), deps.parent().unwrap().join(&name)]
        .into_iter()
        .find(|p| p.exists())
        .expect("libunistyle cdylib next to the test binary")
}

pub type OptsInit<T> = unsafe extern "C" fn(*mut T) -> c_int;

/// The entry points, resolved by name from the loaded library.
pub struct Api {
    pub _lib: &'static Library,
    pub abi_version: Symbol<'static, unsafe extern "C" fn() -> u32>,
    pub version: Symbol<'static, unsafe extern "C" fn() -> *const c_char>,
    pub last_error: Symbol<'static, unsafe extern "C" fn() -> *const c_char>,
    pub status_string: Symbol<'static, unsafe extern "C" fn(c_int) -> *const c_char>,
    pub context_create: Symbol<'static, unsafe extern "C" fn(*const c_char, *const c_char, *mut *mut UnistyleContext) -> c_int>,
    pub context_destroy: Symbol<'static, unsafe extern "C" fn(*mut UnistyleContext)>,
    pub context_levels: Symbol<'static, unsafe extern "C" fn(*const UnistyleContext, *mut u32, u32, *mut u32) -> c_int>,
    pub style_from_file: Symbol<'static, unsafe extern "C" fn(*const UnistyleContext, *const c_char, u32, *mut *mut UnistyleStyle) -> c_int>,
    pub style_from_image: Symbol<'static, unsafe extern "C" fn(*const UnistyleContext, *const UnistyleImage, u32, *mut *mut UnistyleStyle) -> c_int>,
    pub style_destroy: Symbol<'static, unsafe extern "C" fn(*mut UnistyleStyle)>,
    pub job_create: Symbol<'static, unsafe extern "C" fn(*mut *mut UnistyleJob) -> c_int>,
    pub job_cancel: Symbol<'static, unsafe extern "C" fn(*const UnistyleJob)>,
    pub job_progress: Symbol<'static, unsafe extern "C" fn(*const UnistyleJob) -> f32>,
    pub job_destroy: Symbol<'static, unsafe extern "C" fn(*mut UnistyleJob)>,
    pub stylize_init: Symbol<'static, OptsInit<UnistyleStylizeOptions>>,
    pub texture_init: Symbol<'static, OptsInit<UnistyleTextureOptions>>,
    pub stylize: Symbol<'static, unsafe extern "C" fn(*const UnistyleContext, *const UnistyleImage, *const UnistyleStylizeOptions, *const UnistyleImage) -> c_int>,
    pub texture: Symbol<'static, unsafe extern "C" fn(*const UnistyleContext, *const UnistyleTextureOptions, *const UnistyleImage) -> c_int>,
    pub preset_load: Symbol<'static, unsafe extern "C" fn(*const UnistyleContext, *const c_char, *mut *mut UnistylePreset) -> c_int>,
    pub preset_destroy: Symbol<'static, unsafe extern "C" fn(*mut UnistylePreset)>,
}

pub fn api() -> &'static Api {
    static API: std::sync::OnceLock<Api> = std::sync::OnceLock::new();
    API.get_or_init(|| unsafe {
        let lib: &'static Library = Box::leak(Box::new(Library::new(lib_path()).expect("load cdylib")));
        Api {
            _lib: lib,
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
            preset_destroy: lib.get(b"unistyle_preset_destroy").unwrap(),
        }
    })
}

pub fn last_error() -> String {
    unsafe { CStr::from_ptr((api().last_error)()) }.to_string_lossy().into_owned()
}

pub fn cstr(p: &std::path::Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

/// An owned pixel buffer with its descriptor.
pub struct Buf {
    pub bytes: Vec<u8>,
    pub desc: UnistyleImage,
}

impl Buf {
    pub fn new(w: u32, h: u32, channels: u32, sample_type: u32, pad: usize, fill: u8) -> Buf {
        let bps = match sample_type { UNISTYLE_U8 => 1, UNISTYLE_U16 => 2, _ => 4 };
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
                let vals: Vec<f32> = match channels { 1 => vec![gray], 2 => vec![gray, 1.0], 3 => vec![r, g, bl], _ => vec![r, g, bl, 1.0] };
                for (c, v) in vals.into_iter().enumerate() {
                    b.set(x, y, c, v);
                }
            }
        }
        b
    }

    pub fn set(&mut self, x: usize, y: usize, c: usize, v: f32) {
        let d = self.desc;
        let bps = match d.sample_type { UNISTYLE_U8 => 1, UNISTYLE_U16 => 2, _ => 4 };
        let off = y * d.stride + (x * d.channels as usize + c) * bps;
        match d.sample_type {
            UNISTYLE_U8 => self.bytes[off] = (v * 255.0 + 0.5) as u8,
            UNISTYLE_U16 => self.bytes[off..off + 2].copy_from_slice(&((v * 65535.0 + 0.5) as u16).to_ne_bytes()),
            _ => self.bytes[off..off + 4].copy_from_slice(&v.to_ne_bytes()),
        }
    }

    pub fn get(&self, x: usize, y: usize, c: usize) -> f32 {
        let d = self.desc;
        let bps = match d.sample_type { UNISTYLE_U8 => 1, UNISTYLE_U16 => 2, _ => 4 };
        let off = y * d.stride + (x * d.channels as usize + c) * bps;
        match d.sample_type {
            UNISTYLE_U8 => self.bytes[off] as f32 / 255.0,
            UNISTYLE_U16 => u16::from_ne_bytes([self.bytes[off], self.bytes[off + 1]]) as f32 / 65535.0,
            _ => f32::from_ne_bytes(self.bytes[off..off + 4].try_into().unwrap()),
        }
    }

    /// Planar RGB of the first three channels.
    pub fn rgb(&self) -> Vec<f32> {
        let (w, h) = (self.desc.width as usize, self.desc.height as usize);
        (0..3).flat_map(|c| (0..h).flat_map(move |y| (0..w).map(move |x| (x, y, c)))).map(|(x, y, c)| self.get(x, y, c)).collect()
    }
}

pub struct Ctx(pub *mut UnistyleContext);
unsafe impl Send for Ctx {}
unsafe impl Sync for Ctx {}
impl Drop for Ctx {
    fn drop(&mut self) {
        unsafe { (api().context_destroy)(self.0) }
    }
}

pub fn context() -> Ctx {
    let mut ctx = null_mut();
    let st = unsafe { (api().context_create)(cstr(&relu3_weights()).as_ptr(), null(), &mut ctx) };
    assert_eq!(st, UNISTYLE_OK, "{}", last_error());
    Ctx(ctx)
}

pub struct Style(pub *mut UnistyleStyle);
unsafe impl Send for Style {}
unsafe impl Sync for Style {}
impl Drop for Style {
    fn drop(&mut self) {
        unsafe { (api().style_destroy)(self.0) }
    }
}

pub fn style(ctx: &Ctx, rel: &str) -> Style {
    let mut s = null_mut();
    let st = unsafe { (api().style_from_file)(ctx.0, cstr(&image(rel)).as_ptr(), 0, &mut s) };
    assert_eq!(st, UNISTYLE_OK, "{}", last_error());
    Style(s)
}

pub fn stylize_opts(styles: &[*const UnistyleStyle], alpha: f32, levels: &[u32]) -> UnistyleStylizeOptions {
    let mut o = std::mem::MaybeUninit::<UnistyleStylizeOptions>::uninit();
    assert_eq!(unsafe { (api().stylize_init)(o.as_mut_ptr()) }, UNISTYLE_OK);
    let mut o = unsafe { o.assume_init() };
    o.style_count = styles.len() as u32;
    o.styles = styles.as_ptr();
    o.alpha = alpha;
    o.level_count = levels.len() as u32;
    o.levels = levels.as_ptr();
    o
}
