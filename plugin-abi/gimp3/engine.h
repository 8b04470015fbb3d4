/*
 * engine.h — the unistyle library as the GIMP 3 plug-in uses it: the procedure's settings,
 * the context and encoded styles (kept and reused while their files do not change), the
 * stylize options, and library failures as GErrors. Shared by the procedures and the dialog's
 * live preview; no GIMP call here, so the preview may use it from its worker thread.
 */
#ifndef UNISTYLE_GIMP3_ENGINE_H
#define UNISTYLE_GIMP3_ENGINE_H

#include <glib.h>

#include "unistyle.h"

#define ENGINE_MAX_LEVELS 5

/* The stylize procedure's arguments, as plain values (file arguments as local paths). */
typedef struct {
    gchar *style;   /* NULL = none */
    gchar *style2;  /* NULL = keep the original pixels outside the mask */
    gchar *preset;  /* NULL = none */
    gchar *weights; /* NULL = the library's search (UNISTYLE_WEIGHTS, the per-user folder, ...) */
    gchar *levels;  /* "" = every level */
    gdouble alpha;
    gdouble feather;
    gboolean preserve_color;
    gboolean as_new_layer;
    /* The modes beyond plain WCT (README "Beyond the paper"). */
    gboolean patch_swap;
    gchar *transform; /* "wct" or "ost" (the choice argument's value) */
    gdouble variation;
    gint seed;
    gdouble stroke_scale;
    gboolean photo;
} StylizeSettings;

void stylize_settings_clear(StylizeSettings *s);
void stylize_settings_copy(StylizeSettings *dest, const StylizeSettings *src);

/* Library handles, (re)opened only when the file they come from changes. */
typedef struct {
    gchar *weights;           /* what ctx was opened with ("" = default search) */
    unistyle_context *ctx;
    gchar *style_path[2];
    unistyle_style *style[2];
    gchar *preset_path;
    unistyle_preset *preset;
} Engine;

/* Parses `levels` with the library's parser; FALSE with an error naming the argument. */
gboolean engine_levels(const gchar *levels, guint32 *out, guint32 *count, GError **error);

/* Checks the settings that need no file (before any heavy work). */
gboolean engine_check(const StylizeSettings *s, gboolean has_mask, GError **error);

/* Opens the context and encodes the style(s) or loads the preset the settings name, reusing
 * what is already open for the same files. */
gboolean engine_prepare(Engine *e, const StylizeSettings *s, GError **error);
gboolean engine_prepare_texture(Engine *e, const gchar *weights, const gchar *style, const gchar *preset,
                                GError **error);

/* Fills `opts` (initialised here) from the settings and the open styles; `mask` may be NULL. */
gboolean engine_stylize_options(const Engine *e, const StylizeSettings *s, const unistyle_image *mask,
                                const guint32 *levels, guint32 level_count, unistyle_stylize_options *opts,
                                GError **error);

void engine_close(Engine *e);

/* A failed library call as a GError: "unistyle: WHAT: <library message>". */
GError *engine_error(int status, const gchar *what);

#endif
