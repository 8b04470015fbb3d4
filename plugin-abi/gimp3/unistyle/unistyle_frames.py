#!/usr/bin/env python3
"""GIMP 3 procedure `plug-in-unistyle-frames` of the unistyle plug-in (unistyle.py registers
it): every layer of an image styled as the frames of one clip (GIMP's animation convention: the
bottom layer is the first frame), with the library's temporal stabilizer against flicker
(unistyle_clip_*, through the ctypes binding).

Arguments (keyword names are the public API): image, drawables (ignored: every layer is a
frame), style (file), preset (file; replaces style and the settings), alpha, levels,
preserve-color, stability, weights (file). Every layer is replaced in place inside one undo
group; a failure restores nothing half-written (a layer is written only after its frame
succeeded, and the undo group holds every layer written so far).
"""

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, GLib, GObject  # noqa: E402

import unistyle_ctypes as us  # noqa: E402
from unistyle_engine import add_number  # noqa: E402

PROC_NAME = "plug-in-unistyle-frames"
DEFAULT_STABILITY = 0.6


def procedure_names():
    return [PROC_NAME]


def _file_argument(proc, name, nick, blurb):
    proc.add_file_argument(name, nick, blurb, Gimp.FileChooserAction.ANY, True, None, GObject.ParamFlags.READWRITE)


def create_procedure(plugin, name):
    """The procedure `name` (PROC_NAME) of `plugin`, a Gimp.PlugIn."""
    if name != PROC_NAME:
        return None
    proc = Gimp.ImageProcedure.new(plugin, name, Gimp.PDBProcType.PLUGIN, run, None)
    proc.set_image_types("RGB*, GRAY*")
    proc.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE | Gimp.ProcedureSensitivityMask.DRAWABLES
                              | Gimp.ProcedureSensitivityMask.NO_DRAWABLES)
    proc.set_menu_label("unistyle: Stylize layers as _frames…")
    proc.add_menu_path("<Image>/Filters/Animation")
    proc.set_documentation(
        "Stylize every layer as the frames of one clip",
        "Each layer is a frame (bottom layer first, GIMP's animation convention); the style is encoded "
        "once and consecutive frames are tied together by a temporal stabilizer (stability 0: each "
        "layer on its own).",
        name)
    proc.set_attribution("unistyle contributors", "unistyle contributors", "2026")
    _file_argument(proc, "style", "_Style image", "Style image file")
    _file_argument(proc, "preset", "_Preset", "TOML preset supplying the styles and settings")
    add_number(proc, "alpha", "alpha", "_Alpha", "Strength: 0 keeps the input, 1 is fully stylized", default=0.6)
    proc.add_string_argument("levels", "_Levels", "Levels to run, e.g. 3,2,1 (empty: every level)", "",
                             GObject.ParamFlags.READWRITE)
    proc.add_boolean_argument("preserve-color", "Preserve _colour", "Keep the layers' colours", False,
                              GObject.ParamFlags.READWRITE)
    add_number(proc, "stability", "stability", "S_tability",
               "0 styles every frame on its own; higher values tie consecutive frames together",
               default=DEFAULT_STABILITY)
    _file_argument(proc, "weights", "_Weights",
                   "Weights file (.safetensors) or a folder holding one; unset = $UNISTYLE_WEIGHTS, else the "
                   "per-user weights folder")
    return proc


def _path(config, key):
    f = config.get_property(key)
    return f.get_path() if f is not None else None


def frames_of(image):
    """The image's layers as frames: bottom layer first (GIMP's animation order)."""
    return list(reversed(image.get_layers()))


def _format(layer):
    return "R'G'B'A float" if layer.has_alpha() else "R'G'B' float"


def stylize_layers(image, style=None, preset=None, alpha=0.6, levels="", preserve_color=False,
                   stability=DEFAULT_STABILITY, weights=None, progress=None):
    """Stylizes every layer of `image` in place as one clip; returns the number of frames.
    `progress(fraction)` is told the fraction done."""
    ctx = us.Context(weights)
    try:
        if preset:
            p = ctx.preset(preset)
            clip = us.Clip(ctx, preset=p, stability=stability)
            p.close()
        else:
            if not style:
                raise ValueError("give a style image or a preset")
            s = ctx.style_from_file(style)
            clip = us.Clip(ctx, [s], stability=stability, alpha=alpha, levels=levels or None,
                           preserve_color=preserve_color)
            s.close()
        layers = frames_of(image)
        image.undo_group_start()
        try:
            for i, layer in enumerate(layers):
                w, h = layer.get_width(), layer.get_height()
                fmt = _format(layer)
                channels = 4 if layer.has_alpha() else 3
                rect = Gegl.Rectangle.new(0, 0, w, h)
                data = layer.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.NONE)
                frame = us.Buffer(w, h, channels, us.F32, data)
                out = clip.push(frame, progress=_within(progress, i, len(layers)))
                shadow = layer.get_shadow_buffer()
                shadow.set(rect, fmt, out.tobytes())
                shadow.flush()
                layer.merge_shadow(True)
                layer.update(0, 0, w, h)
        finally:
            image.undo_group_end()
        clip.close()
        return len(layers)
    finally:
        ctx.close()


def _within(progress, i, n):
    """Progress of frame i of n as a fraction of the whole clip (never cancels)."""
    if progress is None:
        return None

    def report(f):
        progress((i + f) / n)
        return False

    return report


def run(procedure, run_mode, image, drawables, config, data):
    Gegl.init(None)
    try:
        Gimp.progress_init("unistyle: stylizing the frames")
        stylize_layers(
            image,
            style=_path(config, "style"),
            preset=_path(config, "preset"),
            alpha=config.get_property("alpha"),
            levels=config.get_property("levels"),
            preserve_color=config.get_property("preserve-color"),
            stability=config.get_property("stability"),
            weights=_path(config, "weights"),
            progress=lambda f: Gimp.progress_update(f),
        )
        Gimp.progress_end()
        Gimp.displays_flush()
    except Exception as e:  # reported to GIMP, never raised into it
        Gimp.progress_end()
        return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR,
                                           GLib.Error("unistyle frames: %s" % e))
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)
