"""The controls' ranges come from the library (unistyle_param_bounds), so the plug-in's limits
are the library's rules and cannot drift from them: no bound is written in the plug-in."""

from . import unistyle_ctypes as us

# The largest value a QSpinBox holds (a C int); wider library ranges (seeds) are cut there.
QT_INT_MAX = 2 ** 31 - 1


def set_range(box, key):
    """Gives the spin box `box` the library's range of parameter `key` (a preset key such as
    "alpha", "feather", "stroke_scale", "texture.width"). Without a loadable library the box
    keeps its range: the docker reports the missing library when it is used."""
    try:
        b = us.param_bounds(key)
    except us.UnistyleError:
        return None
    if b.integer:
        box.setRange(int(b.min), int(min(b.max, QT_INT_MAX)))
    else:
        box.setRange(b.min, b.max)
    return b
