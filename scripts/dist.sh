#!/usr/bin/env bash
# Builds the release archives a painter downloads (docs/packaging.md):
#
#   scripts/dist.sh [TARGET…]     default: x86_64-unknown-linux-gnu x86_64-pc-windows-gnu
#                                          aarch64-unknown-linux-gnu
#
# → dist/unistyle-VERSION-TARGET.tar.gz (.zip for Windows) and dist/SHA256SUMS (every
# archive in dist/). Each archive holds one folder, unistyle-VERSION-TARGET/, with bin/,
# lib/, include/, lib/pkgconfig/unistyle.pc, share/unistyle/{weights,presets,gimp3,krita}
# and INSTALL.md.
#
# Linux targets link against glibc 2.28 (cargo-zigbuild's TARGET.2.28), so they run on
# Debian 10, Ubuntu 20.04, RHEL 8 and newer; Windows links with mingw-w64. Installs what it
# needs when missing: rustup targets, a Python venv with ziglang and cargo-zigbuild, the
# mingw-w64 C compiler (apt).
#
# Environment:
#   UNISTYLE_SHARED      shared data (weights/wct-vgg19-relu3.safetensors); default ../shared
#   UNISTYLE_DIST        output folder; default dist/ in the checkout
#   UNISTYLE_DIST_TARGET_DIR  cargo's target folder, kept between runs so they are
#                        incremental; default /var/cache/unistyle/dist-target
#   UNISTYLE_DIST_VENV   the venv holding zig; default /var/cache/unistyle/dist-venv
#   GLIBC_FLOOR          default 2.28
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(x86_64-unknown-linux-gnu x86_64-pc-windows-gnu aarch64-unknown-linux-gnu)
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
SHARED="${UNISTYLE_SHARED:-$(cd .. && pwd)/shared}"
WEIGHTS="$SHARED/weights/wct-vgg19-relu3.safetensors"
DIST="${UNISTYLE_DIST:-$ROOT/dist}"
export CARGO_TARGET_DIR="${UNISTYLE_DIST_TARGET_DIR:-/var/cache/unistyle/dist-target}"
VENV="${UNISTYLE_DIST_VENV:-/var/cache/unistyle/dist-venv}"
GLIBC_FLOOR="${GLIBC_FLOOR:-2.28}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

say() { echo "dist: $*" >&2; }
die() { say "$*"; exit 1; }

[ -n "$VERSION" ] || die "no version in Cargo.toml"
[ -f "$WEIGHTS" ] || die "weights not found: $WEIGHTS (set UNISTYLE_SHARED)"

apt_install() {
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  local attempt
  for attempt in 1 2 3; do
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null && return 0
    sleep 10
  done
  die "apt-get install $* failed"
}

need_rust_target() {
  rustup target list --installed | grep -qx "$1" || rustup target add "$1"
}

need_zig() {
  if [ ! -x "$VENV/bin/cargo-zigbuild" ] || ! "$VENV/bin/python3" -m ziglang version >/dev/null 2>&1; then
    say "installing ziglang and cargo-zigbuild into $VENV"
    $SUDO mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$VENV"; }
    "$VENV/bin/pip" install -q ziglang cargo-zigbuild
  fi
  # cargo-zigbuild runs `python3 -m ziglang` when no `zig` is on PATH: the venv's python.
  export PATH="$VENV/bin:$PATH"
}

need_mingw() {
  command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || apt_install gcc-mingw-w64-x86-64
}

# cargo's output folder for TARGET (profile dist, see Cargo.toml).
out_dir() { echo "$CARGO_TARGET_DIR/$1/dist"; }

build() {
  local target=$1
  need_rust_target "$target"
  local args=(--profile dist --locked --lib --bin unistyle)
  case "$target" in
    *-linux-gnu)
      need_zig
      cargo zigbuild "${args[@]}" --target "$target.$GLIBC_FLOOR"
      ;;
    *-windows-gnu)
      need_mingw
      cargo build "${args[@]}" --target "$target"
      ;;
    *) die "unsupported target: $target" ;;
  esac
}

# Copies the built files, headers, weights, presets, plug-ins and INSTALL.md into STAGE.
stage() {
  local target=$1 stage=$2 out lib
  out=$(out_dir "$target")
  mkdir -p "$stage/bin" "$stage/lib/pkgconfig" "$stage/include" \
    "$stage/share/unistyle/weights" "$stage/share/unistyle/presets"
  case "$target" in
    *-windows-*)
      install -m 755 "$out/unistyle.exe" "$stage/bin/unistyle.exe"
      install -m 755 "$out/unistyle.dll" "$stage/bin/unistyle.dll"
      install -m 644 "$out/libunistyle.dll.a" "$stage/lib/libunistyle.dll.a"
      lib="$stage/bin/unistyle.dll"
      ;;
    *)
      install -m 755 "$out/unistyle" "$stage/bin/unistyle"
      install -m 755 "$out/libunistyle.so" "$stage/lib/libunistyle.so"
      lib="$stage/lib/libunistyle.so"
      ;;
  esac
  install -m 644 plugin-abi/unistyle.h "$stage/include/unistyle.h"
  sed "s/@VERSION@/$VERSION/g" packaging/unistyle.pc.in >"$stage/lib/pkgconfig/unistyle.pc"
  install -m 644 "$WEIGHTS" "$stage/share/unistyle/weights/"
  install -m 644 presets/*.toml "$stage/share/unistyle/presets/"
  # The GIMP 3 plug-in folder and the Krita zip (with this target's library inside).
  if [ -x scripts/stage-plugins.sh ]; then
    scripts/stage-plugins.sh "$stage/share/unistyle" "$lib"
  else
    say "scripts/stage-plugins.sh not present: no GIMP/Krita plug-ins staged"
  fi
  sed -e "s/@VERSION@/$VERSION/g" -e "s/@TARGET@/$target/g" packaging/INSTALL.md >"$stage/INSTALL.md"
}

# Packs STAGE_PARENT/NAME into DIST/NAME.tar.gz or .zip: sorted names, fixed owner and
# times, so the same files give the same archive.
pack() {
  local target=$1 parent=$2 name=$3 epoch
  epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
  find "$parent/$name" -exec touch -h -d "@$epoch" {} +
  # Written beside and renamed into place: an interrupted run leaves no half archive.
  case "$target" in
    *-windows-*)
      rm -f "$DIST/.$name.zip.part"
      (cd "$parent" && find "$name" -print | LC_ALL=C sort | zip -qX "$DIST/.$name.zip.part" -@)
      mv -f "$DIST/.$name.zip.part" "$DIST/$name.zip"
      ;;
    *)
      tar -C "$parent" --sort=name --owner=0 --group=0 --numeric-owner -cf - "$name" | gzip -9n >"$DIST/.$name.tar.gz.part"
      mv -f "$DIST/.$name.tar.gz.part" "$DIST/$name.tar.gz"
      ;;
  esac
}

mkdir -p "$DIST"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "${TARGETS[@]}"; do
  t0=$SECONDS
  say "building $target"
  build "$target"
  name="unistyle-$VERSION-$target"
  stage "$target" "$work/$name"
  pack "$target" "$work" "$name"
  say "$target ready in $((SECONDS - t0)) s"
done
# Checksums of every archive in dist/ (older targets' archives included).
(cd "$DIST" && find . -maxdepth 1 \( -name 'unistyle-*.tar.gz' -o -name 'unistyle-*.zip' \) -printf '%f\n' |
  LC_ALL=C sort | xargs sha256sum >.SHA256SUMS.part && mv -f .SHA256SUMS.part SHA256SUMS)
ls -l "$DIST" >&2
