//! `unistyle_clip`: a clip fed frame by frame (animation hosts stream their frames), with
//! the library's temporal stabilizer ([`crate::Clip`]).

use std::ffi::c_int;
use std::sync::Arc;

use super::handles::{UnistyleContext, UnistylePreset};
use super::image::UnistyleImage;
use super::options::{HostProgress, UnistyleRunOptions};
use super::status::{fail, guard, guard_void, Fail, UNISTYLE_ERR_INVALID};
use super::versioned::{end_of, init_versioned, read_versioned, Versioned};
use super::{checked_job, handle, input_output, prepare, preset_for, put, run_options, UnistyleStylizeOptions};
use crate::job::{Job, Prepared};
use crate::pipeline::clip::Stabilizer;
use crate::pipeline::DEFAULT_STABILITY;

/// Settings of a clip. Initialise with `unistyle_clip_options_init`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct UnistyleClipOptions {
    pub struct_size: u32,
    /// 0..1: 0 styles every frame on its own (bit-identical to `unistyle_stylize`); default
    /// `UNISTYLE_DEFAULT_STABILITY`.
    pub stability: f32,
}

impl Default for UnistyleClipOptions {
    fn default() -> Self {
        Self { struct_size: 0, stability: DEFAULT_STABILITY as f32 }
    }
}

impl Versioned for UnistyleClipOptions {
    const C_NAME: &'static str = "unistyle_clip_options";
    const V1_SIZE: u32 = end_of!(UnistyleClipOptions, stability);
    const LATER_FIELDS: &'static [(&'static str, u32, u32)] = &[];
    fn current() -> Self {
        Self { struct_size: std::mem::size_of::<Self>() as u32, ..Self::default() }
    }
}

/// `unistyle_clip`: a context, a job and the stabilizer's memory of the previous frames.
pub struct UnistyleClip {
    /// The context the clip was made with, held (reference-counted) until the clip is freed.
    ctx: Arc<UnistyleContext>,
    /// What the frames are stylized with (from stylize options or a preset), its inputs read.
    job: Job,
    prepared: Prepared,
    state: Stabilizer,
}

/// Reads the clip options (NULL: defaults) into a fresh stabilizer.
///
/// # Safety
/// `opts` must be NULL or point to `struct_size` readable bytes.
unsafe fn stabilizer(opts: *const UnistyleClipOptions) -> Result<Stabilizer, Fail> {
    let o = match opts.is_null() {
        true => UnistyleClipOptions::current(),
        // SAFETY: forwarded from the caller.
        false => unsafe { read_versioned(opts, "clip_opts")? },
    };
    // The library's rule, named by the field.
    Stabilizer::new(f64::from(o.stability)).map_err(|e| match e {
        crate::Error::InvalidRange { min, max, value, .. } => {
            Fail(UNISTYLE_ERR_INVALID, format!("clip_opts.stability must be in {min}..={max}, got {value}"))
        }
        e => e.into(),
    })
}

/// Fills clip options (a host struct of `struct_size` bytes) with defaults.
#[no_mangle]
pub unsafe extern "C" fn unistyle_clip_options_init(opts: *mut UnistyleClipOptions, struct_size: u32) -> c_int {
    // SAFETY: documented: `opts` spans `struct_size` writable bytes.
    guard("unistyle_clip_options_init", || unsafe { init_versioned(opts, struct_size, "opts") })
}

/// A clip stylized with `opts` (as `unistyle_stylize`; its progress and job are not used —
/// each frame takes its own run options). The styles are copied: they may be destroyed
/// while the clip lives, and so may `ctx` (the clip holds its own reference).
#[no_mangle]
pub unsafe extern "C" fn unistyle_clip_new(
    ctx: *const UnistyleContext,
    opts: *const UnistyleStylizeOptions,
    clip_opts: *const UnistyleClipOptions,
    out: *mut *mut UnistyleClip,
) -> c_int {
    guard("unistyle_clip_new", || {
        // SAFETY: documented arguments.
        let c = unsafe { handle(ctx, "ctx")? };
        let o = unsafe { read_versioned(opts, "opts")? };
        let job = unsafe { checked_job(&c, &o, UnistyleStylizeOptions::job)? };
        let state = unsafe { stabilizer(clip_opts)? };
        // The options' progress and job are not used (each frame takes its own run options).
        let mut silent = HostProgress::new(None, std::ptr::null_mut(), std::ptr::null());
        let prepared = prepare(&c, &job, &mut silent)?;
        // Refused now rather than at the first frame.
        job.stylizer(&c.model, &prepared).build()?;
        let clip = UnistyleClip { ctx: c, job, prepared, state };
        // SAFETY: documented: NULL or writable.
        unsafe { put(out, clip, "out") }
    })
}

/// A clip stylized with everything `preset` says (copied: the preset may be destroyed while
/// the clip lives, and so may `ctx`).
#[no_mangle]
pub unsafe extern "C" fn unistyle_clip_new_preset(
    ctx: *const UnistyleContext,
    preset: *const UnistylePreset,
    clip_opts: *const UnistyleClipOptions,
    out: *mut *mut UnistyleClip,
) -> c_int {
    guard("unistyle_clip_new_preset", || {
        // SAFETY: documented arguments.
        let c = unsafe { handle(ctx, "ctx")? };
        let p = unsafe { preset_for(&c, preset)? };
        let state = unsafe { stabilizer(clip_opts)? };
        p.preset.settings.stylizer(&c.model, &p.prepared).build()?;
        let clip = UnistyleClip { ctx: c, job: p.preset.settings.clone(), prepared: p.prepared.clone(), state };
        // SAFETY: documented: NULL or writable.
        unsafe { put(out, clip, "out") }
    })
}

/// Stylizes the clip's next frame `input` into `output` (same size; any channels/sample
/// type; may be the same buffer). `run` (NULL: none) gives progress within the frame and a
/// job to cancel it. A failed or cancelled frame leaves the clip as it was and the output
/// untouched.
#[no_mangle]
pub unsafe extern "C" fn unistyle_clip_push_frame(
    clip: *mut UnistyleClip,
    input: *const UnistyleImage,
    output: *const UnistyleImage,
    run: *const UnistyleRunOptions,
) -> c_int {
    guard("unistyle_clip_push_frame", || {
        // SAFETY: documented: NULL or a live clip, used by one thread at a time.
        let Some(clip) = (unsafe { clip.as_mut() }) else {
            return fail(super::UNISTYLE_ERR_NULL, "clip is NULL");
        };
        let ctx = &clip.ctx;
        let run = unsafe { run_options(run)? };
        let (frame, out) = unsafe { input_output(input, output)? };
        // Rebuilt per frame: a stylizer borrows what it runs with.
        let stylizer = clip.job.stylizer(&ctx.model, &clip.prepared).build()?;
        let result = clip.state.push(&stylizer, &frame, &mut run.host_progress())?;
        // SAFETY: validated output descriptor.
        unsafe { out.write_picture(&result) };
        Ok(())
    })
}

/// Frames stylized so far by `clip` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn unistyle_clip_frames(clip: *const UnistyleClip) -> u64 {
    // SAFETY: documented: NULL or a live clip.
    unsafe { clip.as_ref() }.map_or(0, |c| c.state.frames() as u64)
}

/// Frees a clip (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn unistyle_clip_free(clip: *mut UnistyleClip) {
    guard_void(|| {
        if !clip.is_null() {
            // SAFETY: a handle from unistyle_clip_new*, freed once (documented).
            drop(unsafe { Box::from_raw(clip) });
        }
    })
}
