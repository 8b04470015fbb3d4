#!/usr/bin/env bash
# Installs the unistyle Krita plug-in:
#   plugin-abi/krita/install.sh [PYKRITA_DIR]
# PYKRITA_DIR defaults to ~/.local/share/krita/pykrita (Krita 5 on Linux). The package and its
# .desktop file are copied there, with libunistyle.so next to the package's modules.
# Environment: UNISTYLE_LIBRARY=path of a built libunistyle.so (default: the crate's
# target/release/libunistyle.so, built with `cargo build --release`); UNISTYLE_LINK=1 links the
# library instead of copying it (a later `cargo build --release` is then picked up).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
crate="$(cd "$here/../.." && pwd)"
dest="${1:-${XDG_DATA_HOME:-$HOME/.local/share}/krita/pykrita}"
lib="${UNISTYLE_LIBRARY:-$crate/target/release/libunistyle.so}"

if [ ! -f "$lib" ]; then
  echo "error: $lib not found: run \`cargo build --release\` in $crate first (or set UNISTYLE_LIBRARY)" >&2
  exit 1
fi
mkdir -p "$dest"
rm -rf "$dest/unistyle_krita"
mkdir -p "$dest/unistyle_krita"
cp "$here"/unistyle_krita/*.py "$here"/unistyle_krita/Manual.html "$dest/unistyle_krita/"
# The ctypes binding, shared with the GIMP 3 plug-in.
cp "$here/../python/unistyle_ctypes.py" "$dest/unistyle_krita/"
# The project's presets, shown in the docker's gallery (the user's own go in
# ${XDG_DATA_HOME:-~/.local/share}/unistyle/presets).
mkdir -p "$dest/unistyle_krita/presets"
cp "$crate"/presets/*.toml "$dest/unistyle_krita/presets/"
cp "$here/unistyle_krita.desktop" "$dest/"
if [ "${UNISTYLE_LINK:-0}" = 1 ]; then
  ln -s "$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")" "$dest/unistyle_krita/libunistyle.so"
else
  cp "$lib" "$dest/unistyle_krita/libunistyle.so"
fi
echo "installed the unistyle plug-in in $dest"
echo "next: restart Krita, enable \"unistyle\" in Settings > Configure Krita > Python Plugin Manager,"
echo "restart Krita again; show the docker with Settings > Dockers > unistyle (actions: Tools > Scripts)."
echo "weights: choose the .safetensors file in the dialog, or set UNISTYLE_WEIGHTS before starting Krita."
