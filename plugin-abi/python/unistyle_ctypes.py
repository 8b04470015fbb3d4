"""ctypes binding of the unistyle C ABI (plugin-abi/unistyle.h).

Plain Python (no Krita, no GIMP, no numpy): usable from any Python 3.8+ host. One file,
shared by the Krita plug-in (copied into its package) and the GIMP 3 plug-in (copied into its
folder): scripts/stage-plugins.sh puts it beside the library in both.

The library is loaded from, in order:
  1. the file named by the UNISTYLE_LIBRARY environment variable (an error if it is missing),
  2. the library next to this module (libunistyle.so, unistyle.dll or libunistyle.dylib: where
     the staged plug-ins carry it),
  3. target/release/ of the crate this file belongs to (a source checkout: plugin-abi/python/).

Every failing call raises UnistyleError carrying the status code and the message of
unistyle_last_error().
"""

import ctypes
import os
import sys
import threading

ABI_VERSION = 1

# Status codes (unistyle.h)
OK = 0
ERR_NULL = -1
ERR_INVALID = -2
ERR_VERSION = -3
ERR_IO = -4
ERR_IMAGE = -5
ERR_WEIGHTS = -6
ERR_LEVEL = -7
ERR_CANCELLED = -8
ERR_LIMITS = -9
ERR_INTERNAL = -10
ERR_PRESET = -11

# Sample types
U8 = 1
U16 = 2
F32 = 3
SAMPLE_SIZE = {U8: 1, U16: 2, F32: 4}

MAX_SIDE = 32768
MAX_PIXELS = 1 << 27  # UNISTYLE_MAX_PIXELS: width × height

# unistyle_stylize_options.transform, by the CLI's names (--transform wct|ost)
TRANSFORM_WCT = 0
TRANSFORM_OST = 1
TRANSFORMS = {"wct": TRANSFORM_WCT, "ost": TRANSFORM_OST}
# The version-2 fields of unistyle_stylize_options: the modes beyond plain WCT. Their defaults
# come from the library (unistyle_stylize_options_init_ex); it checks ranges and combinations.
MODE_FIELDS = ("patch_swap", "transform", "variation", "seed", "stroke_scale", "photo")
# unistyle_stylize_options.precision (plugin-abi/unistyle.h).
PRECISION_F32, PRECISION_BF16 = 0, 1

if sys.platform == "win32":
    LIBRARY_NAME = "unistyle.dll"
elif sys.platform == "darwin":
    LIBRARY_NAME = "libunistyle.dylib"
else:
    LIBRARY_NAME = "libunistyle.so"


class UnistyleError(Exception):
    """A unistyle call failed. `status` is the C status code, `message` the library's text."""

    def __init__(self, status, message, call=""):
        self.status = status
        self.message = message
        self.call = call
        prefix = "%s: " % call if call and not message.startswith(call) else ""
        super().__init__("%s%s" % (prefix, message))

    @property
    def cancelled(self):
        return self.status == ERR_CANCELLED


# --- C structs, field for field as in unistyle.h ------------------------------------------

PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_float, ctypes.c_void_p)


class Image(ctypes.Structure):
    """unistyle_image"""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("channels", ctypes.c_uint32),
        ("sample_type", ctypes.c_uint32),
        ("stride", ctypes.c_size_t),
        ("data", ctypes.c_void_p),
    ]


class StylizeOptions(ctypes.Structure):
    """unistyle_stylize_options"""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("style_count", ctypes.c_uint32),
        ("styles", ctypes.POINTER(ctypes.c_void_p)),
        ("weights", ctypes.POINTER(ctypes.c_float)),
        ("mask_count", ctypes.c_uint32),
        ("masks", ctypes.POINTER(Image)),
        ("level_count", ctypes.c_uint32),
        ("levels", ctypes.POINTER(ctypes.c_uint32)),
        ("alpha", ctypes.c_float),
        ("feather", ctypes.c_float),
        ("preserve_color", ctypes.c_int),
        ("foreground_only", ctypes.c_int),
        ("progress", PROGRESS_FN),
        ("progress_user_data", ctypes.c_void_p),
        ("job", ctypes.c_void_p),
        # version 2
        ("patch_swap", ctypes.c_int),
        ("transform", ctypes.c_int),
        ("variation", ctypes.c_float),
        ("stroke_scale", ctypes.c_float),
        ("seed", ctypes.c_uint64),
        ("photo", ctypes.c_int),
        ("precision", ctypes.c_int),
    ]


