#!/usr/bin/env bash
# A Debian 13 ("trixie") chroot with GIMP 3 (+ libgimp-3.0-dev, a C compiler) and Krita 5.2,
# for the host tests: today's editors on this Debian 12 machine, nothing on the host changed
# but debootstrap. Built once and cached on the machine; later runs reuse it.
#
#   scripts/debian13-chroot.sh ensure              create the chroot when missing (idempotent)
#   scripts/debian13-chroot.sh path                print the chroot's folder
#   scripts/debian13-chroot.sh run [-b DIR]… CMD…  run CMD (through bash -c) inside, with /dev,
#                                                  /proc, /tmp and every DIR bind-mounted at the
#                                                  same path; unmounted afterwards
#
# Cache folder: $UNISTYLE_CHROOT_DIR, default /var/cache/unistyle/debian13. A chroot whose
# package set is older than this script's is extended in place; a broken one (no stamp file)
# is rebuilt. Needs root (debootstrap, chroot, mount) or sudo.
set -euo pipefail

ROOT="${UNISTYLE_CHROOT_DIR:-/var/cache/unistyle/debian13-runtime}"
# Bump when the package list changes: an existing chroot is then extended, not rebuilt.
PACKAGES_VERSION=3
PACKAGES=(gimp python3 python3-gi krita python3-pyqt5 xvfb xauth x11-apps imagemagick xdotool
  fonts-dejavu-core wine wine64)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

mirror() {
  # The URI this machine's apt uses (same archive carries trixie).
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

in_root() {
  # Plain chroot for set-up steps (no binds but /dev and /proc).
  $SUDO mount --bind /dev "$ROOT/dev"
  $SUDO mount -t proc proc "$ROOT/proc"
  local rc=0
  $SUDO chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 bash -c "$1" || rc=$?
  $SUDO umount "$ROOT/proc" || $SUDO umount -l "$ROOT/proc"
  $SUDO umount "$ROOT/dev" || $SUDO umount -l "$ROOT/dev"
  return $rc
}

install_packages() {
  # Retried: the mirror sometimes drops a connection mid-download.
  local attempt
  for attempt in 1 2 3; do
    # apt's thousands of lines go to a log, shown only when the step fails.
    if in_root "apt-get update -q && apt-get install -y -q --no-install-recommends ${PACKAGES[*]} && apt-get clean" \
      >"$ROOT.apt.log" 2>&1; then
      echo "$PACKAGES_VERSION" | $SUDO tee "$ROOT/.unistyle-packages" >/dev/null
      return 0
    fi
    tail -n 40 "$ROOT.apt.log" >&2 || true
    sleep 5
  done
  echo "debian13-chroot: installing ${PACKAGES[*]} failed (log: $ROOT.apt.log)" >&2
  return 1
}

ensure() {
  local lock_dir
  lock_dir=$(dirname "$ROOT")
  $SUDO mkdir -p "$lock_dir"
  # One set-up at a time on this machine (parallel test binaries, parallel sessions).
  exec 9>"$lock_dir/.$(basename "$ROOT").lock"
  flock 9
  if [ -f "$ROOT/.unistyle-packages" ] && [ "$(cat "$ROOT/.unistyle-packages")" = "$PACKAGES_VERSION" ]; then
    return 0
  fi
  local t0=$SECONDS
  if [ ! -f "$ROOT/.unistyle-debootstrap" ]; then
    command -v debootstrap >/dev/null 2>&1 || {
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
    }
    $SUDO rm -rf "$ROOT"
    echo "debian13-chroot: debootstrap trixie into $ROOT" >&2
    $SUDO debootstrap --variant=minbase trixie "$ROOT" "$(mirror)" >/dev/null
    $SUDO touch "$ROOT/.unistyle-debootstrap"
  fi
  echo "debian13-chroot: installing GIMP 3, Krita 5.2 and build tools" >&2
  install_packages
  echo "debian13-chroot: ready in $((SECONDS - t0)) s" >&2
}

run() {
  local binds=()
  while [ $# -gt 0 ] && [ "$1" = "-b" ]; do
    binds+=("$(realpath "$2")")
    shift 2
  done
  [ -f "$ROOT/.unistyle-packages" ] || { echo "debian13-chroot: not set up; run '$0 ensure'" >&2; return 1; }
  local mounted=()
  cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
      $SUDO umount "${mounted[i]}" 2>/dev/null || $SUDO umount -l "${mounted[i]}" 2>/dev/null || true
    done
  }
  trap cleanup EXIT INT TERM
  # Each run gets its own /tmp inside the chroot (the host's /tmp is not shared unless bound).
  local target
  for target in /dev /proc "${binds[@]}"; do
    $SUDO mkdir -p "$ROOT$target"
    if [ "$target" = /proc ]; then
      $SUDO mount -t proc proc "$ROOT/proc"
    else
      $SUDO mount --bind "$target" "$ROOT$target"
    fi
    mounted+=("$ROOT$target")
  done
  local rc=0
  $SUDO chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="${HOME:-/root}" \
    LANG=C.UTF-8 TMPDIR="${TMPDIR:-/tmp}" bash -c "$*" || rc=$?
  cleanup
  trap - EXIT INT TERM
  return $rc
}

case "${1:-}" in
  ensure) ensure ;;
  path) echo "$ROOT" ;;
  run) shift; run "$@" ;;
  *) sed -n '2,16p' "$0" >&2; exit 2 ;;
esac
