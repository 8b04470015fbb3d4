/*
 * inputs.c — what the stylize procedure reads from GIMP (see inputs.h).
 */
#include "inputs.h"

#include <string.h>

static GQuark inputs_quark(void) {
    return g_quark_from_static_string("unistyle-inputs");
}

gchar *inputs_file_path(GimpProcedureConfig *config, const gchar *property) {
    GFile *file = NULL;
    g_object_get(config, property, &file, NULL);
    if (!file) return NULL;
    gchar *path = g_file_get_path(file);
    if (!path) path = g_file_get_uri(file); /* not local: the library reports it as missing */
    g_object_unref(file);
    return path;
}

void inputs_read_settings(GimpProcedureConfig *config, StylizeSettings *s, GimpChannel **mask) {
    stylize_settings_clear(s);
    s->style = inputs_file_path(config, "style");
    s->style2 = inputs_file_path(config, "style2");
    s->preset = inputs_file_path(config, "preset");
    s->weights = inputs_file_path(config, "weights");
    g_object_get(config, "levels", &s->levels, "alpha", &s->alpha, "feather", &s->feather, "preserve-color",
                 &s->preserve_color, "as-new-layer", &s->as_new_layer, "mask", mask, "patch-swap", &s->patch_swap,
                 "transform", &s->transform, "variation", &s->variation, "seed", &s->seed, "stroke-scale",
                 &s->stroke_scale, "photo", &s->photo, NULL);
    if (!s->levels) s->levels = g_strdup("");
}

GimpDrawable *inputs_mask(GimpImage *image, GimpChannel *mask) {
    if (mask) return GIMP_DRAWABLE(mask);
    if (!gimp_selection_is_empty(image)) return GIMP_DRAWABLE(gimp_image_get_selection(image));
    return NULL;
}

gboolean inputs_read_source(GimpImage *image, GimpDrawable *drawable, GimpChannel *mask, gboolean selection_bounds,
                            Source *src, GError **error) {
    memset(src, 0, sizeof *src);
    if (gimp_item_is_group(GIMP_ITEM(drawable))) {
        g_set_error_literal(error, inputs_quark(), 0,
                            "unistyle: a layer group cannot be stylized; choose one of its layers");
        return FALSE;
    }
    if (gimp_drawable_is_indexed(drawable)) {
        g_set_error_literal(error, inputs_quark(), 0,
                            "unistyle: indexed images are not supported; convert the image to RGB or grayscale");
        return FALSE;
    }
    gint x = 0, y = 0, w = 0, h = 0;
    if (!gimp_drawable_mask_intersect(drawable, &x, &y, &w, &h)) return TRUE; /* nothing to do */
    if (!selection_bounds) {
        x = y = 0;
        w = gimp_drawable_get_width(drawable);
        h = gimp_drawable_get_height(drawable);
    }
    src->rect = *GEGL_RECTANGLE(x, y, w, h);
    pixels_layout(image, drawable, &src->layout);

    GimpDrawable *mask_drawable = inputs_mask(image, mask);
    src->from_selection = mask_drawable && !mask;
    src->pixels = pixels_read(drawable, &src->layout, &src->rect);
    if (src->pixels && mask_drawable) src->coverage = pixels_read_coverage(mask_drawable, drawable, &src->rect);
    if (!src->pixels || (mask_drawable && !src->coverage)) {
        g_set_error(error, inputs_quark(), 0, "unistyle: not enough memory for a %dx%d drawable", w, h);
        inputs_clear_source(src);
        return FALSE;
    }
    if (src->from_selection) {
        /* Every partly selected pixel is stylized (statistics of the selected area); GIMP then
         * blends the result in through the selection, so its soft edge is kept. */
        for (gsize i = 0; i < (gsize)w * h; i++) src->coverage[i] = src->coverage[i] > 0.0f ? 1.0f : 0.0f;
    }
    return TRUE;
}

void inputs_clear_source(Source *src) {
    g_clear_pointer(&src->pixels, g_free);
    g_clear_pointer(&src->coverage, g_free);
}
