/*
 * preview.h — the stylize dialog (GimpProcedureDialog) with a live preview: a downscaled
 * stylization of the drawable, or of the selection's bounding box, computed by the library's
 * preview call on a worker thread whenever a setting changes. Styles are encoded once and
 * reused; a preview made stale by a newer change is cancelled; the dialog stays responsive.
 * With a preset, the preview is the preset's stylization of the drawable downscaled by GEGL.
 */
#ifndef UNISTYLE_GIMP3_PREVIEW_H
#define UNISTYLE_GIMP3_PREVIEW_H

#include <libgimp/gimp.h>

/* Longest side of the preview, in pixels. */
#define PREVIEW_MAX_SIDE 256

/* Shows the dialog; TRUE when the user pressed OK (the settings are then in `config`). */
gboolean preview_dialog_run(GimpProcedure *procedure, GimpProcedureConfig *config, GimpImage *image,
                            GimpDrawable *drawable);

#endif
