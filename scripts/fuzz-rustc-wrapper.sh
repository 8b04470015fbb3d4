#!/usr/bin/env bash
# RUSTC_WRAPPER for scripts/fuzz.sh: adds libFuzzer's coverage instrumentation (SanitizerCoverage:
# 8-bit counters, PC table, comparison tracing), `--cfg fuzzing`, debug assertions and overflow
# checks to the code being fuzzed only — unistyle compiled as the package unistyle-instrumented
# (fuzz/instrumented) and the fuzz targets (unistyle-fuzz) — and runs every other crate
# unchanged, so the dependencies `cargo test --release` built are reused as they are.
set -euo pipefail
rustc=$1
shift
name=
prev=
for arg in "$@"; do
    [[ $prev == --crate-name ]] && name=$arg
    prev=$arg
done
case ${CARGO_PKG_NAME:-}:$name in
    unistyle-instrumented:build_script_* | unistyle-fuzz:build_script_*) ;;
    unistyle-instrumented:* | unistyle-fuzz:*)
        exec "$rustc" "$@" \
            -Cpasses=sancov-module \
            -Cllvm-args=-sanitizer-coverage-level=4 \
            -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
            -Cllvm-args=-sanitizer-coverage-pc-table \
            -Cllvm-args=-sanitizer-coverage-trace-compares \
            --cfg fuzzing -Cdebug-assertions -Coverflow-checks
        ;;
esac
exec "$rustc" "$@"
