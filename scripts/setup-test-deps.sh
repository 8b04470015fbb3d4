#!/usr/bin/env bash
# Installs the system packages the test suite needs (Debian/Ubuntu), only when missing:
# a C compiler and libpng for the example host, GIMP 2.10 and its plug-in headers,
# Krita with a virtual X server (xdotool, imagemagick), valgrind and LeakSanitizer for the leak checks, a C++
# compiler for libFuzzer, and the tools the release archives' proofs use (zip, mingw-w64, qemu-user).
# Safe to run again; does nothing when all is present.
set -euo pipefail

need=()
command -v cc >/dev/null 2>&1 || need+=(gcc)
# A C++ compiler builds libFuzzer (libfuzzer-sys) for scripts/fuzz.sh.
command -v c++ >/dev/null 2>&1 || need+=(g++)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
[ -f /usr/include/png.h ] || need+=(libpng-dev)
command -v gimp >/dev/null 2>&1 || need+=(gimp)
pkg-config --exists gimp-2.0 2>/dev/null || need+=(libgimp2.0-dev)
command -v kritarunner >/dev/null 2>&1 || need+=(krita)
command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb)
command -v xauth >/dev/null 2>&1 || need+=(xauth)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# The Krita docker's GUI test drives the window and takes screenshots; its PyQt6 test makes a venv.
command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
command -v import >/dev/null 2>&1 || need+=(imagemagick)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
# The release archives' proofs (tests/dist.rs, after scripts/dist.sh): unpacking, the
# Windows C host (mingw-w64), the aarch64 archive under qemu-user with Debian's aarch64 glibc.
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
command -v qemu-aarch64 >/dev/null 2>&1 || command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need+=(libc6-arm64-cross)
# LeakSanitizer's runtime (gcc -fsanitize=leak); comes with gcc when that is installed here.
if command -v cc >/dev/null 2>&1; then
  echo 'int main(void) { return 0; }' | cc -fsanitize=leak -x c - -o /dev/null 2>/dev/null || need+=(liblsan0)
fi

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing: ${need[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # Retried: a concurrent apt run on the same machine can remove downloaded archives.
  for attempt in 1 2 3; do
    if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"; then
      break
    fi
    [ "$attempt" = 3 ] && { echo "apt-get install ${need[*]} failed" >&2; exit 1; }
    sleep 10
  done
fi
