/*
 * preview.c — the stylize dialog with its live preview (see preview.h).
 *
 * Threads: the GTK main thread reads GIMP (settings, pixels) and draws; one worker thread
 * calls the library (context, style encoding, unistyle_preview). They share a Preview
 * (reference counted: the worker's results may arrive after the dialog closed) and exchange
 * one pending request and the running job under `lock`. A new request cancels the running
 * job, so a stale preview stops at its next progress report.
 */
#include "preview.h"

#include <libgimp/gimpui.h>

#include "engine.h"
#include "filefield.h"
#include "inputs.h"

/* Settings changes closer together than this are one request. */
#define PREVIEW_DEBOUNCE_MS 120

typedef struct {
    guint generation;
    StylizeSettings settings;
    Source *source; /* g_atomic_rc_box, shared read-only */
    guint32 width, height; /* preview size */
    gpointer small;        /* with a preset: the source downscaled to the preview size by GEGL */
} Request;

typedef struct Preview Preview;

typedef struct {
    Preview *preview; /* a reference */
    guint generation;
    guchar *pixels; /* width*height*channels, 8-bit; NULL on failure */
    guint32 width, height, channels;
    gchar *message;
    gdouble seconds;
} Result;

struct Preview {
    GMutex lock;
    GCond wake;
    Request *pending;          /* under lock */
    unistyle_job *running;     /* under lock: the job of the preview being computed */
    gboolean quit;             /* under lock */
    GThread *thread;
    Engine engine;             /* worker thread only */

    /* Main thread only. */
    gboolean closed;
    GimpProcedureConfig *config;
    GimpImage *image;
    GimpDrawable *drawable;
    GimpChannel *mask;         /* the mask argument the source was read with */
    Source *source;
    GtkWidget *area, *label;
    guint generation;
    guint timeout;
};

static void source_free(gpointer p) {
    inputs_clear_source(p);
}

static void request_free(Request *r) {
    if (!r) return;
    stylize_settings_clear(&r->settings);
    g_free(r->small);
    if (r->source) g_atomic_rc_box_release_full(r->source, source_free);
    g_free(r);
}

static void preview_clear(gpointer p) {
    Preview *pv = p;
    request_free(pv->pending);
    engine_close(&pv->engine);
    g_mutex_clear(&pv->lock);
    g_cond_clear(&pv->wake);
}

static void preview_unref(Preview *pv) {
    g_atomic_rc_box_release_full(pv, preview_clear);
}

/* ------------------------------------------------------------------------------------------ */
/* Worker thread.                                                                             */

static GimpImageType image_type(guint32 channels) {
    switch (channels) {
    case 1: return GIMP_GRAY_IMAGE;
    case 2: return GIMP_GRAYA_IMAGE;
    case 3: return GIMP_RGB_IMAGE;
    default: return GIMP_RGBA_IMAGE;
    }
}

static gboolean result_show(gpointer data);

/* The preview of a preset: its own stylization of the GEGL-downscaled source. */
static int compute_preset(Preview *pv, const Request *rq, unistyle_job *job, const unistyle_image *output) {
    const Source *src = rq->source;
    unistyle_image input;
    pixels_describe(&input, rq->width, rq->height, src->layout.channels, src->layout.sample_type,
                    src->layout.sample_size, rq->small);
    unistyle_run_options run;
    int st = unistyle_run_options_init(&run, sizeof run);
    run.job = job;
    return st != UNISTYLE_OK ? st : unistyle_stylize_preset_ex(pv->engine.ctx, pv->engine.preset, &input, output, &run);
}

