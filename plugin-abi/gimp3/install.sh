#!/usr/bin/env bash
# Builds the unistyle GIMP 3 plug-in and installs it, with the library it loads.
#
#   plugin-abi/gimp3/install.sh [PLUGIN_DIR]
#
# PLUGIN_DIR defaults to the user's GIMP 3 plug-in folder ($GIMP3_DIRECTORY/plug-ins, else
# ${XDG_CONFIG_HOME:-~/.config}/GIMP/3.0/plug-ins). Installs PLUGIN_DIR/unistyle/unistyle (the
# plug-in) and PLUGIN_DIR/unistyle/libunistyle.so beside it (found through an $ORIGIN rpath, so
# the installed plug-in keeps working after `cargo clean`; run this script again to update it).
#
# Needs: a C compiler, pkg-config and GIMP 3's development files (Debian/Ubuntu:
# apt-get install libgimp-3.0-dev). The plug-in is compiled with the `gimp-3.0` and
# `gimpui-3.0` pkg-config of this machine. The library is target/release/libunistyle.so (built
# with `cargo build --release` when missing); UNISTYLE_LIB=/path/to/libunistyle.so installs that
# library instead (one built on another machine) and needs no cargo.
# CC and CFLAGS are honoured (default CFLAGS: -O2 -g).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ $# -gt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  echo "usage: $0 [PLUGIN_DIR]   (default: the user's GIMP 3 plug-in folder)" >&2
  exit 2
fi
if [ $# -eq 1 ]; then
  plugin_dir="$1"
elif [ -n "${GIMP3_DIRECTORY:-}" ] && [ "${GIMP3_DIRECTORY#/}" != "$GIMP3_DIRECTORY" ]; then
  plugin_dir="$GIMP3_DIRECTORY/plug-ins"
else
  plugin_dir="${XDG_CONFIG_HOME:-$HOME/.config}/GIMP/3.0/plug-ins"
fi

cc="${CC:-cc}"
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "error: C compiler '$cc' not found (apt-get install gcc)" >&2
  exit 1
fi
if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists gimp-3.0 gimpui-3.0; then
  echo "error: GIMP 3's development files are missing (apt-get install libgimp-3.0-dev pkgconf)" >&2
  exit 1
fi

lib="${UNISTYLE_LIB:-$root/target/release/libunistyle.so}"
if [ ! -f "$lib" ]; then
  if [ -n "${UNISTYLE_LIB:-}" ]; then
    echo "error: UNISTYLE_LIB=$lib does not exist" >&2
    exit 1
  fi
  echo "building libunistyle.so (cargo build --release) ..." >&2
  (cd "$root" && cargo build --release --lib)
fi

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
cp "$lib" "$build/libunistyle.so"
# The release profile keeps debug info; the installed copy does not need it.
if command -v strip >/dev/null 2>&1; then strip --strip-debug "$build/libunistyle.so"; fi
# shellcheck disable=SC2046 # pkg-config output is meant to be split into words
"$cc" ${CFLAGS:--O2 -g} -std=gnu11 -Wall -Wextra -I "$root/plugin-abi" \
  $(pkg-config --cflags gimp-3.0 gimpui-3.0 | sed "s/-I/-isystem /g") \
  "$here"/unistyle-gimp3.c "$here"/engine.c "$here"/inputs.c "$here"/pixels.c "$here"/preview.c "$here"/filefield.c \
  -o "$build/unistyle" \
  -L "$build" -lunistyle -Wl,-rpath,'$ORIGIN' \
  $(pkg-config --libs gimp-3.0 gimpui-3.0)

dest="$plugin_dir/unistyle"
mkdir -p "$dest"
# Copy then rename, so a running GIMP never sees a half-written file.
install -m 644 "$build/libunistyle.so" "$dest/.libunistyle.so.new"
install -m 755 "$build/unistyle" "$dest/.unistyle.new"
mv -f "$dest/.libunistyle.so.new" "$dest/libunistyle.so"
mv -f "$dest/.unistyle.new" "$dest/unistyle"
echo "installed $dest/unistyle (restart GIMP to load it)"
