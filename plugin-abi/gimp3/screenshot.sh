#!/usr/bin/env bash
# Screenshot of the real GIMP 3 "Unistyle: Stylize" dialog with its live preview, under Xvfb.
#
#   plugin-abi/gimp3/screenshot.sh OUT.png CONTENT.png STYLE.png
#
# Installs the plug-in from an unpacked release (UNISTYLE_PREFIX: the folder holding bin/unistyle
# and share/unistyle/, e.g. unistyle-VERSION-x86_64-unknown-linux-gnu/) with `bin/unistyle hosts
# install gimp` into a fresh temporary HOME and GIMP profile (the bundled weights with it),
# starts Xvfb and gimp-3.0, opens CONTENT in a display and calls
# plug-in-unistyle-stylize through the PDB in interactive run-mode with STYLE as the style, waits
# (xdotool) for the dialog and for its preview, then grabs the screen (ImageMagick `import`).
# Then it types alpha 1.0 into the dialog (keyboard: Alt+A, the value, Tab) and grabs the screen
# again once the preview has updated: OUT-alpha1.png beside OUT.png.
# Weights: the release's, installed by `hosts install`. Needs gimp-3.0, Xvfb, xdotool and
# imagemagick (no compiler), e.g. inside the Debian 13 runtime chroot of
# scripts/debian13-chroot.sh:
#   scripts/debian13-chroot.sh run -b "$PWD" -b ../shared -b /tmp/shot \
#     "UNISTYLE_PREFIX=/tmp/shot/unistyle-… $PWD/plugin-abi/gimp3/screenshot.sh /tmp/shot/dialog.png …"
# PREVIEW_WAIT (seconds, default 20) is how long the preview gets after the dialog appears;
# EXTRA_ARGS adds Script-Fu keyword arguments to the call (e.g. '#:preset "p.toml"').
set -euo pipefail

if [ $# -ne 3 ]; then
  sed -n '2,20p' "$0" >&2
  exit 2
fi
out="$(realpath -m "$1")"
content="$(realpath "$2")"
style="$(realpath "$3")"
prefix="${UNISTYLE_PREFIX:?set UNISTYLE_PREFIX to an unpacked release (bin/unistyle, share/unistyle/)}"
for tool in gimp-3.0 Xvfb xdotool import; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is not installed" >&2; exit 1; }
done

work="$(mktemp -d)"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/home" "$work/profile"
HOME="$work/home" "$prefix/bin/unistyle" hosts install gimp --profile "$work/profile" >/dev/null

export DISPLAY=:91
Xvfb "$DISPLAY" -screen 0 1400x1000x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.2; done

q() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }
script="(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE $(q "$content"))))
               (layer (vector-ref (car (gimp-image-get-selected-drawables img)) 0)))
          (gimp-display-new img)
          (plug-in-unistyle-stylize #:run-mode RUN-INTERACTIVE #:image img #:drawables (vector layer)
                                    #:style $(q "$style") #:alpha 0.6 ${EXTRA_ARGS:-}))"
HOME="$work/home" GIMP3_DIRECTORY="$work/profile" XDG_DATA_HOME="$work/home/.local/share" \
  gimp-3.0 -n --no-splash --batch-interpreter plug-in-script-fu-eval -b "$script" >"$work/gimp.log" 2>&1 &
pids+=($!)

window=""
for _ in $(seq 240); do
  window="$(xdotool search --name 'Unistyle: Stylize' 2>/dev/null | head -n 1 || true)"
  [ -n "$window" ] && break
  sleep 0.5
done
if [ -z "$window" ]; then
  echo "error: the dialog did not appear; GIMP's log:" >&2
  cat "$work/gimp.log" >&2
  exit 1
fi
xdotool windowmove "$window" 0 0 2>/dev/null || true
xdotool windowfocus "$window" 2>/dev/null || true
sleep "${PREVIEW_WAIT:-20}"
mkdir -p "$(dirname "$out")"
import -window root "$out"
echo "screenshot: $out"

# A settings change: alpha 0.6 -> 1.0; the preview follows.
xdotool windowfocus "$window" 2>/dev/null || true
xdotool key alt+a ctrl+a
xdotool type --delay 50 "1.0"
xdotool key Tab
sleep "${PREVIEW_WAIT:-20}"
import -window root "${out%.png}-alpha1.png"
echo "screenshot: ${out%.png}-alpha1.png"
xdotool key --window "$window" Escape 2>/dev/null || true
