"""The dialogs: stylize (a GimpProcedureDialog with a live preview) and texture.

The preview is a downscaled stylization (longest side PREVIEW_MAX_SIDE) of the drawable, or of
the selection's bounding box, computed by the library's preview call at bf16 on a worker
thread whenever a setting changes (debounced). Styles are encoded once and reused; a preview
made stale by a newer change is cancelled through its job; the dialog stays responsive (the
library releases Python's lock while it computes). With a preset, the preview is the preset's
stylization of the drawable downscaled by GEGL.

Threads: the GTK main thread reads GIMP (settings, pixels) and draws; the worker only calls the
library (unistyle_engine) and hands its results back through GLib.idle_add.
"""

import random
import threading
import time

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gtk", "3.0")
from gi.repository import GimpUi, GLib, Gtk  # noqa: E402

import unistyle_ctypes as us  # noqa: E402
import unistyle_pixels as pixels  # noqa: E402
from unistyle_engine import Engine, Failure, check, library_failure, read_settings  # noqa: E402

PLUG_IN_BINARY = "unistyle"
# Longest side of the preview, in pixels.
PREVIEW_MAX_SIDE = 256
# Settings changes closer together than this are one request.
DEBOUNCE_MS = 120


# --- file arguments as dialog rows -----------------------------------------------------------

def _file_rows(config, rows):
    """A grid of file choosers bound to the config's file arguments: (property, label,
    optional); an optional one has a button that unsets it."""
    grid = Gtk.Grid(row_spacing=4, column_spacing=6)
    for row, (prop, label, optional) in enumerate(rows):
        text = Gtk.Label.new_with_mnemonic(label)
        text.set_halign(Gtk.Align.START)
        chooser = Gtk.FileChooserButton.new(label.replace("_", "").rstrip(":"), Gtk.FileChooserAction.OPEN)
        chooser.set_hexpand(True)
        text.set_mnemonic_widget(chooser)
        spec = config.find_property(prop)
        if spec is not None:
            chooser.set_tooltip_text(spec.get_blurb())
        current = config.get_property(prop)
        if current is not None:
            chooser.set_file(current)
        chooser.connect("file-set", lambda c, p=prop: config.set_property(p, c.get_file()))
        grid.attach(text, 0, row, 1, 1)
        grid.attach(chooser, 1, row, 1, 1)
        if optional:
            clear = Gtk.Button.new_from_icon_name("edit-clear", Gtk.IconSize.BUTTON)
            clear.set_tooltip_text("Unset")

            def unset(_button, c=chooser, p=prop):
                c.unselect_all()
                config.set_property(p, None)

            clear.connect("clicked", unset)
            grid.attach(clear, 2, row, 1, 1)
    grid.show_all()
    return grid


def _put_first(dialog, widget, position):
    content = dialog.get_content_area()
    content.pack_start(widget, False, False, 6)
    content.reorder_child(widget, position)


# --- the preview worker ----------------------------------------------------------------------

class Request:
    def __init__(self, generation, settings, source, size, small):
        self.generation = generation
        self.settings = settings
        self.source = source
        self.width, self.height = size
        self.small = small  # with a preset: the source downscaled by GEGL


class Worker:
    """One thread computing previews: the latest request wins, the running one is cancelled."""

    def __init__(self, show):
        self._show = show  # called on the main thread: (generation, Buffer or None, message, seconds)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending = None
        self._job = None
        self._quit = False
        self._engine = Engine()
        self._thread = threading.Thread(target=self._loop, name="unistyle-preview", daemon=True)
        self._thread.start()

    def submit(self, request):
        with self._lock:
            self._pending = request
            if self._job is not None:
                self._job.cancel()  # stale now
            self._wake.notify()

    def stop(self):
        with self._lock:
            self._quit = True
            if self._job is not None:
                self._job.cancel()
            self._wake.notify()
        self._thread.join()
        self._engine.close()

    def _loop(self):
        while True:
            with self._lock:
                while not self._quit and self._pending is None:
                    self._wake.wait()
                if self._quit:
                    return
                request, self._pending = self._pending, None
                job = self._job = us.Job()
            result, message, seconds = None, None, 0.0
            try:
                result, seconds = self._compute(request, job)
            except Failure as f:
                message = None if f.cancelled else f.message
            except MemoryError:
                message = "Not enough memory for the preview"
            with self._lock:
                self._job = None
            job.close()
            GLib.idle_add(self._show, request.generation, result, message, seconds)

    def _compute(self, rq, job):
        """The preview of one request, and the seconds its library call took (the context and
        style encoding before it are done once per file and not counted)."""
        src = rq.source
        check(rq.settings, src.mask is not None)
        # The style encoding is not cancelled with the preview: a newer request with the same
        # style files reuses it.
        self._engine.prepare(rq.settings)
        t0 = time.monotonic()
        try:
            if self._engine.preset is not None:
                out = us.Buffer(rq.width, rq.height, src.layout.channels, us.U8)
                out = self._engine.preset.stylize(rq.small, output=out, job=job)
            else:
                args = self._engine.stylize_arguments(rq.settings, src.mask)
                out = self._engine.context.preview(src.pixels, rq.width, rq.height, job=job,
                                                   channels=src.layout.channels, sample_type=us.U8, **args)
            return out, time.monotonic() - t0
        except us.UnistyleError as e:
            raise library_failure(e, "preview")


