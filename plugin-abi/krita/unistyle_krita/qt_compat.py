"""One import for PyQt5 (Krita 5) and PyQt6 (Krita 6).

Krita 5 embeds PyQt5 and Krita 6 PyQt6; the binding already loaded by Krita's `krita` module
is used (importing the other one into the same process would load a second Qt). Outside
Krita, $UNISTYLE_QT=PyQt5|PyQt6 chooses, else PyQt5 is tried before PyQt6.

Differences handled here so the rest of the plug-in is written once:
  - enums: PyQt6 only has scoped names (`Qt.AlignmentFlag.AlignTop`); `enum(Qt, "AlignmentFlag",
    "AlignTop")` works on both;
  - `exec_()` is `exec()` in PyQt6: `exec_(obj)`;
  - QAction moved from QtWidgets to QtGui.
"""

import importlib
import os
import sys


def _choose():
    for name in ("PyQt6", "PyQt5"):
        if name + ".QtCore" in sys.modules:
            return name
    wanted = os.environ.get("UNISTYLE_QT")
    order = [wanted] if wanted in ("PyQt5", "PyQt6") else ["PyQt5", "PyQt6"]
    last = None
    for name in order:
        try:
            importlib.import_module(name + ".QtCore")
            return name
        except ImportError as e:
            last = e
    raise ImportError("neither PyQt5 nor PyQt6 can be imported (%s)" % last)


BINDING = _choose()
QT6 = BINDING == "PyQt6"
QtCore = importlib.import_module(BINDING + ".QtCore")
QtGui = importlib.import_module(BINDING + ".QtGui")
QtWidgets = importlib.import_module(BINDING + ".QtWidgets")

Qt = QtCore.Qt
QByteArray = QtCore.QByteArray
QObject = QtCore.QObject
QTimer = QtCore.QTimer
QSize = QtCore.QSize
pyqtSignal = QtCore.pyqtSignal
QAction = getattr(QtGui, "QAction", None) or QtWidgets.QAction


def enum(cls, scope, name):
    """`cls.scope.name` (PyQt6, and PyQt5 ≥ 5.11 for most enums) or `cls.name` (older PyQt5)."""
    holder = getattr(cls, scope, None)
    if holder is not None and hasattr(holder, name):
        return getattr(holder, name)
    return getattr(cls, name)


def as_int(value):
    """An enum member as int (PyQt6 enums are not ints; DialogCode from exec() is)."""
    return int(getattr(value, "value", value))


def exec_(obj, *args):
    """Runs a dialog, menu or event loop: `exec()` in PyQt6, `exec_()` in PyQt5."""
    fn = getattr(obj, "exec", None) or getattr(obj, "exec_")
    return fn(*args)
