#!/usr/bin/env bash
# Builds unistyle with the `cuda` feature on a machine without a GPU or a CUDA install, from
# NVIDIA's PyPI wheels (scripts/cuda-env.sh), and links the library and every test binary:
#
#   scripts/cuda-build.sh            # cargo build + cargo test --no-run, release, --features cuda
#   scripts/cuda-build.sh --test     # then also runs the tests that need no GPU device
#                                    # (tests/gpu.rs skips its GPU cases with the reason)
#   scripts/cuda-build.sh --warm     # builds nothing: exit status 0 when the cache is warm
#                                    # (a build completed with it), 1 when a build is cold
#
# The kernels are built for CUDA_COMPUTE_CAP (default 90, H100/H200); the target folder is
# cached outside the checkout (UNISTYLE_CUDA_TARGET, default /var/cache/unistyle/cuda-target)
# so that a second run is incremental. Prints the time of each step and the library's size.
# Runs cargo under `nice -n 10` (UNISTYLE_CUDA_NICE).
# See docs/cuda.md.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/cuda-env.sh
source scripts/cuda-env.sh
run_tests=0
case ${1:-} in
--test) run_tests=1 ;;
--warm) cuda_env_warm && exit 0 || exit 1 ;;
"") ;;
*)
    echo "usage: scripts/cuda-build.sh [--test | --warm]" >&2
    exit 2
    ;;
esac

start=$SECONDS
cuda_env_setup
echo "cuda-build: toolkit ready in $((SECONDS - start)) s; $(nvcc --version | tail -n 2 | head -n 1)"
echo "cuda-build: CUDA_COMPUTE_CAP=$CUDA_COMPUTE_CAP CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

step() {
    local t=$SECONDS
    echo "cuda-build: $*"
    nice -n "${UNISTYLE_CUDA_NICE:-10}" "$@"
    echo "cuda-build: $1 $2 took $((SECONDS - t)) s"
}

step cargo build --release --features cuda
step cargo test --release --features cuda --no-run
cuda_env_mark_built
lib="$CARGO_TARGET_DIR/release/libunistyle.so"
size=$(stat -c %s "$lib")
stripped=$(strip -o "$CARGO_TARGET_DIR/libunistyle.stripped.so" "$lib" && stat -c %s "$CARGO_TARGET_DIR/libunistyle.stripped.so")
echo "cuda-build: libunistyle.so $((size / 1048576)) MiB ($((stripped / 1048576)) MiB stripped)"

if [ "$run_tests" = 1 ]; then
    # The device-refusal tests (CLI and C ABI) and tests/gpu.rs, which runs its cases where a
    # CUDA device is present and prints why it skips them elsewhere.
    step cargo test --release --features cuda --test gpu --test cli_errors --test capi -- --nocapture \
        unavailable_devices gpu
fi
echo "cuda-build: done in $((SECONDS - start)) s"
