//! Status codes, the thread-local last-error message, and the guard every entry point runs
//! its body in (no panic ever unwinds into the host).

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::Error;

/// Result of every fallible call. `UNISTYLE_OK` is 0; errors are negative.
pub type Status = i32;

pub const UNISTYLE_OK: Status = 0;
/// A required pointer argument was NULL.
pub const UNISTYLE_ERR_NULL: Status = -1;
/// An argument is out of range or inconsistent (sizes, strides, counts, alpha, …).
pub const UNISTYLE_ERR_INVALID: Status = -2;
/// A struct's `struct_size` is smaller than this library's oldest supported version.
pub const UNISTYLE_ERR_VERSION: Status = -3;
/// A file could not be read or written.
pub const UNISTYLE_ERR_IO: Status = -4;
/// An image file could not be decoded.
pub const UNISTYLE_ERR_IMAGE: Status = -5;
/// The weights are missing, corrupt or of the wrong layout.
pub const UNISTYLE_ERR_WEIGHTS: Status = -6;
/// A level was requested that the weights do not have.
pub const UNISTYLE_ERR_LEVEL: Status = -7;
/// The progress callback (or `unistyle_job_cancel`) cancelled the call.
pub const UNISTYLE_ERR_CANCELLED: Status = -8;
/// An input exceeds a size or memory limit.
pub const UNISTYLE_ERR_LIMITS: Status = -9;
/// An internal failure (a bug, or a caught panic); the message says more.
pub const UNISTYLE_ERR_INTERNAL: Status = -10;
/// A preset file is invalid.
pub const UNISTYLE_ERR_PRESET: Status = -11;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Maps a library error to its status code.
pub(crate) fn status_of(e: &Error) -> Status {
    match e {
        Error::Io { .. } => UNISTYLE_ERR_IO,
        Error::Image { .. } => UNISTYLE_ERR_IMAGE,
        Error::Weights { .. } | Error::WeightsNotFound { .. } => UNISTYLE_ERR_WEIGHTS,
        Error::MissingLevel { .. } => UNISTYLE_ERR_LEVEL,
        Error::InvalidRange { .. } | Error::Parameter { .. } => UNISTYLE_ERR_INVALID,
        Error::Limits { .. } => UNISTYLE_ERR_LIMITS,
        Error::Cancelled => UNISTYLE_ERR_CANCELLED,
        Error::Preset { .. } => UNISTYLE_ERR_PRESET,
        _ => UNISTYLE_ERR_INTERNAL,
    }
}

/// An FFI failure: a status with its message.
pub(crate) struct Fail(pub Status, pub String);

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail(status_of(&e), e.to_string())
    }
}

pub(crate) fn fail<T>(status: Status, msg: impl Into<String>) -> Result<T, Fail> {
    Err(Fail(status, msg.into()))
}

/// Runs `body`, catching panics; records the message of any failure for
/// `unistyle_last_error` and returns the status.
pub(crate) fn guard(name: &str, body: impl FnOnce() -> Result<(), Fail>) -> Status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => UNISTYLE_OK,
        Ok(Err(Fail(status, msg))) => {
            set_last_error(&format!("{name}: {msg}"));
            status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("{name}: internal error: {what}"));
            UNISTYLE_ERR_INTERNAL
        }
    }
}

/// Like [`guard`] for functions without a status (destructors, getters): panics are swallowed.
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}
