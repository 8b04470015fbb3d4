"""The unistyle library as the GIMP 3 plug-in uses it: the stylize procedure's settings, the
context and encoded styles (kept and reused while their files do not change), and library
failures as messages "unistyle: WHAT: <library message>". Shared by the procedures and the
dialog's live preview; no GIMP call here, so the preview may use it from its worker thread.
"""

import os

import unistyle_ctypes as us

# unistyle_preset_kind
PRESET_STYLIZE, PRESET_TEXTURE = us.PRESET_STYLIZE, us.PRESET_TEXTURE
KIND_NAMES = {PRESET_STYLIZE: "stylize", PRESET_TEXTURE: "texture"}


class Failure(Exception):
    """A failed step, with the message the procedure returns (it starts with "unistyle:")."""

    def __init__(self, message, cancelled=False):
        super().__init__(message)
        self.message = message
        self.cancelled = cancelled


def library_failure(error, what, cancelled=False):
    """A UnistyleError as a Failure: "unistyle: WHAT: <library message>" (`cancelled`: the
    host cancelled the call, whatever the library said)."""
    if cancelled or error.cancelled:
        return Failure("unistyle: cancelled; nothing was changed", cancelled=True)
    return Failure("unistyle: %s: %s" % (what, error.message))


class Settings:
    """The stylize procedure's arguments as plain values (file arguments as local paths,
    None when unset)."""

    FIELDS = ("style", "style2", "preset", "weights", "levels", "alpha", "feather", "preserve_color",
              "as_new_layer", "patch_swap", "transform", "variation", "seed", "stroke_scale", "photo")

    def __init__(self, **values):
        for name in self.FIELDS:
            setattr(self, name, values.get(name))
        self.levels = self.levels or ""

    def modes(self):
        """The modes beyond plain WCT, as the binding takes them; the library checks their
        ranges and combinations (patch swap with a mask or with OST is refused in its words)."""
        return {
            "patch_swap": bool(self.patch_swap),
            "transform": self.transform or "wct",
            "variation": float(self.variation or 0.0),
            "seed": int(self.seed or 0),
            "stroke_scale": float(self.stroke_scale if self.stroke_scale is not None else 1.0),
            "photo": bool(self.photo),
        }


def file_path(config, name):
    """A file argument of the procedure's config as a local path (a URI when not local: the
    library reports it as missing); None when unset."""
    f = config.get_property(name)
    if f is None:
        return None
    return f.get_path() or f.get_uri()


def read_settings(config):
    """The stylize settings in the procedure's config, and the mask argument (or None)."""
    g = config.get_property
    s = Settings(style=file_path(config, "style"), style2=file_path(config, "style2"),
                 preset=file_path(config, "preset"), weights=file_path(config, "weights"),
                 levels=g("levels"), alpha=g("alpha"), feather=g("feather"), preserve_color=g("preserve-color"),
                 as_new_layer=g("as-new-layer"), patch_swap=g("patch-swap"), transform=g("transform"),
                 variation=g("variation"), seed=g("seed"), stroke_scale=g("stroke-scale"), photo=g("photo"))
    return s, g("mask")


def parse_levels(levels):
    """The levels string by the library's parser; its message names the argument."""
    try:
        return us.parse_levels(levels or "")
    except us.UnistyleError as e:
        raise Failure("unistyle: %s" % e.message)


def check(settings, has_mask):
    """Checks the settings that need no file (before any heavy work)."""
    s = settings
    if not s.preset and not s.style:
        raise Failure("unistyle: style: no style image given (or a preset)")
    if not 0.0 <= s.alpha <= 1.0:
        raise Failure("unistyle: alpha must be in 0..1, got %g" % s.alpha)
    if not s.feather >= 0.0:
        raise Failure("unistyle: feather must be >= 0 pixels, got %g" % s.feather)
    if s.style2 and not s.preset and not has_mask:
        raise Failure("unistyle: style2 is the style outside the mask: give a mask or make a selection")
    parse_levels(s.levels)


