"""Apply to animation: every keyframe of a layer within the document's playback range,
stylized in order as one clip (the library's temporal stabilizer against flicker), into a new
animated layer.

Reading and writing run in Krita's GUI thread (`keyframe_times`, `read_keyframes`,
`write_animation`); `stylize_frames` touches no Krita object and runs in the docker's worker.
The new layer is made by Krita's own import of animation frames (Document.importAnimation)
from temporary 8-bit PNG files, complete before it appears; deleting it restores the picture.
"""

import math
import os
import shutil
import tempfile

from . import core
from . import pixels
from . import unistyle_ctypes as us


def keyframe_times(doc, node):
    """The times of `node`'s keyframes within the playback range of `doc`, ascending."""
    if node is None:
        raise ValueError("no active layer: select an animated layer first")
    if node.type() not in ("paintlayer",):
        raise ValueError("layer %r is a %s; Apply to animation takes an animated paint layer" % (node.name(), node.type()))
    if not node.animated():
        raise ValueError("layer %r is not animated: it has no keyframes to stylize" % node.name())
    start, end = doc.playBackStartTime(), doc.playBackEndTime()
    times = [t for t in range(start, end + 1) if node.hasKeyframeAtTime(t)]
    if not times:
        raise ValueError("layer %r has no keyframe between frames %d and %d (the playback range)"
                         % (node.name(), start, end))
    return times


def read_keyframes(doc, node, times):
    """The canvas-sized pixels of `node` at each time, as unistyle Buffers in its layout."""
    lay = pixels.layout(node.colorModel(), node.colorDepth())
    w, h = doc.width(), doc.height()
    frames = []
    for t in times:
        raw = bytes(node.pixelDataAtTime(0, 0, w, h, t).data())
        frames.append(us.Buffer(w, h, lay.channels, lay.sample_type, pixels.to_unistyle(raw, lay)))
    return frames


def make_clip(look, stability):
    """A unistyle Clip for `look` (a looks.Look: a style image or a preset)."""
    ctx = core.context(look.weights)
    if look.preset:
        return us.Clip(ctx, preset=core.preset(ctx, look.preset), stability=stability)
    styles = [core.style(ctx, look.style, look.style_size)]
    return us.Clip(ctx, styles, stability=stability, alpha=look.alpha, levels=look.levels,
                   preserve_color=look.preserve_color, modes=look.modes)


def stylize_frames(look, frames, stability=us.DEFAULT_STABILITY, progress=None, job=None):
    """Stylizes the Buffers `frames` in order as one clip; returns 8-bit RGBA Buffers.
    `progress(fraction)` over the whole clip (True cancels); `job` cancels from elsewhere."""
    clip = make_clip(look, stability)
    out = []
    try:
        n = len(frames)
        for i, f in enumerate(frames):
            sub = None if progress is None else (lambda x, i=i: progress((i + x) / n))
            out.append(clip.push(f, us.Buffer(f.width, f.height, 4, us.U8), progress=sub, job=job))
    finally:
        clip.close()
    return out


def frame_files(times):
    """(first frame, step, index of the result shown at each step) for keyframes at `times`:
    the step is the largest that lands on every keyframe, a held keyframe is repeated."""
    first = times[0]
    step = 0
    for t in times[1:]:
        step = math.gcd(step, t - first)
    step = step or 1
    picks, k = [], 0
    for t in range(first, times[-1] + 1, step):
        while k + 1 < len(times) and times[k + 1] <= t:
            k += 1
        picks.append(k)
    return first, step, picks


def write_animation(doc, node, times, results, name="unistyle animation"):
    """A new animated paint layer with `results` (8-bit RGBA Buffers) at `times`, added by
    Krita's import of animation frames. Returns the new layer."""
    from .qt_compat import QtGui, enum

    first, step, picks = frame_files(times)
    folder = tempfile.mkdtemp(prefix="unistyle-animation-")
    try:
        files = []
        fmt = enum(QtGui.QImage, "Format", "Format_RGBA8888")
        for i, buf in enumerate(results):
            path = os.path.join(folder, "frame_%05d.png" % i)
            data = buf.tobytes()  # QImage borrows it until saved
            img = QtGui.QImage(data, buf.width, buf.height, 4 * buf.width, fmt)
            if not img.save(path, "PNG"):
                raise RuntimeError("could not write the frame %s" % path)
            files.append(path)
        before = set(_ids(doc.rootNode()))
        if node is not None:
            doc.setActiveNode(node)
        if not doc.importAnimation([files[k] for k in picks], first, step):
            raise RuntimeError("Krita refused to import the stylized frames")
        doc.waitForDone()
        new = [n for n in _nodes(doc.rootNode()) if _id(n) not in before]
        layer = new[0] if new else None
        if layer is not None:
            layer.setName(name)
            doc.setActiveNode(layer)
        doc.refreshProjection()
        return layer
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _id(node):
    return node.uniqueId().toString() if hasattr(node, "uniqueId") else id(node)


def _nodes(root):
    for n in root.childNodes():
        yield n
        yield from _nodes(n)


def _ids(root):
    return [_id(n) for n in _nodes(root)]
