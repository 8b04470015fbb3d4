#!/usr/bin/env python3
"""unistyle for GIMP 3: WCT style transfer and texture synthesis (Filters > Artistic).

Procedures (argument names are public API for keyword calls from Script-Fu and Python-Fu):
  plug-in-unistyle-stylize  (run-mode, image, drawables, style, style2, preset, alpha, levels,
                             preserve-color, mask, feather, as-new-layer, patch-swap, transform,
                             variation, seed, stroke-scale, photo, weights)
  plug-in-unistyle-texture  (run-mode, style, preset, width, height, seed, iterations, tileable,
                             weights) -> image
  plug-in-unistyle-frames   (run-mode, image, drawables, style, preset, alpha, levels,
                             preserve-color, stability, weights): every layer as a frame of one
                             clip (unistyle_frames.py)

One Python plug-in for every OS GIMP 3 runs on (GIMP ships Python and PyGObject): the library
is loaded through the ctypes binding (unistyle_ctypes.py, shared with the Krita plug-in) from
this folder, where `unistyle hosts install gimp` puts both. Pixels are read and written
through GEGL in the drawable's own precision (unistyle_pixels.py) and written back through the
shadow buffer: one undo step, limited to the selection with its soft edge. The interactive
dialog shows a live preview (unistyle_dialog.py).
"""

import os
import sys


def _shared_binding():
    """Run from a source checkout, the binding is plugin-abi/python/unistyle_ctypes.py."""
    here = os.path.dirname(os.path.abspath(__file__))
    if not os.path.isfile(os.path.join(here, "unistyle_ctypes.py")):
        sys.path.insert(1, os.path.normpath(os.path.join(here, os.pardir, os.pardir, "python")))


_shared_binding()

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
from gi.repository import GLib, GObject, Gimp  # noqa: E402

import unistyle_ctypes as us  # noqa: E402
import unistyle_pixels as pixels  # noqa: E402
import unistyle_frames as frames  # noqa: E402
from unistyle_engine import Engine, Failure, add_number, check, file_path, library_failure, read_settings  # noqa: E402

PROC_STYLIZE = "plug-in-unistyle-stylize"
PROC_TEXTURE = "plug-in-unistyle-texture"
PLUG_IN_BINARY = "unistyle"
MENU_PATH = "<Image>/Filters/Artistic"
RW = GObject.ParamFlags.READWRITE

WEIGHTS_BLURB = ("Weights file (.safetensors) or a folder holding one; unset = $UNISTYLE_WEIGHTS, else the "
                 "per-user weights folder (see `unistyle weights install`)")


# --- results ---------------------------------------------------------------------------------

def _error(procedure, status, message):
    return procedure.new_return_values(status, GLib.Error(message))


def _failed(procedure, failure):
    status = Gimp.PDBStatusType.CANCEL if failure.cancelled else Gimp.PDBStatusType.EXECUTION_ERROR
    return _error(procedure, status, failure.message)


def _success(procedure):
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)


class Progress:
    """GIMP's progress bar; a refused update (GIMP no longer listening) cancels the call."""

    def __init__(self, text):
        self.last = -1.0
        self.cancelled = False
        Gimp.progress_init(text)

    def __call__(self, fraction):
        if fraction - self.last >= 0.005 or fraction >= 1.0:
            self.last = fraction
            if not Gimp.progress_update(fraction):
                self.cancelled = True
                return True
        return False

    def end(self):
        Gimp.progress_end()


def _library_call(fn, progress, what):
    """Runs a library call; its failure (or a cancel from the progress bar) becomes a Failure."""
    try:
        return fn()
    except us.UnistyleError as e:
        raise library_failure(e, what, progress.cancelled)


# --- stylize ---------------------------------------------------------------------------------

def _target_drawable(image, drawable, as_new_layer):
    """Where the result goes: the drawable itself, or a copy of it inserted just above."""
    if not as_new_layer:
        return drawable
    if not isinstance(drawable, Gimp.Layer):  # a channel or a layer mask
        raise Failure("unistyle: as-new-layer needs a layer (not a channel or layer mask)")
    copy = drawable.copy()
    position = image.get_item_position(drawable)
    if copy is None or not image.insert_layer(copy, drawable.get_parent(), position):
        raise Failure("unistyle: could not add the new layer")
    copy.set_name("%s (unistyle)" % drawable.get_name())
    return copy


def _write_result(image, target, src, whole):
    """Writes the result through the selection, except with a second style for the outside of
    the selection, where the whole drawable changes (the selection is put back afterwards)."""
    saved = None
    if whole:
        saved = Gimp.Selection.save(image)
        Gimp.Selection.none(image)
    pixels.write_merged(target, src.layout, src.rect, src.result)
    if saved is not None:
        image.select_item(Gimp.ChannelOps.REPLACE, saved)
        image.remove_channel(saved)


