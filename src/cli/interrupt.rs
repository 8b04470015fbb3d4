//! SIGINT and SIGTERM turn into a cancel: the handler only records the signal, the work
//! stops at its next progress report (or before an output is renamed into place), and the
//! temporary files are removed on the way out as after any other error. So an interrupted
//! run leaves no temporary file and the old output intact.

use std::sync::atomic::{AtomicI32, Ordering};

/// The signal received, or 0.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

#[cfg(target_os = "linux")]
extern "C" fn record(sig: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    SIGNAL.store(sig, Ordering::SeqCst);
}

/// Installs the handlers; call first thing in `main`.
pub fn install() {
    #[cfg(target_os = "linux")]
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `record` is async-signal-safe; the sigaction struct is fully initialised.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = record as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// The signal that interrupted the run, if one did.
pub fn received() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Whether the work may go on.
pub fn keep_going() -> bool {
    received().is_none()
}

/// A progress function that only cancels (once a signal has arrived).
pub fn cancel_check(_fraction: f32) -> unistyle::Control {
    match keep_going() {
        true => unistyle::Control::Continue,
        false => unistyle::Control::Cancel,
    }
}
