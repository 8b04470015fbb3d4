//! Versioned option structs of the stylize and texture calls, and their translation into
//! the library's builders.

use std::ffi::{c_int, c_void};

use std::sync::Arc;

use super::handles::{acquire, UnistyleContext, UnistyleJob, UnistyleStyle};
use super::image::{check, UnistyleImage, MAX_MASKS};
use super::status::{fail, Fail, UNISTYLE_ERR_INVALID, UNISTYLE_ERR_LIMITS, UNISTYLE_ERR_NULL};
use super::versioned::{end_of, Versioned};
use crate::job::{Job, MaskInput, StyleInput, TextureJob};
use crate::model::Precision;
use crate::pipeline::TransformKind;
use crate::progress::{Control, Progress};
use crate::rules::{self, JobKind, Param, Violation};

/// `precision` value: f32 throughout (the default).
pub const UNISTYLE_PRECISION_F32: c_int = 0;
/// `precision` value: bf16 products with f32 accumulation in the wide layers.
pub const UNISTYLE_PRECISION_BF16: c_int = 1;

/// Progress callback: `fraction` in 0..1; return non-zero to cancel.
pub type ProgressFn = unsafe extern "C" fn(fraction: f32, user_data: *mut c_void) -> c_int;

/// Options of `unistyle_stylize`. Initialise with `unistyle_stylize_options_init`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct UnistyleStylizeOptions {
    pub struct_size: u32,
    pub style_count: u32,
    pub styles: *const *const UnistyleStyle,
    /// `style_count` blend weights (normalised), or NULL for equal weights. Without masks only.
    pub weights: *const f32,
    /// With N styles: N−1 masks (the last style takes the rest) or N (the rest keeps the input).
    pub mask_count: u32,
    pub masks: *const UnistyleImage,
    /// Levels to run (coarse to fine whatever the order); 0/NULL = every level of the model.
    pub level_count: u32,
    pub levels: *const u32,
    pub alpha: f32,
    pub feather: f32,
    pub preserve_color: c_int,
    pub foreground_only: c_int,
    pub progress: Option<ProgressFn>,
    pub progress_user_data: *mut c_void,
    pub job: *const UnistyleJob,
    // Version 2 (issue 17): the modes beyond plain WCT.
    /// Non-zero: swap content patches for style patches at the coarsest level (no masks).
    pub patch_swap: c_int,
    /// `UNISTYLE_TRANSFORM_WCT` (0, default) or `UNISTYLE_TRANSFORM_OST` (1).
    pub transform: c_int,
    /// Random variation strength 0..1 (0 = plain output).
    pub variation: f32,
    /// Scale the style images are taken at, 0.125..8 (default 1 = as given).
    pub stroke_scale: f32,
    /// Seed of the variation: the same seed gives bit-identical output.
    pub seed: u64,
    /// Non-zero: photo mode (edge-preserving smoothing guided by the input).
    pub photo: c_int,
    /// `UNISTYLE_PRECISION_F32` (0, default) or `UNISTYLE_PRECISION_BF16` (1).
    pub precision: c_int,
}

/// `transform` value: whitening and colouring (the default).
pub const UNISTYLE_TRANSFORM_WCT: c_int = 0;
/// `transform` value: optimal-transport colouring.
pub const UNISTYLE_TRANSFORM_OST: c_int = 1;

impl UnistyleStylizeOptions {
    /// The transform kind of the `transform` code.
    fn transform_kind(&self) -> Result<TransformKind, Fail> {
        match self.transform {
            UNISTYLE_TRANSFORM_WCT => Ok(TransformKind::Wct),
            UNISTYLE_TRANSFORM_OST => Ok(TransformKind::Ost),
            t => fail(
                UNISTYLE_ERR_INVALID,
                format!("transform is {t}: use UNISTYLE_TRANSFORM_WCT (0) or UNISTYLE_TRANSFORM_OST (1)"),
            ),
        }
    }
}

