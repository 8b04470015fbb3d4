/*
 * unistyle-gimp.c — GIMP 2.10 plug-in for unistyle (WCT style transfer and texture synthesis).
 *
 * Procedures (Filters → Artistic; all usable from Script-Fu):
 *   plug-in-unistyle-stylize        (run-mode, image, drawable, style-path, alpha, levels-string)
 *   plug-in-unistyle-stylize-masked (run-mode, image, drawable, style-path, style2-path,
 *                                    mask-channel, alpha, levels-string, feather)
 *   plug-in-unistyle-texture        (run-mode, style-path, width, height, seed, iterations,
 *                                    tileable) → new image
 *   plug-in-unistyle-set-weights    (run-mode, weights-path)   (no menu entry)
 *
 * Pixels are read and written through GEGL in the drawable's own precision (8-bit, 16-bit or
 * float, perceptual TRC, the image's colour space), passed to libunistyle through the C ABI
 * (plugin-abi/unistyle.h) and written back through the shadow buffer, so GIMP applies the
 * result through the selection (soft edges included) and records one undo step.
 *
 * Build and install: plugin-abi/gimp/install.sh [PLUGIN_DIR]
 */
#include <stdlib.h>
#include <string.h>

/* GTK 2's headers use GLib types that newer GLib marks deprecated: not this file's concern. */
#define GLIB_DISABLE_DEPRECATION_WARNINGS
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "unistyle.h"

#define PROC_STYLIZE "plug-in-unistyle-stylize"
#define PROC_MASKED "plug-in-unistyle-stylize-masked"
#define PROC_TEXTURE "plug-in-unistyle-texture"
#define PROC_WEIGHTS "plug-in-unistyle-set-weights"
#define PLUG_IN_BINARY "unistyle"
#define PLUG_IN_ROLE "gimp-unistyle"
#define MENU_PATH "<Image>/Filters/Artistic"
/* gimprc token holding the weights file set by PROC_WEIGHTS. */
#define GIMPRC_WEIGHTS "unistyle-weights"
#define MAX_LEVELS 5
#define PATH_CAP 4096

/* ------------------------------------------------------------------------------------------ */
/* Settings remembered between runs (gimp_set_data), one struct per procedure.                */

typedef struct {
    gchar style[PATH_CAP];
    gdouble alpha;
    gchar levels[64];
} StylizeVals;

typedef struct {
    gchar style[PATH_CAP];
    gchar style2[PATH_CAP];
    gint32 mask;
    gdouble alpha;
    gchar levels[64];
    gdouble feather;
} MaskedVals;

typedef struct {
    gchar style[PATH_CAP];
    gint32 width;
    gint32 height;
    gint32 seed;
    gint32 iterations;
    gint32 tileable;
} TextureVals;

/* ------------------------------------------------------------------------------------------ */
/* Errors: a message for the caller (returned as the procedure's second return value).        */

static gchar *error_message = NULL;

static GimpPDBStatusType fail(const gchar *format, ...) G_GNUC_PRINTF(1, 2);

static GimpPDBStatusType fail(const gchar *format, ...) {
    va_list args;
    va_start(args, format);
    g_free(error_message);
    error_message = g_strdup_vprintf(format, args);
    va_end(args);
    return GIMP_PDB_EXECUTION_ERROR;
}

/* Turns a failed ABI call into an error status carrying the library's message. */
static GimpPDBStatusType abi_fail(int status, const char *what) {
    if (status == UNISTYLE_ERR_CANCELLED) {
        g_free(error_message);
        error_message = g_strdup("unistyle: cancelled; nothing was changed");
        return GIMP_PDB_CANCEL;
    }
    return fail("unistyle: %s failed (%s): %s", what, unistyle_status_string(status), unistyle_last_error());
}

static void copy_string(gchar *dest, const gchar *src, gsize cap) {
    g_strlcpy(dest, src ? src : "", cap);
}

/* ------------------------------------------------------------------------------------------ */
/* Progress: GIMP's progress bar, and cancel.                                                 */
/*
 * When the user cancels a plug-in's progress, GIMP 2.10 ends the plug-in process itself; as
 * the result is written only after the library succeeded, the drawable stays untouched. A
 * refused progress update (GIMP no longer listening) also cancels the library run. For tests,
 * UNISTYLE_GIMP_CANCEL_AT=F makes the callback cancel once the fraction reaches F.
 */

typedef struct {
    gboolean started;
    gdouble last;
    gdouble cancel_at;
    gboolean cancelled;
} Progress;

static void progress_start(Progress *p, const gchar *message) {
    const gchar *at = g_getenv("UNISTYLE_GIMP_CANCEL_AT");
    p->started = TRUE;
    p->last = -1.0;
    p->cancel_at = (at && *at) ? g_ascii_strtod(at, NULL) : -1.0;
    p->cancelled = FALSE;
    gimp_progress_init(message);
}

