//! The opaque objects behind the C handles.
//!
//! Contexts, styles and presets are reference-counted: a handle is an `Arc` turned into a raw
//! pointer and registered as live. A call takes its own reference under the registry's lock
//! ([`acquire`]), so destroying the handle from another thread while the call runs only drops
//! the handle's reference, and the object is freed when the last call using it returns. A
//! destroyed (or foreign) pointer is refused with `UNISTYLE_ERR_INVALID` while its address is
//! not reused, and destroying it again is ignored.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::ffi::CString;

use super::status::{fail, Fail, UNISTYLE_ERR_INVALID, UNISTYLE_ERR_NULL};

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
    pub(crate) style: Arc<EncodedStyle>,
    /// The style image as encoded (after `max_size`): modes that take the style at other
    /// scales or need its feature maps (stroke_scale, patch_swap) encode it again per call.
    pub(crate) source: Arc<Picture>,
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

/// The addresses of the live handles of one kind.
pub(crate) struct Registry(Mutex<BTreeSet<usize>>);

impl Registry {
    const fn new() -> Self {
        Self(Mutex::new(BTreeSet::new()))
    }

    fn live(&self) -> std::sync::MutexGuard<'_, BTreeSet<usize>> {
        // A panic elsewhere while holding the lock leaves the set itself intact.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The registry's key of a handle: its address with every other bit flipped, so the registry
/// does not hold what looks like a pointer to the handle. A host's forgotten handle then stays
/// unreachable, and leak checkers (valgrind, LeakSanitizer) still report it.
fn disguised<T>(p: *const T) -> usize {
    p as usize ^ (usize::MAX / 3)
}

/// A handle kind of the C ABI that is reference-counted.
pub(crate) trait Shared: Sized + Send + Sync + 'static {
    /// The C type name, for messages.
    const C_NAME: &'static str;
    fn registry() -> &'static Registry;
}

macro_rules! shared {
    ($t:ty, $c:literal) => {
        impl Shared for $t {
            const C_NAME: &'static str = $c;
            fn registry() -> &'static Registry {
                static LIVE: Registry = Registry::new();
                &LIVE
            }
        }
    };
}

shared!(UnistyleContext, "unistyle_context");
shared!(UnistyleStyle, "unistyle_style");
shared!(UnistylePreset, "unistyle_preset");

/// Makes `value` a live handle.
pub(crate) fn share<T: Shared>(value: T) -> *mut T {
    let p = Arc::into_raw(Arc::new(value)) as *mut T;
    T::registry().live().insert(disguised(p));
    p
}

/// A reference to the live handle `p` for the duration of a call (`what` names the argument).
///
/// # Safety
/// None beyond the pointer being a value the host holds: it is only dereferenced when it is a
/// live handle of this kind.
pub(crate) unsafe fn acquire<T: Shared>(p: *const T, what: &str) -> Result<Arc<T>, Fail> {
    if p.is_null() {
        return fail(UNISTYLE_ERR_NULL, format!("{what} is NULL"));
    }
    let live = T::registry().live();
    if !live.contains(&disguised(p)) {
        return fail(
            UNISTYLE_ERR_INVALID,
            format!("{what} is not a live {} (already destroyed, or not made by this library)", T::C_NAME),
        );
    }
    // SAFETY: registered, so the handle's own reference keeps the object alive while the
    // lock is held; the count is raised before the lock is released.
    unsafe {
        Arc::increment_strong_count(p);
        Ok(Arc::from_raw(p))
    }
}

/// Drops the handle's own reference (the object lives on while calls still use it); NULL,
/// a destroyed or a foreign pointer is ignored.
///
/// # Safety
/// None: `p` is only used when it is a live handle of this kind.
pub(crate) unsafe fn release<T: Shared>(p: *mut T) {
    if p.is_null() || !T::registry().live().remove(&disguised(p)) {
        return;
    }
    // SAFETY: it was live: this is the handle's own reference, given up once.
    drop(unsafe { Arc::from_raw(p as *const T) });
}
