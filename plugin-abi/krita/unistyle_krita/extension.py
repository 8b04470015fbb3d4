"""The plug-in's user interface: two actions under Tools > Scripts and their dialogs."""

import os
import time

from krita import Extension, Krita

from .qt_compat import QtWidgets, Qt, as_int, enum, exec_

QApplication, QCheckBox, QDialog, QDialogButtonBox = (QtWidgets.QApplication, QtWidgets.QCheckBox, QtWidgets.QDialog,
                                                      QtWidgets.QDialogButtonBox)
QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout = (QtWidgets.QDoubleSpinBox, QtWidgets.QFileDialog,
                                                         QtWidgets.QFormLayout, QtWidgets.QHBoxLayout)
QLineEdit, QMessageBox, QProgressDialog, QPushButton = (QtWidgets.QLineEdit, QtWidgets.QMessageBox,
                                                        QtWidgets.QProgressDialog, QtWidgets.QPushButton)
QSpinBox, QWidget = QtWidgets.QSpinBox, QtWidgets.QWidget
ACCEPTED = as_int(enum(QDialog, "DialogCode", "Accepted"))

from . import bounds
from . import core
from . import unistyle_ctypes as us

SETTINGS = "unistyle"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"


def _read(key, default=""):
    return Krita.instance().readSetting(SETTINGS, key, str(default))


def _write(key, value):
    Krita.instance().writeSetting(SETTINGS, key, str(value))


class _FileField(QWidget):
    """A line edit with a Browse… button."""

    def __init__(self, text, caption, file_filter, placeholder="", parent=None):
        super().__init__(parent)
        self.edit = QLineEdit(text)
        self.edit.setPlaceholderText(placeholder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._browse(caption, file_filter))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit)
        row.addWidget(browse)

    def _browse(self, caption, file_filter):
        start = os.path.dirname(self.edit.text()) if self.edit.text() else os.path.expanduser("~")
        path, _ = QFileDialog.getOpenFileName(self, caption, start, file_filter)
        if path:
            self.edit.setText(path)

    def text(self):
        return self.edit.text().strip()


class _CommonFields:
    """Style file, levels and weights: shared by both dialogs."""

    def _add_common(self, form):
        self.style = _FileField(_read("style"), "Style image", IMAGE_FILTER)
        self.levels = QLineEdit(_read("levels"))
        self.levels.setPlaceholderText("every level of the weights, e.g. 3,2,1")
        self.weights = _FileField(_read("weights"), "Weights", "Weights (*.safetensors);;All files (*)",
                                  "UNISTYLE_WEIGHTS, else the installed weights (unistyle weights install)")
        form.addRow("Style image:", self.style)
        form.addRow("Levels:", self.levels)
        form.addRow("Weights:", self.weights)

    def _check_common(self):
        if not self.style.text() or not os.path.isfile(self.style.text()):
            raise ValueError("choose an existing style image")
        try:
            us.parse_levels(self.levels.text())
        except us.UnistyleError as e:  # a bad levels string (the library's message), or no library
            raise ValueError(str(e))
        if self.weights.text() and not os.path.isfile(self.weights.text()):
            raise ValueError("the weights file %s does not exist" % self.weights.text())

    def _save_common(self):
        _write("style", self.style.text())
        _write("levels", self.levels.text())
        _write("weights", self.weights.text())


def _buttons(dialog):
    buttons = enum(QDialogButtonBox, "StandardButton", "Ok") | enum(QDialogButtonBox, "StandardButton", "Cancel")
    box = QDialogButtonBox(buttons)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


class StylizeDialog(QDialog, _CommonFields):
    def __init__(self, has_selection=False, parent=None):
        super().__init__(parent)
        self.setWindowTitle("unistyle: Stylize active layer")
        form = QFormLayout(self)
        self._add_common(form)
        self.alpha = QDoubleSpinBox()
        bounds.set_range(self.alpha, "alpha")
        self.alpha.setSingleStep(0.05)
        self.alpha.setDecimals(2)
        self.alpha.setValue(float(_read("alpha", 0.6)))
        form.insertRow(1, "Strength (alpha):", self.alpha)
        self.preserve = QCheckBox("Keep the layer's colours")
        self.preserve.setChecked(_read("preserve_color", "false") == "true")
        form.addRow(self.preserve)
        self.only_selection = QCheckBox("Only inside the selection")
        self.only_selection.setEnabled(has_selection)
        self.only_selection.setChecked(has_selection)
        form.addRow(self.only_selection)
        form.addRow(_buttons(self))

    def accept(self):
        try:
            self._check_common()
        except ValueError as e:
            QMessageBox.warning(self, "unistyle", str(e))
            return
        self._save_common()
        _write("alpha", self.alpha.value())
        _write("preserve_color", "true" if self.preserve.isChecked() else "false")
        super().accept()


