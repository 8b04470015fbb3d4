"""Run by kritarunner (`kritarunner -s docker_runner -f main`): the docker's panel on a real
Krita document, as the tests/krita.rs docker tests check it. Writes status.json and raw pixel
files to $UNISTYLE_TEST_OUT (kritarunner exits 0 even when Python raises)."""

import json
import os
import sys
import time
import traceback

OUT = os.environ["UNISTYLE_TEST_OUT"]
SHARED = os.environ["UNISTYLE_SHARED"]
WEIGHTS = os.environ["UNISTYLE_WEIGHTS"]
SEL = (64, 80, 100, 90)  # x, y, w, h of the test selection
status = {"ok": False, "steps": []}


def save(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main(*args):
    import faulthandler
    faulthandler.enable(open(os.path.join(OUT, "crash.txt"), "w"))  # a crash leaves its Python stack
    # An exception in a Qt slot would open Krita's error dialog and block: record it instead.
    sys.excepthook = lambda *e: status.setdefault("slot_errors", []).append("".join(traceback.format_exception(*e)))
    try:
        run()
        status["ok"] = not status.get("slot_errors")
    except BaseException:
        status["error"] = traceback.format_exc()
    with open(os.path.join(OUT, "status.json"), "w") as f:
        json.dump(status, f, indent=1)


def layers(doc):
    """The document's layers (Krita 5.1 also lists the global selection's mask)."""
    return [n for n in doc.topLevelNodes() if n.type() != "selectionmask"]


def wait(app, panel, lane, limit=600.0):
    t = time.monotonic()
    while panel.worker.busy(lane) or panel.worker._threads:
        app.processEvents()
        time.sleep(0.005)
        if time.monotonic() - t > limit:
            raise AssertionError("the %s lane did not finish" % lane)
    app.processEvents()


def run():
    from krita import Krita, Selection
    from unistyle_krita import docker, unistyle_ctypes as us
    from unistyle_krita.qt_compat import BINDING, QtWidgets

    k = Krita.instance()
    app = QtWidgets.QApplication.instance()
    status["krita"] = k.version()
    status["qt_binding"] = BINDING
    status["python"] = sys.version.split()[0]
    status["library"] = us.load_library().path

    content = os.path.join(SHARED, "images/content/tubingen_256.png")
    doc = k.openDocument(content)
    assert doc is not None, "Krita could not open " + content
    doc.setBatchmode(True)
    k.setActiveDocument(doc)
    node = [n for n in layers(doc) if n.type() == "paintlayer"][0]
    doc.setActiveNode(node)
    w, h = doc.width(), doc.height()
    original = bytes(node.pixelData(0, 0, w, h).data())
    sel = Selection()
    sel.select(*SEL, 255)
    doc.setSelection(sel)
    status["active_document"] = k.activeDocument() is not None

    panel = docker.Panel()
    panel.document, panel.node = doc, node  # kritarunner has no view: no active document or layer
    panel.live.setChecked(False)
    wait(app, panel, "thumbnail")
    status["gallery"] = [panel.gallery.item(i).text() for i in range(panel.gallery.count())]
    panel.weights.setText(WEIGHTS)
    panel.choose_style(os.path.join(SHARED, "images/style/starry_256.png"))
    panel.alpha.setValue(0.6)
    panel.levels.setText("3,2,1")
    panel.replace.setChecked(False)

    # Preview: the selection at reduced size, in the worker thread.
    panel.request_preview()
    wait(app, panel, "preview")
    pm = panel.preview.pixmap()
    status["preview"] = [pm.width(), pm.height()] if pm is not None and not pm.isNull() else None
    status["preview_ms"] = panel.preview_ms
    status["preview_message"] = panel.message.text()
    # As settings change (the style now encoded): a stale preview is cancelled by the next one.
    results = []
    panel.worker.finished.connect(lambda r: results.append((r.lane, r.ticket, r.cancelled, r.error is None)))
    panel.alpha.setValue(0.5)
    first = panel.request_preview()
    panel.alpha.setValue(0.6)
    second = panel.request_preview()
    wait(app, panel, "preview")
    status["preview_warm_ms"] = panel.preview_ms
    status["stale_preview"] = [r for r in results if r[1] == first]
    status["latest_preview"] = [r for r in results if r[1] == second]
    status["steps"].append("preview")

    # Cancel during Apply: nothing written.
    panel.apply()
    panel.cancel()
    wait(app, panel, "apply")
    status["layers_after_cancel"] = len(layers(doc))
    status["cancel_message"] = panel.message.text()

    # Apply: a new layer above the active one, the selection as its mask.
    count = len(layers(doc))
    panel.apply()
    wait(app, panel, "apply")
    doc.waitForDone()
    nodes = layers(doc)
    status["apply_message"] = panel.message.text()
    status["layers_after_apply"] = [[n.name(), n.type(), [c.type() for c in n.childNodes()]] for n in nodes]
    assert len(nodes) == count + 1, "no new layer: %s" % status
    new = [n for n in nodes if n.name() != node.name()][0]
    status["new_layer"] = new.name()
    status["new_above_active"] = nodes.index(new) == nodes.index(node) + 1
    status["original_layer_kept"] = bytes(node.pixelData(0, 0, w, h).data()) == original
    doc.refreshProjection()
    doc.waitForDone()
    save("projection_applied.bgra", bytes(doc.pixelData(0, 0, w, h).data()))
    status["steps"].append("apply")

    # Deleting the layer restores the picture.
    new.remove()
    doc.refreshProjection()
    doc.waitForDone()
    status["layers_after_remove"] = len(layers(doc))
    status["projection_restored"] = bytes(doc.pixelData(0, 0, w, h).data()) == original
    status["steps"].append("remove")

    # Apply with the modes (the CLI's --patch-swap --variation 0.5 --seed N --stroke-scale 1.5 --photo);
    # "New variation" picks the seed (and strength 0.5, the variation being 0).
    panel.patch_swap.setChecked(True)
    panel.new_variation.click()
    panel.stroke_scale.setValue(1.5)
    panel.photo.setChecked(True)
    status["modes"] = panel.modes()
    status["modes_seed"] = panel.variation_seed.value()
    panel.apply()
    wait(app, panel, "apply")
    doc.waitForDone()
    status["modes_message"] = panel.message.text()
    modes_layer = [n for n in layers(doc) if n.name() != node.name()][0]
    doc.refreshProjection()
    doc.waitForDone()
    save("projection_modes.bgra", bytes(doc.pixelData(0, 0, w, h).data()))
    modes_layer.remove()
    doc.refreshProjection()
    doc.waitForDone()
    status["modes_layers_after_remove"] = len(layers(doc))
    for box in (panel.patch_swap, panel.photo):
        box.setChecked(False)
    panel.variation.setValue(0.0)
    panel.stroke_scale.setValue(1.0)
    status["steps"].append("modes")

    # Errors in the docker: a missing style file, nothing written.
    panel.choose_style("/no/such/style.png")
    panel.apply()
    wait(app, panel, "apply")
    status["missing_style_message"] = panel.message.text()
    status["layers_after_error"] = len(layers(doc))
    status["steps"].append("error")

    # Texture to a new layer (the CLI's `texture --width 64 --height 48 --seed 5 --tileable --iterations 3`).
    doc.setSelection(Selection())
    panel.choose_style(os.path.join(SHARED, "images/style/brick_256.png"))
    panel.tex_w.setValue(64)
    panel.tex_h.setValue(48)
    panel.seed.setValue(5)
    panel.tileable.setChecked(True)
    panel.texture(new_document=False)
    wait(app, panel, "apply")
    doc.waitForDone()
    tex = layers(doc)[layers(doc).index(node) + 1]
    status["texture_message"] = panel.message.text()
    status["layers_after_texture"] = len(layers(doc))
    status["texture_layer"] = tex.name()
    save("texture.bgra", bytes(tex.pixelData(0, 0, 64, 48).data()))
    status["steps"].append("texture")

    panel.save_settings()
    status["settings_style"] = k.readSetting("unistyle_docker", "style", "")
    panel.close_down()
    doc.close()
