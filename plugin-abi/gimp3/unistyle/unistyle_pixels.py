"""A drawable's pixels through GEGL, as the library takes them: read in the drawable's own
precision (8-bit, 16-bit or float, perceptual), with its alpha (the library carries alpha
through unchanged); the mask from a channel or the selection; the result written through the
shadow buffer (one undo step, blended in through the selection by GIMP).
"""

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

import unistyle_ctypes as us  # noqa: E402
from unistyle_engine import Failure  # noqa: E402

# Selection coverage as 8-bit: any partly selected pixel is stylized (255), the rest not (0).
_COVERED = bytes([0] + [255] * 255)


class Layout:
    """How a drawable's pixels are read: babl format name, channels, library sample type."""

    def __init__(self, image, drawable):
        gray = drawable.is_gray()
        alpha = drawable.has_alpha()
        precision = image.get_precision()
        if precision == Gimp.Precision.U8_NON_LINEAR:
            kind, self.sample_type = "u8", us.U8
        elif precision == Gimp.Precision.U16_NON_LINEAR:
            kind, self.sample_type = "u16", us.U16
        else:
            kind, self.sample_type = "float", us.F32
        self.channels = (1 if gray else 3) + (1 if alpha else 0)
        model = ("Y'A" if alpha else "Y'") if gray else ("R'G'B'A" if alpha else "R'G'B'")
        self.format = "%s %s" % (model, kind)

    def image_type(self):
        """The Gimp.ImageType of 8-bit pixels with these channels (for preview drawing)."""
        return {1: Gimp.ImageType.GRAY_IMAGE, 2: Gimp.ImageType.GRAYA_IMAGE,
                3: Gimp.ImageType.RGB_IMAGE}.get(self.channels, Gimp.ImageType.RGBA_IMAGE)


class Source:
    """What stylize reads: the drawable's pixels (a Buffer) in `rect` (x, y, w, h, drawable
    coordinates) and the mask coverage (a Buffer, or None)."""

    def __init__(self):
        self.layout = None
        self.rect = (0, 0, 0, 0)
        self.pixels = None
        self.mask = None
        self.from_selection = False
        self.result = None  # the stylized pixels (a Buffer like `pixels`)

    @property
    def empty(self):
        return self.rect[2] == 0 or self.rect[3] == 0


def _rectangle(x, y, w, h):
    return Gegl.Rectangle.new(int(x), int(y), int(w), int(h))


def _offsets(drawable):
    r = drawable.get_offsets()
    return (r[-2], r[-1])


def mask_drawable(image, mask):
    """The mask the procedure uses: the argument, else the selection if any (else None)."""
    if mask is not None:
        return mask
    if not Gimp.Selection.is_empty(image):
        return image.get_selection()
    return None


def _bytes(buffer, rect, scale, fmt, abyss):
    data = buffer.get(rect, scale, fmt, abyss)
    return bytes(data)


def read_source(image, drawable, mask, selection_bounds):
    """Reads the source: the whole drawable, or with `selection_bounds` only the selection's
    bounding box within it. Raises Failure when the drawable cannot be stylized; returns a
    Source with an empty rect when the selection does not touch the drawable."""
    if drawable.is_group():
        raise Failure("unistyle: a layer group cannot be stylized; choose one of its layers")
    if drawable.is_indexed():
        raise Failure("unistyle: indexed images are not supported; convert the image to RGB or grayscale")
    src = Source()
    hit, x, y, w, h = drawable.mask_intersect()
    if not hit:
        return src
    if not selection_bounds:
        x, y, w, h = 0, 0, drawable.get_width(), drawable.get_height()
    src.rect = (x, y, w, h)
    src.layout = Layout(image, drawable)
    buffer = drawable.get_buffer()
    try:
        data = _bytes(buffer, _rectangle(x, y, w, h), 1.0, src.layout.format, Gegl.AbyssPolicy.NONE)
        src.pixels = us.Buffer(w, h, src.layout.channels, src.layout.sample_type, data)
        channel = mask_drawable(image, mask)
        if channel is not None:
            src.from_selection = mask is None
            dx, dy = _offsets(drawable)
            cx, cy = _offsets(channel)
            cbuf = channel.get_buffer()
            area = _rectangle(x + dx - cx, y + dy - cy, w, h)
            if src.from_selection:
                # Every partly selected pixel is stylized (statistics of the selected area);
                # GIMP then blends the result in through the selection: its soft edge is kept.
                cov = _bytes(cbuf, area, 1.0, "Y u8", Gegl.AbyssPolicy.NONE).translate(_COVERED)
                src.mask = us.Buffer(w, h, 1, us.U8, cov)
            else:
                cov = _bytes(cbuf, area, 1.0, "Y float", Gegl.AbyssPolicy.NONE)
                src.mask = us.Buffer(w, h, 1, us.F32, cov)
    except MemoryError:
        raise Failure("unistyle: not enough memory for a %dx%d drawable" % (w, h))
    return src


def read_scaled(drawable, layout, rect, width, height):
    """`rect` of the drawable downscaled by GEGL to width x height, as a Buffer."""
    x, y, w, _ = rect
    scale = float(width) / w
    data = _bytes(drawable.get_buffer(), _rectangle(x * scale, y * scale, width, height), scale, layout.format,
                  Gegl.AbyssPolicy.CLAMP)
    return us.Buffer(width, height, layout.channels, layout.sample_type, data)


def write_merged(drawable, layout, rect, result):
    """Writes `result` (a Buffer of rect's size) through the shadow buffer and merges it: one
    undo step, limited to the selection with its soft edge."""
    shadow = drawable.get_shadow_buffer()
    shadow.set(_rectangle(*rect), layout.format, result.tobytes())
    shadow.flush()
    drawable.merge_shadow(True)
    drawable.update(*rect)


def new_image(pixels, width, height):
    """A new RGB image holding one layer with `pixels` (8-bit RGB)."""
    image = Gimp.Image.new(width, height, Gimp.ImageBaseType.RGB)
    if image is None:
        raise Failure("unistyle: could not create a %dx%d image" % (width, height))
    image.undo_disable()
    layer = Gimp.Layer.new(image, "Texture", width, height, Gimp.ImageType.RGB_IMAGE, 100.0,
                           image.get_default_new_layer_mode())
    if layer is None or not image.insert_layer(layer, None, 0):
        image.delete()
        raise Failure("unistyle: could not add a layer to the new image")
    buffer = layer.get_buffer()
    buffer.set(_rectangle(0, 0, width, height), "R'G'B' u8", pixels)
    buffer.flush()
    image.undo_enable()
    return image
