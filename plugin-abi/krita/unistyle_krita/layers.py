"""Krita side of the docker: read the area to process from the canvas, and write a result as
a new paint layer above the active one (the selection as its transparency mask), into the
active layer, or as a texture layer. Runs in Krita's GUI thread; the library calls between
reading and writing run elsewhere (`look`, `worker`).

A new layer is complete (pixels and mask) before it is added to the image, so the canvas is
never half-written; deleting it (or undoing its creation) restores the picture.
"""

from . import core
from . import pixels
from . import unistyle_ctypes as us

READABLE = ("paintlayer", "grouplayer", "filelayer", "clonelayer", "filterlayer", "filllayer", "vectorlayer")


class Area:
    """Pixels read from the canvas for one run: rectangle, content Buffer in unistyle's layout,
    the selection's 8-bit mask over the rectangle (or None) and the Selection itself."""

    def __init__(self, x, y, w, h, content, layout, mask, selection, replace, two_styles):
        self.x, self.y, self.w, self.h = x, y, w, h
        self.content, self.layout, self.mask, self.selection = content, layout, mask, selection
        self.replace = replace  # into the active layer, the selection blended in by the library
        self.two_styles = two_styles  # the selection picks the style: the result covers the canvas

    def rect(self):
        return self.x, self.y, self.w, self.h


def _check_node(node, replace):
    if node is None:
        raise ValueError("no active layer: select a layer first")
    kind = node.type()
    if replace:
        if kind != "paintlayer":
            raise ValueError("layer %r is a %s; only a paint layer's pixels can be replaced "
                             "(untick \u201cReplace the layer\u2019s pixels\u201d to get a new layer)" % (node.name(), kind))
        if node.locked():
            raise ValueError("layer %r is locked" % node.name())
    elif kind not in READABLE:
        raise ValueError("layer %r is a %s; choose a layer to stylize" % (node.name(), kind))


def _has_area(sel):
    return sel is not None and sel.width() > 0 and sel.height() > 0


def read_area(doc, node, look, selection=None, replace=False):
    """The area a run processes: the selection's bounds (a two-style look: the whole canvas),
    else the active layer's bounds clipped to the canvas (the canvas when the layer is empty)."""
    _check_node(node, replace)
    look.check()
    if look.preset and replace and _has_area(selection):
        raise ValueError("a preset cannot be limited to the selection in the layer itself: "
                         "untick \u201cReplace the layer\u2019s pixels\u201d to apply it as a masked new layer")
    lay = pixels.layout(node.colorModel(), node.colorDepth())
    sel = selection if _has_area(selection) else None
    if sel is not None and look.uses_selection_mask():
        x, y, w, h = core.canvas_rect(doc, None)
    elif sel is not None:
        x, y, w, h = core.canvas_rect(doc, sel)
    else:
        x, y, w, h = core.canvas_rect(doc, None)
        b = node.bounds()
        x0, y0 = max(x, b.x()), max(y, b.y())
        x1, y1 = min(x + w, b.x() + b.width()), min(y + h, b.y() + b.height())
        if x1 > x0 and y1 > y0:
            x, y, w, h = x0, y0, x1 - x0, y1 - y0
    raw = bytes(node.pixelData(x, y, w, h).data())
    content = us.Buffer(w, h, lay.channels, lay.sample_type, pixels.to_unistyle(raw, lay))
    mask = None
    if sel is not None:
        mask = us.Buffer(w, h, 1, us.U8, bytes(sel.pixelData(x, y, w, h).data()))
    return Area(x, y, w, h, content, lay, mask, sel.duplicate() if sel is not None else None, replace,
                sel is not None and look.uses_selection_mask())


def output_buffer(area, doc):
    """The Buffer the library writes the result into: the target layer's layout."""
    if area.replace:
        lay = area.layout
    else:
        lay = pixels.layout(doc.colorModel(), doc.colorDepth())
    return us.Buffer(area.w, area.h, lay.channels, lay.sample_type), lay


def write_result(doc, node, area, output, lay, name="unistyle"):
    """Writes `output` (from `output_buffer`) into the active layer (area.replace) or into a new
    paint layer added above `node` with the selection as a transparency mask. Returns the
    layer written."""
    data = pixels.from_unistyle(output.tobytes(), lay)
    if area.replace:
        core._set_pixels(node, data, *area.rect())
        doc.refreshProjection()
        return node
    layer = doc.createNode(name, "paintlayer")
    clip = area.selection is not None and not area.two_styles
    mask = _transparency_mask(doc, "%s selection" % name) if clip else None
    if clip and mask is None:
        # No scriptable transparency mask (Krita 5.1): the selection goes into the layer's alpha.
        data = pixels.multiply_alpha(data, lay, area.mask.tobytes())
        mask = None
    core._set_pixels(layer, data, *area.rect())
    if mask is not None:
        mask.setSelection(area.selection)
        layer.addChildNode(mask, None)
    parent = node.parentNode() or doc.rootNode()
    parent.addChildNode(layer, node)
    doc.setActiveNode(layer)
    doc.refreshProjection()
    return layer


def _transparency_mask(doc, name):
    """A new transparency mask whose selection a script can set (Krita 5.2+), or None."""
    if hasattr(doc, "createTransparencyMask"):
        return doc.createTransparencyMask(name)
    mask = doc.createNode(name, "transparencymask")
    return mask if hasattr(mask, "setSelection") else None


def write_texture(doc, node, buf, lay, x=0, y=0, name="unistyle texture"):
    """A new paint layer above `node` (or at the top) holding the texture Buffer `buf`."""
    layer = doc.createNode(name, "paintlayer")
    core._set_pixels(layer, pixels.from_unistyle(buf.tobytes(), lay), x, y, buf.width, buf.height)
    parent = node.parentNode() if node is not None else None
    (parent or doc.rootNode()).addChildNode(layer, node)
    doc.setActiveNode(layer)
    doc.refreshProjection()
    return layer
