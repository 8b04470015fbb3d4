# shellcheck shell=bash
# Sourced by scripts/cuda-build.sh and scripts/gpu-check.sh (not run on its own): makes a CUDA
# toolkit out of NVIDIA's PyPI wheels and exports what cargo needs to build `--features cuda`.
#
# - A cached virtual environment ($UNISTYLE_CUDA_VENV) holds the wheels of the CUDA toolkit
#   $UNISTYLE_CUDA_TOOLKIT (the `cuda-toolkit` meta-package with the parts candle needs: nvcc,
#   its C runtime headers and NVVM, the runtime, CCCL (thrust/cub), cuBLAS, cuRAND, NVRTC).
#   CUDA 13 is the first whose wheels ship `nvcc` itself; the `-cu12` nvcc wheels carry only
#   ptxas and NVVM. The wheels unpack into one tree, site-packages/nvidia/cu13.
# - A shim root ($UNISTYLE_CUDA_SHIM, outside the venv) links bin/, include/, nvvm/ to that tree
#   and adds lib/ with the unversioned names the linker looks for (libcublas.so → .so.13, …).
#   The driver library libcuda is not on PyPI (it comes with the NVIDIA driver), so
#   lib/stubs/libcuda.so is a link-time stand-in made here: it exports the driver entry points
#   cudarc declares, every one returning CUDA_ERROR_STUB_LIBRARY (34). nodriver/libcuda.so.1 is
#   the same file, put on LD_LIBRARY_PATH only where no driver is installed, so that a cuda
#   build starts and reports "no CUDA device" instead of failing to load.
#
# Environment (all optional):
#   UNISTYLE_CUDA_CACHE    cache folder (default /var/cache/unistyle)
#   UNISTYLE_CUDA_VENV     the wheels' venv (default $UNISTYLE_CUDA_CACHE/cuda-venv)
#   UNISTYLE_CUDA_SHIM     the shim root (default $UNISTYLE_CUDA_CACHE/cuda-shim)
#   UNISTYLE_CUDA_TARGET   CARGO_TARGET_DIR for cuda builds (default $UNISTYLE_CUDA_CACHE/cuda-target)
#   UNISTYLE_CUDA_TOOLKIT  cuda-toolkit version from PyPI (default 13.0.2; 13.x only)
#   CUDA_COMPUTE_CAP       GPU architecture to build the kernels for (default 90: H100/H200)
#   CUDAFORGE_THREADS      parallel nvcc jobs for candle's kernels (default: the cores)