class TextureOptions(ctypes.Structure):
    """unistyle_texture_options"""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("style_count", ctypes.c_uint32),
        ("styles", ctypes.POINTER(ctypes.c_void_p)),
        ("weights", ctypes.POINTER(ctypes.c_float)),
        ("mask_count", ctypes.c_uint32),
        ("masks", ctypes.POINTER(Image)),
        ("level_count", ctypes.c_uint32),
        ("levels", ctypes.POINTER(ctypes.c_uint32)),
        ("seed", ctypes.c_uint64),
        ("iterations", ctypes.c_uint32),
        ("tileable", ctypes.c_int),
        ("feather", ctypes.c_float),
        ("progress", PROGRESS_FN),
        ("progress_user_data", ctypes.c_void_p),
        ("job", ctypes.c_void_p),
        ("init", ctypes.POINTER(Image)),
        # version 2
        ("precision", ctypes.c_int),
    ]


def _mode_value(key, value):
    """A mode's value as the C field holds it (transform by name or number, flags as 0/1)."""
    if key not in MODE_FIELDS:
        raise ValueError("unknown stylize mode %r (known: %s)" % (key, ", ".join(MODE_FIELDS)))
    if key == "transform" and isinstance(value, str):
        if value.lower() not in TRANSFORMS:
            raise ValueError("transform must be one of %s, got %r" % ("/".join(TRANSFORMS), value))
        return TRANSFORMS[value.lower()]
    if key in ("patch_swap", "photo"):
        return 1 if value else 0
    if key in ("transform", "seed"):
        return int(value)
    return float(value)


# --- loading ------------------------------------------------------------------------------

def library_candidates():
    """Paths tried, in order, to find the library."""
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    env = os.environ.get("UNISTYLE_LIBRARY")
    if env:
        out.append(env)
    out.append(os.path.join(here, LIBRARY_NAME))
    # plugin-abi/python/ -> crate root
    crate = os.path.normpath(os.path.join(here, os.pardir, os.pardir))
    out.append(os.path.join(crate, "target", "release", LIBRARY_NAME))
    return out


_lib = None
_lib_lock = threading.Lock()


