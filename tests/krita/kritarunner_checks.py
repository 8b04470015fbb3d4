import json, os, sys, time, traceback

OUT = os.environ["UNISTYLE_TEST_OUT"]
SHARED = os.environ["UNISTYLE_SHARED"]
WEIGHTS = os.environ["UNISTYLE_WEIGHTS"]
status = {"ok": False, "steps": []}


def save(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def fill(doc, node, bgra8, fmt):
    """Writes 8-bit BGRA pixels into a node of another depth (fmt: U8/U16/F16/F32)."""
    import struct
    from PyQt5.QtCore import QByteArray
    if fmt == "U8":
        data = bgra8
    elif fmt == "U16":
        data = struct.pack("=%dH" % len(bgra8), *[v * 257 for v in bgra8])
    else:
        rgba = bytearray(bgra8)
        rgba[0::4], rgba[2::4] = rgba[2::4], rgba[0::4]
        code = "e" if fmt == "F16" else "f"
        data = struct.pack("=%d%s" % (len(rgba), code), *[v / 255.0 for v in rgba])
    node.setPixelData(QByteArray(data), 0, 0, doc.width(), doc.height())


def main(*args):
    try:
        run()
        status["ok"] = True
    except BaseException:
        status["error"] = traceback.format_exc()
    with open(os.path.join(OUT, "status.json"), "w") as f:
        json.dump(status, f, indent=1)


def run():
    from krita import Krita, InfoObject, Selection
    from unistyle_krita import core, pixels, unistyle_ctypes as us
    k = Krita.instance()
    status["krita"] = k.version()
    status["library"] = us.load_library().path
    status["python"] = sys.version.split()[0]

    # 1. The contract: open the content, stylize its first paint layer, export a PNG.
    content = os.path.join(SHARED, "images/content/tubingen_256.png")
    style = os.path.join(SHARED, "images/style/starry_256.png")
    t0 = time.monotonic()
    doc = k.openDocument(content)
    assert doc is not None, "Krita could not open " + content
    doc.setBatchmode(True)
    node = [n for n in doc.topLevelNodes() if n.type() == "paintlayer"][0]
    w, h = doc.width(), doc.height()
    status["content"] = [w, h, node.colorModel(), node.colorDepth()]
    original = bytes(node.pixelData(0, 0, w, h).data())
    fractions = []
    t = time.monotonic()
    core.stylize_node(doc, node, style, 0.6, "3,2,1", weights=WEIGHTS, progress=lambda f: fractions.append(f))
    status["stylize_s"] = time.monotonic() - t
    status["progress"] = [fractions[0], fractions[-1], len(fractions)] if fractions else []
    save("krita_u8.bgra", bytes(node.pixelData(0, 0, w, h).data()))
    assert doc.exportImage(os.path.join(OUT, "krita.png"), InfoObject()), "exportImage failed"
    status["open_stylize_export_s"] = time.monotonic() - t0
    status["steps"].append("stylize")

    # 2. Other depths and models: the same pixels in a 16-bit, half and float RGBA document.
    for fmt in ("U16", "F16", "F32"):
        d = k.createDocument(w, h, fmt, "RGBA", fmt, "", 72.0)
        d.setBatchmode(True)
        n = d.topLevelNodes()[0]
        fill(d, n, original, fmt)
        t = time.monotonic()
        core.stylize_node(d, n, style, 0.6, [3, 2, 1], weights=WEIGHTS)
        status["stylize_%s_s" % fmt] = time.monotonic() - t
        save("krita_%s.raw" % fmt, bytes(n.pixelData(0, 0, w, h).data()))
        d.close()
    status["steps"].append("depths")

    # Grayscale/Alpha: runs, keeps alpha, changes the gray values.
    g = k.createDocument(64, 48, "gray", "GRAYA", "U8", "", 72.0)
    g.setBatchmode(True)
    gn = g.topLevelNodes()[0]
    from PyQt5.QtCore import QByteArray
    gray = bytes([(x * 4 + y) % 256 if i == 0 else (100 + x) for y in range(48) for x in range(64) for i in range(2)])
    gn.setPixelData(QByteArray(gray), 0, 0, 64, 48)
    core.stylize_node(g, gn, style, 1.0, "3,2,1", weights=WEIGHTS)
    after = bytes(gn.pixelData(0, 0, 64, 48).data())
    assert after[1::2] == gray[1::2], "gray layer's alpha changed"
    assert after[0::2] != gray[0::2], "gray layer unchanged"
    g.close()
    status["steps"].append("gray")

    # Unsupported colour model: a clear error, pixels untouched.
    c = k.createDocument(16, 16, "cmyk", "CMYKA", "U8", "", 72.0)
    cn = c.topLevelNodes()[0]
    try:
        core.stylize_node(c, cn, style, 0.6, "3,2,1", weights=WEIGHTS)
        raise AssertionError("a CMYK layer was accepted")
    except ValueError as e:
        status["cmyk_error"] = str(e)
    c.close()
    status["steps"].append("cmyk")

    # A selection: only the selected rectangle changes.
    s = k.createDocument(w, h, "sel", "RGBA", "U8", "", 72.0)
    s.setBatchmode(True)
    sn = s.topLevelNodes()[0]
    fill(s, sn, original, "U8")
    sel = Selection()
    sel.select(64, 80, 100, 90, 255)
    rect = core.stylize_node(s, sn, style, 1.0, "3,2,1", weights=WEIGHTS, selection=sel)
    status["selection_rect"] = list(rect)
    save("krita_sel.bgra", bytes(sn.pixelData(0, 0, w, h).data()))
    s.close()
    status["steps"].append("selection")

    # Cancel from the progress callback: UnistyleError(cancelled), layer untouched.
    x = k.createDocument(64, 64, "cancel", "RGBA", "U8", "", 72.0)
    xn = x.topLevelNodes()[0]
    before = bytes(xn.pixelData(0, 0, 64, 64).data())
    try:
        core.stylize_node(x, xn, style, 0.6, "3,2,1", weights=WEIGHTS, progress=lambda f: True)
        raise AssertionError("cancel ignored")
    except us.UnistyleError as e:
        assert e.cancelled, e
        status["cancel_error"] = str(e)
    assert bytes(xn.pixelData(0, 0, 64, 64).data()) == before, "cancelled call changed the layer"
    x.close()
    status["steps"].append("cancel")

    # 3. The texture action's function: a new document with the CLI's texture.
    t = time.monotonic()
    tex = core.texture_document(os.path.join(SHARED, "images/style/brick_256.png"), 64, 48, seed=5, iterations=1,
                                tileable=True, weights=WEIGHTS)
    status["texture_s"] = time.monotonic() - t
    status["texture_doc"] = [tex.width(), tex.height(), tex.colorModel(), tex.colorDepth()]
    save("krita_tex.bgra", bytes(tex.topLevelNodes()[0].pixelData(0, 0, 64, 48).data()))
    status["steps"].append("texture")

    # 4. The plug-in registers and its dialogs build (not shown).
    import unistyle_krita
    from unistyle_krita import extension
    assert any(type(e).__name__ == "UnistyleExtension" for e in k.extensions()), "extension not registered"
    d1 = extension.StylizeDialog(has_selection=True)
    d2 = extension.TextureDialog()
    status["dialogs"] = [d1.windowTitle(), d2.windowTitle(), d1.alpha.value(), d2.iterations.value()]
    d1.deleteLater()
    d2.deleteLater()
    status["steps"].append("ui")
    doc.close()