cuda_env_setup() {
    local cache=${UNISTYLE_CUDA_CACHE:-/var/cache/unistyle}
    local venv=${UNISTYLE_CUDA_VENV:-$cache/cuda-venv}
    local shim=${UNISTYLE_CUDA_SHIM:-$cache/cuda-shim}
    local toolkit=${UNISTYLE_CUDA_TOOLKIT:-13.0.2}
    local parts="nvcc,crt,nvvm,cudart,cccl,cublas,curand,nvrtc"
    local stamp="$venv/.unistyle-cuda-toolkit"

    mkdir -p "$cache"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$toolkit[$parts]" ]; then
        echo "cuda-env: installing cuda-toolkit[$parts]==$toolkit into $venv" >&2
        rm -rf "$venv"
        python3 -m venv "$venv"
        nice -n 10 "$venv/bin/pip" install -q --disable-pip-version-check \
            "cuda-toolkit[$parts]==$toolkit"
        echo "$toolkit[$parts]" >"$stamp"
        rm -rf "$shim"
    fi
    local tree
    tree=$("$venv/bin/python" -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13"))')
    if [ ! -x "$tree/bin/nvcc" ]; then
        echo "cuda-env: no nvcc in $tree (cuda-toolkit $toolkit)" >&2
        return 1
    fi

    if [ ! -f "$shim/.complete" ] || [ "$(cat "$shim/.complete")" != "$tree" ]; then
        cuda_env_make_shim "$tree" "$shim" || return 1
    fi

    export CUDA_ROOT="$shim" CUDA_PATH="$shim" CUDA_HOME="$shim"
    export PATH="$shim/bin:$PATH"
    export LIBRARY_PATH="$shim/lib:$shim/lib/stubs${LIBRARY_PATH:+:$LIBRARY_PATH}"
    local run_path="$shim/lib"
    if ! cuda_env_has_driver; then
        run_path="$run_path:$shim/nodriver"
    fi
    export LD_LIBRARY_PATH="$run_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
    # candle-kernels compiles its static kernels with nvcc on CUDAFORGE_THREADS threads (by
    # default half the cores); they are most of a cold build's time.
    export CUDAFORGE_THREADS="${CUDAFORGE_THREADS:-$(nproc)}"
    export CARGO_TARGET_DIR="${UNISTYLE_CUDA_TARGET:-$cache/cuda-target}"
}

# Whether a cuda build completed with this cache and toolkit (scripts/cuda-build.sh writes the
# stamp): then another build is incremental.
cuda_env_warm() {
    local cache=${UNISTYLE_CUDA_CACHE:-/var/cache/unistyle}
    local target=${UNISTYLE_CUDA_TARGET:-$cache/cuda-target}
    [ "$(cat "$target/.unistyle-cuda-built" 2>/dev/null)" = "${UNISTYLE_CUDA_TOOLKIT:-13.0.2} ${CUDA_COMPUTE_CAP:-90}" ]
}

# Records in the target folder that a cuda build completed (see cuda_env_warm).
cuda_env_mark_built() {
    echo "${UNISTYLE_CUDA_TOOLKIT:-13.0.2} $CUDA_COMPUTE_CAP" >"$CARGO_TARGET_DIR/.unistyle-cuda-built"
}

# Whether the NVIDIA driver's libcuda.so.1 is installed (then the stub must stay off the path).
cuda_env_has_driver() {
    ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '
}

# The shim root: links into the wheels' tree, unversioned library names, the libcuda stub.
cuda_env_make_shim() {
    local tree=$1 shim=$2
    rm -rf "$shim"
    mkdir -p "$shim/lib/stubs" "$shim/nodriver"
    local d
    for d in bin include nvvm; do
        ln -s "$tree/$d" "$shim/$d"
    done
    local f base
    for f in "$tree"/lib/*.so.*; do
        base=$(basename "$f")
        ln -s "$f" "$shim/lib/$base"
        case $base in
        # lib<name>.so.<major> → lib<name>.so (the .alt and -builtins variants are left as they are)
        *.alt.so.* | *-builtins*) ;;
        *) [ -e "$shim/lib/${base%%.so.*}.so" ] || ln -s "$f" "$shim/lib/${base%%.so.*}.so" ;;
        esac
    done
    cuda_env_make_driver_stub "$shim" || return 1
    echo "$tree" >"$shim/.complete"
}

# libcuda.so stand-in: every driver entry point cudarc declares (read from its source), each
# returning CUDA_ERROR_STUB_LIBRARY; cuGetErrorString/Name describe that.
cuda_env_make_driver_stub() {
    local shim=$1
    local cudarc
    cudarc=$(cuda_env_cudarc_source) || return 1
    local src="$shim/lib/stubs/libcuda-stub.c"
    {
        echo '/* Generated by scripts/cuda-env.sh: link-time stand-in for the NVIDIA driver. */'
        echo 'static const char *const stub_name = "CUDA_ERROR_STUB_LIBRARY";'
        echo 'static const char *const stub_text = "no NVIDIA driver: this libcuda is the build-time stub";'
        echo 'int cuGetErrorString(int e, const char **s) { (void)e; *s = stub_text; return 0; }'
        echo 'int cuGetErrorName(int e, const char **s) { (void)e; *s = stub_name; return 0; }'
        grep -ohE 'pub unsafe fn cu[A-Z][A-Za-z0-9_]*\(' "$cudarc/src/driver/sys/mod.rs" |
            sed -E 's/pub unsafe fn (cu[A-Za-z0-9_]+)\(/\1/' | sort -u |
            grep -vxE 'cuGetErrorString|cuGetErrorName' |
            sed -E 's/.*/int &(void) { return 34; }/'
    } >"$src"
    cc -shared -fPIC -O1 -Wl,-soname,libcuda.so.1 -o "$shim/lib/stubs/libcuda.so" "$src" || return 1
    ln -s "../lib/stubs/libcuda.so" "$shim/nodriver/libcuda.so.1"
}

# The cudarc source that Cargo.lock selects (fetched into cargo's registry when missing).
cuda_env_cudarc_source() {
    local version
    version=$(awk '/^name = "cudarc"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
    if [ -z "$version" ]; then
        echo "cuda-env: cudarc is not in Cargo.lock" >&2
        return 1
    fi
    local home=${CARGO_HOME:-$HOME/.cargo} dir
    dir=$(ls -d "$home"/registry/src/*/"cudarc-$version" 2>/dev/null | head -n 1)
    if [ -z "$dir" ]; then
        cargo fetch -q >&2 || return 1
        dir=$(ls -d "$home"/registry/src/*/"cudarc-$version" 2>/dev/null | head -n 1)
    fi
    if [ -z "$dir" ]; then
        echo "cuda-env: cudarc $version source not found under $home/registry" >&2
        return 1
    fi
    echo "$dir"
}
