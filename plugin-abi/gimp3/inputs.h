/*
 * inputs.h — what the stylize procedure reads from GIMP: its settings (the procedure's config,
 * file arguments as local paths) and its source (the drawable's pixels and the mask: the mask
 * argument, else the selection). Used by the procedure and by the dialog's live preview.
 */
#ifndef UNISTYLE_GIMP3_INPUTS_H
#define UNISTYLE_GIMP3_INPUTS_H

#include <libgimp/gimp.h>

#include "engine.h"
#include "pixels.h"

/* A file argument as a local path (a URI when not local); NULL when unset. */
gchar *inputs_file_path(GimpProcedureConfig *config, const gchar *property);

/* The settings in `config`; *mask gets the mask argument (a new reference, or NULL). */
void inputs_read_settings(GimpProcedureConfig *config, StylizeSettings *s, GimpChannel **mask);

typedef struct {
    PixelLayout layout;
    GeglRectangle rect;  /* the area read, in drawable coordinates */
    gpointer pixels;     /* rect's pixels in layout */
    gfloat *coverage;    /* rect's mask coverage (0..1), or NULL: no mask */
    gboolean from_selection;
} Source;

/* Reads the source: the whole drawable, or with `selection_bounds` only the selection's
 * bounding box within it. FALSE with an error when the drawable cannot be stylized or memory
 * is short; TRUE with rect empty (0x0) when the selection does not touch the drawable. */
gboolean inputs_read_source(GimpImage *image, GimpDrawable *drawable, GimpChannel *mask, gboolean selection_bounds,
                            Source *src, GError **error);
void inputs_clear_source(Source *src);

/* The mask the procedure uses, from the argument or the selection (not owned); NULL if none. */
GimpDrawable *inputs_mask(GimpImage *image, GimpChannel *mask);

#endif