def _stylize(run_mode, image, drawable, config):
    settings, mask = read_settings(config)
    check(settings, pixels.mask_drawable(image, mask) is not None)
    src = pixels.read_source(image, drawable, mask, False)
    if src.empty:
        return  # the selection does not touch this drawable
    progress = Progress("Unistyle: stylizing")
    engine = Engine()
    try:
        engine.prepare(settings)
        if engine.preset is not None:
            src.result = _library_call(lambda: engine.preset.stylize(src.pixels, progress=progress), progress,
                                       "stylizing")
        else:
            args = engine.stylize_arguments(settings, src.mask)
            src.result = _library_call(lambda: engine.context.stylize(src.pixels, progress=progress, **args),
                                       progress, "stylizing")
        Gimp.progress_update(1.0)
        image.undo_group_start()
        try:
            target = _target_drawable(image, drawable, settings.as_new_layer)
            whole = src.from_selection and len(engine.styles) == 2 and engine.preset is None
            _write_result(image, target, src, whole)
        finally:
            image.undo_group_end()
        if run_mode != Gimp.RunMode.NONINTERACTIVE:
            Gimp.displays_flush()
    finally:
        progress.end()
        engine.close()


def stylize_run(procedure, run_mode, image, drawables, config, data):
    if len(drawables) != 1:
        return _error(procedure, Gimp.PDBStatusType.CALLING_ERROR,
                      "unistyle: select exactly one layer or channel to stylize")
    drawable = drawables[0]
    if run_mode == Gimp.RunMode.INTERACTIVE:
        import unistyle_dialog

        if not unistyle_dialog.stylize_dialog(procedure, config, image, drawable):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
    try:
        _stylize(run_mode, image, drawable, config)
    except Failure as f:
        return _failed(procedure, f)
    return _success(procedure)


# --- texture ---------------------------------------------------------------------------------

def _texture(config):
    g = config.get_property
    width, height = g("width"), g("height")
    progress = Progress("Unistyle: synthesizing a texture")
    engine = Engine()
    try:
        engine.prepare_texture(file_path(config, "weights"), file_path(config, "style"),
                               file_path(config, "preset"))
        if engine.preset is not None:
            out = _library_call(lambda: engine.preset.texture(width, height, 3, us.U8, progress=progress),
                                progress, "synthesizing the texture")
        else:
            out = _library_call(
                lambda: engine.context.texture(width, height, engine.styles, channels=3, sample_type=us.U8,
                                               seed=g("seed"), iterations=g("iterations"), tileable=g("tileable"),
                                               progress=progress),
                progress, "synthesizing the texture")
        Gimp.progress_update(1.0)
    except MemoryError:
        raise Failure("unistyle: not enough memory for a %dx%d texture" % (width, height))
    finally:
        progress.end()
        engine.close()
    return pixels.new_image(out.tobytes(), width, height)


def texture_run(procedure, config, data):
    run_mode = config.get_property("run-mode")
    if run_mode == Gimp.RunMode.INTERACTIVE:
        import unistyle_dialog

        if not unistyle_dialog.texture_dialog(procedure, config):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
    try:
        image = _texture(config)
    except Failure as f:
        return _failed(procedure, f)
    if run_mode == Gimp.RunMode.INTERACTIVE:
        Gimp.Display.new(image)
    return Gimp.ValueArray.new_from_values([
        GObject.Value(Gimp.PDBStatusType, Gimp.PDBStatusType.SUCCESS),
        GObject.Value(Gimp.Image, image),
    ])


# --- registration ----------------------------------------------------------------------------

def _add_file(p, name, nick, blurb):
    """A file argument: any path is accepted (a missing file is reported by the plug-in in its
    own words), unset = none."""
    p.add_file_argument(name, nick, blurb, Gimp.FileChooserAction.ANY, True, None, RW)


def _describe(p, label, blurb, help_text):
    p.set_menu_label(label)
    p.add_menu_path(MENU_PATH)
    p.set_documentation(blurb, help_text, p.get_name())
    p.set_attribution("unistyle contributors", "unistyle contributors", "2026")


def _add_modes(p):
    """The modes beyond plain WCT; ranges and defaults the library's."""
    p.add_boolean_argument("patch-swap", "Patch s_wap (keep brush strokes)",
                           "Swap the image's patches for the style's best-matching patches at the coarsest level "
                           "(not with a mask or selection, nor with transform \"ost\")", False, RW)
    choice = Gimp.Choice.new()
    choice.add("wct", us.TRANSFORM_WCT, "Whitening and colouring (WCT)", "")
    choice.add("ost", us.TRANSFORM_OST, "Optimal transport (OST)", "")
    p.add_choice_argument("transform", "_Transform",
                          "Feature transform: \"wct\" (whitening and colouring) or \"ost\" (optimal-transport "
                          "colouring: moves the image's features the least)", choice, "wct", RW)
    add_number(p, "variation", "variation", "_Variation",
                "Random variation strength: 0 is the plain result; the seed picks the variation")
    add_number(p, "seed", "seed", "S_eed", "Seed of the variation: the same seed gives the same result")
    add_number(p, "stroke_scale", "stroke-scale", "St_roke scale",
                "Scale the style is taken at: 1 = as given, 2 = larger strokes, 0.5 = finer")
    p.add_boolean_argument("photo", "P_hoto mode",
                           "Edge-preserving smoothing guided by the image: a photo stays a photo with the style's "
                           "colours", False, RW)