def _declare(lib):
    c = ctypes
    vp = c.c_void_p
    sigs = {
        "unistyle_abi_version": (c.c_uint32, []),
        "unistyle_version": (c.c_char_p, []),
        "unistyle_last_error": (c.c_char_p, []),
        "unistyle_status_string": (c.c_char_p, [c.c_int]),
        "unistyle_context_create": (c.c_int, [c.c_char_p, c.c_char_p, c.POINTER(vp)]),
        "unistyle_context_destroy": (None, [vp]),
        "unistyle_context_levels": (c.c_int, [vp, c.POINTER(c.c_uint32), c.c_uint32, c.POINTER(c.c_uint32)]),
        "unistyle_levels_parse": (c.c_int, [c.c_char_p, c.POINTER(c.c_uint32), c.c_uint32, c.POINTER(c.c_uint32)]),
        "unistyle_style_create_from_file": (c.c_int, [vp, c.c_char_p, c.c_uint32, c.POINTER(vp)]),
        "unistyle_style_create_from_image": (c.c_int, [vp, c.POINTER(Image), c.c_uint32, c.POINTER(vp)]),
        "unistyle_style_destroy": (None, [vp]),
        "unistyle_job_create": (c.c_int, [c.POINTER(vp)]),
        "unistyle_job_cancel": (None, [vp]),
        "unistyle_job_progress": (c.c_float, [vp]),
        "unistyle_job_destroy": (None, [vp]),
        "unistyle_stylize_options_init": (c.c_int, [c.POINTER(StylizeOptions)]),
        "unistyle_texture_options_init": (c.c_int, [c.POINTER(TextureOptions)]),
        "unistyle_stylize": (c.c_int, [vp, c.POINTER(Image), c.POINTER(StylizeOptions), c.POINTER(Image)]),
        "unistyle_texture": (c.c_int, [vp, c.POINTER(TextureOptions), c.POINTER(Image)]),
        "unistyle_preset_load": (c.c_int, [vp, c.c_char_p, c.POINTER(vp)]),
        "unistyle_preset_name": (c.c_char_p, [vp]),
        "unistyle_preset_description": (c.c_char_p, [vp]),
        "unistyle_preset_kind": (c.c_int, [vp]),
        "unistyle_preset_destroy": (None, [vp]),
        "unistyle_stylize_preset": (c.c_int, [vp, vp, c.POINTER(Image), c.POINTER(Image), PROGRESS_FN, vp, vp]),
        "unistyle_texture_preset": (c.c_int, [vp, vp, c.POINTER(Image), PROGRESS_FN, vp, vp]),
    }
    # Newer calls: declared when the library has them (an older library still loads).
    optional = {
        "unistyle_preview": (c.c_int, [vp, c.POINTER(Image), c.POINTER(StylizeOptions), c.POINTER(Image)]),
        "unistyle_stylize_options_init_ex": (c.c_int, [c.POINTER(StylizeOptions), c.c_uint32]),
        "unistyle_param_bounds": (
            c.c_int,
            [c.c_char_p, c.POINTER(c.c_double), c.POINTER(c.c_double), c.POINTER(c.c_double), c.POINTER(c.c_int)],
        ),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    for name, (res, args) in optional.items():
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = res
            fn.argtypes = args


def load_library():
    """Loads (once) and returns the ctypes library, checking its ABI version."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        env = os.environ.get("UNISTYLE_LIBRARY")
        if env and not os.path.isfile(env):
            raise UnistyleError(ERR_IO, "UNISTYLE_LIBRARY names %s, which does not exist" % env)
        tried = []
        for path in library_candidates():
            if not os.path.isfile(path):
                tried.append("%s (missing)" % path)
                continue
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                tried.append("%s (%s)" % (path, e))
                continue
            _declare(lib)
            abi = lib.unistyle_abi_version()
            if abi != ABI_VERSION:
                raise UnistyleError(ERR_VERSION, "%s has ABI version %d, this binding expects %d" % (path, abi, ABI_VERSION))
            lib.path = path
            _lib = lib
            return lib
        raise UnistyleError(
            ERR_IO,
            "cannot load %s; set UNISTYLE_LIBRARY or build it with `cargo build --release`. Tried: %s"
            % (LIBRARY_NAME, "; ".join(tried)),
        )


def _text(b):
    return b.decode("utf-8", "replace") if b else ""


def check(status, call):
    """Raises UnistyleError for a non-OK status, with unistyle_last_error()'s message."""
    if status != OK:
        lib = load_library()
        msg = _text(lib.unistyle_last_error()) or _text(lib.unistyle_status_string(status))
        raise UnistyleError(status, msg, call)


def version():
    return _text(load_library().unistyle_version())


def _path_arg(p):
    if p is None:
        return None
    return os.fsencode(os.fspath(p))


class Bounds(object):
    """A numeric parameter's range from the library (unistyle_param_bounds): build a control
    from it instead of writing the numbers in the plug-in."""

    def __init__(self, key, minimum, maximum, default, integer):
        self.key, self.min, self.max, self.default, self.integer = key, minimum, maximum, default, integer

    def __repr__(self):
        return "Bounds(%r, %r, %r, %r, %r)" % (self.key, self.min, self.max, self.default, self.integer)


def param_bounds(key):
    """The library's range of the parameter `key` (a preset key: "alpha", "feather",
    "stroke_scale", "texture.width", ...; "-" for "_" accepted) as a Bounds; an unknown key
    raises UnistyleError (ERR_INVALID)."""
    lib = load_library()
    if getattr(lib, "unistyle_param_bounds", None) is None:
        raise UnistyleError(ERR_VERSION, "%s predates unistyle_param_bounds" % lib.path)
    lo, hi, default = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    integer = ctypes.c_int()
    status = lib.unistyle_param_bounds(
        key.encode("utf-8"), ctypes.byref(lo), ctypes.byref(hi), ctypes.byref(default), ctypes.byref(integer)
    )
    check(status, "unistyle_param_bounds")
    return Bounds(key, lo.value, hi.value, default.value, bool(integer.value))


def parse_levels(levels):
    """"3,2,1" / [3, 2, 1] / None -> list of ints (empty = every level). Text is parsed by
    the library (unistyle_levels_parse): the CLI's rules and messages; a bad string raises
    UnistyleError (ERR_INVALID) with the library's message."""
    if levels is None:
        return []
    if isinstance(levels, str):
        lib = load_library()
        buf = (ctypes.c_uint32 * 8)()
        count = ctypes.c_uint32(0)
        check(lib.unistyle_levels_parse(levels.encode("utf-8"), buf, 8, ctypes.byref(count)), "unistyle_levels_parse")
        return list(buf[: count.value])
    return [int(v) for v in levels]


# --- images -------------------------------------------------------------------------------

class Buffer:
    """Interleaved pixels owned by Python, described to the library as a unistyle_image."""

    def __init__(self, width, height, channels, sample_type=U8, data=None):
        if sample_type not in SAMPLE_SIZE:
            raise ValueError("unknown sample type %r" % sample_type)
        self.width, self.height, self.channels, self.sample_type = int(width), int(height), int(channels), sample_type
        self.stride = self.width * self.channels * SAMPLE_SIZE[sample_type]
        size = self.stride * self.height
        if data is None:
            self._mem = (ctypes.c_char * max(size, 1))()
        else:
            if len(data) != size:
                raise ValueError("pixel data has %d bytes, expected %d for %dx%d, %d channels" % (
                    len(data), size, self.width, self.height, self.channels))
            self._mem = (ctypes.c_char * max(size, 1)).from_buffer_copy(bytes(data) if size else b"\0")
        self.image = Image(ctypes.sizeof(Image), self.width, self.height, self.channels, sample_type,
                           self.stride, ctypes.cast(self._mem, ctypes.c_void_p))

    def tobytes(self):
        return ctypes.string_at(self._mem, self.stride * self.height)


# --- handles ------------------------------------------------------------------------------

class _Progress:
    """Wraps a Python callable (fraction -> truthy to cancel) as a C callback that never raises."""

    def __init__(self, fn):
        self.fn = fn
        self.error = None

        def call(fraction, _user):
            if self.fn is None:
                return 0
            try:
                return 1 if self.fn(float(fraction)) else 0
            except BaseException as e:  # never unwind into C: cancel instead, re-raise later
                self.error = e
                return 1

        self.c = PROGRESS_FN(call)


class Context:
    """unistyle_context: the model (weights) on a device. Usable as a context manager."""

    def __init__(self, weights=None, device="cpu"):
        self._lib = load_library()
        self._h = ctypes.c_void_p()
        check(self._lib.unistyle_context_create(_path_arg(weights), device.encode() if device else None,
                                                ctypes.byref(self._h)), "unistyle_context_create")
        self.weights = weights

    @property
    def handle(self):
        if not self._h:
            raise UnistyleError(ERR_NULL, "context is closed")
        return self._h

    def levels(self):
        buf = (ctypes.c_uint32 * 8)()
        count = ctypes.c_uint32()
        check(self._lib.unistyle_context_levels(self.handle, buf, 8, ctypes.byref(count)), "unistyle_context_levels")
        return list(buf[: min(count.value, 8)])

    def style_from_file(self, path, max_size=0):
        return Style(self, path=path, max_size=max_size)

    def style_from_buffer(self, buf, max_size=0):
        return Style(self, buffer=buf, max_size=max_size)

    def preset(self, path):
        return Preset(self, path)

    def stylize(self, content, styles, alpha=1.0, levels=None, weights=None, masks=None, feather=0.0,
                preserve_color=False, foreground_only=False, progress=None, output=None, job=None, modes=None):
        """Stylizes Buffer `content` with Style(s); returns the output Buffer (same layout
        unless `output` is given). `progress(fraction)` returning True cancels; so does
        `job.cancel()` from another thread. `modes`: a dict of MODE_FIELDS (e.g.
        {"transform": "ost", "variation": 0.5, "seed": 3}); the others keep the library's
        defaults."""
        out = output or Buffer(content.width, content.height, content.channels, content.sample_type)
        return self._stylize_call("unistyle_stylize", content, out, styles, alpha, levels, weights, masks, feather,
                                  preserve_color, foreground_only, progress, job, modes)

    def preview(self, content, width, height, styles, alpha=1.0, levels=None, weights=None, masks=None,
                feather=0.0, preserve_color=False, foreground_only=False, progress=None, job=None,
                channels=4, sample_type=U8, modes=None):
        """The library's preview: `content` (and masks) downsampled to width x height, then
        stylized with the same settings as `stylize`. Returns the preview Buffer."""
        if not hasattr(self._lib, "unistyle_preview"):
            raise UnistyleError(ERR_VERSION, "%s has no unistyle_preview: update the library" % self._lib.path)
        out = Buffer(width, height, channels, sample_type)
        # Previews trade the last digits for speed: bf16 products (invisible at preview size).
        return self._stylize_call("unistyle_preview", content, out, styles, alpha, levels, weights, masks, feather,
                                  preserve_color, foreground_only, progress, job, modes, precision=PRECISION_BF16)

    def stylize_options(self, modes=None):
        """A StylizeOptions with the library's defaults (unistyle_stylize_options_init_ex with
        this struct's real size) and `modes` set."""
        opts = StylizeOptions()
        init_ex = getattr(self._lib, "unistyle_stylize_options_init_ex", None)
        if init_ex is not None:
            check(init_ex(ctypes.byref(opts), ctypes.sizeof(StylizeOptions)), "unistyle_stylize_options_init_ex")
        elif modes:
            raise UnistyleError(ERR_VERSION, "%s has no stylize modes (patch swap, transform, variation, stroke "
                                "scale, photo): update the library" % self._lib.path)
        else:
            check(self._lib.unistyle_stylize_options_init(ctypes.byref(opts)), "unistyle_stylize_options_init")
        for key, value in (modes or {}).items():
            setattr(opts, key, _mode_value(key, value))
        return opts

    def _stylize_call(self, call, content, out, styles, alpha, levels, weights, masks, feather, preserve_color,
                      foreground_only, progress, job, modes=None, precision=None):
        styles = styles if isinstance(styles, (list, tuple)) else [styles]
        opts = self.stylize_options(modes)
        if precision is not None and hasattr(self._lib, "unistyle_stylize_options_init_ex"):
            opts.precision = precision
        keep = self._common(opts, styles, weights, masks, levels)
        opts.alpha = float(alpha)
        opts.feather = float(feather)
        opts.preserve_color = 1 if preserve_color else 0
        opts.foreground_only = 1 if foreground_only else 0
        prog = _Progress(progress)
        opts.progress = prog.c
        opts.job = _job_handle(job)
        status = getattr(self._lib, call)(self.handle, ctypes.byref(content.image), ctypes.byref(opts),
                                          ctypes.byref(out.image))
        del keep
        if prog.error is not None:
            raise prog.error
        check(status, call)
        return out

    def texture(self, width, height, styles, channels=3, sample_type=U8, seed=0, iterations=3, tileable=False,
                levels=None, weights=None, masks=None, feather=0.0, init=None, progress=None, job=None):
        """Synthesizes a width x height texture; returns a Buffer."""
        styles = styles if isinstance(styles, (list, tuple)) else [styles]
        out = Buffer(width, height, channels, sample_type)
        opts = TextureOptions()
        check(self._lib.unistyle_texture_options_init(ctypes.byref(opts)), "unistyle_texture_options_init")
        keep = self._common(opts, styles, weights, masks, levels)
        opts.seed = int(seed)
        opts.iterations = int(iterations)
        opts.tileable = 1 if tileable else 0
        opts.feather = float(feather)
        if init is not None:
            opts.init = ctypes.pointer(init.image)
        prog = _Progress(progress)
        opts.progress = prog.c
        opts.job = _job_handle(job)
        status = self._lib.unistyle_texture(self.handle, ctypes.byref(opts), ctypes.byref(out.image))
        del keep
        if prog.error is not None:
            raise prog.error
        check(status, "unistyle_texture")
        return out

    def _common(self, opts, styles, weights, masks, levels):
        """Fills the fields both option structs share; returns the ctypes arrays to keep alive."""
        if not styles:
            raise ValueError("at least one style is needed")
        for s in styles:
            if s.context is not self:
                raise ValueError("a style belongs to another context")
        style_arr = (ctypes.c_void_p * len(styles))(*[s.handle.value for s in styles])
        opts.style_count = len(styles)
        opts.styles = ctypes.cast(style_arr, ctypes.POINTER(ctypes.c_void_p))
        keep = [style_arr]
        if weights is not None:
            w = (ctypes.c_float * len(weights))(*[float(v) for v in weights])
            opts.weights = ctypes.cast(w, ctypes.POINTER(ctypes.c_float))
            keep.append(w)
        if masks:
            m = (Image * len(masks))(*[b.image for b in masks])
            opts.mask_count = len(masks)
            opts.masks = ctypes.cast(m, ctypes.POINTER(Image))
            keep += [m, masks]
        lv = parse_levels(levels)
        if lv:
            arr = (ctypes.c_uint32 * len(lv))(*lv)
            opts.level_count = len(lv)
            opts.levels = ctypes.cast(arr, ctypes.POINTER(ctypes.c_uint32))
            keep.append(arr)
        return keep

    def close(self):
        if self._h:
            self._lib.unistyle_context_destroy(self._h)
            self._h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Style:
    """unistyle_style: a style image encoded once; keeps its context alive."""

    def __init__(self, context, path=None, buffer=None, max_size=0):
        self.context = context
        self._lib = context._lib
        self._h = ctypes.c_void_p()
        if path is not None:
            check(self._lib.unistyle_style_create_from_file(context.handle, _path_arg(path), int(max_size),
                                                            ctypes.byref(self._h)), "unistyle_style_create_from_file")
        elif buffer is not None:
            check(self._lib.unistyle_style_create_from_image(context.handle, ctypes.byref(buffer.image), int(max_size),
                                                             ctypes.byref(self._h)), "unistyle_style_create_from_image")
        else:
            raise ValueError("a style needs a path or a buffer")

    @property
    def handle(self):
        if not self._h:
            raise UnistyleError(ERR_NULL, "style is closed")
        return self._h

    def close(self):
        if self._h:
            self._lib.unistyle_style_destroy(self._h)
            self._h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _Owned:
    """A library handle freed by `_destroy` (the C function's name) on close() or collection."""

    _destroy = ""

    def close(self):
        if self._h:
            getattr(self._lib, self._destroy)(self._h)
            self._h = ctypes.c_void_p()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Job(_Owned):
    """unistyle_job: cancel a running call from another thread, read its progress.
    Cancelling is final: use a new Job for each call that may be cancelled."""

    _destroy = "unistyle_job_destroy"

    def __init__(self):
        self._lib = load_library()
        self._h = ctypes.c_void_p()
        check(self._lib.unistyle_job_create(ctypes.byref(self._h)), "unistyle_job_create")

    def cancel(self):
        if self._h:
            self._lib.unistyle_job_cancel(self._h)

    def progress(self):
        return float(self._lib.unistyle_job_progress(self._h)) if self._h else 0.0


def _job_handle(job):
    return job._h if job is not None else None


PRESET_STYLIZE = 0
PRESET_TEXTURE = 1


class Preset(_Owned):
    """unistyle_preset: a TOML preset (presets/README.md) with its styles encoded."""

    _destroy = "unistyle_preset_destroy"

    def __init__(self, context, path):
        self.context = context
        self._lib = context._lib
        self.path = path
        self._h = ctypes.c_void_p()
        check(self._lib.unistyle_preset_load(context.handle, _path_arg(path), ctypes.byref(self._h)),
              "unistyle_preset_load")
        self.name = _text(self._lib.unistyle_preset_name(self._h))
        self.description = _text(self._lib.unistyle_preset_description(self._h))
        self.kind = self._lib.unistyle_preset_kind(self._h)

    @property
    def handle(self):
        if not self._h:
            raise UnistyleError(ERR_NULL, "preset is closed")
        return self._h

    def stylize(self, content, output=None, progress=None, job=None):
        """Stylizes Buffer `content` with everything the preset says; returns the output Buffer."""
        out = output or Buffer(content.width, content.height, content.channels, content.sample_type)
        return self._run("unistyle_stylize_preset", [ctypes.byref(content.image), ctypes.byref(out.image)], out,
                         progress, job)

    def texture(self, width, height, channels=3, sample_type=U8, progress=None, job=None):
        """The preset's texture at width x height; returns a Buffer."""
        out = Buffer(width, height, channels, sample_type)
        return self._run("unistyle_texture_preset", [ctypes.byref(out.image)], out, progress, job)

    def _run(self, call, images, out, progress, job):
        prog = _Progress(progress)
        status = getattr(self._lib, call)(self.context.handle, self.handle, *images, prog.c, None, _job_handle(job))
        if prog.error is not None:
            raise prog.error
        check(status, call)
        return out


# === Animation clips (issue 25): unistyle_clip_* =============================================
# A self-contained block (structs, declarations, class) so it can move with this file.

DEFAULT_STABILITY = 0.6  # UNISTYLE_DEFAULT_STABILITY


class ClipOptions(ctypes.Structure):
    """unistyle_clip_options"""

    _fields_ = [("struct_size", ctypes.c_uint32), ("stability", ctypes.c_float)]


class RunOptions(ctypes.Structure):
    """unistyle_run_options"""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("progress", PROGRESS_FN),
        ("progress_user_data", ctypes.c_void_p),
        ("job", ctypes.c_void_p),
    ]


