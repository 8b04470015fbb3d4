"""The docker under a stand-in `krita` module (tests/krita/standin): the plug-in's modules
import, the panel builds, a live preview and Apply run through the worker thread.
argv: OUT_DIR CONTENT_PNG STYLE_PNG WEIGHTS PRESET_TOML. Prints "docker smoke ok" and JSON."""

import json
import os
import sys
import time

out, content, style, weights, preset = sys.argv[1:6]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from unistyle_krita.qt_compat import BINDING, QtGui, QtWidgets, enum  # noqa: E402

app = QtWidgets.QApplication([])
import krita  # noqa: E402  (the stand-in)
from unistyle_krita import docker, look  # noqa: E402

img = QtGui.QImage(content).convertToFormat(enum(QtGui.QImage, "Format", "Format_ARGB32"))
w, h = img.width(), img.height()
bgra = look.qimage_bytes(img)  # ARGB32 in memory: B, G, R, A (little-endian)
doc = krita.Document(w, h, bgra)
krita.Krita.instance().document = doc
status = {"binding": BINDING, "qt": QtGui.QImage.__module__}


def wait(pred, limit=300.0):
    t = time.monotonic()
    while not pred():
        app.processEvents()
        time.sleep(0.01)
        if time.monotonic() - t > limit:
            raise SystemExit("timed out: %s" % status)


panel = docker.Panel()
panel.resize(320, 900)
panel.show()
panel.live.setChecked(False)  # previews below are requested explicitly
panel.weights.setText(weights)
wait(lambda: not panel.worker.busy("thumbnail") and not panel._thumb_queue)
status["gallery"] = [panel.gallery.item(i).text() for i in range(panel.gallery.count())]

# A preset's preview (downscaled by Qt, stylized by the preset).
panel.choose_preset(preset)
panel.request_preview()
wait(lambda: not panel.worker.busy("preview"))
app.processEvents()
status["preset_preview"] = [panel.preview.pixmap().width(), panel.preview.pixmap().height()] if panel.preview.pixmap() else None
status["preset_message"] = panel.message.text()

# A style image's preview through the library's preview call; a stale one is cancelled.
panel.choose_style(style)
panel.alpha.setValue(0.6)
panel.levels.setText("3,2,1")
first = panel.request_preview()
second = panel.request_preview()
wait(lambda: not panel.worker.busy("preview"))
app.processEvents()
pm = panel.preview.pixmap()
status["preview"] = [pm.width(), pm.height()] if pm is not None and not pm.isNull() else None
status["preview_ms"] = panel.preview_ms
status["preview_message"] = panel.message.text()
status["tickets"] = [first, second]

# Apply: a new layer above the active one, the original untouched.
before = bytes(doc.layer.data)
panel.apply()
wait(lambda: not panel.worker.busy("apply"))
app.processEvents()
status["layers"] = [n.name() for n in doc.topLevelNodes()]
status["apply_message"] = panel.message.text()
with open(os.path.join(out, "docker_apply.bgra"), "wb") as f:
    f.write(bytes(doc.topLevelNodes()[-1].data))
status["original_kept"] = bytes(doc.layer.data) == before
panel.grab().save(os.path.join(out, "docker_%s.png" % BINDING))
print(json.dumps(status))
print("docker smoke ok")
