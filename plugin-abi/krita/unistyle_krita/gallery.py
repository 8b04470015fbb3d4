"""The style gallery: preset files (TOML, presets/README.md) from the shipped `presets/` folder
and the user's own, plus style images picked before, with thumbnails.

Folders searched, in order (a later file with the same name does not replace an earlier one):
  1. $UNISTYLE_PRESET_PATH (folders separated by os.pathsep),
  2. the user's presets: $XDG_DATA_HOME/unistyle/presets (default ~/.local/share/unistyle/presets),
  3. `presets/` installed beside the plug-in (install.sh copies the project's presets there),
  4. the project's `presets/` when the plug-in runs from a source checkout.
A preset's thumbnail is the preset itself run by the library: a texture preset's texture, or a
stylize preset applied to a small built-in swatch. Thumbnails are cached as PNG files under
$XDG_CACHE_HOME/unistyle/thumbnails, keyed by the preset's path, size and modification time.
"""

import hashlib
import math
import os

from . import core
from . import look as looks
from . import pixels
from . import unistyle_ctypes as us

THUMB = 64


def _xdg(var, default):
    return os.environ.get(var) or os.path.join(os.path.expanduser("~"), default)


def user_presets_dir():
    return os.path.join(_xdg("XDG_DATA_HOME", ".local/share"), "unistyle", "presets")


def preset_dirs():
    here = os.path.dirname(os.path.abspath(__file__))
    out = [d for d in os.environ.get("UNISTYLE_PRESET_PATH", "").split(os.pathsep) if d]
    out += [user_presets_dir(), os.path.join(here, "presets"),
            os.path.normpath(os.path.join(here, os.pardir, os.pardir, os.pardir, "presets"))]
    seen, dirs = set(), []
    for d in out:
        real = os.path.realpath(d)
        if real not in seen and os.path.isdir(d):
            seen.add(real)
            dirs.append(d)
    return dirs


class Entry:
    """One gallery item: a preset file or a style image."""

    def __init__(self, path, is_preset):
        self.path, self.is_preset = path, is_preset
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.description = ""
        self.kind = None  # us.PRESET_STYLIZE / us.PRESET_TEXTURE once loaded
        self.error = ""

    def look(self, weights=None):
        return looks.Look(preset=self.path, weights=weights) if self.is_preset else looks.Look(style=self.path,
                                                                                               weights=weights)


def presets():
    """Every preset file found, as Entries (sorted by name within each folder)."""
    names, out = set(), []
    for d in preset_dirs():
        for f in sorted(os.listdir(d)):
            if f.endswith(".toml") and f not in names and os.path.isfile(os.path.join(d, f)):
                names.add(f)
                out.append(Entry(os.path.join(d, f), True))
    return out


def swatch(size=THUMB):
    """The built-in picture stylize presets are shown on: soft colour gradients and a disc."""
    data = bytearray(size * size * 4)
    c = (size - 1) / 2.0
    for y in range(size):
        for x in range(size):
            i = 4 * (y * size + x)
            inside = math.hypot(x - c, y - c * 0.8) < size * 0.28
            data[i] = 230 if inside else int(60 + 120 * x / size)
            data[i + 1] = 200 if inside else int(90 + 100 * y / size)
            data[i + 2] = 90 if inside else int(170 - 80 * x / size)
            data[i + 3] = 255
    return us.Buffer(size, size, 4, us.U8, bytes(data))


def _cache_path(path):
    st = os.stat(path)
    key = "%s|%d|%d|%d" % (os.path.abspath(path), st.st_size, st.st_mtime_ns, THUMB)
    name = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32] + ".png"
    return os.path.join(_xdg("XDG_CACHE_HOME", ".cache"), "unistyle", "thumbnails", name)


def thumbnail_rgba(entry, weights=None, progress=None, job=None):
    """(width, height, 8-bit RGBA bytes) of the entry's thumbnail; loads the preset (filling
    entry.name/description/kind, or raising with the library's message). Worker-thread safe
    (no Qt)."""
    if not entry.is_preset:
        raise ValueError("style images are shown as they are")
    ctx = core.context(weights)
    p = core.preset(ctx, entry.path)
    entry.name, entry.description, entry.kind = p.name or entry.name, p.description, p.kind
    if p.kind == us.PRESET_TEXTURE:
        buf = p.texture(THUMB, THUMB, channels=4, progress=progress, job=job)
    else:
        buf = p.stylize(swatch(), progress=progress, job=job)
    return buf.width, buf.height, pixels.to_rgba8(buf.tobytes(), buf.channels, buf.sample_type)


def cached_thumbnail(entry):
    """The thumbnail PNG path cached for this entry, or None."""
    try:
        p = _cache_path(entry.path)
    except OSError:
        return None
    return p if os.path.isfile(p) else None


def cache_file(entry):
    """Where this entry's thumbnail PNG is saved (its folder is created)."""
    p = _cache_path(entry.path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p