def create_stylize(plug_in):
    p = Gimp.ImageProcedure.new(plug_in, PROC_STYLIZE, Gimp.PDBProcType.PLUGIN, stylize_run, None)
    p.set_image_types("RGB*, GRAY*")
    p.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
    _describe(p, "Unistyle _Stylize...", "Neural style transfer (WCT) with a style image",
              "Re-renders the drawable in the style of a style image (universal style transfer by whitening and "
              "colouring transforms). With a mask channel, or else a selection, only that area is stylized (with "
              "its own statistics) and the result is blended in through the selection; style2 styles the rest. A "
              "preset supplies styles and settings instead (style, style2, alpha, levels, preserve-color, feather "
              "and the modes are then the preset's). The modes: patch-swap keeps brush strokes, transform \"ost\" "
              "colours by optimal transport, variation with seed gives reproducible variations, stroke-scale sizes "
              "the strokes, photo keeps a photo photographic.")
    _add_file(p, "style", "_Style image", "Style image file")
    _add_file(p, "style2", "Style _outside",
              "Style image used outside the mask or selection; unset keeps the original pixels there")
    _add_file(p, "preset", "_Preset", "TOML preset supplying the styles and settings")
    # The dialog starts at 0.6 (the library's default is 1, fully stylized).
    add_number(p, "alpha", "alpha", "_Alpha", "Strength: 0 keeps the input, 1 is fully stylized", default=0.6)
    p.add_string_argument("levels", "_Levels",
                          "Levels to run coarse to fine, e.g. \"3,2,1\"; \"\" = every level of the model", "", RW)
    p.add_boolean_argument("preserve-color", "Preserve _colour", "Keep the image's colours and stylize lightness only",
                           False, RW)
    p.add_channel_argument("mask", "_Mask", "Channel or layer mask (white = inside); unset = the selection, if any",
                           True, RW)
    add_number(p, "feather", "feather", "_Feather", "Soft borders between the regions, in pixels")
    p.add_boolean_argument("as-new-layer", "As _new layer",
                           "Put the result in a new layer above the drawable instead of replacing its pixels", False,
                           RW)
    _add_modes(p)
    _add_file(p, "weights", "_Weights", WEIGHTS_BLURB)
    return p


def create_texture(plug_in):
    p = Gimp.Procedure.new(plug_in, PROC_TEXTURE, Gimp.PDBProcType.PLUGIN, texture_run, None)
    p.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.ALWAYS)
    _describe(p, "Unistyle _Texture...", "Synthesize a texture from a style image (new image)",
              "Creates a new image holding a texture synthesized from the style image's statistics, optionally "
              "seamlessly tileable. The same seed and inputs give the same texture. A texture preset supplies the "
              "style and settings instead (width and height stay the arguments').")
    p.add_enum_argument("run-mode", "Run mode", "The run mode", Gimp.RunMode, Gimp.RunMode.NONINTERACTIVE, RW)
    _add_file(p, "style", "_Style image", "Style (exemplar) image file")
    _add_file(p, "preset", "_Preset", "TOML texture preset supplying the style and settings")
    add_number(p, "texture.width", "width", "_Width", "Width of the texture")
    add_number(p, "texture.height", "height", "_Height", "Height of the texture")
    add_number(p, "texture.seed", "seed", "S_eed", "Random seed: the same seed and inputs give the same texture")
    add_number(p, "texture.iterations", "iterations", "_Iterations", "Passes of the pipeline")
    p.add_boolean_argument("tileable", "_Tileable", "Seamlessly tileable texture", False, RW)
    _add_file(p, "weights", "_Weights", WEIGHTS_BLURB)
    p.add_image_return_value("image", "Image", "The new image holding the texture", False, RW)
    return p


class Unistyle(Gimp.PlugIn):
    def do_query_procedures(self):
        return [PROC_STYLIZE, PROC_TEXTURE] + frames.procedure_names()

    def do_set_i18n(self, name):
        return False  # no translations

    def do_create_procedure(self, name):
        if name == PROC_STYLIZE:
            return create_stylize(self)
        if name == PROC_TEXTURE:
            return create_texture(self)
        return frames.create_procedure(self, name)


if __name__ == "__main__":
    Gimp.main(Unistyle.__gtype__, sys.argv)
