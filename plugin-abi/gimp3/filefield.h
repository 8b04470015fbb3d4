/*
 * filefield.h — a file argument of a procedure as a dialog row: a file chooser button bound to
 * the config property (and a button to unset an optional one).
 *
 * The file arguments use GIMP_FILE_CHOOSER_ACTION_ANY, so that GIMP hands a missing file to
 * the plug-in (which reports it in its own words) instead of refusing the call with a generic
 * "out of range"; GimpProcedureDialog makes no widget for such arguments, hence these rows.
 */
#ifndef UNISTYLE_GIMP3_FILEFIELD_H
#define UNISTYLE_GIMP3_FILEFIELD_H

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

/* An empty grid; filefield_add appends a row (label, chooser, and for an optional argument a
 * button that unsets it) bound to `property` of `config`. */
GtkWidget *filefield_grid(void);
void filefield_add(GtkWidget *grid, GimpProcedureConfig *config, const gchar *property, const gchar *label,
                   gboolean optional);

#endif
