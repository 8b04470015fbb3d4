//! Progress reporting with cancellation: the pipeline reports a fraction in 0..1 and the
//! caller answers whether to go on.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

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

/// How often [`watched`] calls the cancel probe while a step runs.
const WATCH_EVERY: Duration = Duration::from_millis(40);

thread_local! {
    /// The stop flag of the step this thread runs for [`watched`]; the kernels' task loops
    /// read it through [`stop_flag`].
    static STOP: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Whether this thread has a cancel probe (see [`probed`]).
fn has_probe() -> bool {
    PROBE.with(|p| {
        let f = p.take();
        p.set(f);
        f.is_some()
    })
}

/// Runs one long step (a network layer) so that a cancel reaches into it. When this thread
/// has a cancel probe, `work` runs on a helper thread while this thread calls the probe
/// every [`WATCH_EVERY`] (the host's callback stays on the thread it was given on); on
/// cancel it raises the step's stop flag, which the kernels' task loops read between tasks
/// ([`stop_flag`]), waits for `work` to return and fails with the probe's error, dropping
/// what `work` computed. Without a probe `work` runs here, and so it does on a thread of a
/// rayon pool (a caller stylizing in parallel): blocked there, this thread could hold up the
/// very pool the step's kernels need.
pub(crate) fn watched<T: Send>(work: impl FnOnce() -> crate::Result<T> + Send) -> crate::Result<T> {
    if !has_probe() || rayon::current_thread_index().is_some() {
        return work();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        let flag = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("unistyle-step".into())
            .spawn_scoped(scope, move || {
                STOP.with(|s| *s.borrow_mut() = Some(flag));
                // The receiver may be gone (the scope is unwinding): nothing to tell then.
                let _ = tx.send(work());
            })
            .map_err(|e| crate::Error::Limits { what: "threads".into(), reason: format!("cannot start one: {e}") })?;
        let mut failure = None;
        loop {
            match rx.recv_timeout(WATCH_EVERY) {
                Ok(result) => return failure.map_or(result, Err),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if failure.is_none() {
                        if let Err(e) = probe() {
                            stop.store(true, Ordering::Relaxed);
                            failure = Some(e);
                        }
                    }
                }
                // The step panicked: the scope raises its panic here when it ends.
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(failure.unwrap_or(crate::Error::Cancelled));
                }
            }
        }
    })
}

/// The stop flag of the step this thread runs for [`watched`], if any: a kernel clones it
/// before its parallel loop, and its tasks end early once it is raised (their output is
/// dropped by [`watched`]).
pub(crate) fn stop_flag() -> Option<Arc<AtomicBool>> {
    STOP.with(|s| s.borrow().clone())
}

/// Whether `flag` (from [`stop_flag`]) has been raised.
#[inline]
pub(crate) fn stopped(flag: &Option<Arc<AtomicBool>>) -> bool {
    flag.as_deref().is_some_and(|f| f.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Runs `work` under a probe that cancels at its `cancel_on_call`-th call (if any); returns how often it was called.
    fn under_probe<T>(
        cancel_on_call: Option<usize>,
        work: impl FnOnce() -> crate::Result<T>,
    ) -> (crate::Result<T>, usize) {
        let mut calls = 0;
        let mut probe = || {
            calls += 1;
            if Some(calls) == cancel_on_call {
                Err(crate::Error::Cancelled)
            } else {
                Ok(())
            }
        };
        let r = probed(&mut probe, work);
        (r, calls)
    }

    #[test]
    fn without_a_probe_the_step_runs_on_this_thread() {
        let here = std::thread::current().id();
        let r = watched(|| Ok(std::thread::current().id()));
        assert_eq!(r.unwrap(), here);
        assert!(stop_flag().is_none());
    }

    #[test]
    fn with_a_probe_the_step_runs_beside_and_its_result_comes_back() {
        let here = std::thread::current().id();
        let (r, _) = under_probe(None, || {
            watched(|| {
                assert!(stop_flag().is_some(), "the step sees its stop flag");
                Ok(std::thread::current().id())
            })
        });
        assert_ne!(r.unwrap(), here);
    }

    #[test]
    fn a_cancel_during_the_step_raises_its_stop_flag_and_fails_the_step() {
        let start = Instant::now();
        let saw_stop = AtomicBool::new(false);
        // The step only ends when told to stop (or after a minute, which fails the test).
        let (r, calls) = under_probe(Some(2), || {
            watched(|| {
                let flag = stop_flag();
                while start.elapsed() < Duration::from_secs(60) {
                    if stopped(&flag) {
                        saw_stop.store(true, Ordering::Relaxed);
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(42)
            })
        });
        assert!(matches!(r, Err(crate::Error::Cancelled)), "{r:?}");
        assert!(saw_stop.load(Ordering::Relaxed), "the step saw its stop flag");
        assert_eq!(calls, 2, "the probe is not asked again once it cancelled");
    }

    #[test]
    fn on_a_pool_thread_the_step_runs_there() {
        // A one-thread pool whose only thread stylizes: a watch thread would wait on it.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let (r, _) = pool.install(|| {
            let here = std::thread::current().id();
            under_probe(None, || watched(|| Ok((std::thread::current().id() == here, rayon::current_num_threads()))))
        });
        assert_eq!(r.unwrap(), (true, 1));
    }

    #[test]
    fn a_step_failing_on_its_own_keeps_its_error() {
        let (r, _) = under_probe(None, || watched::<()>(|| Err(crate::Error::param("x", "bad"))));
        assert!(matches!(r, Err(crate::Error::Parameter { .. })), "{r:?}");
    }
}