/// Options of `unistyle_texture`. Initialise with `unistyle_texture_options_init`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct UnistyleTextureOptions {
    pub struct_size: u32,
    pub style_count: u32,
    pub styles: *const *const UnistyleStyle,
    pub weights: *const f32,
    /// N−1 masks for N styles: style i inside mask i, the last style elsewhere.
    pub mask_count: u32,
    pub masks: *const UnistyleImage,
    pub level_count: u32,
    pub levels: *const u32,
    pub seed: u64,
    pub iterations: u32,
    pub tileable: c_int,
    pub feather: f32,
    pub progress: Option<ProgressFn>,
    pub progress_user_data: *mut c_void,
    pub job: *const UnistyleJob,
    /// Optional start image instead of noise (NULL = seeded uniform noise).
    pub init: *const UnistyleImage,
    // Version 2: arithmetic precision.
    /// `UNISTYLE_PRECISION_F32` (0, default) or `UNISTYLE_PRECISION_BF16` (1).
    pub precision: c_int,
}

impl Default for UnistyleStylizeOptions {
    /// Alpha 1, every level, no masks, no progress.
    fn default() -> Self {
        Self {
            struct_size: 0,
            style_count: 0,
            styles: std::ptr::null(),
            weights: std::ptr::null(),
            mask_count: 0,
            masks: std::ptr::null(),
            level_count: 0,
            levels: std::ptr::null(),
            alpha: rules::DEFAULT_ALPHA as f32,
            feather: 0.0,
            preserve_color: 0,
            foreground_only: 0,
            progress: None,
            progress_user_data: std::ptr::null_mut(),
            job: std::ptr::null(),
            patch_swap: 0,
            transform: UNISTYLE_TRANSFORM_WCT,
            variation: 0.0,
            stroke_scale: rules::DEFAULT_STROKE_SCALE as f32,
            seed: 0,
            photo: 0,
            precision: UNISTYLE_PRECISION_F32,
        }
    }
}

impl Default for UnistyleTextureOptions {
    /// 3 iterations, seed 0, every level, not tileable, seeded noise as the start.
    fn default() -> Self {
        Self {
            struct_size: 0,
            style_count: 0,
            styles: std::ptr::null(),
            weights: std::ptr::null(),
            mask_count: 0,
            masks: std::ptr::null(),
            level_count: 0,
            levels: std::ptr::null(),
            seed: 0,
            iterations: rules::DEFAULT_ITERATIONS as u32,
            tileable: 0,
            feather: 0.0,
            progress: None,
            progress_user_data: std::ptr::null_mut(),
            job: std::ptr::null(),
            init: std::ptr::null(),
            precision: UNISTYLE_PRECISION_F32,
        }
    }
}

/// Progress, cancellation and (later) other per-call settings of the `_ex` preset calls.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct UnistyleRunOptions {
    pub struct_size: u32,
    pub progress: Option<ProgressFn>,
    pub progress_user_data: *mut c_void,
    pub job: *const UnistyleJob,
}

impl Default for UnistyleRunOptions {
    /// No progress callback, no job.
    fn default() -> Self {
        Self { struct_size: 0, progress: None, progress_user_data: std::ptr::null_mut(), job: std::ptr::null() }
    }
}

/// Settings of `unistyle_style_create_from_file_ex` / `_from_image_ex`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct UnistyleStyleOptions {
    pub struct_size: u32,
    /// > 0: downscale the style image so its longer side is at most this many pixels.
    pub max_size: u32,
    pub progress: Option<ProgressFn>,
    pub progress_user_data: *mut c_void,
    pub job: *const UnistyleJob,
}

impl Default for UnistyleStyleOptions {
    /// Full size, no progress callback, no job.
    fn default() -> Self {
        Self {
            struct_size: 0,
            max_size: 0,
            progress: None,
            progress_user_data: std::ptr::null_mut(),
            job: std::ptr::null(),
        }
    }
}

/// Implements [`Versioned`] with the C name, the last field of version 1 and every field
/// after it.
macro_rules! versioned {
    ($t:ty, $c:literal, $last_v1:ident, [$($later:ident),*]) => {
        impl Versioned for $t {
            const C_NAME: &'static str = $c;
            const V1_SIZE: u32 = end_of!($t, $last_v1);
            const LATER_FIELDS: &'static [(&'static str, u32, u32)] =
                &[$((stringify!($later), std::mem::offset_of!($t, $later) as u32, end_of!($t, $later))),*];
            fn current() -> Self {
                Self { struct_size: std::mem::size_of::<Self>() as u32, ..Self::default() }
            }
        }
    };
}

