"""unistyle for Krita 5 and 6: neural style transfer (WCT) and texture synthesis.

Inside Krita this registers the "unistyle" docker (Settings > Dockers > unistyle) and the
extension's actions (Tools > Scripts > "unistyle: Stylize active layer…" and "unistyle:
Texture…"). The ctypes binding (`unistyle_ctypes`) and the pixel conversions (`pixels`) do not
need Krita; `core.stylize_node` is the scripting entry the dialogs and the tests call.
"""

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
