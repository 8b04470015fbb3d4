import json, os, time, traceback
from krita import Krita, InfoObject
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QMessageBox

OUT = os.environ.get("UNISTYLE_GUI_PROBE_OUT")
status = {"ok": False, "messages": []}
started = time.monotonic()


def finish():
    status["gui_s"] = time.monotonic() - started
    with open(os.path.join(OUT, "status.json"), "w", encoding="utf-8") as f:
        json.dump(status, f, ensure_ascii=True, indent=1)
    os._exit(0)  # no save prompts, no session to restore next time


def menu_entries(window):
    for top in window.qwindow().menuBar().actions():
        if top.text().replace("&", "") == "Tools":
            for sub in top.menu().actions():
                if sub.menu() and sub.text().replace("&", "") == "Scripts":
                    return [a.text() for a in sub.menu().actions()]
    return []


watching = True


def answer_dialog():
    """Plays the user while the action runs: fills in the dialog, records and closes message boxes."""
    if not watching:
        return
    w = QApplication.activeModalWidget()
    if isinstance(w, QMessageBox):
        status["messages"].append(w.text())
        w.accept()
    if w is None or type(w).__name__ != "StylizeDialog":
        QTimer.singleShot(200, answer_dialog)
        return
    status["dialog"] = w.windowTitle()
    w.style.edit.setText(os.environ["UNISTYLE_GUI_STYLE"])
    w.weights.edit.setText(os.environ["UNISTYLE_WEIGHTS"])
    w.alpha.setValue(0.6)
    w.levels.setText("3,2,1")
    w.preserve.setChecked(False)
    w.only_selection.setChecked(False)
    w.accept()
    QTimer.singleShot(200, answer_dialog)


def run():
    k = Krita.instance()
    window = k.activeWindow()
    if window is None or not window.qwindow().isVisible():
        QTimer.singleShot(500, run)
        return
    try:
        status["startup_s"] = time.monotonic() - started
        status["extensions"] = [type(e).__name__ for e in k.extensions()]
        status["menu"] = menu_entries(window)
        doc = k.openDocument(os.environ["UNISTYLE_GUI_CONTENT"])
        window.addView(doc)
        doc.setBatchmode(True)
        node = [n for n in doc.topLevelNodes() if n.type() == "paintlayer"][0]
        doc.setActiveNode(node)
        status["active"] = [k.activeDocument() is not None, node.name()]
        QTimer.singleShot(200, answer_dialog)
        t = time.monotonic()
        k.action("unistyle_stylize").trigger()  # runs the dialog and the stylization
        status["action_s"] = time.monotonic() - t
        global watching
        watching = False
        doc.waitForDone()
        status["exported"] = doc.exportImage(os.path.join(OUT, "gui.png"), InfoObject())
        status["ok"] = True
    except BaseException:
        status["error"] = traceback.format_exc()
    finish()


if OUT:
    QTimer.singleShot(1000, run)
    QTimer.singleShot(int(os.environ.get("UNISTYLE_GUI_PROBE_LIMIT_MS", "600000")), finish)
