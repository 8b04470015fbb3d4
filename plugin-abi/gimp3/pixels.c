/*
 * pixels.c — a drawable's pixels through GEGL (see pixels.h).
 */
#include "pixels.h"

#include <string.h>

void pixels_layout(GimpImage *image, GimpDrawable *drawable, PixelLayout *l) {
    const gboolean gray = gimp_drawable_is_gray(drawable);
    const gboolean alpha = gimp_drawable_has_alpha(drawable);
    const gchar *type;
    switch (gimp_image_get_precision(image)) {
    case GIMP_PRECISION_U8_NON_LINEAR:
        type = "u8";
        l->sample_type = UNISTYLE_U8;
        l->sample_size = 1;
        break;
    case GIMP_PRECISION_U16_NON_LINEAR:
        type = "u16";
        l->sample_type = UNISTYLE_U16;
        l->sample_size = 2;
        break;
    default:
        type = "float";
        l->sample_type = UNISTYLE_F32;
        l->sample_size = 4;
        break;
    }
    l->channels = (gray ? 1 : 3) + (alpha ? 1 : 0);
    gchar *name = g_strdup_printf("%s %s", gray ? (alpha ? "Y'A" : "Y'") : (alpha ? "R'G'B'A" : "R'G'B'"), type);
    l->format = babl_format_with_space(name, gimp_drawable_get_format(drawable));
    g_free(name);
}

void pixels_describe(unistyle_image *img, guint32 w, guint32 h, guint32 channels, guint32 sample_type,
                     gsize sample_size, void *data) {
    memset(img, 0, sizeof *img);
    img->struct_size = sizeof *img;
    img->width = w;
    img->height = h;
    img->channels = channels;
    img->sample_type = sample_type;
    img->stride = (size_t)w * channels * sample_size;
    img->data = data;
}

gpointer pixels_alloc(guint32 w, guint32 h, gsize bytes_per_pixel) {
    if (w == 0 || h == 0 || w > UNISTYLE_MAX_SIDE || h > UNISTYLE_MAX_SIDE) return NULL;
    return g_try_malloc((gsize)w * h * bytes_per_pixel);
}

gpointer pixels_read(GimpDrawable *drawable, const PixelLayout *l, const GeglRectangle *rect) {
    gpointer data = pixels_alloc((guint32)rect->width, (guint32)rect->height, l->channels * l->sample_size);
    if (!data) return NULL;
    GeglBuffer *buffer = gimp_drawable_get_buffer(drawable);
    gegl_buffer_get(buffer, rect, 1.0, l->format, data, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    g_object_unref(buffer);
    return data;
}

gpointer pixels_read_scaled(GimpDrawable *drawable, const PixelLayout *l, const GeglRectangle *rect, guint32 w,
                            guint32 h) {
    gpointer data = pixels_alloc(w, h, l->channels * l->sample_size);
    if (!data) return NULL;
    const gdouble scale = (gdouble)w / rect->width;
    GeglBuffer *buffer = gimp_drawable_get_buffer(drawable);
    /* The rectangle is in scaled coordinates. */
    gegl_buffer_get(buffer, GEGL_RECTANGLE((gint)(rect->x * scale), (gint)(rect->y * scale), (gint)w, (gint)h), scale,
                    l->format, data, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
    g_object_unref(buffer);
    return data;
}

gfloat *pixels_read_coverage(GimpDrawable *channel, GimpDrawable *drawable, const GeglRectangle *rect) {
    gint dx = 0, dy = 0, cx = 0, cy = 0;
    gimp_drawable_get_offsets(drawable, &dx, &dy);
    gimp_drawable_get_offsets(channel, &cx, &cy);
    gfloat *mask = pixels_alloc((guint32)rect->width, (guint32)rect->height, sizeof(gfloat));
    if (!mask) return NULL;
    GeglBuffer *buffer = gimp_drawable_get_buffer(channel);
    gegl_buffer_get(buffer, GEGL_RECTANGLE(rect->x + dx - cx, rect->y + dy - cy, rect->width, rect->height), 1.0,
                    babl_format("Y float"), mask, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    g_object_unref(buffer);
    return mask;
}

void pixels_write_merged(GimpDrawable *drawable, const PixelLayout *l, const GeglRectangle *rect,
                         gconstpointer data) {
    GeglBuffer *shadow = gimp_drawable_get_shadow_buffer(drawable);
    gegl_buffer_set(shadow, rect, 0, l->format, data, GEGL_AUTO_ROWSTRIDE);
    gegl_buffer_flush(shadow);
    g_object_unref(shadow);
    gimp_drawable_merge_shadow(drawable, TRUE);
    gimp_drawable_update(drawable, rect->x, rect->y, rect->width, rect->height);
}
