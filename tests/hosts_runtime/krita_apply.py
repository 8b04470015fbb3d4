import json, os, sys, traceback
OUT = os.environ["PROOF_OUT"]
status = {"ok": False}

def main(*args):
    try:
        from krita import Krita
        k = Krita.instance()
        status["krita"] = k.version()
        import unistyle_krita
        from unistyle_krita import core, unistyle_ctypes as us
        status["package"] = os.path.dirname(unistyle_krita.__file__)
        status["library"] = us.load_library().path
        doc = k.openDocument(os.environ["PROOF_CONTENT"])
        doc.setBatchmode(True)
        node = [n for n in doc.topLevelNodes() if n.type() == "paintlayer"][0]
        core.stylize_node(doc, node, os.environ["PROOF_STYLE"], 0.6, "3,2,1")
        with open(os.path.join(OUT, "krita.bgra"), "wb") as f:
            f.write(bytes(node.pixelData(0, 0, doc.width(), doc.height()).data()))
        status["size"] = [doc.width(), doc.height()]
        doc.close()
        status["ok"] = True
    except BaseException:
        status["error"] = traceback.format_exc()
    with open(os.path.join(OUT, "krita.json"), "w") as f:
        json.dump(status, f)
