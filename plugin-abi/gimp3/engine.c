/*
 * engine.c — the unistyle library as the GIMP 3 plug-in uses it (see engine.h).
 */
#include "engine.h"

#include <string.h>

static GQuark engine_quark(void) {
    return g_quark_from_static_string("unistyle-engine");
}

GError *engine_error(int status, const gchar *what) {
    if (status == UNISTYLE_ERR_CANCELLED)
        return g_error_new(engine_quark(), status, "unistyle: cancelled; nothing was changed");
    return g_error_new(engine_quark(), status, "unistyle: %s: %s", what, unistyle_last_error());
}

void stylize_settings_clear(StylizeSettings *s) {
    g_clear_pointer(&s->style, g_free);
    g_clear_pointer(&s->style2, g_free);
    g_clear_pointer(&s->preset, g_free);
    g_clear_pointer(&s->weights, g_free);
    g_clear_pointer(&s->levels, g_free);
    g_clear_pointer(&s->transform, g_free);
}

void stylize_settings_copy(StylizeSettings *dest, const StylizeSettings *src) {
    *dest = *src;
    dest->style = g_strdup(src->style);
    dest->style2 = g_strdup(src->style2);
    dest->preset = g_strdup(src->preset);
    dest->weights = g_strdup(src->weights);
    dest->levels = g_strdup(src->levels);
    dest->transform = g_strdup(src->transform);
}

gboolean engine_levels(const gchar *levels, guint32 *out, guint32 *count, GError **error) {
    int st = unistyle_levels_parse(levels ? levels : "", out, ENGINE_MAX_LEVELS, count);
    if (st != UNISTYLE_OK) {
        /* The library's message names the argument ("levels: '7' is not a level ..."). */
        g_set_error(error, engine_quark(), st, "unistyle: %s", unistyle_last_error());
        return FALSE;
    }
    return TRUE;
}

gboolean engine_check(const StylizeSettings *s, gboolean has_mask, GError **error) {
    guint32 levels[ENGINE_MAX_LEVELS], count = 0;
    if (!s->preset && !s->style) {
        g_set_error(error, engine_quark(), UNISTYLE_ERR_INVALID, "unistyle: style: no style image given (or a preset)");
        return FALSE;
    }
    if (!(s->alpha >= 0.0 && s->alpha <= 1.0)) {
        g_set_error(error, engine_quark(), UNISTYLE_ERR_INVALID, "unistyle: alpha must be in 0..1, got %g", s->alpha);
        return FALSE;
    }
    if (!(s->feather >= 0.0)) {
        g_set_error(error, engine_quark(), UNISTYLE_ERR_INVALID, "unistyle: feather must be >= 0 pixels, got %g",
                    s->feather);
        return FALSE;
    }
    if (s->style2 && !s->preset && !has_mask) {
        g_set_error(error, engine_quark(), UNISTYLE_ERR_INVALID,
                    "unistyle: style2 is the style outside the mask: give a mask or make a selection");
        return FALSE;
    }
    return engine_levels(s->levels, levels, &count, error);
}

static gboolean same(const gchar *a, const gchar *b) {
    return g_strcmp0(a ? a : "", b ? b : "") == 0;
}

static gboolean open_context(Engine *e, const gchar *weights, GError **error) {
    if (e->ctx && same(e->weights, weights)) return TRUE;
    engine_close(e);
    const gchar *device = g_getenv("UNISTYLE_DEVICE");
    int st = unistyle_context_create(weights, (device && *device) ? device : NULL, &e->ctx);
    if (st != UNISTYLE_OK) {
        e->ctx = NULL;
        g_propagate_error(error, engine_error(st, "weights"));
        return FALSE;
    }
    e->weights = g_strdup(weights ? weights : "");
    return TRUE;
}

static gboolean open_style(Engine *e, int slot, const gchar *path, const gchar *argument, GError **error) {
    if (same(e->style_path[slot], path) && (e->style[slot] || !path)) return TRUE;
    unistyle_style_destroy(e->style[slot]);
    e->style[slot] = NULL;
    g_clear_pointer(&e->style_path[slot], g_free);
    if (!path) return TRUE;
    int st = unistyle_style_create_from_file(e->ctx, path, 0, &e->style[slot]);
    if (st != UNISTYLE_OK) {
        e->style[slot] = NULL;
        g_propagate_error(error, engine_error(st, argument));
        return FALSE;
    }
    e->style_path[slot] = g_strdup(path);
    return TRUE;
}

