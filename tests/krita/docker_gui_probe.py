"""A helper plug-in for the docker's GUI test (installed next to the plug-in as
`unistyle_docker_probe`): once Krita's window shows the document given on the command line,
it shows the unistyle docker, selects a rectangle and tells the driver (gui_driver.sh) where
the docker's widgets are; then it watches what the driver's clicks and keys do (a preview, a
new layer, undo) and reports it in files under $UNISTYLE_DOCKER_PROBE_OUT."""

import json
import os
import time
import traceback

from krita import Krita, Selection
from unistyle_krita.qt_compat import QtWidgets, QTimer

OUT = os.environ.get("UNISTYLE_DOCKER_PROBE_OUT")
status = {"ok": False}
started = time.monotonic()
state = {}


def write(name, data):
    tmp = os.path.join(OUT, name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, os.path.join(OUT, name))


def finish():
    status["probe_s"] = time.monotonic() - started
    write("status.json", status)
    os._exit(0)  # no save prompts, no session to restore next time


def layers(doc):
    """The document's layers (Krita 5.1 also lists the global selection's mask)."""
    return [n for n in doc.topLevelNodes() if n.type() != "selectionmask"]


def center(w):
    p = w.mapToGlobal(w.rect().center())
    return [p.x(), p.y()]


def find_docker(window):
    for d in window.qwindow().findChildren(QtWidgets.QDockWidget):
        if type(d).__name__ == "UnistyleDocker":
            return d
    return None


def start():
    k = Krita.instance()
    window = k.activeWindow()
    doc = k.activeDocument()
    if window is None or not window.qwindow().isVisible() or doc is None or window.activeView() is None:
        QTimer.singleShot(300, start)
        return
    try:
        status["krita"] = k.version()
        status["startup_s"] = time.monotonic() - started
        dock = find_docker(window)
        assert dock is not None, "the unistyle docker is not in the window"
        # Everything on the 1280x1024 screen: the window on the left, the docker floating on
        # the right at full height (docked, its lower half would be off-screen).
        window.qwindow().setGeometry(0, 0, 880, 1000)
        dock.show()
        dock.setFloating(True)
        dock.setGeometry(890, 10, 380, 1000)
        dock.raise_()
        panel = dock.panel
        sel = Selection()
        sel.select(64, 80, 100, 90, 255)
        doc.setSelection(sel)
        node = [n for n in doc.topLevelNodes() if n.type() == "paintlayer"][0]
        doc.setActiveNode(node)
        state.update(doc=doc, panel=panel, dock=dock, count=len(layers(doc)))
        for _ in range(20):
            QtWidgets.QApplication.processEvents()
            time.sleep(0.05)
        g = dock.mapToGlobal(dock.rect().topLeft())
        status["docker_rect"] = [g.x(), g.y(), dock.width(), dock.height()]
        with open(os.path.join(OUT, "ready.txt"), "w") as f:
            f.write("%d %d %d %d %d %d %d %d\n" % tuple(center(panel.style.edit) + center(panel.apply_button)
                                                      + status["docker_rect"]))
        write("ready.json", status)
        QTimer.singleShot(200, watch)
    except BaseException:
        status["error"] = traceback.format_exc()
        finish()


def watch():
    try:
        doc, panel = state["doc"], state["panel"]
        n = len(layers(doc))
        if "preview" not in status and panel.preview_ms is not None:
            status["preview"] = [panel.preview.pixmap().width(), panel.preview.pixmap().height()]
            status["preview_ms"] = panel.preview_ms
            status["style_typed"] = panel.style.text()
            write("preview.json", status)
        if "applied" not in status and n == state["count"] + 1:
            status["applied"] = [x.name() for x in layers(doc)]
            status["apply_message"] = panel.message.text()
            state["applied_at"] = time.monotonic()
            write("applied.json", status)
        if "applied" in status and "undone" not in status and (
                n == state["count"] or time.monotonic() - state["applied_at"] > 20):
            status["undone"] = [x.name() for x in layers(doc)]
            write("undone.json", status)
        if os.path.exists(os.path.join(OUT, "done")):
            status["message"] = panel.message.text()
            status["ok"] = True
            finish()
        QTimer.singleShot(100, watch)
    except BaseException:
        status["error"] = traceback.format_exc()
        finish()


if OUT:
    QTimer.singleShot(1000, start)
    QTimer.singleShot(int(os.environ.get("UNISTYLE_DOCKER_PROBE_LIMIT_MS", "600000")), finish)
