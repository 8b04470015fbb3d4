//! The opaque objects behind the C handles.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use std::ffi::CString;

use crate::image_io::Picture;
use crate::model::Model;
use crate::pipeline::EncodedStyle;
use crate::preset::{Prepared, Preset};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// `unistyle_context`: a loaded model on a device. Immutable after creation.
pub struct UnistyleContext {
    pub(crate) id: u64,
    pub(crate) model: Model,
}

impl UnistyleContext {
    pub(crate) fn new(model: Model) -> Self {
        Self { id: NEXT_ID.fetch_add(1, Ordering::Relaxed), model }
    }
}

/// `unistyle_style`: a style encoded once for every level of its context's model.
pub struct UnistyleStyle {
    pub(crate) context_id: u64,
    pub(crate) style: EncodedStyle,
    /// The style image as encoded (after `max_size`): modes that take the style at other
    /// scales or need its feature maps (stroke_scale, patch_swap) encode it again per call.
    pub(crate) source: Picture,
}

/// `unistyle_job`: a cancel flag and a progress value shared between the thread running a
/// call and any other thread (a UI's cancel button).
#[derive(Default)]
pub struct UnistyleJob {
    cancel: AtomicBool,
    progress: AtomicU32,
}

impl UnistyleJob {
    pub(crate) fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
    pub(crate) fn set_progress(&self, f: f32) {
        self.progress.store(f.to_bits(), Ordering::SeqCst);
    }
    pub(crate) fn progress(&self) -> f32 {
        f32::from_bits(self.progress.load(Ordering::SeqCst))
    }
}

/// `unistyle_preset`: a parsed preset with its styles already encoded for one context.
pub struct UnistylePreset {
    pub(crate) context_id: u64,
    pub(crate) preset: Preset,
    pub(crate) prepared: Prepared,
    pub(crate) name: CString,
    pub(crate) description: CString,
}
