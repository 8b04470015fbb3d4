#!/usr/bin/env bash
# Builds the cargo-fuzz targets of fuzz/ and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]        # seconds per target, default 60
#
# Installs cargo-fuzz when missing. Uses `cargo +nightly fuzz` when a nightly toolchain is
# installed, else the default (stable) toolchain with RUSTC_BOOTSTRAP=1 (cargo fuzz needs
# nightly-only flags). Prints the executions of every target; exits non-zero if any target
# crashes (the input is left in fuzz/artifacts/<target>/; see fuzz/README.md).
#
# Environment:
#   UNISTYLE_FUZZ_TOOLCHAIN   force a toolchain: "nightly" or "stable" (default: nightly if installed)
#   UNISTYLE_FUZZ_SANITIZER   address (default), none, …: passed to `cargo fuzz -s`
#   UNISTYLE_FUZZ_CODEGEN_UNITS  codegen units (default 16: a much faster cold build than cargo
#                             fuzz's 1, for somewhat slower fuzzing)
#   UNISTYLE_FUZZ_CORPUS      where the grown corpus is kept (default fuzz/target/corpus); the
#                             committed seeds in fuzz/corpus/<target> are read, never written
set -euo pipefail

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
    echo "usage: scripts/fuzz.sh [SECONDS]  (seconds per target, default 60)" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
root=$(pwd)

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
        # cargo fuzz passes -Z flags (sanitizers, coverage); RUSTC_BOOTSTRAP lets stable accept them.
        export RUSTC_BOOTSTRAP=1
        if command -v rustup >/dev/null && rustup toolchain list 2>/dev/null | grep -q '^stable'; then
            fuzz=(cargo +stable fuzz)
        else
            fuzz=(cargo fuzz)
        fi
        ;;
    *)
        echo "UNISTYLE_FUZZ_TOOLCHAIN must be nightly or stable, got '$toolchain'" >&2
        exit 2
        ;;
esac
sanitizer=${UNISTYLE_FUZZ_SANITIZER:-address}
build_flags=(-s "$sanitizer" --codegen-units "${UNISTYLE_FUZZ_CODEGEN_UNITS:-16}")
corpus_root=${UNISTYLE_FUZZ_CORPUS:-$root/fuzz/target/corpus}
logs=$root/fuzz/target/logs
mkdir -p "$logs"

echo "== building the fuzz targets ($toolchain, sanitizer $sanitizer)"
start=$(date +%s)
"${fuzz[@]}" build "${build_flags[@]}"
echo "== built in $(($(date +%s) - start)) s"

mapfile -t targets < <("${fuzz[@]}" list)
failed=()
for t in "${targets[@]}"; do
    work=$corpus_root/$t
    mkdir -p "$work"
    args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=30 -rss_limit_mb=4096)
    [[ -f fuzz/dicts/$t.dict ]] && args+=(-dict="fuzz/dicts/$t.dict")
    echo "== $t: fuzzing for $seconds s"
    status=0
    # New inputs go to the first corpus folder (the grown corpus); the seeds are only read.
    "${fuzz[@]}" run "${build_flags[@]}" "$t" "$work" "fuzz/corpus/$t" -- "${args[@]}" >"$logs/$t.log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -n 1)
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$logs/$t.log" | tail -n 1 || true)
    if ((status == 0)); then
        echo "$t: ${runs:-?} executions, no crash; corpus $(find "$work" -type f | wc -l) inputs in ${work#"$root"/}"
        [[ -n $done_line ]] && echo "    $done_line"
    else
        failed+=("$t")
        echo "$t: FAILED (exit $status) after ${runs:-?} executions; log ${logs#"$root"/}/$t.log" >&2
        grep -E 'ERROR: libFuzzer|ERROR: AddressSanitizer|panicked at|Test unit written to|SUMMARY' "$logs/$t.log" >&2 || tail -n 30 "$logs/$t.log" >&2
    fi
done

if ((${#failed[@]})); then
    echo "== crashes in: ${failed[*]}; reproduce: ${fuzz[*]} run ${build_flags[*]} <target> fuzz/artifacts/<target>/<file>" >&2
    exit 1
fi
echo "== all ${#targets[@]} targets ran $seconds s without a crash"