versioned!(
    UnistyleStylizeOptions,
    "unistyle_stylize_options",
    job,
    [patch_swap, transform, variation, stroke_scale, seed, photo, precision]
);
versioned!(UnistyleTextureOptions, "unistyle_texture_options", init, [precision]);
versioned!(UnistyleRunOptions, "unistyle_run_options", job, []);
versioned!(UnistyleStyleOptions, "unistyle_style_options", job, []);
versioned!(UnistyleImage, "unistyle_image", data, []);

impl UnistyleRunOptions {
    /// The library's progress adapter for these options.
    pub(crate) fn host_progress(&self) -> HostProgress {
        HostProgress::new(self.progress, self.progress_user_data, self.job)
    }
}

impl UnistyleStyleOptions {
    /// The library's progress adapter for these options.
    pub(crate) fn host_progress(&self) -> HostProgress {
        HostProgress::new(self.progress, self.progress_user_data, self.job)
    }
}

/// A broken rule, named by the C field it is about (`unistyle_stylize_options.feather`,
/// `unistyle_texture_options.levels[1]`).
pub(crate) fn field_fail(v: Violation, c_struct: &str) -> Fail {
    let field = match v.param {
        Param::Style => "style_count",
        Param::Blend => "weights",
        Param::Mask => "mask_count",
        Param::StyleSize => "max_size",
        p => p.key().strip_prefix("texture.").unwrap_or(p.key()),
    };
    let name = match (v.param, v.index) {
        (Param::Levels, Some(i)) => format!("{c_struct}.{field}[{i}]"),
        _ => format!("{c_struct}.{field}"),
    };
    Fail(UNISTYLE_ERR_INVALID, format!("{name}: {}", v.reason))
}

impl UnistyleStylizeOptions {
    /// The job these options describe (the rules are checked on it by the caller).
    ///
    /// # Safety
    /// Every pointer in the options must be NULL or valid for its count.
    pub(crate) unsafe fn job(&self, ctx: &UnistyleContext) -> Result<Job, Fail> {
        // SAFETY: forwarded from the caller.
        let inputs = unsafe {
            read_inputs(
                Self::C_NAME,
                ctx,
                self.style_count,
                self.styles,
                self.weights,
                self.mask_count,
                self.masks,
                self.level_count,
                self.levels,
            )?
        };
        Ok(Job {
            alpha: Some(f64::from(self.alpha)),
            feather: Some(self.feather),
            preserve_color: Some(self.preserve_color != 0),
            foreground_only: Some(self.foreground_only != 0),
            patch_swap: Some(self.patch_swap != 0),
            transform: Some(self.transform_kind()?),
            variation: Some(f64::from(self.variation)),
            seed: Some(self.seed),
            stroke_scale: Some(vec![f64::from(self.stroke_scale)]),
            photo: Some(self.photo != 0),
            precision: Some(self.precision()?),
            ..inputs.into_job(JobKind::Stylize)
        })
    }

    /// The precision these options ask for, named by its field when out of range.
    pub(crate) fn precision(&self) -> Result<Precision, Fail> {
        precision_of(self.precision, Self::C_NAME)
    }
}

impl UnistyleTextureOptions {
    /// The job these options describe, but for its size and start image, which come from the
    /// output and `init` descriptors (the rules are checked on it by the caller).
    ///
    /// # Safety
    /// Every pointer in the options must be NULL or valid for its count.
    pub(crate) unsafe fn job(&self, ctx: &UnistyleContext) -> Result<Job, Fail> {
        // SAFETY: forwarded from the caller.
        let inputs = unsafe {
            read_inputs(
                Self::C_NAME,
                ctx,
                self.style_count,
                self.styles,
                self.weights,
                self.mask_count,
                self.masks,
                self.level_count,
                self.levels,
            )?
        };
        Ok(Job {
            feather: Some(self.feather),
            precision: Some(self.precision()?),
            texture: TextureJob {
                seed: Some(self.seed),
                iterations: Some(self.iterations as usize),
                tileable: Some(self.tileable != 0),
                ..TextureJob::default()
            },
            ..inputs.into_job(JobKind::Texture)
        })
    }

