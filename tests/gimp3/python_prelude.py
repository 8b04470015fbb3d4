from gi.repository import Gimp, Gio
pdb = Gimp.get_pdb()
FILES = ("style", "style2", "preset", "weights")

def load(path):
    return Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))

def save(img, path):
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, img, Gio.File.new_for_path(path), None)

def call(name, img=None, **args):
    proc = pdb.lookup_procedure(name)
    cfg = proc.create_config()
    cfg.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    if img is not None:
        cfg.set_property("image", img)
        # The image's top layer (saving the selection selects the new channel instead).
        cfg.set_core_object_array("drawables", img.get_layers()[:1])
    for key, value in args.items():
        key = key.replace("_", "-")
        cfg.set_property(key, Gio.File.new_for_path(value) if key in FILES else value)
    return proc.run(cfg)

def ok(result, what):
    if result.index(0) != Gimp.PDBStatusType.SUCCESS:
        raise RuntimeError("%s failed: %s" % (what, result.index(1)))
    return result