def _declare_clip(lib):
    """Declares the clip calls; UnistyleError(ERR_VERSION) when the library predates them."""
    c = ctypes
    vp = c.c_void_p
    sigs = {
        "unistyle_clip_options_init": (c.c_int, [c.POINTER(ClipOptions), c.c_uint32]),
        "unistyle_run_options_init": (c.c_int, [c.POINTER(RunOptions), c.c_uint32]),
        "unistyle_clip_new": (c.c_int, [vp, c.POINTER(StylizeOptions), c.POINTER(ClipOptions), c.POINTER(vp)]),
        "unistyle_clip_new_preset": (c.c_int, [vp, vp, c.POINTER(ClipOptions), c.POINTER(vp)]),
        "unistyle_clip_push_frame": (c.c_int, [vp, c.POINTER(Image), c.POINTER(Image), c.POINTER(RunOptions)]),
        "unistyle_clip_frames": (c.c_uint64, [vp]),
        "unistyle_clip_free": (None, [vp]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name, None)
        if fn is None:
            raise UnistyleError(ERR_VERSION, "%s has no %s (animation clips): update the library"
                                % (getattr(lib, "path", "the library"), name))
        fn.restype = res
        fn.argtypes = args


class Clip(_Owned):
    """unistyle_clip: frames stylized in order as one clip, with the temporal stabilizer
    (stability 0..1; 0 = every frame as Context.stylize would). Made from a Context and
    Style(s) with the same settings as Context.stylize, or from a Preset. The clip copies
    what it needs: styles and preset may be closed while it lives; the context may not."""

    _destroy = "unistyle_clip_free"

    def __init__(self, context, styles=None, preset=None, stability=DEFAULT_STABILITY, alpha=1.0, levels=None,
                 weights=None, masks=None, feather=0.0, preserve_color=False, foreground_only=False, modes=None):
        self.context = context
        self._lib = context._lib
        _declare_clip(self._lib)
        self._h = ctypes.c_void_p()
        copts = ClipOptions()
        check(self._lib.unistyle_clip_options_init(ctypes.byref(copts), ctypes.sizeof(ClipOptions)),
              "unistyle_clip_options_init")
        copts.stability = float(stability)
        if preset is not None:
            check(self._lib.unistyle_clip_new_preset(context.handle, preset.handle, ctypes.byref(copts),
                                                     ctypes.byref(self._h)), "unistyle_clip_new_preset")
            return
        styles = styles if isinstance(styles, (list, tuple)) else [styles]
        opts = context.stylize_options(modes)
        keep = context._common(opts, styles, weights, masks, levels)
        opts.alpha = float(alpha)
        opts.feather = float(feather)
        opts.preserve_color = 1 if preserve_color else 0
        opts.foreground_only = 1 if foreground_only else 0
        status = self._lib.unistyle_clip_new(context.handle, ctypes.byref(opts), ctypes.byref(copts),
                                             ctypes.byref(self._h))
        del keep
        check(status, "unistyle_clip_new")

    @property
    def handle(self):
        if not self._h:
            raise UnistyleError(ERR_NULL, "clip is closed")
        return self._h

    def frames(self):
        """Frames stylized so far."""
        return int(self._lib.unistyle_clip_frames(self._h)) if self._h else 0

    def push(self, content, output=None, progress=None, job=None):
        """Stylizes the next frame (Buffer `content`); returns the output Buffer (same layout
        unless `output` is given). `progress(fraction)` within the frame, True cancels; so does
        `job.cancel()`. A cancelled or failed frame leaves the clip as before it."""
        out = output or Buffer(content.width, content.height, content.channels, content.sample_type)
        run = RunOptions()
        check(self._lib.unistyle_run_options_init(ctypes.byref(run), ctypes.sizeof(RunOptions)),
              "unistyle_run_options_init")
        prog = _Progress(progress)
        run.progress = prog.c
        run.job = _job_handle(job)
        status = self._lib.unistyle_clip_push_frame(self.handle, ctypes.byref(content.image), ctypes.byref(out.image),
                                                    ctypes.byref(run))
        if prog.error is not None:
            raise prog.error
        check(status, "unistyle_clip_push_frame")
        return out