static gboolean open_preset(Engine *e, const gchar *path, int kind, GError **error) {
    if (same(e->preset_path, path) && (e->preset || !path)) return TRUE;
    unistyle_preset_destroy(e->preset);
    e->preset = NULL;
    g_clear_pointer(&e->preset_path, g_free);
    if (!path) return TRUE;
    int st = unistyle_preset_load(e->ctx, path, &e->preset);
    if (st != UNISTYLE_OK) {
        e->preset = NULL;
        g_propagate_error(error, engine_error(st, "preset"));
        return FALSE;
    }
    e->preset_path = g_strdup(path);
    if (unistyle_preset_kind(e->preset) != kind) {
        g_set_error(error, engine_quark(), UNISTYLE_ERR_PRESET, "unistyle: preset: '%s' is a %s preset, not a %s preset",
                    path, kind == UNISTYLE_PRESET_STYLIZE ? "texture" : "stylize",
                    kind == UNISTYLE_PRESET_STYLIZE ? "stylize" : "texture");
        return FALSE;
    }
    return TRUE;
}

gboolean engine_prepare(Engine *e, const StylizeSettings *s, GError **error) {
    if (!open_context(e, s->weights, error)) return FALSE;
    if (s->preset) return open_preset(e, s->preset, UNISTYLE_PRESET_STYLIZE, error);
    return open_style(e, 0, s->style, "style", error) && open_style(e, 1, s->style2, "style2", error);
}

gboolean engine_prepare_texture(Engine *e, const gchar *weights, const gchar *style, const gchar *preset,
                                GError **error) {
    if (!open_context(e, weights, error)) return FALSE;
    if (preset) return open_preset(e, preset, UNISTYLE_PRESET_TEXTURE, error);
    if (!style) {
        g_set_error(error, engine_quark(), UNISTYLE_ERR_INVALID, "unistyle: style: no style image given (or a preset)");
        return FALSE;
    }
    return open_style(e, 0, style, "style", error);
}

gboolean engine_stylize_options(const Engine *e, const StylizeSettings *s, const unistyle_image *mask,
                                const guint32 *levels, guint32 level_count, unistyle_stylize_options *opts,
                                GError **error) {
    int st = unistyle_stylize_options_init_ex(opts, sizeof *opts);
    if (st != UNISTYLE_OK) {
        g_propagate_error(error, engine_error(st, "unistyle_stylize_options_init_ex"));
        return FALSE;
    }
    const gboolean two = e->style[1] != NULL;
    opts->style_count = two ? 2 : 1;
    opts->styles = (const unistyle_style *const *)e->style;
    opts->level_count = level_count;
    opts->levels = levels;
    opts->alpha = (float)s->alpha;
    opts->feather = (float)s->feather;
    opts->preserve_color = s->preserve_color ? 1 : 0;
    /* The modes: the library checks their ranges and combinations (patch swap with a mask or
     * with OST is refused in its words). */
    opts->patch_swap = s->patch_swap ? 1 : 0;
    opts->transform = g_strcmp0(s->transform, "ost") == 0 ? UNISTYLE_TRANSFORM_OST : UNISTYLE_TRANSFORM_WCT;
    opts->variation = (float)s->variation;
    opts->seed = (uint64_t)s->seed;
    opts->stroke_scale = (float)s->stroke_scale;
    opts->photo = s->photo ? 1 : 0;
    if (mask) {
        /* One style: stylized inside the mask, original outside. Two: the second outside. */
        opts->mask_count = 1;
        opts->masks = mask;
        opts->foreground_only = two ? 0 : 1;
    }
    return TRUE;
}

void engine_close(Engine *e) {
    for (int i = 0; i < 2; i++) {
        unistyle_style_destroy(e->style[i]);
        e->style[i] = NULL;
        g_clear_pointer(&e->style_path[i], g_free);
    }
    unistyle_preset_destroy(e->preset);
    e->preset = NULL;
    g_clear_pointer(&e->preset_path, g_free);
    unistyle_context_destroy(e->ctx);
    e->ctx = NULL;
    g_clear_pointer(&e->weights, g_free);
}
