"""Krita's raw layer bytes <-> the interleaved layouts unistyle takes. No Krita needed.

Krita's `Node.pixelData` returns the layer's own colour space, channel order as stored:
  RGBA U8 / U16 : B, G, R, A   (unistyle wants R, G, B, A: red and blue are swapped)
  RGBA F16 / F32: R, G, B, A   (F16 is widened to F32 for unistyle and narrowed back)
  GRAYA any     : gray, alpha  (unistyle's 2-channel layout)
Samples are native-endian; alpha is not premultiplied, and unistyle passes it through.
Other colour models (CMYK, Lab, XYZ, YCbCr) are rejected with a message saying what to do.
"""

import struct
from array import array

from . import unistyle_ctypes as us


class Layout:
    def __init__(self, model, depth, channels, sample_type, swap_rb, half):
        self.model, self.depth = model, depth
        self.channels, self.sample_type = channels, sample_type
        self.swap_rb = swap_rb  # Krita stores B, G, R, A
        self.half = half  # Krita stores 16-bit floats

    def __repr__(self):
        return "Layout(%s %s)" % (self.model, self.depth)


_SAMPLE = {"U8": us.U8, "U16": us.U16, "F16": us.F32, "F32": us.F32}


def layout(model, depth):
    """The Layout of a Krita colour model ("RGBA", "GRAYA", ...) and depth ("U8", ...)."""
    if model not in ("RGBA", "GRAYA"):
        raise ValueError(
            "colour model %s is not supported: convert the image to RGB/Alpha or Grayscale/Alpha "
            "(Image > Convert Image Color Space)" % model)
    if depth not in _SAMPLE:
        raise ValueError("channel depth %s is not supported (8/16-bit integer, 16/32-bit float are)" % depth)
    rgba = model == "RGBA"
    return Layout(model, depth, 4 if rgba else 2, _SAMPLE[depth], rgba and depth in ("U8", "U16"), depth == "F16")


def _swap_rb(data, typecode):
    a = array(typecode)
    a.frombytes(data)
    a[0::4], a[2::4] = a[2::4], a[0::4]
    return a.tobytes()


def _half_to_float(data):
    n = len(data) // 2
    return array("f", struct.unpack("=%de" % n, data)).tobytes()


def _float_to_half(data):
    a = array("f")
    a.frombytes(data)
    return struct.pack("=%de" % len(a), *a)


def to_unistyle(raw, lay):
    """Krita layer bytes -> bytes in unistyle's layout (lay.channels, lay.sample_type)."""
    if lay.swap_rb:
        return _swap_rb(raw, "B" if lay.sample_type == us.U8 else "H")
    if lay.half:
        return _half_to_float(raw)
    return bytes(raw)


def from_unistyle(data, lay):
    """unistyle output bytes -> Krita layer bytes (inverse of to_unistyle)."""
    if lay.swap_rb:
        return _swap_rb(data, "B" if lay.sample_type == us.U8 else "H")
    if lay.half:
        return _float_to_half(data)
    return bytes(data)


def rgb8_to_bgra8(rgb):
    """Packed 8-bit RGB -> Krita's 8-bit B, G, R, A with opaque alpha."""
    n = len(rgb) // 3
    out = bytearray(4 * n)
    out[0::4] = rgb[2::3]
    out[1::4] = rgb[1::3]
    out[2::4] = rgb[0::3]
    out[3::4] = b"\xff" * n
    return bytes(out)


def multiply_alpha(raw, lay, mask):
    """Krita layer bytes with each pixel's alpha multiplied by `mask` (8-bit, one per pixel)."""
    code = {us.U8: "B", us.U16: "H", us.F32: "f"}[lay.sample_type]
    a = array(code)
    a.frombytes(_half_to_float(raw) if lay.half else raw)
    n, c = len(mask), lay.channels
    alpha = a[c - 1::c]
    if code == "f":
        alpha = array("f", [v * m / 255.0 for v, m in zip(alpha, mask)])
    else:
        alpha = array(code, [(v * m + 127) // 255 for v, m in zip(alpha, mask)])
    assert len(alpha) == n, "mask size"
    a[c - 1::c] = alpha
    return _float_to_half(a.tobytes()) if lay.half else a.tobytes()


def to_rgba8(data, channels, sample_type):
    """Bytes in a unistyle layout (1-4 channels, U8/U16/F32) -> 8-bit R, G, B, A (for display)."""
    if sample_type == us.U8:
        v = array("B", data)
    elif sample_type == us.U16:
        a = array("H")
        a.frombytes(data)
        v = array("B", [x >> 8 for x in a])
    else:
        a = array("f")
        a.frombytes(data)
        v = array("B", [0 if not x > 0.0 else 255 if x >= 1.0 else int(x * 255.0 + 0.5) for x in a])
    n = len(v) // channels
    out = bytearray(4 * n)
    if channels >= 3:
        for c in range(3):
            out[c::4] = v[c::channels]
    else:
        for c in range(3):
            out[c::4] = v[0::channels]
    out[3::4] = v[channels - 1::channels] if channels in (2, 4) else b"\xff" * n
    return bytes(out)


assert array("H").itemsize == 2 and array("f").itemsize == 4, "unexpected C type sizes"
