#!/usr/bin/env bash
# Stages the editor plug-ins of a release, each carrying its own copy of the library:
#
#   scripts/stage-plugins.sh DEST_SHARE_DIR LIBRARY_FILE
#
# DEST_SHARE_DIR/gimp3/unistyle/          the GIMP 3 plug-in folder, ready to drop into a GIMP 3
#                                         plug-ins folder (unistyle.py + its modules, the ctypes
#                                         binding, the library)
# DEST_SHARE_DIR/krita/unistyle-krita.zip what Krita's Tools > Scripts > Import Python Plugin
#                                         from File takes: unistyle_krita.desktop and the
#                                         unistyle_krita/ package (binding, presets, library)
#
# LIBRARY_FILE is the library for the target OS (libunistyle.so, unistyle.dll or
# libunistyle.dylib); it is copied under its own name, where the binding looks for it.
# `unistyle hosts install gimp|krita` installs from these (scripts/dist.sh calls this script).
# Needs python3 (the zip is written by its zipfile module: directory entries included, as
# Krita's importer requires; fixed timestamps, so the same inputs give the same zip; entries
# stored, not deflated: the release archive compresses them, and `unistyle hosts install
# krita` unpacks them with no decompressor).
set -euo pipefail

if [ $# -ne 2 ]; then
  sed -n '2,18p' "$0" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$1"
lib="$2"
[ -f "$lib" ] || { echo "stage-plugins: library '$lib' not found" >&2; exit 1; }
case "$(basename "$lib")" in
  libunistyle.so | unistyle.dll | libunistyle.dylib) ;;
  *) echo "stage-plugins: '$lib' is not libunistyle.so, unistyle.dll or libunistyle.dylib" >&2; exit 1 ;;
esac
binding="$root/plugin-abi/python/unistyle_ctypes.py"

# GIMP 3: the folder and its main script share a name; the script is executable.
gimp="$dest/gimp3/unistyle"
rm -rf "$gimp"
mkdir -p "$gimp"
install -m 755 "$root/plugin-abi/gimp3/unistyle/unistyle.py" "$gimp/unistyle.py"
for f in "$root"/plugin-abi/gimp3/unistyle/unistyle_*.py "$binding"; do
  install -m 644 "$f" "$gimp/"
done
install -m 644 "$lib" "$gimp/"

# Krita: the package as install.sh lays it out, zipped.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pkg="$work/unistyle_krita"
mkdir -p "$pkg/presets"
install -m 644 "$root"/plugin-abi/krita/unistyle_krita/*.py "$root/plugin-abi/krita/unistyle_krita/Manual.html" \
  "$binding" "$pkg/"
install -m 644 "$root"/presets/*.toml "$pkg/presets/"
install -m 644 "$lib" "$pkg/"
install -m 644 "$root/plugin-abi/krita/unistyle_krita.desktop" "$work/"
mkdir -p "$dest/krita"
python3 - "$work" "$dest/krita/unistyle-krita.zip" <<'EOF'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
tmp = out + ".tmp"
entries = []
for top, dirs, files in os.walk(src):
    dirs.sort()
    rel = os.path.relpath(top, src).replace(os.sep, "/")
    prefix = "" if rel == "." else rel + "/"
    if prefix:
        entries.append(prefix)
    entries += [prefix + f for f in sorted(files)]
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
    for name in entries:
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        if name.endswith("/"):
            info.external_attr = (0o40755 << 16) | 0x10
            z.writestr(info, b"")
        else:
            info.external_attr = 0o100644 << 16
            with open(os.path.join(src, *name.split("/")), "rb") as f:
                z.writestr(info, f.read())
os.replace(tmp, out)
EOF
echo "staged $gimp/ and $dest/krita/unistyle-krita.zip"
