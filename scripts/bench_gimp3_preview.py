#!/usr/bin/env python3
"""Latency of the GIMP 3 dialog's live preview through the plug-in's own code path: the
Engine of plugin-abi/gimp3/unistyle/unistyle_engine.py (style encoded once, kept) and the
binding's Context.preview at bf16, exactly what the dialog's worker thread calls on every
settings change; a 1024x1024 drawable previewed at 256x256 (as examples/preview_latency.rs).

    scripts/bench_gimp3_preview.py [SHARED_DIR]     (library: target/release, or UNISTYLE_LIBRARY)

Prints the median and best wall time of 7 runs and the process CPU time per run (all threads):
on a machine shared with other work the wall time grows, the CPU time does not.
"""

import os
import statistics
import struct
import sys
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "plugin-abi", "gimp3", "unistyle"), os.path.join(ROOT, "plugin-abi", "python")]

import unistyle_ctypes as us  # noqa: E402
from unistyle_engine import Engine, Settings  # noqa: E402


def read_png_rgb8(path):
    """(width, height, RGB bytes) of an 8-bit RGB, non-interlaced PNG."""
    data = open(path, "rb").read()
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour == 2 and interlace == 0, "needs 8-bit RGB, not interlaced"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, out, prev = zlib.decompress(idat), width * 3, bytearray(), bytearray(width * 3)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return width, height, bytes(out)


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("UNISTYLE_SHARED") or os.path.join(ROOT, "..", "shared")
    w, h, rgb = read_png_rgb8(os.path.join(shared, "images/content/tubingen_1024.png"))
    settings = Settings(style=os.path.join(shared, "images/style/starry_256.png"),
                        weights=os.path.join(shared, "weights/wct-vgg19-relu3.safetensors"), levels="3,2,1",
                        alpha=0.6, feather=0.0, transform="wct", stroke_scale=1.0)
    engine = Engine()
    t = time.monotonic()
    engine.prepare(settings)
    print("context + style encoding (once per dialog): %.2f s" % (time.monotonic() - t))
    source = us.Buffer(w, h, 3, us.U8, rgb)
    args = engine.stylize_arguments(settings, None)
    walls, cpus = [], []
    for i in range(8):
        job = us.Job()
        t, c = time.monotonic(), time.process_time()
        engine.context.preview(source, 256, 256, job=job, channels=3, sample_type=us.U8, **args)
        if i:  # the first is a warm-up
            walls.append(time.monotonic() - t)
            cpus.append(time.process_time() - c)
        job.close()
    print("preview %dx%d -> 256x256 at bf16 through the plug-in's engine: median %.3f s, best %.3f s wall; "
          "%.3f s CPU per run (%d CPUs)" % (w, h, statistics.median(walls), min(walls), statistics.median(cpus),
                                            os.cpu_count()))
    engine.close()


if __name__ == "__main__":
    main()
