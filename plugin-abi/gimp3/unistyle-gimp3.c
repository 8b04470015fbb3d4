/*
 * unistyle-gimp3.c — GIMP 3 plug-in for unistyle (WCT style transfer and texture synthesis).
 *
 * Procedures (Filters → Artistic; argument names are public API for keyword calls):
 *   plug-in-unistyle-stylize  (run-mode, image, drawables, style, style2, preset, alpha, levels,
 *                              preserve-color, mask, feather, as-new-layer, patch-swap, transform,
 *                              variation, seed, stroke-scale, photo, weights)
 *   plug-in-unistyle-texture  (run-mode, style, preset, width, height, seed, iterations,
 *                              tileable, weights) → image
 *
 * Pixels are read and written through GEGL in the drawable's own format (see pixels.c), passed
 * to libunistyle through its C ABI, and written back through the shadow buffer: one undo step,
 * limited to the selection with its soft edge. The interactive dialog shows a live preview
 * (preview.c). Build and install: plugin-abi/gimp3/install.sh [PLUGIN_DIR]
 */
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "engine.h"
#include "filefield.h"
#include "inputs.h"
#include "pixels.h"
#include "preview.h"
#include "unistyle.h"

#define PROC_STYLIZE "plug-in-unistyle-stylize"
#define PROC_TEXTURE "plug-in-unistyle-texture"
#define PLUG_IN_BINARY "unistyle"
#define MENU_PATH "<Image>/Filters/Artistic"

typedef struct {
    GimpPlugIn parent_instance;
} Unistyle;
typedef struct {
    GimpPlugInClass parent_class;
} UnistyleClass;

#define UNISTYLE_TYPE (unistyle_get_type())
GType unistyle_get_type(void) G_GNUC_CONST;
G_DEFINE_TYPE(Unistyle, unistyle, GIMP_TYPE_PLUG_IN)

/* ------------------------------------------------------------------------------------------ */
/* Progress: GIMP's progress bar; a refused update (GIMP no longer listening) cancels.        */

typedef struct {
    gdouble last;
    gboolean cancelled;
} Progress;

static int on_progress(float fraction, void *user_data) {
    Progress *p = user_data;
    if (fraction - p->last >= 0.005 || fraction >= 1.0f) {
        p->last = fraction;
        if (!gimp_progress_update(fraction)) {
            p->cancelled = TRUE;
            return 1;
        }
    }
    return 0;
}

