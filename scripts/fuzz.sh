#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]        # seconds per target, default 60
#
# Two builds:
# - coverage (default; what the test command in README.md runs): the stable toolchain, plain
#   cargo, libFuzzer's coverage instrumentation added by scripts/fuzz-rustc-wrapper.sh to
#   unistyle (compiled as the package fuzz/instrumented) and the targets only. It shares
#   target/release with `cargo test --release`, so after the tests it compiles only those.
#   Out-of-bounds accesses in the C ABI target are caught by guard pages, panics and failed
#   assertions by libFuzzer.
# - address: `cargo fuzz` with AddressSanitizer on every crate (`cargo +nightly fuzz` when a
#   nightly toolchain is installed, else stable with RUSTC_BOOTSTRAP=1; cargo-fuzz is
#   installed when missing). Much slower to build (all of candle under the sanitizer).
#
# Prints the executions of every target; exits non-zero if any target crashes (the input is
# left in fuzz/artifacts/<target>/; see fuzz/README.md).
#
# Environment:
#   UNISTYLE_FUZZ_SANITIZER      none (default: the coverage build) or address (cargo fuzz)
#   UNISTYLE_FUZZ_TOOLCHAIN      address build only: "nightly" or "stable" (default: nightly if installed)
#   UNISTYLE_FUZZ_CORPUS         where the grown corpus is kept (default target/fuzz/corpus); the
#                                committed seeds in fuzz/corpus/<target> and the generated ones in
#                                target/fuzz/seeds/<target> are read, never written
set -euo pipefail

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
    echo "usage: scripts/fuzz.sh [SECONDS]  (seconds per target, default 60)" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
root=$(pwd)
targets=(preset_parser weights_loader abi_image_descriptor)
corpus_root=${UNISTYLE_FUZZ_CORPUS:-$root/target/fuzz/corpus}
logs=$root/target/fuzz/logs
mkdir -p "$logs"
sanitizer=${UNISTYLE_FUZZ_SANITIZER:-none}

# fuzz/instrumented compiles src/ as a second package; its manifest must match the root's.
manifest_section() { # FILE: the [features] and dependency tables, comments dropped
    sed -n '/^\[features\]/,/^\[dev-dependencies\]/p' "$1" | grep -v -e '^#' -e '^\[dev-dependencies\]' -e '^$'
}
if ! diff <(manifest_section Cargo.toml) <(manifest_section fuzz/instrumented/Cargo.toml) >&2; then
    echo "fuzz/instrumented/Cargo.toml: [features] and [dependencies] differ from Cargo.toml's (above); copy them over" >&2
    exit 1
fi

# The weights_loader seeds are generated, not committed (no weights-format file in the
# repository), with a plain build of the main package (before any fuzz build settings).
echo "== writing the weights_loader seeds"
generated=$root/target/fuzz/seeds
rm -rf "$generated"
cargo run --quiet --release --example fuzz_weights_seeds -- "$generated/weights_loader" >/dev/null

start=$(date +%s)
case $sanitizer in
    none)
        echo "== building the fuzz targets (coverage instrumentation, no sanitizer)"
        target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
        RUSTC_WRAPPER=$root/scripts/fuzz-rustc-wrapper.sh cargo build --release -p unistyle-fuzz --bins
        # run_target TARGET CORPUS... -- LIBFUZZER_ARGS... (cargo fuzz's form; the binary takes both without the --)
        run_target() {
            local t=$1 a=()
            shift
            for x in "$@"; do [[ $x == -- ]] || a+=("$x"); done
            "$target_dir/release/$t" "${a[@]}"
        }
        reproduce="$target_dir/release/<target> fuzz/artifacts/<target>/<file>"
        ;;
    address)
        if ! cargo fuzz --version >/dev/null 2>&1; then
            echo "== installing cargo-fuzz"
            cargo install cargo-fuzz --locked
        fi
        toolchain=${UNISTYLE_FUZZ_TOOLCHAIN:-}
        if [[ -z $toolchain ]]; then
            if command -v rustup >/dev/null && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
                toolchain=nightly
            else
                toolchain=stable
            fi
        fi
        case $toolchain in
            nightly) fuzz=(cargo +nightly fuzz) ;;
            stable)
                # cargo fuzz passes -Z flags (sanitizers); RUSTC_BOOTSTRAP lets stable accept them.
                export RUSTC_BOOTSTRAP=1
                fuzz=(cargo fuzz)
                ;;
            *)
                echo "UNISTYLE_FUZZ_TOOLCHAIN must be nightly or stable, got '$toolchain'" >&2
                exit 2
                ;;
        esac
        # 16 codegen units: a much faster cold build than cargo fuzz's 1.
        build_flags=(-s address --codegen-units 16)
        echo "== building the fuzz targets ($toolchain, AddressSanitizer)"
        "${fuzz[@]}" build "${build_flags[@]}"
        run_target() { "${fuzz[@]}" run "${build_flags[@]}" "$@"; }
        reproduce="${fuzz[*]} run ${build_flags[*]} <target> fuzz/artifacts/<target>/<file>"
        ;;
    *)
        echo "UNISTYLE_FUZZ_SANITIZER must be none or address, got '$sanitizer'" >&2
        exit 2
        ;;
esac
echo "== built in $(($(date +%s) - start)) s"


failed=()
for t in "${targets[@]}"; do
    work=$corpus_root/$t
    mkdir -p "$work" "fuzz/artifacts/$t"
    args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=30 -rss_limit_mb=4096
        -artifact_prefix="fuzz/artifacts/$t/")
    [[ -f fuzz/dicts/$t.dict ]] && args+=(-dict="fuzz/dicts/$t.dict")
    echo "== $t: fuzzing for $seconds s"
    status=0
    # New inputs go to the first corpus folder (the grown corpus); the seeds are only read.
    seeds=()
    for d in "fuzz/corpus/$t" "$generated/$t"; do
        [[ -d $d ]] && seeds+=("$d")
    done
    run_target "$t" "$work" "${seeds[@]}" -- "${args[@]}" >"$logs/$t.log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -n 1)
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$logs/$t.log" | tail -n 1 || true)
    if ((status == 0)); then
        echo "$t: ${runs:-?} executions, no crash; corpus $(find "$work" -type f | wc -l) inputs in ${work#"$root"/}"
        [[ -n $done_line ]] && echo "    $done_line"
    else
        failed+=("$t")
        echo "$t: FAILED (exit $status) after ${runs:-?} executions; log ${logs#"$root"/}/$t.log" >&2
        grep -E 'ERROR: libFuzzer|ERROR: AddressSanitizer|deadly signal|panicked at|Test unit written to|SUMMARY' "$logs/$t.log" >&2 ||
            tail -n 30 "$logs/$t.log" >&2
    fi
done

if ((${#failed[@]})); then
    echo "== crashes in: ${failed[*]}; reproduce: $reproduce" >&2
    exit 1
fi
echo "== all ${#targets[@]} targets ran $seconds s without a crash"