    /// The precision these options ask for, named by its field when out of range.
    pub(crate) fn precision(&self) -> Result<Precision, Fail> {
        precision_of(self.precision, Self::C_NAME)
    }
}

/// The precision of the code `code` (`UNISTYLE_PRECISION_*`), named by the `precision` field
/// of `c_struct` when it is none of them.
fn precision_of(code: c_int, c_struct: &str) -> Result<Precision, Fail> {
    match code {
        UNISTYLE_PRECISION_F32 => Ok(Precision::F32),
        UNISTYLE_PRECISION_BF16 => Ok(Precision::Bf16),
        code => Err(field_fail(
            Violation {
                param: Param::Precision,
                index: None,
                reason: format!(
                    "must be {UNISTYLE_PRECISION_F32} (f32) or {UNISTYLE_PRECISION_BF16} (bf16), got {code}"
                ),
            },
            c_struct,
        )),
    }
}

impl UnistyleStyleOptions {
    /// The style size rule (0 = full size), named by the field.
    pub(crate) fn check_rules(&self) -> Result<(), Fail> {
        if self.max_size > 0 {
            rules::int_in(Param::StyleSize, i128::from(self.max_size), 1, rules::MAX_STYLE_SIZE as i128)
                .map_err(|v| field_fail(v, Self::C_NAME))?;
        }
        Ok(())
    }
}

/// The styles, weights, masks and levels common to both option structs, read out of the
/// host's pointers.
struct Inputs {
    styles: Vec<StyleInput>,
    weights: Option<Vec<f64>>,
    masks: Vec<MaskInput>,
    levels: Option<Vec<usize>>,
}

impl Inputs {
    fn into_job(self, kind: JobKind) -> Job {
        Job { kind, styles: self.styles, blend: self.weights, masks: self.masks, levels: self.levels, ..Job::default() }
    }
}

/// Reads a C array, refusing NULL when `count > 0`.
///
/// # Safety
/// `ptr` must be NULL or point to `count` readable elements.
unsafe fn array<'a, T>(ptr: *const T, count: u32, what: &str) -> Result<&'a [T], Fail> {
    if count == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return fail(UNISTYLE_ERR_NULL, format!("{what} is NULL but its count is {count}"));
    }
    // SAFETY: caller guarantees `count` readable elements.
    Ok(unsafe { std::slice::from_raw_parts(ptr, count as usize) })
}

/// # Safety
/// Every pointer in the arguments must be NULL or valid for its count.
#[allow(clippy::too_many_arguments)]
unsafe fn read_inputs(
    c_name: &str,
    ctx: &UnistyleContext,
    style_count: u32,
    styles: *const *const UnistyleStyle,
    weights: *const f32,
    mask_count: u32,
    masks: *const UnistyleImage,
    level_count: u32,
    levels: *const u32,
) -> Result<Inputs, Fail> {
    // The first rule (the number of styles) before any handle is looked at.
    rules::styles(style_count as usize).map_err(|v| field_fail(v, c_name))?;
    // SAFETY: forwarded from the caller.
    let style_ptrs = unsafe { array(styles, style_count, "styles")? };
    let mut inputs = Vec::with_capacity(style_ptrs.len());
    for (i, &p) in style_ptrs.iter().enumerate() {
        // SAFETY: only a live handle is used.
        let s = unsafe { acquire(p, &format!("styles[{i}]"))? };
        if s.context_id != ctx.id {
            return fail(UNISTYLE_ERR_INVALID, format!("styles[{i}] was created with another context"));
        }
        inputs.push(StyleInput::Encoded { style: Arc::clone(&s.style), source: Arc::clone(&s.source) });
    }
    // SAFETY: forwarded from the caller.
    let weights = (!weights.is_null())
        .then(|| unsafe { array(weights, style_count, "weights") })
        .transpose()?
        .map(|w| w.iter().map(|&x| f64::from(x)).collect());
    if mask_count > MAX_MASKS {
        return fail(
            UNISTYLE_ERR_LIMITS,
            format!("mask_count is {mask_count}; at most {MAX_MASKS} masks are supported"),
        );
    }
    // SAFETY: forwarded from the caller.
    let mask_descs = unsafe { array(masks, mask_count, "masks")? };
    let mut out_masks = Vec::with_capacity(mask_descs.len());
    for (i, d) in mask_descs.iter().enumerate() {
        let what = format!("masks[{i}]");
        // SAFETY: forwarded from the caller.
        out_masks.push(MaskInput::Mask(unsafe { check(d, &what)?.to_mask(&what)? }));
    }
    // SAFETY: forwarded from the caller.
    let levels = unsafe { array(levels, level_count, "levels")? };
    let levels = (!levels.is_empty()).then(|| levels.iter().map(|&l| l as usize).collect());
    Ok(Inputs { styles: inputs, weights, masks: out_masks, levels })
}

