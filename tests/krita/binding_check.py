import os, sys
import unistyle_ctypes as us

out, shared, weights, layout = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

# The ctypes structs have the library's sizes and offsets (from the Rust definitions).
import ctypes
mine = {
    "image": ctypes.sizeof(us.Image), "stylize": ctypes.sizeof(us.StylizeOptions),
    "texture": ctypes.sizeof(us.TextureOptions),
}
for cls, key in ((us.Image, "image"), (us.StylizeOptions, "stylize"), (us.TextureOptions, "texture")):
    for name, _ in cls._fields_:
        mine["%s.%s" % (key, name)] = getattr(cls, name).offset
theirs = dict((k, int(v)) for k, v in (item.split("=") for item in layout.split(",")))
assert mine == theirs, "layout mismatch:\n%r\n%r" % (sorted(mine.items()), sorted(theirs.items()))
lib = us.load_library()
print("library", lib.path, "version", us.version())

# A bad weights path: UnistyleError naming the file.
try:
    us.Context("/no/such/weights.safetensors")
    sys.exit("bad weights accepted")
except us.UnistyleError as e:
    assert e.status in (us.ERR_IO, us.ERR_WEIGHTS), e.status
    assert "/no/such/weights.safetensors" in str(e), str(e)
    print("bad weights:", e)

ctx = us.Context(weights)
assert ctx.levels() == [1, 2, 3], ctx.levels()

# A missing style file and a bad level: errors, not crashes.
try:
    ctx.style_from_file("/no/style.png")
    sys.exit("missing style accepted")
except us.UnistyleError as e:
    assert "/no/style.png" in str(e), str(e)
style = ctx.style_from_file(os.path.join(shared, "images/style/brick_256.png"))
content = us.Buffer(8, 8, 4, us.U8, bytes(range(256)))
try:
    ctx.stylize(content, style, levels="9")
    sys.exit("level 9 accepted")
except us.UnistyleError as e:
    assert e.status == us.ERR_INVALID and "must be in 1..=5, got 9 (in '9')" in str(e), (e.status, str(e))
    print("bad level:", e)
assert us.parse_levels(" 3, 2,1") == [3, 2, 1] and us.parse_levels("") == []
try:
    ctx.stylize(content, style, levels=[4])
    sys.exit("level 4 accepted by 1-3 weights")
except us.UnistyleError as e:
    assert e.status == us.ERR_LEVEL, (e.status, str(e))

# The modes: defaults from _init_ex with the struct's real size; bad values refused in words.
opts = ctx.stylize_options()
assert opts.struct_size == ctypes.sizeof(us.StylizeOptions), opts.struct_size
assert (opts.patch_swap, opts.transform, opts.variation, opts.seed, opts.stroke_scale, opts.photo) == \
    (0, us.TRANSFORM_WCT, 0.0, 0, 1.0, 0)
opts = ctx.stylize_options({"transform": "ost", "variation": 0.5, "seed": 9, "photo": True})
assert (opts.transform, opts.variation, opts.seed, opts.photo) == (us.TRANSFORM_OST, 0.5, 9, 1)
for bad in ({"transform": "xyz"}, {"colour": 1}):
    try:
        ctx.stylize_options(bad)
        sys.exit("mode %r accepted" % bad)
    except ValueError as e:
        print("bad mode:", e)
try:
    ctx.stylize(content, style, modes={"patch_swap": True, "transform": "ost"})
    sys.exit("patch swap with OST accepted")
except us.UnistyleError as e:
    assert e.status == us.ERR_INVALID, (e.status, str(e))
    print("patch swap with OST:", e)

# Texture, as the CLI's `texture --width 64 --height 48 --seed 5 --iterations 1 --tileable`.
seen = []
tex = ctx.texture(64, 48, style, seed=5, iterations=1, tileable=True, progress=lambda f: seen.append(f))
assert seen and seen[-1] == 1.0, seen
with open(os.path.join(out, "tex.rgb"), "wb") as f:
    f.write(tex.tobytes())

# Cancel from the callback, and an exception raised in it, surface as Python exceptions.
try:
    ctx.texture(32, 32, style, iterations=1, progress=lambda f: True)
    sys.exit("cancel ignored")
except us.UnistyleError as e:
    assert e.cancelled, e
def boom(f):
    raise KeyError("from the callback")
try:
    ctx.texture(32, 32, style, iterations=1, progress=boom)
    sys.exit("callback exception lost")
except KeyError:
    pass

# The conversions the plug-in uses (no Krita needed).
sys.path.insert(0, os.path.join(os.path.dirname(us.__file__), "..", "krita"))
from unistyle_krita import pixels
lay = pixels.layout("RGBA", "U8")
assert pixels.to_unistyle(bytes([1, 2, 3, 4]), lay) == bytes([3, 2, 1, 4])
assert pixels.from_unistyle(pixels.to_unistyle(bytes(range(16)), lay), lay) == bytes(range(16))
lay16 = pixels.layout("RGBA", "U16")
import struct
assert struct.unpack("=4H", pixels.to_unistyle(struct.pack("=4H", 1, 2, 65535, 4), lay16)) == (65535, 2, 1, 4)
half = pixels.layout("RGBA", "F16")
assert struct.unpack("=4f", pixels.to_unistyle(struct.pack("=4e", 0.5, 1.0, 0.25, 1.0), half)) == (0.5, 1.0, 0.25, 1.0)
assert pixels.rgb8_to_bgra8(bytes([10, 20, 30])) == bytes([30, 20, 10, 255])
for model, depth in (("CMYKA", "U8"), ("RGBA", "U32")):
    try:
        pixels.layout(model, depth)
        sys.exit("%s %s accepted" % (model, depth))
    except ValueError:
        pass
style.close()
ctx.close()
# Control ranges come from the library, by preset key or argument name.
b = us.param_bounds("alpha")
assert (b.min, b.max, b.integer) == (0.0, 1.0, False), b
assert us.param_bounds("stroke-scale").min == 0.125
assert us.param_bounds("texture.iterations").integer
try:
    us.param_bounds("levels")
    raise SystemExit("levels has no numeric range")
except us.UnistyleError as e:
    assert "no numeric range" in str(e), e
print("binding ok")
