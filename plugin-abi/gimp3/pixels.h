/*
 * pixels.h — a drawable's pixels through GEGL, in a layout the unistyle C ABI takes.
 */
#ifndef UNISTYLE_GIMP3_PIXELS_H
#define UNISTYLE_GIMP3_PIXELS_H

#include <libgimp/gimp.h>

#include "unistyle.h"

typedef struct {
    const Babl *format; /* babl format the pixels are read and written in */
    guint32 channels;   /* 1..4: gray, gray+alpha, RGB, RGBA */
    guint32 sample_type; /* UNISTYLE_U8, UNISTYLE_U16 or UNISTYLE_F32 */
    gsize sample_size;
} PixelLayout;

/* The drawable's own layout: its channels (alpha kept), 8/16-bit when the image stores
 * non-linear 8/16-bit (bit-exact, as the CLI reads PNG files), float otherwise; the image's
 * colour space is kept. */
void pixels_layout(GimpImage *image, GimpDrawable *drawable, PixelLayout *layout);

/* A unistyle_image over `data` (tightly packed rows). */
void pixels_describe(unistyle_image *img, guint32 w, guint32 h, guint32 channels, guint32 sample_type,
                     gsize sample_size, void *data);

/* w*h*bytes_per_pixel bytes, or NULL when the size is out of range or memory is short. */
gpointer pixels_alloc(guint32 w, guint32 h, gsize bytes_per_pixel);

/* Reads `rect` (drawable coordinates) of the drawable; NULL when memory is short. */
gpointer pixels_read(GimpDrawable *drawable, const PixelLayout *layout, const GeglRectangle *rect);

/* Reads `rect` of the drawable downscaled by GEGL to w x h; NULL when memory is short. */
gpointer pixels_read_scaled(GimpDrawable *drawable, const PixelLayout *layout, const GeglRectangle *rect, guint32 w,
                            guint32 h);

/* Reads `channel` (selection, channel or layer mask) over `rect` of the drawable, as linear
 * float coverage (0 outside the channel); NULL when memory is short. */
gfloat *pixels_read_coverage(GimpDrawable *channel, GimpDrawable *drawable, const GeglRectangle *rect);

/* Writes `data` over `rect` through the drawable's shadow buffer and merges it (one undo step,
 * limited to the selection with its soft edge). */
void pixels_write_merged(GimpDrawable *drawable, const PixelLayout *layout, const GeglRectangle *rect,
                         gconstpointer data);

#endif