# --- the stylize dialog ----------------------------------------------------------------------

def _preview_size(rect):
    _, _, w, h = rect
    side = max(w, h)
    scale = PREVIEW_MAX_SIDE / side if side > PREVIEW_MAX_SIDE else 1.0
    return max(1, int(w * scale + 0.5)), max(1, int(h * scale + 0.5))


class Preview:
    """The preview frame of the stylize dialog and what feeds it (main thread)."""

    def __init__(self, config, image, drawable):
        self.config, self.image, self.drawable = config, image, drawable
        self.generation = 0
        self.closed = False
        self._timeout = 0
        self._source = None
        self._mask = None
        self.area = GimpUi.PreviewArea.new()
        self.label = Gtk.Label(label="")
        self.label.set_line_wrap(True)
        self.label.set_max_width_chars(40)
        frame = Gtk.Frame()
        frame.set_shadow_type(Gtk.ShadowType.IN)
        frame.set_halign(Gtk.Align.CENTER)
        frame.add(self.area)
        self.widget = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=4)
        self.widget.pack_start(frame, False, False, 0)
        self.widget.pack_start(self.label, False, False, 0)
        self.widget.show_all()
        self.worker = Worker(self._show)

    def _ensure_source(self, mask):
        """Reads the drawable (the selection's bounding box) and the mask once per mask choice."""
        if self._source is not None and mask == self._mask:
            return
        self._mask = mask
        try:
            self._source = pixels.read_source(self.image, self.drawable, mask, True)
        except Failure as f:
            self._source = None
            self.label.set_text(f.message)

    def submit(self):
        self._timeout = 0
        settings, mask = read_settings(self.config)
        self._ensure_source(mask)
        src = self._source
        if src is None or src.empty:
            return GLib.SOURCE_REMOVE
        size = _preview_size(src.rect)
        small = None
        if settings.preset:
            small = pixels.read_scaled(self.drawable, src.layout, src.rect, *size)
        self.area.set_size_request(*size)
        self.generation += 1
        self.label.set_text("Computing the preview...")
        self.worker.submit(Request(self.generation, settings, src, size, small))
        return GLib.SOURCE_REMOVE

    def changed(self, _config, spec):
        if spec is not None and spec.name == "as-new-layer":
            return
        if self._timeout:
            GLib.source_remove(self._timeout)
        self._timeout = GLib.timeout_add(DEBOUNCE_MS, self.submit)

    def _show(self, generation, result, message, seconds):
        # A stale result (a newer request exists) is dropped: its successor is on its way.
        if self.closed or generation != self.generation:
            return GLib.SOURCE_REMOVE
        if result is not None:
            self.area.draw(0, 0, result.width, result.height, self._source.layout.image_type(), result.tobytes(),
                           result.width * result.channels)
            self.label.set_text("Preview %dx%d, %.2f s" % (result.width, result.height, seconds))
        elif message:
            self.label.set_text(message)
        return GLib.SOURCE_REMOVE

    def close(self):
        if self._timeout:
            GLib.source_remove(self._timeout)
            self._timeout = 0
        self.closed = True
        self.worker.stop()


def _new_variation(_button, config):
    """"New variation": another seed, and some strength when there was none."""
    seed = config.get_property("seed")
    following = seed
    while following == seed:
        following = random.randint(1, 2147483646)
    if config.get_property("variation") == 0.0:
        config.set_property("variation", 0.5)
    config.set_property("seed", following)


def stylize_dialog(procedure, config, image, drawable):
    """Shows the stylize dialog; True when the user pressed OK (the settings are in `config`)."""
    GimpUi.init(PLUG_IN_BINARY)
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "Unistyle: Stylize")
    # The modes beyond plain WCT, in a frame of their own.
    dialog.get_label("modes-title", "Modes", False, False)
    modes = dialog.fill_box("modes-box", ["patch-swap", "transform", "variation", "seed", "stroke-scale", "photo"])
    another = Gtk.Button.new_with_mnemonic("New varia_tion")
    another.set_tooltip_text("Pick another seed (and a variation strength if it is 0)")
    another.set_halign(Gtk.Align.START)
    another.connect("clicked", _new_variation, config)
    modes.pack_start(another, False, False, 0)
    another.show()
    dialog.fill_frame("modes-frame", "modes-title", False, "modes-box")
    dialog.fill(["alpha", "levels", "preserve-color", "mask", "feather", "as-new-layer", "modes-frame"])

    preview = Preview(config, image, drawable)
    _put_first(dialog, preview.widget, 0)
    _put_first(dialog, _file_rows(config, [("style", "_Style image:", False), ("style2", "Style _outside:", True),
                                           ("preset", "_Preset:", True), ("weights", "_Weights:", True)]), 1)
    handler = config.connect("notify", preview.changed)
    preview.submit()
    try:
        return dialog.run()
    finally:
        config.disconnect(handler)
        preview.close()
        dialog.destroy()


def texture_dialog(procedure, config):
    """Shows the texture dialog; True when the user pressed OK."""
    GimpUi.init(PLUG_IN_BINARY)
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "Unistyle: Texture")
    dialog.fill(["width", "height", "seed", "iterations", "tileable"])
    _put_first(dialog, _file_rows(config, [("style", "_Style image:", False), ("preset", "_Preset:", True),
                                           ("weights", "_Weights:", True)]), 0)
    try:
        return dialog.run()
    finally:
        dialog.destroy()