/// Adapts the C callback and the job to the library's [`Progress`].
pub(crate) struct HostProgress {
    pub callback: Option<ProgressFn>,
    pub user_data: *mut c_void,
    pub job: *const UnistyleJob,
    /// Where the reports start: a stage run before (re-encoding the styles) took `0..from`.
    pub from: f32,
}

impl HostProgress {
    pub(crate) fn new(callback: Option<ProgressFn>, user_data: *mut c_void, job: *const UnistyleJob) -> Self {
        Self { callback, user_data, job, from: 0.0 }
    }
}

impl Progress for HostProgress {
    fn report(&mut self, fraction: f32) -> Control {
        let fraction = self.from + (1.0 - self.from) * fraction;
        // SAFETY: the job handle is valid for the duration of the call (documented).
        let job = unsafe { self.job.as_ref() };
        if let Some(j) = job {
            j.set_progress(fraction);
            if j.is_cancelled() {
                return Control::Cancel;
            }
        }
        if let Some(cb) = self.callback {
            // SAFETY: a host-provided function pointer with the documented signature.
            if unsafe { cb(fraction, self.user_data) } != 0 {
                if let Some(j) = job {
                    j.cancel();
                }
                return Control::Cancel;
            }
        }
        Control::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_codes() {
        assert_eq!(precision_of(UNISTYLE_PRECISION_F32, "o").ok(), Some(Precision::F32));
        assert_eq!(precision_of(UNISTYLE_PRECISION_BF16, "o").ok(), Some(Precision::Bf16));
        for bad in [-1, 2, 1 << 30] {
            let Fail(code, msg) = precision_of(bad, "o").unwrap_err();
            assert_eq!(
                (code, msg),
                (UNISTYLE_ERR_INVALID, format!("o.precision: must be 0 (f32) or 1 (bf16), got {bad}"))
            );
        }
    }

    /// Every field after v1 is listed: the last listed one ends the struct (but for padding).
    fn later_fields_cover<T: Versioned>() {
        let end = T::LATER_FIELDS.last().map_or(T::V1_SIZE, |f| f.2) as usize;
        let (size, align) = (std::mem::size_of::<T>(), std::mem::align_of::<T>());
        assert!(end <= size && size - end < align, "{}: fields end at {end}, struct is {size}", T::C_NAME);
        let mut at = T::V1_SIZE;
        for &(name, start, stop) in T::LATER_FIELDS {
            assert!(start >= at && stop > start, "{}: {name} out of order", T::C_NAME);
            at = stop;
        }
    }

    #[test]
    fn every_later_field_is_listed() {
        later_fields_cover::<UnistyleStylizeOptions>();
        later_fields_cover::<UnistyleTextureOptions>();
        later_fields_cover::<UnistyleRunOptions>();
        later_fields_cover::<UnistyleStyleOptions>();
        later_fields_cover::<UnistyleImage>();
        later_fields_cover::<crate::capi::UnistyleClipOptions>();
    }
}
