#!/usr/bin/env bash
# The GPU check of docs/cuda.md: tests/gpu.rs on a CUDA device (every golden case in f32 and
# bf16, a 4096² run's time and peak device memory), then a CPU-vs-GPU timing table from
# `unistyle bench` on the same machine. Sized for a 10-minute slot on one H100/H200.
#
#   scripts/gpu-check.sh pack   # on a build machine (no GPU needed): builds with cuda
#                               # (scripts/cuda-build.sh) and gathers into .gpu-check/ the
#                               # test binary, the CLI and the shared data they read (< 64 MiB)
#   scripts/gpu-check.sh        # on the GPU machine: runs what .gpu-check/ holds; with no
#                               # .gpu-check/ it builds first (needs cargo and the network)
#
# The GPU machine needs the NVIDIA driver (CUDA 13) and the CUDA 13 libraries cuBLAS, cuRAND,
# NVRTC and the runtime: found in $UNISTYLE_CUDA_LIBS, else in the python3 wheels
# (site-packages/nvidia/cu13/lib, e.g. PyTorch's), else in /usr/local/cuda/lib64.
# Writes its log to $OUT/gpu-check.log when $OUT is set (the device tool's folder).
set -euo pipefail
cd "$(dirname "$0")/.."
pack=.gpu-check

gather() {
    local shared=${UNISTYLE_SHARED:-$(cd .. && pwd)/shared}
    # shellcheck source=scripts/cuda-env.sh
    source scripts/cuda-env.sh
    scripts/cuda-build.sh
    cuda_env_setup
    local gpu_test
    gpu_test=$(nice -n 10 cargo test --release --features cuda --test gpu --no-run --message-format=json 2>/dev/null |
        python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "gpu" and m.get("executable"):
        print(m["executable"])')
    rm -rf "$pack"
    mkdir -p "$pack/shared/weights" "$pack/shared/golden" "$pack/shared/images"
    strip -o "$pack/gpu" "$gpu_test"
    strip -o "$pack/unistyle" "$CARGO_TARGET_DIR/release/unistyle"
    cp "$shared/weights/wct-vgg19-relu3.safetensors" "$pack/shared/weights/"
    cp "$shared"/golden/manifest.json "$shared"/golden/*.safetensors "$pack/shared/golden/"
    # The golden cases' inputs, the 2048² content (4096² run, bench sizes) and the bench style.
    python3 - "$shared" "$pack/shared" <<'EOF'
import json, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
names = {"content/tubingen_2048.png", "style/starry_512.png"}
for line in open(os.path.join(src, "golden/manifest.json")):
    if line.strip():
        case = json.loads(line)
        names.update(case[k] for k in ("content", "style", "style1", "mask", "init") if case.get(k))
for n in sorted(names):
    os.makedirs(os.path.dirname(os.path.join(dst, "images", n)), exist_ok=True)
    shutil.copy(os.path.join(src, "images", n), os.path.join(dst, "images", n))
EOF
    local exclude
    exclude=$(git rev-parse --git-path info/exclude)
    mkdir -p "$(dirname "$exclude")"
    grep -qx "/$pack/" "$exclude" 2>/dev/null || echo "/$pack/" >>"$exclude"
    echo "gpu-check: packed $(du -sh "$pack" | cut -f1) into $pack/ (carry it: device run carry=[\"$pack\"])"
}

# The folder with the CUDA 13 libraries the binaries load.
cuda_libs() {
    local d
    for d in "${UNISTYLE_CUDA_LIBS:-}" \
        "$(python3 -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13", "lib"))' 2>/dev/null)" \
        /usr/local/cuda/lib64; do
        if [ -n "$d" ] && [ -e "$d/libcublas.so.13" ]; then
            echo "$d"
            return
        fi
    done
    echo "gpu-check: no CUDA 13 libraries (libcublas.so.13) found; set UNISTYLE_CUDA_LIBS" >&2
    return 1
}

check() {
    local gpu_test cli
    if [ -x "$pack/gpu" ]; then
        gpu_test=$pack/gpu cli=$pack/unistyle
        export UNISTYLE_SHARED=$PWD/$pack/shared
        local libs
        libs=$(cuda_libs)
        export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    else
        gather
        gpu_test=$pack/gpu cli=$pack/unistyle
        export UNISTYLE_SHARED=$PWD/$pack/shared
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    if ldd "$gpu_test" | grep 'not found'; then
        echo "gpu-check: libraries missing (above)" >&2
        return 1
    fi
    local weights=$UNISTYLE_SHARED/weights/wct-vgg19-relu3.safetensors t=$SECONDS
    echo "== tests/gpu.rs (one test at a time)"
    local status=0
    UNISTYLE_GPU_REQUIRED=1 timeout 300 "$gpu_test" --test-threads=1 --nocapture || status=$?
    echo "== tests/gpu.rs took $((SECONDS - t)) s, exit status $status"
    echo "== unistyle bench: CPU (f32), then CUDA (f32, bf16), same machine"
    timeout 120 "$cli" bench --device cpu --sizes 1024,2048 --weights "$weights" || echo "CPU bench failed or timed out"
    timeout 90 "$cli" bench --device cuda --sizes 1024,2048,4096 --weights "$weights" || echo "CUDA f32 bench failed"
    timeout 60 "$cli" bench --device cuda --sizes 1024,2048,4096 --precision bf16 --weights "$weights" ||
        echo "CUDA bf16 bench failed"
    echo "== gpu-check done in $((SECONDS - t)) s"
    return "$status"
}

case ${1:-} in
pack) gather ;;
"")
    if [ -n "${OUT:-}" ]; then
        check 2>&1 | tee "$OUT/gpu-check.log"
    else
        check
    fi
    ;;
*)
    echo "usage: scripts/gpu-check.sh [pack]" >&2
    exit 2
    ;;
esac
