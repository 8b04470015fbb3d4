"""The "unistyle" docker: a style gallery, the stylize settings, a live preview computed in a
worker thread, Apply (a new layer above the active one, or into it), and textures.

`Panel` is the docker's content and needs only Qt and `Krita.instance()`; `UnistyleDocker` is
the Krita DockWidget around it (registered by the package's __init__).
"""

import os
import random
import time

from krita import Krita

from . import animation
from . import bounds
from . import gallery
from . import layers
from . import look as looks
from . import pixels
from . import unistyle_ctypes as us
from .qt_compat import QSize, Qt, QtGui, QtWidgets, QTimer, enum
from .worker import Worker

SETTINGS = "unistyle_docker"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"
PREVIEW_SIDE = 256
DEBOUNCE_MS = 350
POLL_MS = 1000

W = QtWidgets


def read_setting(key, default=""):
    return Krita.instance().readSetting(SETTINGS, key, str(default))


def write_setting(key, value):
    Krita.instance().writeSetting(SETTINGS, key, str(value))


def _bool(text):
    return str(text).lower() == "true"


def rgba_pixmap(width, height, rgba):
    fmt = enum(QtGui.QImage, "Format", "Format_RGBA8888")
    img = QtGui.QImage(rgba, width, height, 4 * width, fmt).copy()  # copy: own the bytes
    return QtGui.QPixmap.fromImage(img)


class FileRow(W.QWidget):
    """A line edit with a Browse… button; `changed` fires on edits and picks."""

    def __init__(self, text, caption, file_filter, placeholder="", parent=None):
        super().__init__(parent)
        self.edit = W.QLineEdit(text)
        self.edit.setPlaceholderText(placeholder)
        self.browse = W.QPushButton("…")
        self.browse.setToolTip("Browse")
        self.browse.clicked.connect(lambda: self._browse(caption, file_filter))
        row = W.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit)
        row.addWidget(self.browse)
        self.changed = self.edit.textChanged

    def _browse(self, caption, file_filter):
        start = os.path.dirname(self.text()) if self.text() else os.path.expanduser("~")
        path, _ = W.QFileDialog.getOpenFileName(self, caption, start, file_filter)
        if path:
            self.edit.setText(path)

    def text(self):
        return self.edit.text().strip()

    def setText(self, text):
        self.edit.setText(text)


