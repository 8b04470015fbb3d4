//! What the timing examples share: where the test data is.

use std::path::PathBuf;

/// The shared data folder: the first argument, else `$UNISTYLE_SHARED`, else `../shared`
/// beside the checkout.
pub fn shared_dir() -> PathBuf {
    std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("UNISTYLE_SHARED").filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}