/* The preview call with the stylize options of the settings. */
static int compute_options(Preview *pv, const Request *rq, unistyle_job *job, const unistyle_image *output,
                           GError **error) {
    const Source *src = rq->source;
    guint32 levels[ENGINE_MAX_LEVELS], level_count = 0;
    if (!engine_levels(rq->settings.levels, levels, &level_count, error)) return UNISTYLE_ERR_INVALID;
    unistyle_image input, mask;
    pixels_describe(&input, (guint32)src->rect.width, (guint32)src->rect.height, src->layout.channels,
                    src->layout.sample_type, src->layout.sample_size, src->pixels);
    if (src->coverage)
        pixels_describe(&mask, (guint32)src->rect.width, (guint32)src->rect.height, 1, UNISTYLE_F32, sizeof(gfloat),
                        src->coverage);
    unistyle_stylize_options opts;
    if (!engine_stylize_options(&pv->engine, &rq->settings, src->coverage ? &mask : NULL, levels, level_count,
                                &opts, error))
        return UNISTYLE_ERR_INVALID;
    opts.job = job;
    /* Previews trade the last digits for speed: bf16 products (invisible at preview size). */
    opts.precision = UNISTYLE_PRECISION_BF16;
    return unistyle_preview(pv->engine.ctx, &input, &opts, output);
}

/* Computes one preview into `res` (pixels, or a message). */
static void compute(Preview *pv, const Request *rq, unistyle_job *job, Result *res) {
    GError *error = NULL;
    const Source *src = rq->source;
    if (!engine_check(&rq->settings, src->coverage != NULL, &error) ||
        /* The style encoding is not cancelled with the preview: a newer request with the same
         * style files reuses it. */
        !engine_prepare(&pv->engine, &rq->settings, &error)) {
        res->message = g_strdup(error->message);
        g_error_free(error);
        return;
    }
    res->channels = src->layout.channels;
    res->pixels = g_try_malloc((gsize)rq->width * rq->height * res->channels);
    if (!res->pixels || (rq->settings.preset && !rq->small)) {
        res->message = g_strdup("Not enough memory for the preview");
        return;
    }
    unistyle_image output;
    pixels_describe(&output, rq->width, rq->height, res->channels, UNISTYLE_U8, 1, res->pixels);
    gint64 t0 = g_get_monotonic_time();
    int st = rq->settings.preset ? compute_preset(pv, rq, job, &output) : compute_options(pv, rq, job, &output, &error);
    res->seconds = (gdouble)(g_get_monotonic_time() - t0) / 1e6;
    if (st != UNISTYLE_OK) {
        g_clear_pointer(&res->pixels, g_free);
        if (!error) error = engine_error(st, "preview");
        res->message = g_strdup(error->message);
        g_error_free(error);
        return;
    }
    res->width = rq->width;
    res->height = rq->height;
}

