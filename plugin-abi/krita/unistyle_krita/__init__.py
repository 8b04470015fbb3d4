"""unistyle for Krita: neural style transfer (WCT) and texture synthesis.

Inside Krita this registers the extension (Tools > Scripts > "unistyle: Stylize active
layer…" and "unistyle: Texture…"). The ctypes binding (`unistyle_ctypes`) and the pixel
conversions (`pixels`) do not need Krita; `core.stylize_node` is the function the dialogs and
the tests call.
"""

try:
    from krita import Krita
except ImportError:  # plain Python: the binding and the conversions still work
    Krita = None

if Krita is not None:
    from .extension import UnistyleExtension

    Krita.instance().addExtension(UnistyleExtension(Krita.instance()))
