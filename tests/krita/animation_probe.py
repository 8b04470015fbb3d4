"""A helper plug-in for the Apply-to-animation test (installed next to the plug-in as
`unistyle_anim_probe`, run by tests/krita_animation.rs): once Krita's window shows the
document given on the command line, it makes an animated layer from the frames in
$UNISTYLE_TEST_IN (keyframes at 0, 2, 4), presses the docker's *Apply to animation*, waits for
the new animated layer, reads its keyframes, undoes it (Ctrl+Z's action), then starts and
cancels a second run. Everything is reported in $UNISTYLE_TEST_OUT/status.json."""

import glob
import json
import os
import time
import traceback

from krita import Krita
from unistyle_krita import animation
from unistyle_krita.qt_compat import QtWidgets, QTimer

OUT = os.environ.get("UNISTYLE_TEST_OUT")
status = {"ok": False}
started = time.monotonic()
state = {}


def write():
    tmp = os.path.join(OUT, "status.json.tmp")
    with open(tmp, "w") as f:
        json.dump(status, f, indent=1)
    os.replace(tmp, os.path.join(OUT, "status.json"))


def finish():
    status["probe_s"] = time.monotonic() - started
    write()
    os._exit(0)  # no save prompts, no session to restore next time


def layers(doc):
    return [n for n in doc.topLevelNodes() if n.type() != "selectionmask"]


def guard(fn):
    def run():
        try:
            status.setdefault("steps", []).append(fn.__name__)
            write()
            fn()
        except BaseException:
            status["error"] = traceback.format_exc()
            finish()
    return run


def find_panel(window):
    for d in window.qwindow().findChildren(QtWidgets.QDockWidget):
        if type(d).__name__ == "UnistyleDocker":
            return d.panel
    return None


@guard
def start():
    k = Krita.instance()
    window, doc = k.activeWindow(), k.activeDocument()
    if window is None or not window.qwindow().isVisible() or doc is None or window.activeView() is None:
        QTimer.singleShot(300, start)
        return
    status["krita"] = k.version()
    if "settled" not in state:  # let the new window finish its own start-up work first
        state["settled"] = True
        panel = find_panel(window)
        if panel is not None:
            panel.live.setChecked(False)
        doc.waitForDone()
        QTimer.singleShot(3000, start)
        return
    for _ in range(20):
        QtWidgets.QApplication.processEvents()
        time.sleep(0.05)
    frames = sorted(glob.glob(os.path.join(os.environ["UNISTYLE_TEST_IN"], "*.png")))
    panel = find_panel(window)
    panel.poll.stop()  # as the docker does around its own import
    panel.debounce.stop()
    assert doc.importAnimation(frames, 0, 2), "importAnimation of the source frames failed"
    doc.waitForDone()
    panel.poll.start()
    status["steps"].append("imported")
    write()
    doc.setPlayBackRange(0, 5)
    src = [n for n in layers(doc) if n.animated()][0]
    doc.setActiveNode(src)
    status["source_keyframes"] = [t for t in range(6) if src.hasKeyframeAtTime(t)]
    panel = find_panel(window)
    assert panel is not None, "the unistyle docker is not in the window"
    panel.style.setText(os.environ["UNISTYLE_TEST_STYLE"])
    panel.alpha.setValue(0.7)
    panel.levels.setText("")
    panel.preserve.setChecked(False)
    panel.stability.setValue(0.6)
    state.update(doc=doc, src=src, panel=panel, count=len(layers(doc)), fractions=[], t0=time.monotonic())
    panel.worker.progressed.connect(lambda lane, f: state["fractions"].append(f))
    QTimer.singleShot(200, press)


@guard
def press():
    """Apply to animation once the animated layer is the active one (set asynchronously)."""
    doc, panel = state["doc"], state["panel"]
    if doc.activeNode() is None or doc.activeNode().name() != state["src"].name():
        if time.monotonic() - state["t0"] > 30:
            raise AssertionError("the animated layer did not become active")
        doc.setActiveNode(state["src"])
        QTimer.singleShot(200, press)
        return
    status["source_layer"] = state["src"].name()
    state["t0"] = time.monotonic()
    assert panel.apply_animation() is not None, panel.message.text()
    QTimer.singleShot(200, wait_applied)


@guard
def wait_applied():
    doc, panel = state["doc"], state["panel"]
    if len(layers(doc)) != state["count"] + 1:
        if time.monotonic() - state["t0"] > 600:
            raise AssertionError("no new layer after 600 s: " + panel.message.text())
        QTimer.singleShot(200, wait_applied)
        return
    status["apply_s"] = time.monotonic() - state["t0"]
    status["message"] = panel.message.text()
    fr = state["fractions"]
    status["progress"] = [fr[0], fr[-1], len(fr)] if fr else []
    layer = doc.activeNode()
    status["layer"] = [layer.name(), layer.animated()]
    status["keyframes"] = [t for t in range(6) if layer.hasKeyframeAtTime(t)]
    w, h = doc.width(), doc.height()
    for t in status["keyframes"]:
        with open(os.path.join(OUT, "frame_%d.bgra" % t), "wb") as f:
            f.write(bytes(layer.pixelDataAtTime(0, 0, w, h, t).data()))
    Krita.instance().action("edit_undo").trigger()
    state["t1"] = time.monotonic()
    QTimer.singleShot(200, wait_undone)


@guard
def wait_undone():
    doc, panel = state["doc"], state["panel"]
    if len(layers(doc)) != state["count"] and time.monotonic() - state["t1"] < 20:
        QTimer.singleShot(200, wait_undone)
        return
    status["after_undo"] = len(layers(doc)) - state["count"]
    doc.setActiveNode(state["src"])
    assert panel.apply_animation() is not None, panel.message.text()
    # Cancel at once, from the event loop, while the worker runs: a fixed delay raced the run
    # (three small frames can finish within it on an idle machine).
    QTimer.singleShot(0, cancel)


@guard
def cancel():
    panel = state["panel"]
    status["busy_before_cancel"] = not panel.apply_button.isEnabled()
    panel.cancel()
    state["t2"] = time.monotonic()
    QTimer.singleShot(3000, after_cancel)


@guard
def after_cancel():
    doc, panel = state["doc"], state["panel"]
    panel.worker.wait(60)
    for _ in range(20):
        QtWidgets.QApplication.processEvents()
        time.sleep(0.05)
    status["after_cancel"] = len(layers(doc)) - state["count"]
    status["cancel_message"] = panel.message.text()
    status["ok"] = True
    finish()


def _traced(fn):
    """`fn` with its start and end recorded in the status (where a crash happened)."""
    def run(*args, **kwargs):
        status.setdefault("steps", []).append(fn.__name__)
        write()
        out = fn(*args, **kwargs)
        status["steps"].append(fn.__name__ + " done")
        write()
        return out
    return run


if OUT:
    animation.write_animation = _traced(animation.write_animation)
    animation.read_keyframes = _traced(animation.read_keyframes)
    QTimer.singleShot(1000, start)
    QTimer.singleShot(int(os.environ.get("UNISTYLE_TEST_LIMIT_MS", "800000")), finish)
