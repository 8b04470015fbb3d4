//! C ABI helpers for the cancel and concurrency tests: owned pixel buffers with their
//! descriptors and RAII handles, calling the exported `extern "C"` functions.
#![allow(dead_code)]

use std::ffi::{c_void, CStr, CString};
use std::path::Path;
use std::ptr::{null, null_mut};

use unistyle::capi::*;

pub fn last_error() -> String {
    unsafe { CStr::from_ptr(unistyle_last_error()) }.to_string_lossy().into_owned()
}

pub fn cstr(p: &Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

/// Pixels in the host's layout (u8, interleaved, padded rows) with their descriptor.
pub struct Buf {
    pub bytes: Vec<u8>,
    pub desc: UnistyleImage,
}

// The descriptor points into `bytes`, which moves with it (a Vec's heap buffer never moves).
unsafe impl Send for Buf {}

impl Buf {
    /// A `w`×`h` buffer of `channels` u8 samples, rows padded by 5 bytes, every byte `fill`.
    pub fn new(w: usize, h: usize, channels: usize, fill: u8) -> Buf {
        let stride = w * channels + 5;
        let mut bytes = vec![fill; stride * h];
        let desc = UnistyleImage {
            struct_size: std::mem::size_of::<UnistyleImage>() as u32,
            width: w as u32,
            height: h as u32,
            channels: channels as u32,
            sample_type: UNISTYLE_U8,
            stride,
            data: bytes.as_mut_ptr().cast(),
        };
        Buf { bytes, desc }
    }

    /// RGB (3 channels) or gray (1 channel: the red channel) of a picture.
    pub fn from_picture(p: &unistyle::Picture, channels: usize) -> Buf {
        let mut b = Buf::new(p.width, p.height, channels, 0);
        let n = p.width * p.height;
        for y in 0..p.height {
            for x in 0..p.width {
                for c in 0..channels {
                    let v = p.rgb[c * n + y * p.width + x];
                    b.bytes[y * b.desc.stride + x * channels + c] = (v * 255.0 + 0.5) as u8;
                }
            }
        }
        b
    }

    pub fn all(&self, byte: u8) -> bool {
        self.bytes.iter().all(|&b| b == byte)
    }
}

impl Clone for Buf {
    fn clone(&self) -> Buf {
        let mut bytes = self.bytes.clone();
        let desc = UnistyleImage { data: bytes.as_mut_ptr().cast(), ..self.desc };
        Buf { bytes, desc }
    }
}

/// A context handle, destroyed on drop. Contexts may be shared by threads (unistyle.h).
pub struct Ctx(pub *mut UnistyleContext);
unsafe impl Send for Ctx {}
unsafe impl Sync for Ctx {}
impl Drop for Ctx {
    fn drop(&mut self) {
        unsafe { unistyle_context_destroy(self.0) }
    }
}

pub fn context(weights: &Path) -> Ctx {
    let mut ctx = null_mut();
    let st = unsafe { unistyle_context_create(cstr(weights).as_ptr(), null(), &mut ctx) };
    assert_eq!(st, UNISTYLE_OK, "{}", last_error());
    Ctx(ctx)
}

/// A style handle, destroyed on drop (before its context).
pub struct Style(pub *mut UnistyleStyle);
unsafe impl Send for Style {}
unsafe impl Sync for Style {}
impl Drop for Style {
    fn drop(&mut self) {
        unsafe { unistyle_style_destroy(self.0) }
    }
}

pub fn style(ctx: &Ctx, path: &Path, max_size: u32) -> Style {
    let mut s = null_mut();
    let st = unsafe { unistyle_style_create_from_file(ctx.0, cstr(path).as_ptr(), max_size, &mut s) };
    assert_eq!(st, UNISTYLE_OK, "{}", last_error());
    Style(s)
}

/// A job handle, destroyed on drop.
pub struct Job(pub *mut UnistyleJob);
unsafe impl Send for Job {}
unsafe impl Sync for Job {}
impl Drop for Job {
    fn drop(&mut self) {
        unsafe { unistyle_job_destroy(self.0) }
    }
}

pub fn job() -> Job {
    let mut j = null_mut();
    assert_eq!(unsafe { unistyle_job_create(&mut j) }, UNISTYLE_OK);
    Job(j)
}

pub fn stylize_options() -> UnistyleStylizeOptions {
    let mut o = std::mem::MaybeUninit::<UnistyleStylizeOptions>::uninit();
    assert_eq!(unsafe { unistyle_stylize_options_init(o.as_mut_ptr()) }, UNISTYLE_OK);
    unsafe { o.assume_init() }
}

pub fn texture_options() -> UnistyleTextureOptions {
    let mut o = std::mem::MaybeUninit::<UnistyleTextureOptions>::uninit();
    assert_eq!(unsafe { unistyle_texture_options_init(o.as_mut_ptr()) }, UNISTYLE_OK);
    unsafe { o.assume_init() }
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

/// The progress callback for [`Steps`].
pub unsafe extern "C" fn record(fraction: f32, user: *mut c_void) -> std::ffi::c_int {
    let s = unsafe { &mut *(user as *mut Steps) };
    let i = s.fractions.len();
    s.fractions.push(fraction);
    if s.cancel_at == Some(i) {
        match s.job {
            Some(j) => unsafe { unistyle_job_cancel(j) },
            None => return 1,
        }
    }
    0
}
