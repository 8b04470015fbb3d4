//! The crate's one error type. Every variant names the input it is about, so that a
//! one-line message (`Display`) tells the user what to fix.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in unistyle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{what} '{path}': {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An image file could not be decoded or encoded.
    #[error("{what} '{path}': {reason}")]
    Image { what: &'static str, path: PathBuf, reason: String },

    /// The weights file is missing, corrupt or does not follow the `wct-vgg19/1` layout.
    #[error("weights '{path}': {reason}")]
    Weights { path: PathBuf, reason: String },

    /// No weights file was found in any of the places we look.
    #[error("no weights found; searched {searched}. Give {option}, set UNISTYLE_WEIGHTS, or install the official weights once with `unistyle weights install FILE_OR_DIR`")]
    WeightsNotFound {
        /// The caller's name for an explicit path (`--weights`, `weights_path`).
        option: &'static str,
        /// Every place searched, in order, each with why it gave nothing.
        searched: String,
    },

    /// A level was requested that the loaded weights do not have.
    #[error("level {level} is not in the weights (they have levels {available}); level 4-5 weights must be obtained separately, see weights/README.md")]
    MissingLevel { level: usize, available: String },

    /// A numeric parameter is outside its allowed range.
    #[error("{name} must be in {min}..={max}, got {value}")]
    InvalidRange { name: String, min: f64, max: f64, value: f64 },

    /// Any other invalid parameter.
    #[error("{name}: {reason}")]
    Parameter { name: String, reason: String },

    /// An input exceeds a configured limit (size, memory).
    #[error("{what}: {reason}")]
    Limits { what: String, reason: String },

    /// The user (or host) cancelled the operation through the progress callback.
    #[error("cancelled")]
    Cancelled,

    /// An internal numeric or tensor failure (a bug or an out-of-resources condition).
    #[error("tensor computation failed: {0}")]
    Tensor(String),

    /// A preset file is invalid: names the file, the line (when known) and the key.
    #[error("preset '{}'{}: {reason}", .path.display(), preset_location(.line, .key))]
    Preset {
        path: PathBuf,
        /// 1-based line of the offending key or value, when known.
        line: Option<usize>,
        /// Dotted key path (`texture.seed`); empty for file-level problems.
        key: String,
        reason: String,
    },

    /// The eigendecomposition did not converge.
    #[error("eigendecomposition failed for {what}: {reason}")]
    Linalg { what: String, reason: String },
}

/// `s` with control characters escaped (`\n`), for messages that quote names or values
/// from a file and must stay on one line.
pub(crate) fn printable(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { c.escape_default().collect() } else { c.to_string() }).collect()
}

/// `" line 4, key 'alpha'"`, `" line 4"`, `", key 'version'"` or nothing.
fn preset_location(line: &Option<usize>, key: &str) -> String {
    match (line, key.is_empty()) {
        (Some(l), false) => format!(" line {l}, key '{key}'"),
        (Some(l), true) => format!(" line {l}"),
        (None, false) => format!(", key '{key}'"),
        (None, true) => String::new(),
    }
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Tensor(e.to_string())
    }
}

impl Error {
    /// Shorthand for an [`Error::Parameter`].
    pub fn param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Parameter { name: name.into(), reason: reason.into() }
    }

    /// Shorthand for an [`Error::Weights`] about the file at `path`. The reason quotes names
    /// from the file: control characters in it are escaped.
    pub fn weights(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Error::Weights { path: path.to_path_buf(), reason: printable(&reason.into()) }
    }

    /// Checks that `value` lies in `min..=max` (and is not NaN).
    pub fn check_range(name: &str, value: f64, min: f64, max: f64) -> Result<()> {
        if value.is_finite() && value >= min && value <= max {
            Ok(())
        } else {
            Err(Error::InvalidRange { name: name.to_string(), min, max, value })
        }
    }
}

/// A zero-filled buffer of `n` samples, or an error naming `what` when memory is short.
pub(crate) fn try_zeroed<T: Clone + Default>(n: usize, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Error::Limits {
        what: what.to_string(),
        reason: format!("not enough memory for {} MiB", n.saturating_mul(std::mem::size_of::<T>()) >> 20),
    })?;
    v.resize(n, T::default());
    Ok(v)
}
