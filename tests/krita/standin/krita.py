"""A stand-in for Krita's `krita` module (Krita 6 is not installable here): just enough of
Krita's scripting API, on PyQt6 or PyQt5, for the plug-in's modules to import and its docker
panel to build and run a preview. Test code, never installed."""

from unistyle_krita.qt_compat import QtCore

_settings = {}


class Rect:
    def __init__(self, x, y, w, h):
        self._r = (x, y, w, h)

    def x(self):
        return self._r[0]

    def y(self):
        return self._r[1]

    def width(self):
        return self._r[2]

    def height(self):
        return self._r[3]


class Node:
    """An 8-bit RGBA paint layer stored as B, G, R, A like Krita's."""

    def __init__(self, name, width, height, bgra=None):
        self._name, self.w, self.h = name, width, height
        self.data = bytearray(bgra if bgra is not None else bytes(4 * width * height))
        self.children = []
        self.parent = None

    def name(self):
        return self._name

    def type(self):
        return "paintlayer"

    def locked(self):
        return False

    def colorModel(self):
        return "RGBA"

    def colorDepth(self):
        return "U8"

    def bounds(self):
        return Rect(0, 0, self.w, self.h)

    def parentNode(self):
        return self.parent

    def pixelData(self, x, y, w, h):
        rows = [bytes(self.data[4 * ((y + r) * self.w + x):4 * ((y + r) * self.w + x + w)]) for r in range(h)]
        return QtCore.QByteArray(b"".join(rows))

    def setPixelData(self, data, x, y, w, h):
        data = bytes(data)
        for r in range(h):
            o = 4 * ((y + r) * self.w + x)
            self.data[o:o + 4 * w] = data[4 * w * r:4 * w * (r + 1)]
        return True

    def addChildNode(self, child, above):
        child.parent = self
        i = self.children.index(above) + 1 if above in self.children else len(self.children)
        self.children.insert(i, child)
        return True


class Document:
    def __init__(self, width, height, bgra):
        self.w, self.h = width, height
        self.root = Node("root", width, height)
        self.layer = Node("Background", width, height, bgra)
        self.root.addChildNode(self.layer, None)
        self.active = self.layer
        self.sel = None

    def width(self):
        return self.w

    def height(self):
        return self.h

    def colorModel(self):
        return "RGBA"

    def colorDepth(self):
        return "U8"

    def fileName(self):
        return "standin.kra"

    def activeNode(self):
        return self.active

    def setActiveNode(self, node):
        self.active = node

    def rootNode(self):
        return self.root

    def topLevelNodes(self):
        return list(self.root.children)

    def selection(self):
        return self.sel

    def createNode(self, name, kind):
        return Node(name, self.w, self.h)

    def refreshProjection(self):
        pass


class Krita:
    _instance = None

    def __init__(self):
        self.document = None

    @classmethod
    def instance(cls):
        if cls._instance is None:
            cls._instance = Krita()
        return cls._instance

    def readSetting(self, group, key, default):
        return _settings.get((group, key), default)

    def writeSetting(self, group, key, value):
        _settings[(group, key)] = value

    def activeDocument(self):
        return self.document

    def activeWindow(self):
        return None


from unistyle_krita.qt_compat import QtWidgets  # noqa: E402


class DockWidget(QtWidgets.QDockWidget):
    def canvasChanged(self, canvas):
        pass


class Extension(QtCore.QObject):
    def __init__(self, parent=None):
        super().__init__(None)


class DockWidgetFactoryBase:
    class DockPosition:
        DockRight = 2

    DockRight = 2


class DockWidgetFactory:
    def __init__(self, ident, position, cls):
        self.ident, self.position, self.cls = ident, position, cls


def _add_extension(self, ext):
    self.extensions_added = getattr(self, "extensions_added", []) + [ext]


def _add_docker(self, factory):
    self.dockers_added = getattr(self, "dockers_added", []) + [factory]


Krita.addExtension = _add_extension
Krita.addDockWidgetFactory = _add_docker
