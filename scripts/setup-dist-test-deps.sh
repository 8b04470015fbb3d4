#!/usr/bin/env bash
# Installs what tests/dist.rs needs to prove the release archives (Debian/Ubuntu), only
# when missing: unzip for the Windows archive, the mingw-w64 C compiler for the C host,
# qemu-user with the aarch64 C library to run the aarch64 archive. (Wine comes with the
# Debian 13 chroot of scripts/debian13-chroot.sh, which the test sets up.) Safe to run again.
set -euo pipefail

need=()
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v sha256sum >/dev/null 2>&1 || need+=(coreutils)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
command -v qemu-aarch64 >/dev/null 2>&1 || need+=(qemu-user)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need+=(libc6-arm64-cross)
[ -e /usr/aarch64-linux-gnu/lib/libgcc_s.so.1 ] || need+=(libgcc-s1-arm64-cross)

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing: ${need[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  for attempt in 1 2 3; do
    if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"; then
      break
    fi
    [ "$attempt" = 3 ] && { echo "apt-get install ${need[*]} failed" >&2; exit 1; }
    sleep 10
  done
fi