static void progress_finish(Progress *p) {
    if (p->started) gimp_progress_end();
    p->started = FALSE;
}

static int on_progress(float fraction, void *user_data) {
    Progress *p = user_data;
    if (p->cancel_at >= 0.0 && fraction >= p->cancel_at) {
        p->cancelled = TRUE;
        return 1;
    }
    if (fraction - p->last >= 0.005 || fraction >= 1.0f) {
        p->last = fraction;
        if (!gimp_progress_update(fraction)) {
            p->cancelled = TRUE;
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Library handles.                                                                           */

/* Weights: $UNISTYLE_WEIGHTS when set (the library's own lookup), else the path stored by
 * plug-in-unistyle-set-weights in gimprc, else the library's lookup (the per-user weights folder, then the crate's weights/). */
static GimpPDBStatusType open_context(unistyle_context **ctx) {
    const gchar *env = g_getenv("UNISTYLE_WEIGHTS");
    const gchar *device = g_getenv("UNISTYLE_DEVICE");
    gchar *stored = NULL;
    if (!(env && *env)) {
        /* An unknown token is an error of gimp-gimprc-query: keep GIMP from reporting it. */
        GimpPDBErrorHandler handler = gimp_plugin_get_pdb_error_handler();
        gimp_plugin_set_pdb_error_handler(GIMP_PDB_ERROR_HANDLER_PLUGIN);
        stored = gimp_gimprc_query(GIMPRC_WEIGHTS);
        gimp_plugin_set_pdb_error_handler(handler);
    }
    int st = unistyle_context_create((stored && *stored) ? stored : NULL, (device && *device) ? device : NULL, ctx);
    g_free(stored);
    if (st != UNISTYLE_OK) {
        *ctx = NULL;
        return abi_fail(st, "loading the weights (set UNISTYLE_WEIGHTS or run " PROC_WEIGHTS ")");
    }
    return GIMP_PDB_SUCCESS;
}

static GimpPDBStatusType open_style(const unistyle_context *ctx, const gchar *path, unistyle_style **style) {
    *style = NULL;
    if (!path || !*path) return fail("unistyle: no style image given");
    int st = unistyle_style_create_from_file(ctx, path, 0, style);
    if (st != UNISTYLE_OK) {
        *style = NULL;
        return abi_fail(st, "loading the style image");
    }
    return GIMP_PDB_SUCCESS;
}

/* ------------------------------------------------------------------------------------------ */
/* Pixels through GEGL.                                                                       */

typedef struct {
    const Babl *format;
    guint32 channels;
    guint32 sample_type;
    gsize sample_size;
} PixelLayout;

/* The drawable's layout in a format the ABI takes: its own channels, 8/16-bit when the image
 * stores perceptual 8/16-bit (bit-exact, as the CLI reads PNG files), float otherwise; the
 * image's colour space is kept (no conversion to sRGB). */
static void choose_layout(gint32 image, gint32 drawable, PixelLayout *l) {
    gboolean gray = gimp_drawable_is_gray(drawable);
    gboolean alpha = gimp_drawable_has_alpha(drawable);
    const gchar *type;
    switch (gimp_image_get_precision(image)) {
    case GIMP_PRECISION_U8_GAMMA:
        type = "u8";
        l->sample_type = UNISTYLE_U8;
        l->sample_size = 1;
        break;
    case GIMP_PRECISION_U16_GAMMA:
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

static void describe(unistyle_image *img, guint32 w, guint32 h, guint32 channels, guint32 sample_type,
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

static gpointer alloc_pixels(guint32 w, guint32 h, gsize bytes_per_pixel) {
    if (w == 0 || h == 0 || w > UNISTYLE_MAX_SIDE || h > UNISTYLE_MAX_SIDE) return NULL;
    return g_try_malloc((gsize)w * h * bytes_per_pixel);
}

/* Reads `channel` (a selection, channel or layer mask) over the drawable's area, in the
 * drawable's coordinates; outside the channel counts as unselected. Linear float coverage. */
static gfloat *read_coverage(gint32 channel, gint32 drawable, guint32 w, guint32 h) {
    gint dx = 0, dy = 0, cx = 0, cy = 0;
    gimp_drawable_offsets(drawable, &dx, &dy);
    gimp_drawable_offsets(channel, &cx, &cy);
    gfloat *mask = alloc_pixels(w, h, sizeof(gfloat));
    if (!mask) return NULL;
    GeglBuffer *buffer = gimp_drawable_get_buffer(channel);
    gegl_buffer_get(buffer, GEGL_RECTANGLE(dx - cx, dy - cy, (gint)w, (gint)h), 1.0, babl_format("Y float"), mask,
                    GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    g_object_unref(buffer);
    return mask;
}

/* ------------------------------------------------------------------------------------------ */
/* Stylize.                                                                                   */

typedef struct {
    const gchar *style;
    const gchar *style2;      /* NULL/"" = one style */
    gint32 mask_channel;      /* -1 = the selection, if any */
    gdouble alpha;
    const gchar *levels;
    gdouble feather;
} StylizeRequest;

static GimpPDBStatusType stylize(gint32 image, gint32 drawable, const StylizeRequest *rq, gboolean interactive) {
    guint32 levels[MAX_LEVELS], level_count = 0;
    /* The library's parser, the CLI's rules and message ("" = every level). */
    if (unistyle_levels_parse(rq->levels ? rq->levels : "", levels, MAX_LEVELS, &level_count) != UNISTYLE_OK)
        return fail("unistyle: levels-string: %s", unistyle_last_error());
    if (!gimp_item_is_valid(drawable) || !gimp_item_is_drawable(drawable))
        return fail("unistyle: the drawable is not valid");
    if (gimp_item_is_group(drawable))
        return fail("unistyle: a layer group cannot be stylized; choose one of its layers");
    if (gimp_drawable_is_indexed(drawable))
        return fail("unistyle: indexed images are not supported; convert the image to RGB or grayscale");

    gint x = 0, y = 0, sw = 0, sh = 0;
    if (!gimp_drawable_mask_intersect(drawable, &x, &y, &sw, &sh))
        return GIMP_PDB_SUCCESS; /* the selection does not touch this drawable: nothing to do */
    const guint32 w = (guint32)gimp_drawable_width(drawable);
    const guint32 h = (guint32)gimp_drawable_height(drawable);

    /* The mask: an explicit channel, else the selection when there is one. */
    gint32 mask_id = -1;
    if (rq->mask_channel >= 0) {
        if (!gimp_item_is_valid(rq->mask_channel) || !gimp_item_is_channel(rq->mask_channel))
            return fail("unistyle: mask-channel %d is not a channel", rq->mask_channel);
        mask_id = rq->mask_channel;
    } else if (!gimp_selection_is_empty(image)) {
        mask_id = gimp_image_get_selection(image);
    }
    const gboolean from_selection = mask_id >= 0 && rq->mask_channel < 0;
    const gboolean two_styles = rq->style2 && *rq->style2;
    if (two_styles && mask_id < 0) return fail("unistyle: a second style needs a mask");

    PixelLayout layout;
    choose_layout(image, drawable, &layout);
    const gsize pixel_size = layout.channels * layout.sample_size;

    GimpPDBStatusType status = GIMP_PDB_SUCCESS;
    unistyle_context *ctx = NULL;
    unistyle_style *styles[2] = {NULL, NULL};
    gfloat *coverage = NULL;
    gpointer pixels = NULL;
    Progress progress = {FALSE, 0.0, -1.0, FALSE};

    pixels = alloc_pixels(w, h, pixel_size);
    if (!pixels) {
        status = fail("unistyle: not enough memory for a %ux%u drawable", w, h);
        goto done;
    }
    if (mask_id >= 0 && !(coverage = read_coverage(mask_id, drawable, w, h))) {
        status = fail("unistyle: not enough memory for a %ux%u mask", w, h);
        goto done;
    }
    if (from_selection) {
        /* Every partly selected pixel is stylized (statistics of the selected area); GIMP then
         * blends the result in through the selection, so its soft edge is kept. */
        for (gsize i = 0; i < (gsize)w * h; i++) coverage[i] = coverage[i] > 0.0f ? 1.0f : 0.0f;
    }
    {
        GeglBuffer *buffer = gimp_drawable_get_buffer(drawable);
        gegl_buffer_get(buffer, GEGL_RECTANGLE(0, 0, (gint)w, (gint)h), 1.0, layout.format, pixels,
                        GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        g_object_unref(buffer);
    }

    progress_start(&progress, "Unistyle: stylizing");
    if ((status = open_context(&ctx)) != GIMP_PDB_SUCCESS) goto done;
    if ((status = open_style(ctx, rq->style, &styles[0])) != GIMP_PDB_SUCCESS) goto done;
    if (two_styles && (status = open_style(ctx, rq->style2, &styles[1])) != GIMP_PDB_SUCCESS) goto done;

    unistyle_image img, mask_img;
    describe(&img, w, h, layout.channels, layout.sample_type, layout.sample_size, pixels);
    if (coverage) describe(&mask_img, w, h, 1, UNISTYLE_F32, sizeof(gfloat), coverage);

    unistyle_stylize_options opts;
    int st = unistyle_stylize_options_init(&opts);
    if (st != UNISTYLE_OK) {
        status = abi_fail(st, "unistyle_stylize_options_init");
        goto done;
    }
    const unistyle_style *const style_list[2] = {styles[0], styles[1]};
    opts.style_count = two_styles ? 2 : 1;
    opts.styles = style_list;
    opts.level_count = level_count;
    opts.levels = levels;
    opts.alpha = (float)rq->alpha;
    opts.feather = (float)rq->feather;
    if (coverage) {
        /* One style: styled inside the mask, original outside. Two: the second outside. */
        opts.mask_count = 1;
        opts.masks = &mask_img;
        opts.foreground_only = two_styles ? 0 : 1;
    }
    opts.progress = on_progress;
    opts.progress_user_data = &progress;

    st = unistyle_stylize(ctx, &img, &opts, &img);
    if (st != UNISTYLE_OK) {
        status = (st == UNISTYLE_ERR_CANCELLED || progress.cancelled) ? abi_fail(UNISTYLE_ERR_CANCELLED, "")
                                                                      : abi_fail(st, "stylizing");
        goto done;
    }
    gimp_progress_update(1.0);

    /* Through the shadow buffer: GIMP blends it in through the selection, with undo. */
    {
        GeglBuffer *shadow = gimp_drawable_get_shadow_buffer(drawable);
        gegl_buffer_set(shadow, GEGL_RECTANGLE(0, 0, (gint)w, (gint)h), 0, layout.format, pixels,
                        GEGL_AUTO_ROWSTRIDE);
        gegl_buffer_flush(shadow);
        g_object_unref(shadow);
    }
    gimp_drawable_merge_shadow(drawable, TRUE);
    gimp_drawable_update(drawable, x, y, sw, sh);
    if (interactive) gimp_displays_flush();

done:
    progress_finish(&progress);
    unistyle_style_destroy(styles[1]);
    unistyle_style_destroy(styles[0]);
    unistyle_context_destroy(ctx);
    g_free(coverage);
    g_free(pixels);
    return status;
}

/* ------------------------------------------------------------------------------------------ */
/* Texture.                                                                                   */

static GimpPDBStatusType texture(const TextureVals *v, gboolean interactive, gint32 *out_image) {
    *out_image = -1;
    if (v->width < 1 || v->height < 1 || v->width > UNISTYLE_MAX_SIDE || v->height > UNISTYLE_MAX_SIDE)
        return fail("unistyle: texture size %dx%d is outside 1..%d", v->width, v->height, UNISTYLE_MAX_SIDE);
    if (v->seed < 0) return fail("unistyle: seed must be >= 0, got %d", v->seed);
    if (v->iterations < 1 || v->iterations > 100)
        return fail("unistyle: iterations must be in 1..100, got %d", v->iterations);

    const guint32 w = (guint32)v->width, h = (guint32)v->height;
    GimpPDBStatusType status = GIMP_PDB_SUCCESS;
    unistyle_context *ctx = NULL;
    unistyle_style *style = NULL;
    Progress progress = {FALSE, 0.0, -1.0, FALSE};
    guint8 *pixels = alloc_pixels(w, h, 3);
    if (!pixels) return fail("unistyle: not enough memory for a %ux%u texture", w, h);

    progress_start(&progress, "Unistyle: synthesizing texture");
    if ((status = open_context(&ctx)) != GIMP_PDB_SUCCESS) goto done;
    if ((status = open_style(ctx, v->style, &style)) != GIMP_PDB_SUCCESS) goto done;

    unistyle_image img;
    describe(&img, w, h, 3, UNISTYLE_U8, 1, pixels);
    unistyle_texture_options opts;
    int st = unistyle_texture_options_init(&opts);
    if (st != UNISTYLE_OK) {
        status = abi_fail(st, "unistyle_texture_options_init");
        goto done;
    }
    const unistyle_style *const style_list[1] = {style};
    opts.style_count = 1;
    opts.styles = style_list;
    opts.seed = (uint64_t)v->seed;
    opts.iterations = (uint32_t)v->iterations;
    opts.tileable = v->tileable ? 1 : 0;
    opts.progress = on_progress;
    opts.progress_user_data = &progress;
    st = unistyle_texture(ctx, &opts, &img);
    if (st != UNISTYLE_OK) {
        status = (st == UNISTYLE_ERR_CANCELLED || progress.cancelled) ? abi_fail(UNISTYLE_ERR_CANCELLED, "")
                                                                      : abi_fail(st, "synthesizing the texture");
        goto done;
    }
    gimp_progress_update(1.0);

    gint32 image = gimp_image_new((gint)w, (gint)h, GIMP_RGB);
    if (image < 0) {
        status = fail("unistyle: could not create a %ux%u image", w, h);
        goto done;
    }
    gimp_image_undo_disable(image);
    gint32 layer = gimp_layer_new(image, "Texture", (gint)w, (gint)h, GIMP_RGB_IMAGE, 100.0, GIMP_LAYER_MODE_NORMAL);
    if (layer < 0 || !gimp_image_insert_layer(image, layer, -1, 0)) {
        gimp_image_delete(image);
        status = fail("unistyle: could not add a layer to the new image");
        goto done;
    }
    GeglBuffer *buffer = gimp_drawable_get_buffer(layer);
    gegl_buffer_set(buffer, GEGL_RECTANGLE(0, 0, (gint)w, (gint)h), 0,
                    babl_format_with_space("R'G'B' u8", gimp_drawable_get_format(layer)), pixels,
                    GEGL_AUTO_ROWSTRIDE);
    gegl_buffer_flush(buffer);
    g_object_unref(buffer);
    gimp_image_undo_enable(image);
    if (interactive) gimp_display_new(image);
    *out_image = image;

done:
    progress_finish(&progress);
    unistyle_style_destroy(style);
    unistyle_context_destroy(ctx);
    g_free(pixels);
    return status;
}

/* ------------------------------------------------------------------------------------------ */
/* Dialogs (interactive run-mode).                                                            */

static GtkWidget *new_dialog(const gchar *title, const gchar *help_id, GtkWidget **table, guint rows) {
    GtkWidget *dialog = gimp_dialog_new(title, PLUG_IN_ROLE, NULL, 0, gimp_standard_help_func, help_id,
                                        "_Cancel", GTK_RESPONSE_CANCEL, "_OK", GTK_RESPONSE_OK, NULL);
    gtk_dialog_set_alternative_button_order(GTK_DIALOG(dialog), GTK_RESPONSE_OK, GTK_RESPONSE_CANCEL, -1);
    gimp_window_set_transient(GTK_WINDOW(dialog));
    *table = gtk_table_new(rows, 2, FALSE);
    gtk_table_set_col_spacings(GTK_TABLE(*table), 6);
    gtk_table_set_row_spacings(GTK_TABLE(*table), 6);
    gtk_container_set_border_width(GTK_CONTAINER(*table), 12);
    gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), *table, TRUE, TRUE, 0);
    return dialog;
}

static void add_row(GtkWidget *table, guint row, const gchar *label, GtkWidget *widget) {
    GtkWidget *l = gtk_label_new_with_mnemonic(label);
    gtk_misc_set_alignment(GTK_MISC(l), 0.0, 0.5);
    gtk_label_set_mnemonic_widget(GTK_LABEL(l), widget);
    gtk_table_attach(GTK_TABLE(table), l, 0, 1, row, row + 1, GTK_FILL, GTK_FILL, 0, 0);
    gtk_table_attach(GTK_TABLE(table), widget, 1, 2, row, row + 1, GTK_EXPAND | GTK_FILL, GTK_FILL, 0, 0);
}

static GtkWidget *image_chooser(const gchar *title, const gchar *current) {
    GtkWidget *chooser = gtk_file_chooser_button_new(title, GTK_FILE_CHOOSER_ACTION_OPEN);
    GtkFileFilter *filter = gtk_file_filter_new();
    gtk_file_filter_set_name(filter, "Images");
    gtk_file_filter_add_pixbuf_formats(filter);
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(chooser), filter);
    if (current && *current) gtk_file_chooser_set_filename(GTK_FILE_CHOOSER(chooser), current);
    gtk_widget_set_size_request(chooser, 260, -1);
    return chooser;
}

static void read_chooser(GtkWidget *chooser, gchar *dest, gsize cap) {
    gchar *name = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(chooser));
    copy_string(dest, name, cap);
    g_free(name);
}

/* A spin button over the library's range of parameter `key` (unistyle_param_bounds): the
 * plug-in writes no bound of its own. Integer ranges are cut at what a gint holds. */
static GtkWidget *spin(const char *key, gdouble value, gdouble step, guint digits) {
    double lo = 0.0, hi = 0.0;
    if (unistyle_param_bounds(key, &lo, &hi, NULL, NULL) != UNISTYLE_OK) {
        g_warning("unistyle: %s", unistyle_last_error());
        lo = hi = value;
    }
    if (digits == 0 && hi > G_MAXINT32) hi = G_MAXINT32;
    GtkWidget *s = gtk_spin_button_new_with_range(lo, hi, step);
    gtk_spin_button_set_digits(GTK_SPIN_BUTTON(s), digits);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(s), value);
    return s;
}

static GtkWidget *levels_entry(const gchar *current) {
    GtkWidget *e = gtk_entry_new();
    gtk_entry_set_text(GTK_ENTRY(e), current);
    gtk_widget_set_tooltip_text(e, "Levels to run, coarse to fine, e.g. 3,2,1; empty = every level of the model");
    return e;
}

static gboolean stylize_dialog(StylizeVals *v) {
    GtkWidget *table;
    gimp_ui_init(PLUG_IN_BINARY, FALSE);
    GtkWidget *dialog = new_dialog("Unistyle: Stylize", PROC_STYLIZE, &table, 3);
    GtkWidget *style = image_chooser("Style image", v->style);
    GtkWidget *alpha = spin("alpha", v->alpha, 0.05, 2);
    GtkWidget *levels = levels_entry(v->levels);
    add_row(table, 0, "_Style image:", style);
    add_row(table, 1, "_Alpha (strength):", alpha);
    add_row(table, 2, "_Levels:", levels);
    gtk_widget_show_all(dialog);
    gboolean ok = gimp_dialog_run(GIMP_DIALOG(dialog)) == GTK_RESPONSE_OK;
    if (ok) {
        read_chooser(style, v->style, sizeof v->style);
        v->alpha = gtk_spin_button_get_value(GTK_SPIN_BUTTON(alpha));
        copy_string(v->levels, gtk_entry_get_text(GTK_ENTRY(levels)), sizeof v->levels);
    }
    gtk_widget_destroy(dialog);
    return ok;
}

static gboolean masked_dialog(MaskedVals *v) {
    GtkWidget *table;
    gimp_ui_init(PLUG_IN_BINARY, FALSE);
    GtkWidget *dialog = new_dialog("Unistyle: Stylize with Mask", PROC_MASKED, &table, 6);
    GtkWidget *style = image_chooser("Style inside the mask", v->style);
    GtkWidget *style2 = image_chooser("Style outside the mask (optional)", v->style2);
    GtkWidget *mask = gimp_channel_combo_box_new(NULL, NULL);
    if (v->mask >= 0 && gimp_item_is_valid(v->mask)) gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(mask), v->mask);
    GtkWidget *alpha = spin("alpha", v->alpha, 0.05, 2);
    GtkWidget *levels = levels_entry(v->levels);
    GtkWidget *feather = spin("feather", v->feather, 1.0, 1);
    gtk_widget_set_tooltip_text(style2, "Leave empty to keep the original pixels outside the mask");
    add_row(table, 0, "_Style inside:", style);
    add_row(table, 1, "Style _outside:", style2);
    add_row(table, 2, "_Mask channel:", mask);
    add_row(table, 3, "_Alpha (strength):", alpha);
    add_row(table, 4, "_Levels:", levels);
    add_row(table, 5, "_Feather (px):", feather);
    gtk_widget_show_all(dialog);
    gboolean ok = gimp_dialog_run(GIMP_DIALOG(dialog)) == GTK_RESPONSE_OK;
    if (ok) {
        gint id = -1;
        read_chooser(style, v->style, sizeof v->style);
        read_chooser(style2, v->style2, sizeof v->style2);
        v->mask = gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(mask), &id) ? id : -1;
        v->alpha = gtk_spin_button_get_value(GTK_SPIN_BUTTON(alpha));
        copy_string(v->levels, gtk_entry_get_text(GTK_ENTRY(levels)), sizeof v->levels);
        v->feather = gtk_spin_button_get_value(GTK_SPIN_BUTTON(feather));
    }
    gtk_widget_destroy(dialog);
    return ok;
}

static gboolean texture_dialog(TextureVals *v) {
    GtkWidget *table;
    gimp_ui_init(PLUG_IN_BINARY, FALSE);
    GtkWidget *dialog = new_dialog("Unistyle: Texture", PROC_TEXTURE, &table, 6);
    GtkWidget *style = image_chooser("Style image", v->style);
    GtkWidget *width = spin("texture.width", v->width, 1, 0);
    GtkWidget *height = spin("texture.height", v->height, 1, 0);
    GtkWidget *seed = spin("texture.seed", v->seed, 1, 0);
    GtkWidget *iterations = spin("texture.iterations", v->iterations, 1, 0);
    GtkWidget *tileable = gtk_check_button_new_with_mnemonic("_Tileable (seamless)");
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(tileable), v->tileable != 0);
    add_row(table, 0, "_Style image:", style);
    add_row(table, 1, "_Width:", width);
    add_row(table, 2, "_Height:", height);
    add_row(table, 3, "S_eed:", seed);
    add_row(table, 4, "_Iterations:", iterations);
    gtk_table_attach(GTK_TABLE(table), tileable, 1, 2, 5, 6, GTK_FILL, GTK_FILL, 0, 0);
    gtk_widget_show_all(dialog);
    gboolean ok = gimp_dialog_run(GIMP_DIALOG(dialog)) == GTK_RESPONSE_OK;
    if (ok) {
        read_chooser(style, v->style, sizeof v->style);
        v->width = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(width));
        v->height = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(height));
        v->seed = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(seed));
        v->iterations = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(iterations));
        v->tileable = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(tileable)) ? 1 : 0;
    }
    gtk_widget_destroy(dialog);
    return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* Registration and dispatch.                                                                 */