class Panel(W.QWidget):
    """The docker's content."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.worker = Worker(self)
        self.worker.finished.connect(self._finished)
        self.worker.progressed.connect(self._progressed)
        self.preview_ms = None  # latency of the last preview shown (request to display)
        self._preview_requested = 0.0
        self._poll_key = None
        self._apply_target = None
        self._thumb_queue = []
        # None: Krita's active document and layer; a script may pin them (no view needed)
        self.document, self.node = None, None
        self._build()
        self._load_settings()
        self._connect()
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self.request_preview)
        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self._poll_canvas)
        self.poll.start()
        self.fill_gallery()

    # --- layout ------------------------------------------------------------------------------
    def _build(self):
        v = W.QVBoxLayout(self)
        v.setContentsMargins(4, 4, 4, 4)
        self.gallery = W.QListWidget()
        self.gallery.setViewMode(enum(W.QListView, "ViewMode", "IconMode"))
        self.gallery.setIconSize(QSize(gallery.THUMB, gallery.THUMB))
        self.gallery.setResizeMode(enum(W.QListView, "ResizeMode", "Adjust"))
        self.gallery.setMovement(enum(W.QListView, "Movement", "Static"))
        self.gallery.setWrapping(True)
        self.gallery.setGridSize(QSize(gallery.THUMB + 24, gallery.THUMB + 30))
        self.gallery.setMaximumHeight(2 * (gallery.THUMB + 30) + 8)
        self.gallery.setToolTip("Presets (the plug-in's and %s) and style images used before" % gallery.user_presets_dir())
        v.addWidget(self.gallery)

        form = W.QFormLayout()
        self.source = W.QLabel()
        self.source.setWordWrap(True)
        form.addRow("Look:", self.source)
        self.style = FileRow("", "Style image", IMAGE_FILTER, "a style image file")
        form.addRow("Style:", self.style)
        self.outside = FileRow("", "Second style (outside the selection)", IMAGE_FILTER, "none")
        form.addRow("Outside:", self.outside)
        self.alpha = W.QDoubleSpinBox()
        bounds.set_range(self.alpha, "alpha")
        self.alpha.setSingleStep(0.05)
        self.alpha.setDecimals(2)
        form.addRow("Strength:", self.alpha)
        self.levels = W.QLineEdit()
        self.levels.setPlaceholderText("every level, e.g. 3,2,1")
        form.addRow("Levels:", self.levels)
        self.feather = W.QDoubleSpinBox()
        bounds.set_range(self.feather, "feather")
        self.feather.setDecimals(1)
        self.feather.setSuffix(" px")
        form.addRow("Feather:", self.feather)
        self.preserve = W.QCheckBox("Keep the layer's colours")
        form.addRow(self.preserve)
        self.replace = W.QCheckBox("Replace the layer's pixels (not undoable)")
        form.addRow(self.replace)
        self.weights = FileRow("", "Weights", "Weights (*.safetensors);;All files (*)",
                               "UNISTYLE_WEIGHTS or the library's default")
        form.addRow("Weights:", self.weights)
        v.addLayout(form)
        v.addWidget(self._build_modes())

        self.live = W.QCheckBox("Live preview")
        v.addWidget(self.live)
        self.preview = W.QLabel("no preview")
        self.preview.setAlignment(enum(Qt, "AlignmentFlag", "AlignCenter"))
        self.preview.setMinimumSize(PREVIEW_SIDE // 2, PREVIEW_SIDE // 2)
        self.preview.setFrameShape(enum(W.QFrame, "Shape", "StyledPanel"))
        v.addWidget(self.preview, 1)
        self.preview_info = W.QLabel("")
        v.addWidget(self.preview_info)

        row = W.QHBoxLayout()
        self.apply_button = W.QPushButton("Apply")
        self.apply_button.setToolTip("Stylize the selection (or the active layer) into a new layer above it")
        self.animation_button = W.QPushButton("Apply to animation")
        self.animation_button.setToolTip("Stylize every keyframe of the active layer in the playback range, "
                                         "as one clip, into a new animated layer")
        self.cancel_button = W.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        row.addWidget(self.apply_button)
        row.addWidget(self.animation_button)
        row.addWidget(self.cancel_button)
        v.addLayout(row)
        self.stability = W.QDoubleSpinBox()
        bounds.set_range(self.stability, "stability")
        self.stability.setSingleStep(0.05)
        self.stability.setDecimals(2)
        self.stability.setValue(us.DEFAULT_STABILITY)
        self.stability.setToolTip("Animation: 0 styles every keyframe on its own; higher values tie "
                                  "consecutive keyframes together against flicker")
        stab = W.QFormLayout()
        stab.addRow("Stability:", self.stability)
        v.addLayout(stab)
        self.progress = W.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        v.addWidget(self.progress)

        tex = W.QGroupBox("Texture")
        tf = W.QFormLayout(tex)
        self.tex_w, self.tex_h, self.seed = W.QSpinBox(), W.QSpinBox(), W.QSpinBox()
        bounds.set_range(self.tex_w, "texture.width")
        bounds.set_range(self.tex_h, "texture.height")
        bounds.set_range(self.seed, "texture.seed")
        size = W.QHBoxLayout()
        size.addWidget(self.tex_w)
        size.addWidget(W.QLabel("×"))
        size.addWidget(self.tex_h)
        tf.addRow("Size:", size)
        tf.addRow("Seed:", self.seed)
        self.tileable = W.QCheckBox("Tileable")
        tf.addRow(self.tileable)
        trow = W.QHBoxLayout()
        self.tex_layer_button = W.QPushButton("New layer")
        self.tex_doc_button = W.QPushButton("New document")
        trow.addWidget(self.tex_layer_button)
        trow.addWidget(self.tex_doc_button)
        tf.addRow(trow)
        v.addWidget(tex)

        self.message = W.QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(enum(Qt, "TextInteractionFlag", "TextSelectableByMouse"))
        v.addWidget(self.message)

    def _build_modes(self):
        """The modes beyond plain WCT (README "Beyond the paper"), used by preview and Apply."""
        box = W.QGroupBox("Modes")
        mf = W.QFormLayout(box)
        self.patch_swap = W.QCheckBox("Patch swap (keep brush strokes)")
        self.patch_swap.setToolTip("Swap the layer's patches for the style's best-matching patches "
                                   "(not with a second style, nor with optimal transport)")
        mf.addRow(self.patch_swap)
        self.transform = W.QComboBox()
        self.transform.addItem("Whitening and colouring (WCT)", "wct")
        self.transform.addItem("Optimal transport (OST)", "ost")
        self.transform.setToolTip("OST moves the layer's features the least")
        mf.addRow("Transform:", self.transform)
        self.variation = W.QDoubleSpinBox()
        bounds.set_range(self.variation, "variation")
        self.variation.setSingleStep(0.1)
        self.variation.setDecimals(2)
        self.variation.setToolTip("Random variation strength: 0 is the plain result; the seed picks the variation")
        mf.addRow("Variation:", self.variation)
        self.variation_seed = W.QSpinBox()
        bounds.set_range(self.variation_seed, "seed")
        self.variation_seed.setToolTip("The same seed gives the same result")
        self.new_variation = W.QPushButton("New variation")
        self.new_variation.setToolTip("Pick another seed (and a variation strength if it is 0)")
        vrow = W.QHBoxLayout()
        vrow.addWidget(self.variation_seed, 1)
        vrow.addWidget(self.new_variation)
        mf.addRow("Seed:", vrow)
        self.stroke_scale = W.QDoubleSpinBox()
        bounds.set_range(self.stroke_scale, "stroke_scale")
        self.stroke_scale.setSingleStep(0.25)
        self.stroke_scale.setDecimals(3)
        self.stroke_scale.setToolTip("The style taken at this scale: 2 = larger strokes, 0.5 = finer")
        mf.addRow("Stroke scale:", self.stroke_scale)
        self.photo = W.QCheckBox("Photo mode")
        self.photo.setToolTip("Edge-preserving smoothing guided by the layer: a photo stays a photo")
        mf.addRow(self.photo)
        return box

    def modes(self):
        """The modes as the library takes them (unistyle_ctypes.MODE_FIELDS)."""
        return {"patch_swap": self.patch_swap.isChecked(), "transform": self.transform.currentData(),
                "variation": self.variation.value(), "seed": self.variation_seed.value(),
                "stroke_scale": self.stroke_scale.value(), "photo": self.photo.isChecked()}

    def another_variation(self):
        """"New variation": a different random seed (and some strength, if there was none)."""
        seed = self.variation_seed.value()
        while seed == self.variation_seed.value():
            seed = random.randint(1, 2 ** 31 - 1)
        if self.variation.value() == 0.0:
            self.variation.setValue(0.5)
        self.variation_seed.setValue(seed)

    def _load_settings(self):
        self.preset_path = read_setting("preset", "")
        self.style.setText(read_setting("style", ""))
        self.outside.setText(read_setting("outside_style", ""))
        self.alpha.setValue(float(read_setting("alpha", 0.6) or 0.6))
        self.levels.setText(read_setting("levels", ""))
        self.feather.setValue(float(read_setting("feather", 0) or 0))
        self.preserve.setChecked(_bool(read_setting("preserve_color", "false")))
        self.replace.setChecked(_bool(read_setting("replace", "false")))
        self.weights.setText(read_setting("weights", ""))
        self.live.setChecked(_bool(read_setting("live", "true")))
        self.tex_w.setValue(int(read_setting("tex_width", 512) or 512))
        self.tex_h.setValue(int(read_setting("tex_height", 512) or 512))
        self.seed.setValue(int(read_setting("seed", 0) or 0))
        self.tileable.setChecked(_bool(read_setting("tileable", "false")))
        self.patch_swap.setChecked(_bool(read_setting("patch_swap", "false")))
        self.transform.setCurrentIndex(max(0, self.transform.findData(read_setting("transform", "wct"))))
        self.variation.setValue(float(read_setting("variation", 0) or 0))
        self.variation_seed.setValue(int(read_setting("variation_seed", 0) or 0))
        self.stroke_scale.setValue(float(read_setting("stroke_scale", 1) or 1))
        self.photo.setChecked(_bool(read_setting("photo", "false")))
        self._show_source()

    def save_settings(self):
        for key, value in (("preset", self.preset_path), ("style", self.style.text()), ("outside_style", self.outside.text()),
                           ("alpha", self.alpha.value()), ("levels", self.levels.text()), ("feather", self.feather.value()),
                           ("preserve_color", str(self.preserve.isChecked()).lower()),
                           ("replace", str(self.replace.isChecked()).lower()), ("weights", self.weights.text()),
                           ("live", str(self.live.isChecked()).lower()), ("tex_width", self.tex_w.value()),
                           ("tex_height", self.tex_h.value()), ("seed", self.seed.value()),
                           ("tileable", str(self.tileable.isChecked()).lower()),
                           ("patch_swap", str(self.patch_swap.isChecked()).lower()),
                           ("transform", self.transform.currentData()), ("variation", self.variation.value()),
                           ("variation_seed", self.variation_seed.value()),
                           ("stroke_scale", self.stroke_scale.value()),
                           ("photo", str(self.photo.isChecked()).lower())):
            write_setting(key, value)

    def _connect(self):
        self.style.changed.connect(self._style_typed)
        for signal in (self.outside.changed, self.levels.textChanged, self.weights.changed):
            signal.connect(self.settings_changed)
        self.weights.edit.editingFinished.connect(self._weights_chosen)
        for box in (self.alpha, self.feather, self.variation, self.variation_seed, self.stroke_scale):
            box.valueChanged.connect(self.settings_changed)
        for box in (self.preserve, self.replace, self.live, self.patch_swap, self.photo):
            box.toggled.connect(self.settings_changed)
        self.transform.currentIndexChanged.connect(self.settings_changed)
        self.new_variation.clicked.connect(self.another_variation)
        for box in (self.tex_w, self.tex_h, self.seed):
            box.valueChanged.connect(self.save_settings)
        self.tileable.toggled.connect(self.save_settings)
        self.gallery.itemClicked.connect(self._gallery_picked)
        self.apply_button.clicked.connect(self.apply)
        self.animation_button.clicked.connect(self.apply_animation)
        self.cancel_button.clicked.connect(self.cancel)
        self.tex_layer_button.clicked.connect(lambda: self.texture(new_document=False))
        self.tex_doc_button.clicked.connect(lambda: self.texture(new_document=True))

    # --- the look ----------------------------------------------------------------------------
    def current_look(self):
        return looks.Look(style=self.style.text(), preset=self.preset_path, alpha=self.alpha.value(),
                          levels=self.levels.text(), preserve_color=self.preserve.isChecked(),
                          feather=self.feather.value(), outside_style=self.outside.text(),
                          weights=self.weights.text() or None, modes=self.modes())

    def _show_source(self):
        preset = bool(self.preset_path)
        self.source.setText("preset %s" % os.path.basename(self.preset_path) if preset else "style image")
        for w in (self.alpha, self.levels, self.preserve, self.outside, self.feather, self.patch_swap, self.transform,
                  self.variation, self.variation_seed, self.new_variation, self.stroke_scale, self.photo):
            w.setEnabled(not preset)  # a preset brings its own settings

    def _style_typed(self):
        self.preset_path = ""
        self._show_source()
        self.settings_changed()

    def choose_preset(self, path):
        self.preset_path = path
        self._show_source()
        self.settings_changed()

    def choose_style(self, path):
        self.style.setText(path)  # clears the preset through _style_typed

    def _gallery_picked(self, item):
        entry = item.data(enum(Qt, "ItemDataRole", "UserRole"))
        if entry.is_preset:
            self.choose_preset(entry.path)
        else:
            self.choose_style(entry.path)

    def settings_changed(self, *_):
        self.save_settings()
        if self.live.isChecked():
            self.debounce.start()

    # --- gallery -----------------------------------------------------------------------------
    def fill_gallery(self):
        self.gallery.clear()
        role = enum(Qt, "ItemDataRole", "UserRole")
        entries = gallery.presets()
        recent = [p for p in read_setting("recent_styles", "").split("\n") if p and os.path.isfile(p)]
        entries += [gallery.Entry(p, False) for p in recent]
        self._thumb_queue = []
        for entry in entries:
            item = W.QListWidgetItem(entry.name)
            item.setData(role, entry)
            item.setToolTip(entry.path)
            if not entry.is_preset:
                item.setIcon(QtGui.QIcon(QtGui.QPixmap(entry.path).scaled(
                    gallery.THUMB, gallery.THUMB, enum(Qt, "AspectRatioMode", "KeepAspectRatio"),
                    enum(Qt, "TransformationMode", "SmoothTransformation"))))
            elif gallery.cached_thumbnail(entry):
                item.setIcon(QtGui.QIcon(gallery.cached_thumbnail(entry)))
            else:
                self._thumb_queue.append(item)
            self.gallery.addItem(item)
        self._next_thumbnail()

    def _next_thumbnail(self):
        if self._thumb_queue and not self.worker.busy("thumbnail"):
            item = self._thumb_queue[0]
            entry = item.data(enum(Qt, "ItemDataRole", "UserRole"))
            self.worker.start("thumbnail", gallery.thumbnail_rgba, entry, weights=self.weights.text() or None)

    def _thumbnail_done(self, result):
        item = self._thumb_queue.pop(0) if self._thumb_queue else None
        if item is not None:
            entry = item.data(enum(Qt, "ItemDataRole", "UserRole"))
            if result.error is not None:
                item.setToolTip("%s\n%s" % (entry.path, result.error))
                item.setForeground(QtGui.QBrush(QtGui.QColor(160, 60, 60)))
            else:
                w, h, rgba = result.value
                pix = rgba_pixmap(w, h, rgba)
                item.setIcon(QtGui.QIcon(pix))
                item.setText(entry.name)
                item.setToolTip("%s\n%s" % (entry.description or entry.name, entry.path))
                try:
                    pix.save(gallery.cache_file(entry), "PNG")
                except OSError:
                    pass
        self._next_thumbnail()

    def _weights_chosen(self):
        """Other weights: thumbnails that failed (e.g. weights not found) are computed again."""
        if self._thumb_queue or not any(self.gallery.item(i).icon().isNull() for i in range(self.gallery.count())):
            return
        self.fill_gallery()

    def _remember_style(self, path):
        if not path:
            return
        recent = [p for p in read_setting("recent_styles", "").split("\n") if p and p != path]
        write_setting("recent_styles", "\n".join([path] + recent[:11]))

    # --- canvas ------------------------------------------------------------------------------
    def _canvas(self):
        doc = self.document or Krita.instance().activeDocument()
        if doc is None:
            return None, None
        return doc, (self.node if self.document is not None and self.node is not None else doc.activeNode())

    def _poll_canvas(self):
        """Krita sends Python no layer/selection events: a changed active layer, selection or
        layer extent schedules a new preview."""
        if not self.live.isChecked() or not self.isVisible():
            return
        doc, node = self._canvas()
        key = None
        if doc is not None and node is not None:
            sel = doc.selection()
            b = node.bounds()
            key = (doc.fileName(), node.name(), node.type(), (b.x(), b.y(), b.width(), b.height()),
                   (sel.x(), sel.y(), sel.width(), sel.height()) if sel is not None else None)
        if key != self._poll_key:
            self._poll_key = key
            self.debounce.start()

    def canvas_changed(self):
        self._poll_key = None
        if self.live.isChecked():
            self.debounce.start()

    def _read(self, look):
        doc, node = self._canvas()
        if doc is None:
            raise ValueError("open an image first")
        return doc, node, layers.read_area(doc, node, look, doc.selection(), replace=self.replace.isChecked())

    def show_error(self, error):
        self.message.setText("<span style='color:#c0392b'>%s</span>" % str(error).replace("&", "&amp;").replace("<", "&lt;"))

    # --- preview -----------------------------------------------------------------------------
    def request_preview(self):
        """Reads the area now (GUI thread) and computes its preview in the worker; a running
        preview is cancelled."""
        look = self.current_look()
        try:
            _doc, _node, area = self._read(look)
        except (ValueError, us.UnistyleError, OSError) as e:
            self.worker.cancel("preview")
            self.preview.setText("no preview")
            self.show_error(e)
            return None
        self.message.setText("")
        self._preview_requested = time.monotonic()
        self.preview_info.setText("computing preview…")
        return self.worker.start("preview", looks.preview, look, area.content, PREVIEW_SIDE, mask=area.mask,
                                 inside_only=area.replace)

    def _preview_done(self, result):
        if result.cancelled:
            return
        if result.error is not None:
            self.preview.setText("no preview")
            self.preview_info.setText("")
            self.show_error(result.error)
            return
        buf = result.value
        rgba = pixels.to_rgba8(buf.tobytes(), buf.channels, buf.sample_type)
        self.preview.setPixmap(rgba_pixmap(buf.width, buf.height, rgba))
        self.preview_ms = (time.monotonic() - self._preview_requested) * 1000.0
        self.preview_info.setText("preview %d×%d in %.0f ms" % (buf.width, buf.height, self.preview_ms))

    # --- apply -------------------------------------------------------------------------------
    def apply(self):
        look = self.current_look()
        try:
            doc, node, area = self._read(look)
            out, lay = layers.output_buffer(area, doc)
        except (ValueError, us.UnistyleError, OSError) as e:
            self.show_error(e)
            return None
        self.message.setText("")
        self._apply_target = (doc, node, area, out, lay, look)
        self._busy(True)
        return self.worker.start("apply", looks.stylize, look, area.content, out, mask=area.mask,
                                 inside_only=area.replace)

    def apply_animation(self):
        """Reads every keyframe of the active layer in the playback range (GUI thread) and
        stylizes them as one clip in the worker; the result becomes a new animated layer."""
        look = self.current_look()
        try:
            look.check()
            doc, node = self._canvas()
            if doc is None:
                raise ValueError("open an animated image first")
            times = animation.keyframe_times(doc, node)
            frames = animation.read_keyframes(doc, node, times)
        except (ValueError, us.UnistyleError, OSError) as e:
            self.show_error(e)
            return None
        self.message.setText("stylizing %d keyframes…" % len(times))
        self._apply_target = ("animation", doc, node, times, look)
        self._busy(True)
        return self.worker.start("apply", animation.stylize_frames, look, frames, self.stability.value())

    def _animation_done(self, result, target):
        _, doc, node, times, look = target
        if result.error is not None:
            self.show_error(result.error)
            return
        name = "unistyle %s" % os.path.splitext(os.path.basename(look.preset or look.style))[0]
        # Krita's import of the frames runs an event loop of its own: no canvas polling or
        # preview may read the document meanwhile.
        self.poll.stop()
        self.debounce.stop()
        try:
            animation.write_animation(doc, node, times, result.value, name=name)
        finally:
            self.poll.start()
        self.message.setText("%d keyframes in %.1f s" % (len(times), result.seconds))

    def _apply_done(self, result):
        self._busy(False)
        target, self._apply_target = self._apply_target, None
        if result.cancelled or target is None:
            return
        if result.error is not None:
            self.show_error(result.error)
            return
        doc, node, area, _out, lay, look = target
        name = "unistyle %s" % (os.path.splitext(os.path.basename(look.preset or look.style))[0])
        layers.write_result(doc, node, area, result.value, lay, name=name)
        if not look.preset:
            self._remember_style(look.style)
        self.message.setText("applied in %.1f s" % result.seconds)

    def texture(self, new_document=False):
        look = self.current_look()
        try:
            look.check()
            if new_document:
                lay = pixels.layout("RGBA", "U8")
                doc, node = None, None
            else:
                doc, node = self._canvas()
                if doc is None:
                    raise ValueError("open an image first, or make a new document")
                lay = pixels.layout(doc.colorModel(), doc.colorDepth())
        except (ValueError, us.UnistyleError, OSError) as e:
            self.show_error(e)
            return None
        self.message.setText("")
        self._apply_target = ("texture", doc, node, lay, look, new_document)
        self._busy(True)
        return self.worker.start("apply", _texture_call, look, self.tex_w.value(), self.tex_h.value(),
                                 self.seed.value(), self.tileable.isChecked(), lay)

    def _texture_done(self, result, target):
        _, doc, node, lay, look, new_document = target
        if result.error is not None:
            self.show_error(result.error)
            return
        buf = result.value
        name = "unistyle %s" % os.path.splitext(os.path.basename(look.preset or look.style))[0]
        if new_document:
            k = Krita.instance()
            doc = k.createDocument(buf.width, buf.height, name, "RGBA", "U8", "", 72.0)
            layers.write_texture(doc, doc.topLevelNodes()[0], buf, lay, name=name)
            if k.activeWindow() is not None:
                k.activeWindow().addView(doc)
        else:
            layers.write_texture(doc, node, buf, lay, name=name)
        self.message.setText("texture in %.1f s" % result.seconds)

    def close_down(self):
        """Stops the timers and every running call, and waits for the worker threads."""
        self.debounce.stop()
        self.poll.stop()
        self._thumb_queue = []
        self.worker.cancel_all()
        self.worker.wait()

    def cancel(self):
        self.worker.cancel("apply")
        self._apply_target = None
        self._busy(False)
        self.message.setText("cancelled")

    def _busy(self, busy):
        had_focus = self.isAncestorOf(W.QApplication.focusWidget()) if W.QApplication.focusWidget() else False
        self.apply_button.setEnabled(not busy)
        self.animation_button.setEnabled(not busy)
        self.tex_layer_button.setEnabled(not busy)
        self.tex_doc_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setValue(0)
        if busy and had_focus:
            self.cancel_button.setFocus()  # not a text field: Ctrl+Z keeps undoing on the canvas
        elif not busy and had_focus:
            self.apply_button.setFocus()

    # --- worker results ----------------------------------------------------------------------
    def _progressed(self, lane, fraction):
        if lane == "apply":
            self.progress.setValue(int(round(fraction * 1000)))

    def _finished(self, result):
        try:
            self._deliver(result)
        except Exception as e:  # shown in the docker, never raised into Krita
            self._busy(False)
            self._apply_target = None
            self.show_error(e)

    def _deliver(self, result):
        if result.lane == "thumbnail":
            self._thumbnail_done(result)
            return
        if not self.worker.is_latest(result):
            return  # stale: a newer call in this lane replaced it
        if result.lane == "preview":
            self._preview_done(result)
        elif result.lane == "apply":
            target = self._apply_target
            if target is not None and target[0] == "texture":
                self._busy(False)
                self._apply_target = None
                if not result.cancelled:
                    self._texture_done(result, target)
            elif target is not None and target[0] == "animation":
                self._busy(False)
                self._apply_target = None
                if not result.cancelled:
                    self._animation_done(result, target)
            else:
                self._apply_done(result)


def _texture_call(look, width, height, seed, tileable, lay, progress=None, job=None):
    return looks.texture(look, width, height, seed=seed, tileable=tileable, channels=lay.channels,
                         sample_type=lay.sample_type, progress=progress, job=job)


try:
    from krita import DockWidget
except ImportError:  # the stand-in krita module of the PyQt6 test may lack it
    DockWidget = None

if DockWidget is not None:

    class UnistyleDocker(DockWidget):
        def __init__(self):
            super().__init__()
            self.setWindowTitle("unistyle")
            self.panel = Panel(self)
            self.setWidget(self.panel)

        def canvasChanged(self, canvas):
            self.panel.canvas_changed()