class Engine:
    """Library handles, (re)opened only when the file they come from changes."""

    def __init__(self):
        self.context = None
        self._weights = None
        self._styles = [(None, None), (None, None)]  # (path, Style) per slot
        self._preset = (None, None)  # (path, Preset)

    def _open_context(self, weights):
        if self.context is not None and self._weights == (weights or ""):
            return
        self.close()
        device = os.environ.get("UNISTYLE_DEVICE") or None
        try:
            self.context = us.Context(weights, device=device)
        except us.UnistyleError as e:
            raise library_failure(e, "weights")
        self._weights = weights or ""

    def _open_style(self, slot, path, argument):
        old_path, old = self._styles[slot]
        if old_path == path and (old is not None or path is None):
            return
        if old is not None:
            old.close()
        self._styles[slot] = (None, None)
        if path is None:
            return
        try:
            self._styles[slot] = (path, self.context.style_from_file(path))
        except us.UnistyleError as e:
            raise library_failure(e, argument)

    def _open_preset(self, path, kind):
        old_path, old = self._preset
        if not (old_path == path and old is not None):
            if old is not None:
                old.close()
            self._preset = (None, None)
            try:
                self._preset = (path, self.context.preset(path))
            except us.UnistyleError as e:
                raise library_failure(e, "preset")
        preset = self._preset[1]
        if preset.kind != kind:
            raise Failure("unistyle: preset: '%s' is a %s preset, not a %s preset"
                          % (path, KIND_NAMES.get(preset.kind, "different"), KIND_NAMES[kind]))

    def prepare(self, settings):
        """Opens the context and encodes the style(s), or loads the preset, the settings name."""
        self._open_context(settings.weights)
        if settings.preset:
            self._open_preset(settings.preset, PRESET_STYLIZE)
            return
        self._open_style(0, settings.style, "style")
        self._open_style(1, settings.style2, "style2")

    def prepare_texture(self, weights, style, preset):
        self._open_context(weights)
        if preset:
            self._open_preset(preset, PRESET_TEXTURE)
            return
        if not style:
            raise Failure("unistyle: style: no style image given (or a preset)")
        self._open_style(0, style, "style")

    @property
    def preset(self):
        return self._preset[1]

    @property
    def styles(self):
        """The open styles: one, or two (the second outside the mask)."""
        return [s for _, s in self._styles if s is not None]

    def stylize_arguments(self, settings, mask):
        """Keyword arguments of Context.stylize / Context.preview for the settings; `mask` is a
        Buffer or None. One style: stylized inside the mask, original outside. Two: the
        second outside."""
        styles = self.styles
        return dict(styles=styles, alpha=settings.alpha, levels=parse_levels(settings.levels),
                    masks=[mask] if mask is not None else None, feather=settings.feather,
                    preserve_color=bool(settings.preserve_color),
                    foreground_only=mask is not None and len(styles) == 1, modes=settings.modes())

    def close(self):
        for _, s in self._styles:
            if s is not None:
                s.close()
        self._styles = [(None, None), (None, None)]
        if self._preset[1] is not None:
            self._preset[1].close()
        self._preset = (None, None)
        if self.context is not None:
            self.context.close()
        self.context = None
        self._weights = None


# The largest value a GIMP int argument holds.
MAX_INT = 2147483647


def add_number(p, key, name, nick, blurb, default=None):
    """Adds to procedure `p` a numeric argument `name` whose range (and, unless given, default)
    is the library's for the parameter `key` (unistyle_param_bounds): the plug-in writes no bound
    of its own. Integer ranges are cut at what a GIMP int argument holds."""
    from gi.repository import GObject

    b = us.param_bounds(key)
    default = b.default if default is None else default
    rw = GObject.ParamFlags.READWRITE
    if b.integer:
        p.add_int_argument(name, nick, blurb, int(b.min), int(min(b.max, MAX_INT)), int(default), rw)
    else:
        p.add_double_argument(name, nick, blurb, b.min, b.max, default, rw)