static GimpValueArray *failed(GimpProcedure *procedure, GError *error) {
    GimpPDBStatusType status = GIMP_PDB_EXECUTION_ERROR;
    if (error && error->code == UNISTYLE_ERR_CANCELLED) status = GIMP_PDB_CANCEL;
    return gimp_procedure_new_return_values(procedure, status, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Stylize.                                                                                   */

/* Where the result goes: the drawable itself, or a copy of it inserted just above. */
static GimpDrawable *target_drawable(GimpImage *image, GimpDrawable *drawable, gboolean as_new_layer,
                                     GError **error) {
    if (!as_new_layer) return drawable;
    if (!GIMP_IS_LAYER(drawable)) {
        g_set_error_literal(error, g_quark_from_static_string("unistyle"), 0,
                            "unistyle: as-new-layer needs a layer (not a channel or layer mask)");
        return NULL;
    }
    GimpLayer *copy = gimp_layer_copy(GIMP_LAYER(drawable));
    GimpLayer *parent = GIMP_LAYER(gimp_item_get_parent(GIMP_ITEM(drawable)));
    gint position = gimp_image_get_item_position(image, GIMP_ITEM(drawable));
    if (!copy || !gimp_image_insert_layer(image, copy, parent, position)) {
        g_set_error_literal(error, g_quark_from_static_string("unistyle"), 0,
                            "unistyle: could not add the new layer");
        return NULL;
    }
    gchar *name = g_strdup_printf("%s (unistyle)", gimp_item_get_name(GIMP_ITEM(drawable)));
    gimp_item_set_name(GIMP_ITEM(copy), name);
    g_free(name);
    return GIMP_DRAWABLE(copy);
}

/* Writes the result: through the selection, except with a second style for the outside of the
 * selection, where the whole drawable changes (the selection is put back afterwards). */
static void write_result(GimpImage *image, GimpDrawable *target, const Source *src, gboolean whole) {
    GimpChannel *saved = NULL;
    if (whole) {
        saved = gimp_selection_save(image);
        gimp_selection_none(image);
    }
    pixels_write_merged(target, &src->layout, &src->rect, src->pixels);
    if (saved) {
        gimp_image_select_item(image, GIMP_CHANNEL_OP_REPLACE, GIMP_ITEM(saved));
        gimp_image_remove_channel(image, saved);
    }
}

static GimpValueArray *stylize_run(GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image,
                                   GimpDrawable **drawables, GimpProcedureConfig *config, gpointer run_data) {
    (void)run_data;
    GError *error = NULL;
    if (!drawables || !drawables[0] || drawables[1]) {
        error = g_error_new_literal(g_quark_from_static_string("unistyle"), 0,
                                    "unistyle: select exactly one layer or channel to stylize");
        return gimp_procedure_new_return_values(procedure, GIMP_PDB_CALLING_ERROR, error);
    }
    GimpDrawable *drawable = drawables[0];
    gegl_init(NULL, NULL);

    if (run_mode == GIMP_RUN_INTERACTIVE) {
        gimp_ui_init(PLUG_IN_BINARY);
        if (!preview_dialog_run(procedure, config, image, drawable))
            return gimp_procedure_new_return_values(procedure, GIMP_PDB_CANCEL, NULL);
    }

    StylizeSettings s = {0};
    GimpChannel *mask = NULL;
    Source src = {0};
    Engine engine = {0};
    guint32 levels[ENGINE_MAX_LEVELS], level_count = 0;
    Progress progress = {-1.0, FALSE};
    gboolean undo_group = FALSE, progress_started = FALSE;
    unistyle_image img, mask_img;
    unistyle_stylize_options opts;

    inputs_read_settings(config, &s, &mask);
    if (!engine_check(&s, inputs_mask(image, mask) != NULL, &error)) goto done;
    if (!engine_levels(s.levels, levels, &level_count, &error)) goto done;
    if (!inputs_read_source(image, drawable, mask, FALSE, &src, &error)) goto done;
    if (src.rect.width == 0) goto done; /* the selection does not touch this drawable */

    gimp_progress_init("Unistyle: stylizing");
    progress_started = TRUE;
    if (!engine_prepare(&engine, &s, &error)) goto done;

    pixels_describe(&img, (guint32)src.rect.width, (guint32)src.rect.height, src.layout.channels,
                    src.layout.sample_type, src.layout.sample_size, src.pixels);
    int st;
    if (engine.preset) {
        st = unistyle_stylize_preset(engine.ctx, engine.preset, &img, &img, on_progress, &progress, NULL);
    } else {
        if (src.coverage)
            pixels_describe(&mask_img, (guint32)src.rect.width, (guint32)src.rect.height, 1, UNISTYLE_F32,
                            sizeof(gfloat), src.coverage);
        if (!engine_stylize_options(&engine, &s, src.coverage ? &mask_img : NULL, levels, level_count, &opts, &error))
            goto done;
        opts.progress = on_progress;
        opts.progress_user_data = &progress;
        st = unistyle_stylize(engine.ctx, &img, &opts, &img);
    }
    if (st != UNISTYLE_OK) {
        error = engine_error(progress.cancelled ? UNISTYLE_ERR_CANCELLED : st, "stylizing");
        goto done;
    }
    gimp_progress_update(1.0);

    gimp_image_undo_group_start(image);
    undo_group = TRUE;
    GimpDrawable *target = target_drawable(image, drawable, s.as_new_layer, &error);
    if (!target) goto done;
    write_result(image, target, &src, src.from_selection && engine.style[1] && !engine.preset);
    if (run_mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();

done:
    if (undo_group) gimp_image_undo_group_end(image);
    if (progress_started) gimp_progress_end();
    engine_close(&engine);
    inputs_clear_source(&src);
    stylize_settings_clear(&s);
    g_clear_object(&mask);
    if (error) return failed(procedure, error);
    return gimp_procedure_new_return_values(procedure, GIMP_PDB_SUCCESS, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Texture.                                                                                   */

static GimpImage *texture_image(const guint8 *pixels, gint w, gint h, GError **error) {
    GimpImage *image = gimp_image_new(w, h, GIMP_RGB);
    if (!image) {
        g_set_error(error, g_quark_from_static_string("unistyle"), 0, "unistyle: could not create a %dx%d image", w, h);
        return NULL;
    }
    gimp_image_undo_disable(image);
    GimpLayer *layer = gimp_layer_new(image, "Texture", w, h, GIMP_RGB_IMAGE, 100.0,
                                      gimp_image_get_default_new_layer_mode(image));
    if (!layer || !gimp_image_insert_layer(image, layer, NULL, 0)) {
        gimp_image_delete(image);
        g_set_error_literal(error, g_quark_from_static_string("unistyle"), 0,
                            "unistyle: could not add a layer to the new image");
        return NULL;
    }
    GeglBuffer *buffer = gimp_drawable_get_buffer(GIMP_DRAWABLE(layer));
    gegl_buffer_set(buffer, GEGL_RECTANGLE(0, 0, w, h), 0,
                    babl_format_with_space("R'G'B' u8", gimp_drawable_get_format(GIMP_DRAWABLE(layer))), pixels,
                    GEGL_AUTO_ROWSTRIDE);
    gegl_buffer_flush(buffer);
    g_object_unref(buffer);
    gimp_image_undo_enable(image);
    return image;
}

static GimpValueArray *texture_run(GimpProcedure *procedure, GimpProcedureConfig *config, gpointer run_data) {
    (void)run_data;
    GimpRunMode run_mode = GIMP_RUN_NONINTERACTIVE;
    gint width = 0, height = 0, seed = 0, iterations = 0;
    gboolean tileable = FALSE;
    g_object_get(config, "run-mode", &run_mode, "width", &width, "height", &height, "seed", &seed, "iterations",
                 &iterations, "tileable", &tileable, NULL);
    gegl_init(NULL, NULL);
    if (run_mode == GIMP_RUN_INTERACTIVE) {
        gimp_ui_init(PLUG_IN_BINARY);
        GtkWidget *dialog = gimp_procedure_dialog_new(procedure, config, "Unistyle: Texture");
        GtkWidget *files = filefield_grid();
        filefield_add(files, config, "style", "_Style image:", FALSE);
        filefield_add(files, config, "preset", "_Preset:", TRUE);
        filefield_add(files, config, "weights", "_Weights:", TRUE);
        gimp_procedure_dialog_fill(GIMP_PROCEDURE_DIALOG(dialog), "width", "height", "seed", "iterations",
                                   "tileable", NULL);
        GtkWidget *content = gtk_dialog_get_content_area(GTK_DIALOG(dialog));
        gtk_box_pack_start(GTK_BOX(content), files, FALSE, FALSE, 6);
        gtk_box_reorder_child(GTK_BOX(content), files, 0);
        gboolean ok = gimp_procedure_dialog_run(GIMP_PROCEDURE_DIALOG(dialog));
        gtk_widget_destroy(dialog);
        if (!ok) return gimp_procedure_new_return_values(procedure, GIMP_PDB_CANCEL, NULL);
        g_object_get(config, "width", &width, "height", &height, "seed", &seed, "iterations", &iterations,
                     "tileable", &tileable, NULL);
    }

    GError *error = NULL;
    gchar *style = inputs_file_path(config, "style");
    gchar *preset = inputs_file_path(config, "preset");
    gchar *weights = inputs_file_path(config, "weights");
    Engine engine = {0};
    Progress progress = {-1.0, FALSE};
    GimpImage *image = NULL;
    guint8 *pixels = pixels_alloc((guint32)width, (guint32)height, 3);
    if (!pixels) {
        error = g_error_new(g_quark_from_static_string("unistyle"), 0,
                            "unistyle: not enough memory for a %dx%d texture", width, height);
        goto done;
    }
    gimp_progress_init("Unistyle: synthesizing a texture");
    if (!engine_prepare_texture(&engine, weights, style, preset, &error)) goto done;

    unistyle_image img;
    pixels_describe(&img, (guint32)width, (guint32)height, 3, UNISTYLE_U8, 1, pixels);
    int st;
    if (engine.preset) {
        st = unistyle_texture_preset(engine.ctx, engine.preset, &img, on_progress, &progress, NULL);
    } else {
        unistyle_texture_options opts;
        st = unistyle_texture_options_init_ex(&opts, sizeof opts);
        if (st == UNISTYLE_OK) {
            const unistyle_style *const styles[1] = {engine.style[0]};
            opts.style_count = 1;
            opts.styles = styles;
            opts.seed = (uint64_t)seed;
            opts.iterations = (uint32_t)iterations;
            opts.tileable = tileable ? 1 : 0;
            opts.progress = on_progress;
            opts.progress_user_data = &progress;
            st = unistyle_texture(engine.ctx, &opts, &img);
        }
    }
    if (st != UNISTYLE_OK) {
        error = engine_error(progress.cancelled ? UNISTYLE_ERR_CANCELLED : st, "synthesizing the texture");
        goto done;
    }
    gimp_progress_update(1.0);
    image = texture_image(pixels, width, height, &error);
    if (image && run_mode == GIMP_RUN_INTERACTIVE) gimp_display_new(image);

done:
    if (pixels) gimp_progress_end();
    engine_close(&engine);
    g_free(pixels);
    g_free(style);
    g_free(preset);
    g_free(weights);
    if (error) return failed(procedure, error);
    GimpValueArray *ret = gimp_procedure_new_return_values(procedure, GIMP_PDB_SUCCESS, NULL);
    GIMP_VALUES_SET_IMAGE(ret, 1, image);
    return ret;
}

/* ------------------------------------------------------------------------------------------ */
/* Registration.                                                                              */

static const gchar *const WEIGHTS_BLURB =
    "Weights file (.safetensors) or a folder holding one; unset = $UNISTYLE_WEIGHTS, else the per-user "
    "weights folder (see `unistyle weights install`)";

/* A file argument: any path is accepted (a missing file is reported by the plug-in in its own
 * words), unset = none. */
static void add_file_argument(GimpProcedure *p, const gchar *name, const gchar *nick, const gchar *blurb) {
    gimp_procedure_add_file_argument(p, name, nick, blurb, GIMP_FILE_CHOOSER_ACTION_ANY, TRUE, NULL,
                                     G_PARAM_READWRITE);
}

/* Menu entry, documentation and attribution. */
static void describe(GimpProcedure *p, const gchar *label, const gchar *blurb, const gchar *help) {
    gimp_procedure_set_menu_label(p, label);
    gimp_procedure_add_menu_path(p, MENU_PATH);
    gimp_procedure_set_documentation(p, blurb, help, gimp_procedure_get_name(p));
    gimp_procedure_set_attribution(p, "unistyle contributors", "unistyle contributors", "2026");
}

/* The modes beyond plain WCT (README "Beyond the paper"); defaults as the library's
 * unistyle_stylize_options_init_ex, ranges as unistyle.h. */
static void add_mode_arguments(GimpProcedure *p) {
    gimp_procedure_add_boolean_argument(p, "patch-swap", "Patch s_wap (keep brush strokes)",
                                        "Swap the image's patches for the style's best-matching patches at the "
                                        "coarsest level (not with a mask or selection, nor with transform \"ost\")",
                                        FALSE, G_PARAM_READWRITE);
    gimp_procedure_add_choice_argument(
        p, "transform", "_Transform", "Feature transform: \"wct\" (whitening and colouring) or \"ost\" "
                                      "(optimal-transport colouring: moves the image's features the least)",
        gimp_choice_new_with_values("wct", UNISTYLE_TRANSFORM_WCT, "Whitening and colouring (WCT)", NULL, "ost",
                                    UNISTYLE_TRANSFORM_OST, "Optimal transport (OST)", NULL, NULL),
        "wct", G_PARAM_READWRITE);
    gimp_procedure_add_double_argument(p, "variation", "_Variation",
                                       "Random variation strength: 0 is the plain result; the seed picks the variation",
                                       0.0, 1.0, 0.0, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument(p, "seed", "S_eed",
                                    "Seed of the variation: the same seed gives the same result", 0, G_MAXINT, 0,
                                    G_PARAM_READWRITE);
    gimp_procedure_add_double_argument(p, "stroke-scale", "St_roke scale",
                                       "Scale the style is taken at: 1 = as given, 2 = larger strokes, 0.5 = finer",
                                       0.125, 8.0, 1.0, G_PARAM_READWRITE);
    gimp_procedure_add_boolean_argument(p, "photo", "P_hoto mode",
                                        "Edge-preserving smoothing guided by the image: a photo stays a photo with "
                                        "the style's colours",
                                        FALSE, G_PARAM_READWRITE);
}

static GimpProcedure *create_stylize(GimpPlugIn *plug_in) {
    GimpProcedure *p = gimp_image_procedure_new(plug_in, PROC_STYLIZE, GIMP_PDB_PROC_TYPE_PLUGIN, stylize_run, NULL,
                                                NULL);
    gimp_procedure_set_image_types(p, "RGB*, GRAY*");
    gimp_procedure_set_sensitivity_mask(p, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
    describe(
        p, "Unistyle _Stylize...", "Neural style transfer (WCT) with a style image",
        "Re-renders the drawable in the style of a style image (universal style transfer by whitening and "
        "colouring transforms). With a mask channel, or else a selection, only that area is stylized (with its "
        "own statistics) and the result is blended in through the selection; style2 styles the rest. A preset "
        "supplies styles and settings instead (style, style2, alpha, levels, preserve-color, feather and the "
        "modes are then the preset's). The modes: patch-swap keeps brush strokes, transform \"ost\" colours by "
        "optimal transport, variation with seed gives reproducible variations, stroke-scale sizes the strokes, "
        "photo keeps a photo photographic.");
    add_file_argument(p, "style", "_Style image", "Style image file");
    add_file_argument(p, "style2", "Style _outside",
                      "Style image used outside the mask or selection; unset keeps the original pixels there");
    add_file_argument(p, "preset", "_Preset", "TOML preset supplying the styles and settings");
    gimp_procedure_add_double_argument(p, "alpha", "_Alpha", "Strength: 0 keeps the input, 1 is fully stylized", 0.0,
                                       1.0, 0.6, G_PARAM_READWRITE);
    gimp_procedure_add_string_argument(p, "levels", "_Levels",
                                       "Levels to run coarse to fine, e.g. \"3,2,1\"; \"\" = every level of the "
                                       "model",
                                       "", G_PARAM_READWRITE);
    gimp_procedure_add_boolean_argument(p, "preserve-color", "Preserve _colour",
                                        "Keep the image's colours and stylize lightness only", FALSE,
                                        G_PARAM_READWRITE);
    gimp_procedure_add_channel_argument(p, "mask", "_Mask",
                                        "Channel or layer mask (white = inside); unset = the selection, if any",
                                        TRUE, G_PARAM_READWRITE);
    gimp_procedure_add_double_argument(p, "feather", "_Feather", "Soft borders between the regions, in pixels", 0.0,
                                       1000.0, 0.0, G_PARAM_READWRITE);
    gimp_procedure_add_boolean_argument(p, "as-new-layer", "As _new layer",
                                        "Put the result in a new layer above the drawable instead of replacing its "
                                        "pixels",
                                        FALSE, G_PARAM_READWRITE);
    add_mode_arguments(p);
    add_file_argument(p, "weights", "_Weights", WEIGHTS_BLURB);
    return p;
}

static GimpProcedure *create_texture(GimpPlugIn *plug_in) {
    GimpProcedure *p = gimp_procedure_new(plug_in, PROC_TEXTURE, GIMP_PDB_PROC_TYPE_PLUGIN, texture_run, NULL, NULL);
    gimp_procedure_set_sensitivity_mask(p, GIMP_PROCEDURE_SENSITIVE_ALWAYS);
    describe(
        p, "Unistyle _Texture...", "Synthesize a texture from a style image (new image)",
        "Creates a new image holding a texture synthesized from the style image's statistics, optionally "
        "seamlessly tileable. The same seed and inputs give the same texture. A texture preset supplies the "
        "style and settings instead (width and height stay the arguments').");
    gimp_procedure_add_enum_argument(p, "run-mode", "Run mode", "The run mode", GIMP_TYPE_RUN_MODE,
                                     GIMP_RUN_NONINTERACTIVE, G_PARAM_READWRITE);
    add_file_argument(p, "style", "_Style image", "Style (exemplar) image file");
    add_file_argument(p, "preset", "_Preset", "TOML texture preset supplying the style and settings");
    gimp_procedure_add_int_argument(p, "width", "_Width", "Width of the texture", 1, UNISTYLE_MAX_SIDE, 512,
                                    G_PARAM_READWRITE);
    gimp_procedure_add_int_argument(p, "height", "_Height", "Height of the texture", 1, UNISTYLE_MAX_SIDE, 512,
                                    G_PARAM_READWRITE);
    gimp_procedure_add_int_argument(p, "seed", "S_eed", "Random seed: the same seed and inputs give the same texture",
                                    0, G_MAXINT, 0, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument(p, "iterations", "_Iterations", "Passes of the pipeline", 1, 100, 3,
                                    G_PARAM_READWRITE);
    gimp_procedure_add_boolean_argument(p, "tileable", "_Tileable", "Seamlessly tileable texture", FALSE,
                                        G_PARAM_READWRITE);
    add_file_argument(p, "weights", "_Weights", WEIGHTS_BLURB);
    gimp_procedure_add_image_return_value(p, "image", "Image", "The new image holding the texture", FALSE,
                                          G_PARAM_READWRITE);
    return p;
}

static GList *unistyle_query_procedures(GimpPlugIn *plug_in) {
    (void)plug_in;
    return g_list_append(g_list_append(NULL, g_strdup(PROC_STYLIZE)), g_strdup(PROC_TEXTURE));
}

static GimpProcedure *unistyle_create_procedure(GimpPlugIn *plug_in, const gchar *name) {
    if (g_strcmp0(name, PROC_STYLIZE) == 0) return create_stylize(plug_in);
    if (g_strcmp0(name, PROC_TEXTURE) == 0) return create_texture(plug_in);
    return NULL;
}

static gboolean unistyle_set_i18n(GimpPlugIn *plug_in, const gchar *name, gchar **domain, gchar **catalog) {
    (void)plug_in, (void)name, (void)domain, (void)catalog;
    return FALSE; /* no translations */
}

static void unistyle_class_init(UnistyleClass *klass) {
    GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS(klass);
    plug_in_class->query_procedures = unistyle_query_procedures;
    plug_in_class->create_procedure = unistyle_create_procedure;
    plug_in_class->set_i18n = unistyle_set_i18n;
}

static void unistyle_init(Unistyle *self) {
    (void)self;
}

GIMP_MAIN(UNISTYLE_TYPE)
