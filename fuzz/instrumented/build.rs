//! The library is instrumented only when built through scripts/fuzz-rustc-wrapper.sh, which
//! cargo does not see: rebuilding when RUSTC_WRAPPER changes keeps an instrumented build from
//! being reused by a plain one (which could not link it) and the other way round.
fn main() {
    println!("cargo:rerun-if-env-changed=RUSTC_WRAPPER");
}
