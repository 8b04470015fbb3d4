import json, os
from gi.repository import Gimp, Gio, Gegl
D = os.environ["UNISTYLE_TEST_DIR"]
status = {}
img = Gimp.Image.new(96, 96, Gimp.ImageBaseType.RGB)
for i in range(3):
    layer = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, img, Gio.File.new_for_path(os.path.join(D, "in/f%d.png" % i)))
    img.insert_layer(layer, None, 0)
pdb = Gimp.get_pdb()
proc = pdb.lookup_procedure("plug-in-unistyle-frames")
status["found"] = proc is not None
def call(style):
    cfg = proc.create_config()
    cfg.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    cfg.set_property("image", img)
    cfg.set_core_object_array("drawables", img.get_selected_drawables())
    if style:
        cfg.set_property("style", Gio.File.new_for_path(style))
    cfg.set_property("alpha", 0.7)
    cfg.set_property("stability", 0.6)
    cfg.set_property("weights", Gio.File.new_for_path(os.environ["UNISTYLE_WEIGHTS"]))
    res = proc.run(cfg)
    msg = ""
    if res.length() > 1:
        v = res.index(1)
        msg = getattr(v, "message", v) or ""
    if not msg and hasattr(pdb, "get_last_error"):
        msg = pdb.get_last_error() or ""
    return res.index(0), msg
before = [bytes(l.get_buffer().get(Gegl.Rectangle.new(0, 0, 96, 96), 1.0, "R'G'B'A u8", Gegl.AbyssPolicy.NONE)) for l in img.get_layers()]
code, msg = call(None)
status["no_style"] = [int(code) != int(Gimp.PDBStatusType.SUCCESS), str(msg)]
after = [bytes(l.get_buffer().get(Gegl.Rectangle.new(0, 0, 96, 96), 1.0, "R'G'B'A u8", Gegl.AbyssPolicy.NONE)) for l in img.get_layers()]
status["untouched"] = before == after
code, msg = call(os.environ["UNISTYLE_TEST_STYLE"])
status["ok"] = int(code) == int(Gimp.PDBStatusType.SUCCESS)
status["message"] = str(msg)
for i, layer in enumerate(reversed(img.get_layers())):
    data = layer.get_buffer().get(Gegl.Rectangle.new(0, 0, 96, 96), 1.0, "R'G'B'A u8", Gegl.AbyssPolicy.NONE)
    open(os.path.join(D, "out/layer_%d.rgba" % i), "wb").write(bytes(data))
status["layers"] = len(img.get_layers())
json.dump(status, open(os.path.join(D, "out/status.json"), "w"))
