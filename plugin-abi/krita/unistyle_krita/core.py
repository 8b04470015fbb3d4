"""Krita side of the unistyle plug-in: layer pixels <-> unistyle images, stylize, texture.

Used by the plug-in's dialogs and by the tests (through kritarunner). Everything that touches
Krita objects takes them as arguments; the pixel conversions in `pixels` need no Krita.
"""

import os
import threading

from . import pixels
from . import unistyle_ctypes as us

_cache_lock = threading.Lock()
_contexts = {}  # (weights, device) -> Context
_styles = {}  # (id(context), path, mtime, size, max_size) -> Style
_presets = {}  # (id(context), path, mtime, size) -> Preset


def context(weights=None, device="cpu"):
    """A cached Context for `weights` (None: $UNISTYLE_WEIGHTS, else the per-user weights folder, else the crate's weights/)."""
    key = (os.path.abspath(weights) if weights else None, device or "cpu")
    with _cache_lock:
        ctx = _contexts.get(key)
        if ctx is None:
            ctx = us.Context(weights, device)
            _contexts[key] = ctx
        return ctx


def style(ctx, path, max_size=0):
    """A cached Style encoded from the file at `path` (re-encoded when the file changes)."""
    if not path:
        raise ValueError("no style image chosen")
    st = os.stat(path)
    key = (id(ctx), os.path.abspath(path), st.st_mtime_ns, st.st_size, int(max_size))
    with _cache_lock:
        s = _styles.get(key)
        if s is None:
            for k in [k for k in _styles if k[:2] == key[:2]]:
                del _styles[k]
            s = ctx.style_from_file(path, max_size)
            _styles[key] = s
        return s


def preset(ctx, path):
    """A cached Preset loaded from the TOML file at `path` (reloaded when the file changes)."""
    st = os.stat(path)
    key = (id(ctx), os.path.abspath(path), st.st_mtime_ns, st.st_size)
    with _cache_lock:
        p = _presets.get(key)
        if p is None:
            # Dropped, not closed: a worker may still be running with the old preset; it is
            # destroyed when the last user lets go (and the library holds it during a call).
            for k in [k for k in _presets if k[:2] == key[:2]]:
                del _presets[k]
            p = ctx.preset(path)
            _presets[key] = p
        return p


def clear_cache():
    """Frees the cached presets, styles and contexts (before their context)."""
    with _cache_lock:
        for p in _presets.values():
            p.close()
        _presets.clear()
        for s in _styles.values():
            s.close()
        _styles.clear()
        for c in _contexts.values():
            c.close()
        _contexts.clear()


def canvas_rect(doc, selection):
    """The area to process: the canvas, or the selection's bounds clipped to it."""
    x, y, w, h = 0, 0, doc.width(), doc.height()
    if selection is not None and selection.width() > 0 and selection.height() > 0:
        x0, y0 = max(x, selection.x()), max(y, selection.y())
        x1 = min(x + w, selection.x() + selection.width())
        y1 = min(y + h, selection.y() + selection.height())
        if x1 <= x0 or y1 <= y0:
            raise ValueError("the selection lies outside the canvas")
        x, y, w, h = x0, y0, x1 - x0, y1 - y0
    return x, y, w, h


def stylize_node(doc, node, style_path, alpha, levels, weights=None, selection=None, progress=None,
                 device="cpu", style_size=0, preserve_color=False):
    """Stylizes the pixels of paint layer `node` (of document `doc`) in place.

    style_path: the style image file; alpha: 0 keeps the layer, 1 fully stylized;
    levels: "3,2,1", a list, or None/"" for every level of the weights; weights: a
    .safetensors file (None: $UNISTYLE_WEIGHTS, else the per-user weights folder, else the crate's weights/);
    selection: a krita.Selection to restrict the effect to (None: the whole canvas);
    progress(fraction) -> True cancels (raises UnistyleError with .cancelled).
    Returns the processed rectangle (x, y, w, h).
    """
    if node is None:
        raise ValueError("no layer to stylize")
    if node.type() != "paintlayer":
        raise ValueError("layer %r is a %s; only paint layers can be stylized" % (node.name(), node.type()))
    if node.locked():
        raise ValueError("layer %r is locked" % node.name())
    layout = pixels.layout(node.colorModel(), node.colorDepth())
    x, y, w, h = canvas_rect(doc, selection)

    ctx = context(weights, device)
    sty = style(ctx, style_path, style_size)

    raw = bytes(node.pixelData(x, y, w, h).data())
    content = us.Buffer(w, h, layout.channels, layout.sample_type, pixels.to_unistyle(raw, layout))
    masks = None
    if selection is not None:
        mask = bytes(selection.pixelData(x, y, w, h).data())
        masks = [us.Buffer(w, h, 1, us.U8, mask)]
    out = ctx.stylize(content, [sty], alpha=alpha, levels=levels, masks=masks,
                      foreground_only=masks is not None, preserve_color=preserve_color,
                      progress=progress, output=content)
    _set_pixels(node, pixels.from_unistyle(out.tobytes(), layout), x, y, w, h)
    doc.refreshProjection()
    return x, y, w, h


def _set_pixels(node, data, x, y, w, h):
    from .qt_compat import QByteArray

    ok = node.setPixelData(QByteArray(data), x, y, w, h)
    if ok is False:  # Krita 5.2 returns a bool; 5.1 returns None
        raise RuntimeError("Krita refused to write the pixels of layer %r" % node.name())


def texture_document(style_path, width, height, seed=0, iterations=3, tileable=False, levels=None,
                     weights=None, progress=None, device="cpu", style_size=0, name=None, resolution=72.0):
    """Synthesizes a width x height texture from `style_path` into a new 8-bit RGBA document
    (not shown: add a view with Krita.instance().activeWindow().addView(doc)). Returns it."""
    from krita import Krita

    ctx = context(weights, device)
    sty = style(ctx, style_path, style_size)
    out = ctx.texture(width, height, [sty], channels=3, seed=seed, iterations=iterations, tileable=tileable,
                      levels=levels, progress=progress)
    title = name or "Texture from %s" % os.path.basename(style_path)
    doc = Krita.instance().createDocument(int(width), int(height), title, "RGBA", "U8", "", float(resolution))
    node = doc.topLevelNodes()[0]
    _set_pixels(node, pixels.rgb8_to_bgra8(out.tobytes()), 0, 0, width, height)
    doc.refreshProjection()
    return doc