class TextureDialog(QDialog, _CommonFields):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("unistyle: Texture")
        form = QFormLayout(self)
        self._add_common(form)
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, key in ((self.width_box, "width"), (self.height_box, "height")):
            bounds.set_range(box, "texture." + key)
            box.setValue(int(_read(key, 512)))
        self.seed = QSpinBox()
        bounds.set_range(self.seed, "texture.seed")
        self.seed.setValue(int(_read("seed", 0)))
        self.iterations = QSpinBox()
        bounds.set_range(self.iterations, "texture.iterations")
        self.iterations.setValue(int(_read("iterations", 3)))
        self.tileable = QCheckBox("Tileable (seamless wrap-around)")
        self.tileable.setChecked(_read("tileable", "false") == "true")
        form.addRow("Width:", self.width_box)
        form.addRow("Height:", self.height_box)
        form.addRow("Seed:", self.seed)
        form.addRow("Iterations:", self.iterations)
        form.addRow(self.tileable)
        form.addRow(_buttons(self))

    def accept(self):
        try:
            self._check_common()
        except ValueError as e:
            QMessageBox.warning(self, "unistyle", str(e))
            return
        self._save_common()
        for key, box in (("width", self.width_box), ("height", self.height_box), ("seed", self.seed),
                         ("iterations", self.iterations)):
            _write(key, box.value())
        _write("tileable", "true" if self.tileable.isChecked() else "false")
        super().accept()


class _Progress:
    """A modal progress dialog whose Cancel button cancels the running call."""

    def __init__(self, text, parent):
        self.dialog = QProgressDialog(text, "Cancel", 0, 1000, parent)
        self.dialog.setWindowModality(enum(Qt, "WindowModality", "WindowModal"))
        self.dialog.setMinimumDuration(0)
        self.dialog.setValue(0)
        QApplication.processEvents()

    def __call__(self, fraction):
        self.dialog.setValue(int(round(fraction * 1000)))
        QApplication.processEvents()
        return self.dialog.wasCanceled()

    def close(self):
        self.dialog.reset()
        self.dialog.close()


def _report(parent, what, error):
    if isinstance(error, us.UnistyleError) and error.cancelled:
        return
    QMessageBox.critical(parent, "unistyle", "%s failed:\n%s" % (what, error))


class UnistyleExtension(Extension):
    def __init__(self, parent):
        super().__init__(parent)

    def setup(self):
        pass

    def createActions(self, window):
        stylize = window.createAction("unistyle_stylize", "unistyle: Stylize active layer…", "tools/scripts")
        stylize.triggered.connect(self.stylize_active_layer)
        texture = window.createAction("unistyle_texture", "unistyle: Texture…", "tools/scripts")
        texture.triggered.connect(self.new_texture)

    def _parent(self):
        w = Krita.instance().activeWindow()
        return w.qwindow() if w else None

    def stylize_active_layer(self):
        parent = self._parent()
        doc = Krita.instance().activeDocument()
        if doc is None or doc.activeNode() is None:
            QMessageBox.information(parent, "unistyle", "Open an image and select a paint layer first.")
            return
        node = doc.activeNode()
        selection = doc.selection()
        dialog = StylizeDialog(has_selection=selection is not None, parent=parent)
        if exec_(dialog) != ACCEPTED:
            return
        progress = _Progress("Stylizing %s…" % node.name(), parent)
        started = time.monotonic()
        try:
            core.stylize_node(doc, node, dialog.style.text(), dialog.alpha.value(), dialog.levels.text(),
                              weights=dialog.weights.text() or None,
                              selection=selection if dialog.only_selection.isChecked() else None,
                              preserve_color=dialog.preserve.isChecked(), progress=progress)
        except Exception as e:  # shown to the user, never raised into Krita
            progress.close()
            _report(parent, "Stylize", e)
            return
        progress.close()
        window = Krita.instance().activeWindow()
        if window and window.activeView():
            window.activeView().showFloatingMessage(
                "unistyle: stylized in %.1f s" % (time.monotonic() - started), Krita.instance().icon("dialog-ok"),
                3000, 1)

    def new_texture(self):
        parent = self._parent()
        dialog = TextureDialog(parent=parent)
        if exec_(dialog) != ACCEPTED:
            return
        progress = _Progress("Synthesizing a texture…", parent)
        try:
            doc = core.texture_document(dialog.style.text(), dialog.width_box.value(), dialog.height_box.value(),
                                        seed=dialog.seed.value(), iterations=dialog.iterations.value(),
                                        tileable=dialog.tileable.isChecked(), levels=dialog.levels.text(),
                                        weights=dialog.weights.text() or None, progress=progress)
        except Exception as e:
            progress.close()
            _report(parent, "Texture", e)
            return
        progress.close()
        window = Krita.instance().activeWindow()
        if window:
            window.addView(doc)
