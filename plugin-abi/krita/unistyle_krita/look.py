"""What the docker applies (a `Look`: a style image or a preset, with its settings) and the
library calls that apply it to pixels. No Krita objects here: the docker's worker thread runs
these on bytes the GUI thread read from the canvas.
"""

import os

from . import core
from . import pixels
from . import unistyle_ctypes as us


class Look:
    """A style image (with strength, levels, colour preservation, an optional second style
    for outside the selection and the stylize modes) or a preset file (which brings its own
    settings). `modes`: a dict of unistyle_ctypes.MODE_FIELDS (patch_swap, transform "wct"/"ost",
    variation, seed, stroke_scale, photo); absent ones keep the library's defaults."""

    def __init__(self, style="", preset="", alpha=0.6, levels="", preserve_color=False, feather=0.0,
                 outside_style="", weights=None, style_size=0, modes=None):
        self.style, self.preset = style or "", preset or ""
        self.alpha, self.levels = float(alpha), levels or ""
        self.preserve_color, self.feather = bool(preserve_color), float(feather)
        self.outside_style = outside_style or ""
        self.weights = weights or None
        self.style_size = int(style_size)
        self.modes = dict(modes or {})

    def key(self):
        return (self.style, self.preset, self.alpha, self.levels, self.preserve_color, self.feather,
                self.outside_style, self.weights, self.style_size, tuple(sorted(self.modes.items())))

    def check(self):
        """Raises ValueError naming the missing file (before any heavy work)."""
        if self.preset:
            if not os.path.isfile(self.preset):
                raise ValueError("the preset file %s does not exist" % self.preset)
            return
        if not self.style:
            raise ValueError("choose a style image or a preset")
        for what, path in (("style image", self.style), ("second style image", self.outside_style)):
            if path and not os.path.isfile(path):
                raise ValueError("the %s %s does not exist" % (what, path))
        if self.weights and not os.path.isfile(self.weights):
            raise ValueError("the weights file %s does not exist" % self.weights)

    def uses_selection_mask(self):
        """True when the selection picks between two styles (the result covers the canvas)."""
        return bool(self.outside_style) and not self.preset


def _styles(ctx, look):
    styles = [core.style(ctx, look.style, look.style_size)]
    if look.uses_selection_mask():
        styles.append(core.style(ctx, look.outside_style, look.style_size))
    return styles


def _mask_options(look, mask, inside_only):
    """(masks, foreground_only) for the library: a two-style look takes the selection to pick
    the style; a one-style look blends in by it only when writing into the layer itself."""
    if mask is None or look.preset:
        return None, False
    if look.uses_selection_mask():
        return [mask], False
    return ([mask], True) if inside_only else (None, False)


def stylize(look, content, output, mask=None, inside_only=False, progress=None, job=None):
    """Stylizes Buffer `content` into Buffer `output` (same size). `mask` (a 1-channel Buffer,
    the selection): a two-style look's first style inside, the second outside; with
    `inside_only`, only the inside changes (soft edges blended by the library)."""
    ctx = core.context(look.weights)
    if look.preset:
        return core.preset(ctx, look.preset).stylize(content, output=output, progress=progress, job=job)
    masks, inside = _mask_options(look, mask, inside_only)
    return ctx.stylize(content, _styles(ctx, look), alpha=look.alpha, levels=look.levels, masks=masks,
                       feather=look.feather if masks else 0.0, preserve_color=look.preserve_color,
                       foreground_only=inside, output=output, progress=progress, job=job, modes=look.modes)


def preview_size(width, height, max_side):
    """The preview's size: (width, height) scaled to fit max_side, aspect kept, at least 1."""
    scale = min(1.0, float(max_side) / max(width, height))
    return max(1, int(round(width * scale))), max(1, int(round(height * scale)))


def preview(look, content, max_side, mask=None, inside_only=False, progress=None, job=None):
    """An 8-bit RGBA preview Buffer of `content` stylized with `look`, at most max_side wide/high.
    Style looks use the library's preview call; presets are run on a downscaled copy."""
    pw, ph = preview_size(content.width, content.height, max_side)
    ctx = core.context(look.weights)
    if look.preset:
        small = downscale_rgba8(content, pw, ph)
        return core.preset(ctx, look.preset).stylize(small, progress=progress, job=job)
    masks, inside = _mask_options(look, mask, inside_only)
    return ctx.preview(content, pw, ph, _styles(ctx, look), alpha=look.alpha, levels=look.levels, masks=masks,
                       feather=look.feather if masks else 0.0, preserve_color=look.preserve_color,
                       foreground_only=inside, progress=progress, job=job, channels=4, sample_type=us.U8,
                       modes=look.modes)


def downscale_rgba8(content, width, height):
    """`content` (any unistyle layout) as an 8-bit RGBA Buffer of width x height (Qt's smooth
    scaling; only for presets' previews, which have no library preview call)."""
    from .qt_compat import QtGui, Qt, enum

    rgba = pixels.to_rgba8(content.tobytes(), content.channels, content.sample_type)
    fmt = enum(QtGui.QImage, "Format", "Format_RGBA8888")
    img = QtGui.QImage(rgba, content.width, content.height, 4 * content.width, fmt)
    small = img.scaled(width, height, enum(Qt, "AspectRatioMode", "IgnoreAspectRatio"),
                       enum(Qt, "TransformationMode", "SmoothTransformation")).convertToFormat(fmt)
    return us.Buffer(width, height, 4, us.U8, qimage_bytes(small))


def qimage_bytes(img):
    """The packed pixel bytes of a QImage (rows without padding)."""
    bpl, width_bytes = img.bytesPerLine(), img.width() * img.depth() // 8
    ptr = img.constBits()
    size = bpl * img.height()
    if hasattr(ptr, "setsize"):  # PyQt5 sip.voidptr
        ptr.setsize(size)
    data = bytes(ptr[:size]) if not isinstance(ptr, (bytes, bytearray, memoryview)) else bytes(ptr)[:size]
    if bpl == width_bytes:
        return data
    return b"".join(data[r * bpl:r * bpl + width_bytes] for r in range(img.height()))


def texture(look, width, height, seed=0, iterations=3, tileable=False, channels=3, sample_type=us.U8,
            progress=None, job=None):
    """A width x height texture Buffer (channels, sample_type) from the look's style image, or
    from its preset (which brings its own seed, iterations and tiling)."""
    ctx = core.context(look.weights)
    if look.preset:
        return core.preset(ctx, look.preset).texture(width, height, channels=channels, sample_type=sample_type,
                                                     progress=progress, job=job)
    return ctx.texture(width, height, [core.style(ctx, look.style, look.style_size)], channels=channels,
                       sample_type=sample_type, seed=seed, iterations=iterations, tileable=tileable,
                       levels=look.levels, progress=progress, job=job)
