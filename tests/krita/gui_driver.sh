#!/usr/bin/env bash
# The docker's GUI test, as a user would do it (run under xvfb-run by tests/krita.rs):
#   gui_driver.sh OUT CONTENT STYLE
# starts Krita on CONTENT, waits for the probe plug-in (docker_gui_probe.py) to report where
# the docker is, types STYLE into the docker's Style field (the live preview follows), takes
# screenshots, clicks Apply, presses Ctrl+Z, and lets the probe record each step.
set -u
out=$1 content=$2 style=$3
krita --nosplash "$content" >"$out/krita.log" 2>&1 &
kpid=$!
waitfor() {
  local i
  for ((i = 0; i < $2 * 2; i++)); do
    [ -f "$out/$1" ] && return 0
    kill -0 "$kpid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}
fail() {
  echo "gui_driver: $*" >&2
  import -window root "$out/screen_failed.png" 2>/dev/null
  kill "$kpid" 2>/dev/null
  exit 1
}
waitfor ready.json 400 || fail "Krita did not show the docker"
read -r sx sy ax ay dx dy dw dh <"$out/ready.txt"
xdotool mousemove "$sx" "$sy" click 1
sleep 0.3
xdotool key ctrl+a
xdotool type --delay 4 "$style"
waitfor preview.json 300 || fail "no preview after typing the style"
sleep 1
import -window root "$out/screen_preview.png"
import -window root -crop "${dw}x${dh}+${dx}+${dy}" +repage "$out/docker_preview.png"
xdotool mousemove "$ax" "$ay" click 1
waitfor applied.json 180 || fail "Apply made no layer"
sleep 1
import -window root "$out/screen_applied.png"
xdotool key ctrl+z
waitfor undone.json 60 || fail "no report after Ctrl+Z"
sleep 0.5
import -window root "$out/screen_undone.png"
touch "$out/done"
wait "$kpid"