static void query(void) {
    static const GimpParamDef stylize_args[] = {
        {GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"},
        {GIMP_PDB_IMAGE, "image", "Input image"},
        {GIMP_PDB_DRAWABLE, "drawable", "Drawable to stylize (RGB or grayscale, with or without alpha)"},
        {GIMP_PDB_STRING, "style-path", "Style image file"},
        {GIMP_PDB_FLOAT, "alpha", "Strength: 0 keeps the input, 1 is fully stylized"},
        {GIMP_PDB_STRING, "levels-string", "Levels to run coarse to fine, e.g. \"3,2,1\"; \"\" = every level"},
    };
    static const GimpParamDef masked_args[] = {
        {GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"},
        {GIMP_PDB_IMAGE, "image", "Input image"},
        {GIMP_PDB_DRAWABLE, "drawable", "Drawable to stylize"},
        {GIMP_PDB_STRING, "style-path", "Style image used inside the mask"},
        {GIMP_PDB_STRING, "style2-path", "Style image used outside the mask; \"\" keeps the original pixels there"},
        {GIMP_PDB_CHANNEL, "mask-channel", "Mask: a channel, layer mask or the selection (white = inside)"},
        {GIMP_PDB_FLOAT, "alpha", "Strength: 0 keeps the input, 1 is fully stylized"},
        {GIMP_PDB_STRING, "levels-string", "Levels to run coarse to fine, e.g. \"3,2,1\"; \"\" = every level"},
        {GIMP_PDB_FLOAT, "feather", "Soft region borders, in pixels (0 = hard)"},
    };
    static const GimpParamDef texture_args[] = {
        {GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"},
        {GIMP_PDB_STRING, "style-path", "Style (exemplar) image file"},
        {GIMP_PDB_INT32, "width", "Width of the texture"},
        {GIMP_PDB_INT32, "height", "Height of the texture"},
        {GIMP_PDB_INT32, "seed", "Random seed (>= 0): same seed and inputs give the same texture"},
        {GIMP_PDB_INT32, "iterations", "Passes of the pipeline, 1..100 (3 is a good default)"},
        {GIMP_PDB_INT32, "tileable", "Seamlessly tileable texture { TRUE, FALSE }"},
    };
    static const GimpParamDef texture_return[] = {
        {GIMP_PDB_IMAGE, "new-image", "The new image holding the texture"},
    };
    static const GimpParamDef weights_args[] = {
        {GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"},
        {GIMP_PDB_STRING, "weights-path", "Weights file (.safetensors) or a folder holding one; \"\" = default"},
    };
    const gchar *author = "unistyle contributors";
    const gchar *date = "2026";

    gimp_install_procedure(PROC_STYLIZE, "Neural style transfer (WCT) with a style image",
                           "Re-renders the drawable in the style of a style image (universal style transfer by "
                           "whitening and colouring transforms). With a selection, only the selected area is "
                           "stylized (its statistics are the selection's) and blended in through the selection. "
                           "Weights come from $UNISTYLE_WEIGHTS, else from " PROC_WEIGHTS ".",
                           author, author, date, "Unistyle _Stylize...", "RGB*, GRAY*", GIMP_PLUGIN,
                           G_N_ELEMENTS(stylize_args), 0, stylize_args, NULL);
    gimp_plugin_menu_register(PROC_STYLIZE, MENU_PATH);

    gimp_install_procedure(PROC_MASKED, "Neural style transfer inside a mask channel",
                           "Stylizes the drawable with one style inside the mask channel and a second style "
                           "outside it (or the original pixels when style2-path is empty), with optionally "
                           "feathered borders.",
                           author, author, date, "Unistyle Stylize with _Mask...", "RGB*, GRAY*", GIMP_PLUGIN,
                           G_N_ELEMENTS(masked_args), 0, masked_args, NULL);
    gimp_plugin_menu_register(PROC_MASKED, MENU_PATH);

    gimp_install_procedure(PROC_TEXTURE, "Synthesize a texture from a style image (new image)",
                           "Creates a new image holding a texture synthesized from the style image's statistics, "
                           "optionally seamlessly tileable. The same seed and inputs give the same texture.",
                           author, author, date, "Unistyle _Texture...", NULL, GIMP_PLUGIN,
                           G_N_ELEMENTS(texture_args), G_N_ELEMENTS(texture_return), texture_args, texture_return);
    gimp_plugin_menu_register(PROC_TEXTURE, MENU_PATH);

    gimp_install_procedure(PROC_WEIGHTS, "Set the weights file unistyle uses",
                           "Stores the weights path in gimprc (token " GIMPRC_WEIGHTS "); used when "
                           "$UNISTYLE_WEIGHTS is not set.",
                           author, author, date, NULL, NULL, GIMP_PLUGIN, G_N_ELEMENTS(weights_args), 0,
                           weights_args, NULL);
}

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals,
                GimpParam **return_vals) {
    static GimpParam values[2];
    GimpPDBStatusType status = GIMP_PDB_SUCCESS;
    const GimpRunMode mode = nparams > 0 ? (GimpRunMode)param[0].data.d_int32 : GIMP_RUN_NONINTERACTIVE;
    const gboolean interactive = mode == GIMP_RUN_INTERACTIVE;
    gint32 new_image = -1;

    gegl_init(NULL, NULL);
    g_free(error_message);
    error_message = NULL;

    if (strcmp(name, PROC_STYLIZE) == 0) {
        StylizeVals v = {"", 1.0, ""};
        if (gimp_get_data_size(PROC_STYLIZE) == sizeof v) gimp_get_data(PROC_STYLIZE, &v);
        if (mode == GIMP_RUN_NONINTERACTIVE) {
            if (nparams != 6) status = GIMP_PDB_CALLING_ERROR;
            else {
                copy_string(v.style, param[3].data.d_string, sizeof v.style);
                v.alpha = param[4].data.d_float;
                copy_string(v.levels, param[5].data.d_string, sizeof v.levels);
            }
        } else if (interactive && !stylize_dialog(&v)) {
            status = GIMP_PDB_CANCEL;
        }
        if (status == GIMP_PDB_SUCCESS) {
            StylizeRequest rq = {v.style, NULL, -1, v.alpha, v.levels, 0.0};
            status = stylize(param[1].data.d_image, param[2].data.d_drawable, &rq, interactive);
            if (status == GIMP_PDB_SUCCESS && mode != GIMP_RUN_WITH_LAST_VALS)
                gimp_set_data(PROC_STYLIZE, &v, sizeof v);
        }
    } else if (strcmp(name, PROC_MASKED) == 0) {
        MaskedVals v = {"", "", -1, 1.0, "", 0.0};
        if (gimp_get_data_size(PROC_MASKED) == sizeof v) gimp_get_data(PROC_MASKED, &v);
        if (mode == GIMP_RUN_NONINTERACTIVE) {
            if (nparams != 9) status = GIMP_PDB_CALLING_ERROR;
            else {
                copy_string(v.style, param[3].data.d_string, sizeof v.style);
                copy_string(v.style2, param[4].data.d_string, sizeof v.style2);
                v.mask = param[5].data.d_channel;
                v.alpha = param[6].data.d_float;
                copy_string(v.levels, param[7].data.d_string, sizeof v.levels);
                v.feather = param[8].data.d_float;
            }
        } else if (interactive && !masked_dialog(&v)) {
            status = GIMP_PDB_CANCEL;
        }
        if (status == GIMP_PDB_SUCCESS) {
            if (v.mask < 0) status = fail("unistyle: no mask channel chosen");
            else {
                StylizeRequest rq = {v.style, v.style2, v.mask, v.alpha, v.levels, v.feather};
                status = stylize(param[1].data.d_image, param[2].data.d_drawable, &rq, interactive);
            }
            if (status == GIMP_PDB_SUCCESS && mode != GIMP_RUN_WITH_LAST_VALS)
                gimp_set_data(PROC_MASKED, &v, sizeof v);
        }
    } else if (strcmp(name, PROC_TEXTURE) == 0) {
        TextureVals v = {"", 256, 256, 0, 3, 0};
        if (gimp_get_data_size(PROC_TEXTURE) == sizeof v) gimp_get_data(PROC_TEXTURE, &v);
        if (mode == GIMP_RUN_NONINTERACTIVE) {
            if (nparams != 7) status = GIMP_PDB_CALLING_ERROR;
            else {
                copy_string(v.style, param[1].data.d_string, sizeof v.style);
                v.width = param[2].data.d_int32;
                v.height = param[3].data.d_int32;
                v.seed = param[4].data.d_int32;
                v.iterations = param[5].data.d_int32;
                v.tileable = param[6].data.d_int32;
            }
        } else if (interactive && !texture_dialog(&v)) {
            status = GIMP_PDB_CANCEL;
        }
        if (status == GIMP_PDB_SUCCESS) {
            status = texture(&v, interactive, &new_image);
            if (status == GIMP_PDB_SUCCESS && mode != GIMP_RUN_WITH_LAST_VALS)
                gimp_set_data(PROC_TEXTURE, &v, sizeof v);
        }
    } else if (strcmp(name, PROC_WEIGHTS) == 0) {
        if (nparams != 2) status = GIMP_PDB_CALLING_ERROR;
        else if (!gimp_gimprc_set(GIMPRC_WEIGHTS, param[1].data.d_string ? param[1].data.d_string : ""))
            status = fail("unistyle: could not store the weights path in gimprc");
    } else {
        status = GIMP_PDB_CALLING_ERROR;
    }

    /* Script-Fu ignores a cancelled status: say so, as nothing else will. */
    if (status == GIMP_PDB_CANCEL && error_message) g_message("%s", error_message);

    values[0].type = GIMP_PDB_STATUS;
    values[0].data.d_status = status;
    *nreturn_vals = 1;
    *return_vals = values;
    if (status == GIMP_PDB_SUCCESS && new_image >= 0) {
        values[1].type = GIMP_PDB_IMAGE;
        values[1].data.d_image = new_image;
        *nreturn_vals = 2;
    } else if (status != GIMP_PDB_SUCCESS && error_message) {
        values[1].type = GIMP_PDB_STRING;
        values[1].data.d_string = error_message;
        *nreturn_vals = 2;
    }
}

const GimpPlugInInfo PLUG_IN_INFO = {NULL, NULL, query, run};

MAIN()