static gpointer worker(gpointer data) {
    Preview *pv = data;
    for (;;) {
        g_mutex_lock(&pv->lock);
        while (!pv->quit && !pv->pending) g_cond_wait(&pv->wake, &pv->lock);
        if (pv->quit) {
            g_mutex_unlock(&pv->lock);
            break;
        }
        Request *rq = pv->pending;
        pv->pending = NULL;
        unistyle_job *job = NULL;
        if (unistyle_job_create(&job) != UNISTYLE_OK) job = NULL;
        pv->running = job;
        g_mutex_unlock(&pv->lock);

        Result *res = g_new0(Result, 1);
        res->generation = rq->generation;
        compute(pv, rq, job, res);
        request_free(rq);

        g_mutex_lock(&pv->lock);
        pv->running = NULL;
        g_mutex_unlock(&pv->lock);
        unistyle_job_destroy(job);
        res->preview = g_atomic_rc_box_acquire(pv);
        g_idle_add(result_show, res);
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Main thread.                                                                               */

static gboolean result_show(gpointer data) {
    Result *res = data;
    Preview *pv = res->preview;
    /* A stale result (a newer request exists) is dropped: its successor is on its way. */
    if (!pv->closed && res->generation == pv->generation) {
        if (res->pixels) {
            gimp_preview_area_draw(GIMP_PREVIEW_AREA(pv->area), 0, 0, (gint)res->width, (gint)res->height,
                                   image_type(res->channels), res->pixels, (gint)(res->width * res->channels));
            gchar *text = g_strdup_printf("Preview %ux%u, %.2f s", res->width, res->height, res->seconds);
            gtk_label_set_text(GTK_LABEL(pv->label), text);
            g_free(text);
        } else if (res->message && !g_str_has_suffix(res->message, "nothing was changed")) {
            gtk_label_set_text(GTK_LABEL(pv->label), res->message);
        }
    }
    g_free(res->pixels);
    g_free(res->message);
    g_free(res);
    preview_unref(pv);
    return G_SOURCE_REMOVE;
}

/* Reads the drawable (the selection's bounding box) and the mask once per mask choice. */
static void ensure_source(Preview *pv, GimpChannel *mask) {
    if (pv->source && mask == pv->mask) return;
    if (pv->source) g_atomic_rc_box_release_full(pv->source, source_free);
    g_set_object(&pv->mask, mask);
    pv->source = g_atomic_rc_box_new0(Source);
    GError *error = NULL;
    if (!inputs_read_source(pv->image, pv->drawable, mask, TRUE, pv->source, &error)) {
        gtk_label_set_text(GTK_LABEL(pv->label), error->message);
        g_error_free(error);
    }
}

static void preview_size(const Source *src, guint32 *w, guint32 *h) {
    const gint side = MAX(src->rect.width, src->rect.height);
    const gdouble scale = side > PREVIEW_MAX_SIDE ? (gdouble)PREVIEW_MAX_SIDE / side : 1.0;
    *w = (guint32)MAX(1, (gint)(src->rect.width * scale + 0.5));
    *h = (guint32)MAX(1, (gint)(src->rect.height * scale + 0.5));
}

static gboolean submit(gpointer data) {
    Preview *pv = data;
    pv->timeout = 0;
    Request *rq = g_new0(Request, 1);
    GimpChannel *mask = NULL;
    inputs_read_settings(pv->config, &rq->settings, &mask);
    ensure_source(pv, mask);
    g_clear_object(&mask);
    if (!pv->source->pixels) {
        request_free(rq);
        return G_SOURCE_REMOVE;
    }
    rq->source = g_atomic_rc_box_acquire(pv->source);
    preview_size(pv->source, &rq->width, &rq->height);
    if (rq->settings.preset)
        rq->small = pixels_read_scaled(pv->drawable, &pv->source->layout, &pv->source->rect, rq->width, rq->height);
    gtk_widget_set_size_request(pv->area, (gint)rq->width, (gint)rq->height);
    rq->generation = ++pv->generation;
    gtk_label_set_text(GTK_LABEL(pv->label), "Computing the preview...");

    g_mutex_lock(&pv->lock);
    request_free(pv->pending);
    pv->pending = rq;
    if (pv->running) unistyle_job_cancel(pv->running); /* stale now */
    g_cond_signal(&pv->wake);
    g_mutex_unlock(&pv->lock);
    return G_SOURCE_REMOVE;
}

static void on_config_changed(Preview *pv, GParamSpec *pspec) {
    if (pspec && g_strcmp0(g_param_spec_get_name(pspec), "as-new-layer") == 0) return;
    if (pv->timeout) g_source_remove(pv->timeout);
    pv->timeout = g_timeout_add(PREVIEW_DEBOUNCE_MS, submit, pv);
}

/* "New variation": another seed, and some strength when there was none (the preview follows). */
static void on_new_variation(GtkButton *button, GimpProcedureConfig *config) {
    (void)button;
    gint seed = 0;
    gdouble variation = 0.0;
    g_object_get(config, "seed", &seed, "variation", &variation, NULL);
    gint next = seed;
    while (next == seed) next = g_random_int_range(1, G_MAXINT);
    if (variation == 0.0) g_object_set(config, "variation", 0.5, NULL);
    g_object_set(config, "seed", next, NULL);
}

static GtkWidget *preview_frame(Preview *pv) {
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    GtkWidget *frame = gtk_frame_new(NULL);
    gtk_frame_set_shadow_type(GTK_FRAME(frame), GTK_SHADOW_IN);
    gtk_widget_set_halign(frame, GTK_ALIGN_CENTER);
    pv->area = gimp_preview_area_new();
    gtk_container_add(GTK_CONTAINER(frame), pv->area);
    pv->label = gtk_label_new("");
    gtk_label_set_line_wrap(GTK_LABEL(pv->label), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(pv->label), 40);
    gtk_box_pack_start(GTK_BOX(box), frame, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box), pv->label, FALSE, FALSE, 0);
    gtk_widget_show_all(box);
    return box;
}

gboolean preview_dialog_run(GimpProcedure *procedure, GimpProcedureConfig *config, GimpImage *image,
                            GimpDrawable *drawable) {
    GtkWidget *dialog = gimp_procedure_dialog_new(procedure, config, "Unistyle: Stylize");
    /* The modes beyond plain WCT, in a frame of their own. */
    GimpProcedureDialog *pd = GIMP_PROCEDURE_DIALOG(dialog);
    gimp_procedure_dialog_get_label(pd, "modes-title", "Modes", FALSE, FALSE);
    GtkWidget *modes = gimp_procedure_dialog_fill_box(pd, "modes-box", "patch-swap", "transform", "variation", "seed",
                                                      "stroke-scale", "photo", NULL);
    GtkWidget *another = gtk_button_new_with_mnemonic("New varia_tion");
    gtk_widget_set_tooltip_text(another, "Pick another seed (and a variation strength if it is 0)");
    gtk_widget_set_halign(another, GTK_ALIGN_START);
    g_signal_connect(another, "clicked", G_CALLBACK(on_new_variation), config);
    gtk_box_pack_start(GTK_BOX(modes), another, FALSE, FALSE, 0);
    gtk_widget_show(another);
    gimp_procedure_dialog_fill_frame(pd, "modes-frame", "modes-title", FALSE, "modes-box");
    gimp_procedure_dialog_fill(pd, "alpha", "levels", "preserve-color", "mask", "feather",
                               "as-new-layer", "modes-frame", NULL);

    Preview *pv = g_atomic_rc_box_new0(Preview);
    g_mutex_init(&pv->lock);
    g_cond_init(&pv->wake);
    pv->config = config;
    pv->image = image;
    pv->drawable = drawable;
    GtkWidget *content = gtk_dialog_get_content_area(GTK_DIALOG(dialog));
    GtkWidget *frame = preview_frame(pv);
    gtk_box_pack_start(GTK_BOX(content), frame, FALSE, FALSE, 6);
    gtk_box_reorder_child(GTK_BOX(content), frame, 0);
    GtkWidget *files = filefield_grid();
    filefield_add(files, config, "style", "_Style image:", FALSE);
    filefield_add(files, config, "style2", "Style _outside:", TRUE);
    filefield_add(files, config, "preset", "_Preset:", TRUE);
    filefield_add(files, config, "weights", "_Weights:", TRUE);
    gtk_box_pack_start(GTK_BOX(content), files, FALSE, FALSE, 6);
    gtk_box_reorder_child(GTK_BOX(content), files, 1);

    pv->thread = g_thread_new("unistyle-preview", worker, g_atomic_rc_box_acquire(pv));
    gulong handler = g_signal_connect_swapped(config, "notify", G_CALLBACK(on_config_changed), pv);
    submit(pv);

    gboolean ok = gimp_procedure_dialog_run(GIMP_PROCEDURE_DIALOG(dialog));

    g_signal_handler_disconnect(config, handler);
    if (pv->timeout) g_source_remove(pv->timeout);
    pv->closed = TRUE;
    g_mutex_lock(&pv->lock);
    pv->quit = TRUE;
    if (pv->running) unistyle_job_cancel(pv->running);
    g_cond_signal(&pv->wake);
    g_mutex_unlock(&pv->lock);
    g_thread_join(pv->thread);
    preview_unref(pv); /* the worker's reference */
    gtk_widget_destroy(dialog);
    if (pv->source) g_atomic_rc_box_release_full(pv->source, source_free);
    g_clear_object(&pv->mask);
    preview_unref(pv);
    return ok;
}
