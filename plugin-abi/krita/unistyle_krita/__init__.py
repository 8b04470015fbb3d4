"""unistyle for Krita 5 and 6: neural style transfer (WCT) and texture synthesis.

Inside Krita this registers the "unistyle" docker (Settings > Dockers > unistyle) and the
extension's actions (Tools > Scripts > "unistyle: Stylize active layer…" and "unistyle:
Texture…"). The ctypes binding (`unistyle_ctypes`) and the pixel conversions (`pixels`) do not
need Krita; `core.stylize_node` is the scripting entry the dialogs and the tests call.

The binding is one file shared with the GIMP 3 plug-in (plugin-abi/python/unistyle_ctypes.py):
an installed package carries a copy (scripts/stage-plugins.sh, install.sh); run from a source
checkout, the package imports the shared file in place under the same module name.
"""


def _shared_binding():
    """Makes `unistyle_krita.unistyle_ctypes` importable from a source checkout."""
    import importlib.util
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.isfile(os.path.join(here, "unistyle_ctypes.py")):
        return  # installed: the copy beside this file
    path = os.path.join(here, os.pardir, os.pardir, "python", "unistyle_ctypes.py")
    spec = importlib.util.spec_from_file_location(__name__ + ".unistyle_ctypes", os.path.normpath(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)


_shared_binding()

try:
    from krita import Krita
except ImportError:  # plain Python: the binding and the conversions still work
    Krita = None

if Krita is not None:
    from krita import DockWidgetFactory, DockWidgetFactoryBase

    from .docker import UnistyleDocker
    from .extension import UnistyleExtension
    from .qt_compat import enum

    Krita.instance().addExtension(UnistyleExtension(Krita.instance()))
    Krita.instance().addDockWidgetFactory(
        DockWidgetFactory("unistyle_docker", enum(DockWidgetFactoryBase, "DockPosition", "DockRight"), UnistyleDocker))
