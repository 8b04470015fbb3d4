#!/usr/bin/env bash
# Installs the system packages the test suite needs (Debian/Ubuntu), only when missing:
# a C compiler and libpng for the example host, GIMP 2.10 and its plug-in headers,
# Krita with a virtual X server. Safe to run again; does nothing when all is present.
set -euo pipefail

need=()
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
[ -f /usr/include/png.h ] || need+=(libpng-dev)
command -v gimp >/dev/null 2>&1 || need+=(gimp)
pkg-config --exists gimp-2.0 2>/dev/null || need+=(libgimp2.0-dev)

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing: ${need[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
