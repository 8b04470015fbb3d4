//! Progress reporting with cancellation: the pipeline reports a fraction in 0..1 and the
//! caller answers whether to go on.

use std::cell::Cell;
use std::ptr::NonNull;

/// The caller's answer to a progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop: the run returns [`crate::Error::Cancelled`] and writes nothing.
    Cancel,
}

/// Receives progress reports. Implemented for every `FnMut(f32) -> Control`.
pub trait Progress {
    /// `fraction` grows monotonically from 0 to 1.
    fn report(&mut self, fraction: f32) -> Control;
}

impl<F: FnMut(f32) -> Control> Progress for F {
    fn report(&mut self, fraction: f32) -> Control {
        self(fraction)
    }
}

/// A progress sink that never cancels.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn report(&mut self, _fraction: f32) -> Control {
        Control::Continue
    }
}

/// A stage's share of a longer operation: reports `from + (to − from) · fraction` to `inner`.
pub struct Span<'a> {
    pub inner: &'a mut dyn Progress,
    pub from: f32,
    pub to: f32,
}

impl Progress for Span<'_> {
    fn report(&mut self, fraction: f32) -> Control {
        self.inner.report(self.from + (self.to - self.from) * fraction.clamp(0.0, 1.0))
    }
}

/// Reports `fraction` and turns a cancel answer into [`crate::Error::Cancelled`].
pub(crate) fn step(progress: &mut dyn Progress, fraction: f32) -> crate::Result<()> {
    match progress.report(fraction.clamp(0.0, 1.0)) {
        Control::Continue => Ok(()),
        Control::Cancel => Err(crate::Error::Cancelled),
    }
}

/// A cancel probe: reports again the fraction last reported, failing on cancel.
type Probe = dyn FnMut() -> crate::Result<()>;

thread_local! {
    /// This thread's cancel probe while [`probed`] runs (lifetime erased; see there).
    static PROBE: Cell<Option<NonNull<Probe>>> = const { Cell::new(None) };
}

/// Runs `work` with `probe` as this thread's cancel probe: the network's layer loop calls
/// [`probe`] between layers, so a cancel stops a tile's encoding or decoding after the layer
/// running when it came, not after the whole tile.
pub(crate) fn probed<T>(
    probe: &mut dyn FnMut() -> crate::Result<()>,
    work: impl FnOnce() -> crate::Result<T>,
) -> crate::Result<T> {
    let ptr: NonNull<dyn FnMut() -> crate::Result<()> + '_> = NonNull::from(probe);
    // SAFETY: only the lifetime is erased; the pointer leaves the thread-local (the guard
    // restores the previous probe, also on unwind) before `probe`'s borrow ends.
    let ptr: NonNull<Probe> = unsafe { std::mem::transmute(ptr) };
    let _restore = Restore(PROBE.with(|p| p.replace(Some(ptr))));
    work()
}

/// Puts a probe back into the thread-local when dropped.
struct Restore(Option<NonNull<Probe>>);

impl Drop for Restore {
    fn drop(&mut self) {
        PROBE.with(|p| p.set(self.0));
    }
}

/// Calls this thread's cancel probe, if [`probed`] set one (never reentrantly).
pub(crate) fn probe() -> crate::Result<()> {
    let Some(mut f) = PROBE.with(|p| p.take()) else {
        return Ok(());
    };
    let _put_back = Restore(Some(f));
    // SAFETY: set by `probed` on this thread, whose borrow of the probe outlives this call;
    // taken out of the thread-local meanwhile, so it is not aliased.
    unsafe { f.as_mut()() }
}
