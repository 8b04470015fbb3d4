/*
 * leak_cycles — create/use/destroy every kind of handle of the unistyle C ABI (context,
 * style, job, preset) several times, through success, error and cancel paths, then exit;
 * after the first cycle two short-lived threads do the same (their thread-local state must
 * go with them). Meant to run under valgrind or linked with LeakSanitizer (tests/leaks.rs):
 * whatever a cycle allocates must be freed when its handles are destroyed.
 *
 *   leak_cycles WEIGHTS STYLE.png DIR CYCLES [rss|forget]
 *
 * DIR is a writable folder (a preset and its style cache are written there). With `rss`,
 * the resident set size is printed after every cycle ("rss CYCLE KIB") to check that
 * repeated cycles do not grow the process. With `forget`, a context and a job are created
 * and never destroyed: the checker must report them (a control that it sees leaks at all).
 * LEAK_CYCLES_TRACE in the environment prints the time of every phase on stderr.
 *
 * Build: cc -std=c11 -pthread -I plugin-abi plugin-abi/tests/leak_cycles.c -o leak_cycles -L target/release -lunistyle
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unistyle.h"

static atomic_int failures;
static int trace; /* LEAK_CYCLES_TRACE set: time every phase on stderr */

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void phase(const char *name) {
    static _Thread_local double last;
    double now = seconds();
    if (trace && last > 0) fprintf(stderr, "  %-28s %.2f s\n", name, now - last);
    last = now;
}

#define EXPECT(cond, ...)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "leak_cycles:%d: %s: ", __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, " (last error: %s)\n", unistyle_last_error()); \
            failures++;                                                     \
        }                                                                   \
    } while (0)

/* A status `st` equal to `want`, and for errors a message naming the entry point. */
static void expect_status(int st, int want, const char *call) {
    EXPECT(st == want, "%s returned %d (%s), expected %d", call, st, unistyle_status_string(st), want);
    if (want != UNISTYLE_OK) {
        const char *msg = unistyle_last_error();
        EXPECT(msg != NULL && strncmp(msg, call, strlen(call)) == 0, "%s: message '%s'", call, msg ? msg : "(null)");
        EXPECT(strlen(unistyle_status_string(st)) > 0, "status string of %d is empty", st);
    }
}

/* A width x height image of `channels` u8 samples filled with a smooth pattern. */
typedef struct {
    unistyle_image desc;
    unsigned char *bytes;
} buffer;

static buffer make_buffer(uint32_t w, uint32_t h, uint32_t channels, int pattern) {
    buffer b;
    memset(&b, 0, sizeof b);
    b.desc.struct_size = sizeof b.desc;
    b.desc.width = w;
    b.desc.height = h;
    b.desc.channels = channels;
    b.desc.sample_type = UNISTYLE_U8;
    b.desc.stride = (size_t)w * channels + 3; /* padded rows, as editors often hold them */
    b.bytes = malloc(b.desc.stride * h);
    if (!b.bytes) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (uint32_t y = 0; y < h; y++)
        for (size_t x = 0; x < b.desc.stride; x++)
            b.bytes[y * b.desc.stride + x] = pattern < 0 ? (unsigned char)0xA5 : (unsigned char)((x * 7 + y * 13 + (size_t)pattern * 31) & 0xFF);
    b.desc.data = b.bytes;
    return b;
}

static int untouched(const buffer *b) {
    for (size_t i = 0; i < b->desc.stride * b->desc.height; i++)
        if (b->bytes[i] != 0xA5) return 0;
    return 1;
}

/* Progress callback: cancels at the call whose number is *(int *)user (counted down). */
static int cancel_at(float fraction, void *user) {
    (void)fraction;
    int *left = user;
    return --*left <= 0;
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * 4; /* 4 KiB pages */
}

typedef struct {
    const char *weights, *style_path, *dir;
} args;

static void stylize_paths(unistyle_context *ctx, const unistyle_style *const *styles, uint32_t count) {
    buffer in = make_buffer(24, 24, 4, 1);
    buffer mask = make_buffer(24, 24, 1, 2);
    buffer out = make_buffer(24, 24, 3, -1);
    unistyle_stylize_options o;
    expect_status(unistyle_stylize_options_init(&o), UNISTYLE_OK, "unistyle_stylize_options_init");
    o.style_count = count;
    o.styles = styles;
    o.mask_count = count > 1 ? 1 : 0;
    o.masks = &mask.desc;
    o.level_count = 0; /* every level of the weights */
    o.alpha = 0.7f;
    o.feather = count > 1 ? 2.0f : 0.0f; /* feathering needs a mask */

    /* Error paths leave the output untouched. */
    unistyle_stylize_options bad = o;
    bad.struct_size = 8;
    expect_status(unistyle_stylize(ctx, &in.desc, &bad, &out.desc), UNISTYLE_ERR_VERSION, "unistyle_stylize");
    unistyle_image short_stride = in.desc;
    short_stride.stride = 10;
    expect_status(unistyle_stylize(ctx, &short_stride, &o, &out.desc), UNISTYLE_ERR_INVALID, "unistyle_stylize");
    expect_status(unistyle_stylize(NULL, &in.desc, &o, &out.desc), UNISTYLE_ERR_NULL, "unistyle_stylize");
    static const uint32_t level4[1] = {4};
    bad = o;
    bad.level_count = 1;
    bad.levels = level4;
    expect_status(unistyle_stylize(ctx, &in.desc, &bad, &out.desc), UNISTYLE_ERR_LEVEL, "unistyle_stylize");
    bad = o;
    bad.alpha = 3.0f;
    expect_status(unistyle_stylize(ctx, &in.desc, &bad, &out.desc), UNISTYLE_ERR_INVALID, "unistyle_stylize");
    phase("stylize errors");

    /* Cancelled by the callback (second report) and by a job cancelled beforehand. */
    int left = 2;
    bad = o;
    bad.progress = cancel_at;
    bad.progress_user_data = &left;
    expect_status(unistyle_stylize(ctx, &in.desc, &bad, &out.desc), UNISTYLE_ERR_CANCELLED, "unistyle_stylize");
    unistyle_job *job = NULL;
    expect_status(unistyle_job_create(&job), UNISTYLE_OK, "unistyle_job_create");
    unistyle_job_cancel(job);
    bad = o;
    bad.job = job;
    expect_status(unistyle_stylize(ctx, &in.desc, &bad, &out.desc), UNISTYLE_ERR_CANCELLED, "unistyle_stylize");
    unistyle_job_destroy(job);
    EXPECT(untouched(&out), "a failed stylize wrote its output");
    phase("stylize cancels");

    /* Success, with a job that reports progress. */
    expect_status(unistyle_job_create(&job), UNISTYLE_OK, "unistyle_job_create");
    o.job = job;
    expect_status(unistyle_stylize(ctx, &in.desc, &o, &out.desc), UNISTYLE_OK, "unistyle_stylize");
    EXPECT(unistyle_job_progress(job) == 1.0f, "job progress %f after a finished call", (double)unistyle_job_progress(job));
    EXPECT(!untouched(&out), "a successful stylize left its output unwritten");
    phase("stylize");
    unistyle_job_destroy(job);
    free(in.bytes);
    free(mask.bytes);
    free(out.bytes);
}

static void texture_paths(unistyle_context *ctx, const unistyle_style *const *styles) {
    buffer out = make_buffer(16, 16, 3, -1);
    buffer init = make_buffer(12, 12, 3, 4);
    unistyle_texture_options t;
    expect_status(unistyle_texture_options_init(&t), UNISTYLE_OK, "unistyle_texture_options_init");
    t.style_count = 1;
    t.styles = styles;
    t.iterations = 2;
    t.tileable = 1;
    t.seed = 3;

    unistyle_texture_options bad = t;
    bad.iterations = 0;
    expect_status(unistyle_texture(ctx, &bad, &out.desc), UNISTYLE_ERR_INVALID, "unistyle_texture");
    bad = t;
    bad.styles = NULL;
    expect_status(unistyle_texture(ctx, &bad, &out.desc), UNISTYLE_ERR_NULL, "unistyle_texture");
    int left = 4;
    bad = t;
    bad.progress = cancel_at;
    bad.progress_user_data = &left;
    expect_status(unistyle_texture(ctx, &bad, &out.desc), UNISTYLE_ERR_CANCELLED, "unistyle_texture");
    EXPECT(untouched(&out), "a failed texture wrote its output");
    phase("texture errors and cancel");

    expect_status(unistyle_texture(ctx, &t, &out.desc), UNISTYLE_OK, "unistyle_texture");
    phase("texture, 2 iterations");
    t.init = &init.desc;
    t.tileable = 0;
    t.iterations = 1;
    expect_status(unistyle_texture(ctx, &t, &out.desc), UNISTYLE_OK, "unistyle_texture");
    phase("texture from init");
    free(out.bytes);
    free(init.bytes);
}

static void preset_paths(unistyle_context *ctx, const args *a) {
    char path[4096], bad_path[4096];
    snprintf(path, sizeof path, "%s/tiny.toml", a->dir);
    snprintf(bad_path, sizeof bad_path, "%s/bad.toml", a->dir);
    FILE *f = fopen(path, "w");
    EXPECT(f != NULL, "cannot write %s", path);
    if (!f) return;
    fprintf(f, "version = 1\nname = \"tiny\"\ndescription = \"leak check\"\nstyle = \"%s\"\nstyle_size = 16\n"
               "alpha = 0.5\n[texture]\nwidth = 16\nheight = 16\nseed = 2\niterations = 1\n",
            a->style_path);
    fclose(f);
    f = fopen(bad_path, "w");
    if (!f) return;
    fprintf(f, "version = 1\nstyle = \"%s\"\nalpha = 7\n", a->style_path);
    fclose(f);

    unistyle_preset *p = NULL;
    expect_status(unistyle_preset_load(ctx, bad_path, &p), UNISTYLE_ERR_PRESET, "unistyle_preset_load");
    EXPECT(p == NULL, "a failed preset load set *out");
    expect_status(unistyle_preset_load(ctx, "/no/such/preset.toml", &p), UNISTYLE_ERR_IO, "unistyle_preset_load");
    phase("preset errors");
    expect_status(unistyle_preset_load(ctx, path, &p), UNISTYLE_OK, "unistyle_preset_load");
    phase("preset load");
    if (!p) return;
    EXPECT(strcmp(unistyle_preset_name(p), "tiny") == 0, "preset name '%s'", unistyle_preset_name(p));
    EXPECT(strcmp(unistyle_preset_description(p), "leak check") == 0, "description");
    EXPECT(unistyle_preset_kind(p) == UNISTYLE_PRESET_TEXTURE, "kind");
    buffer in = make_buffer(20, 20, 3, 5);
    buffer out = make_buffer(20, 20, 3, -1);
    int left = 1;
    expect_status(unistyle_stylize_preset(ctx, p, &in.desc, &out.desc, cancel_at, &left, NULL), UNISTYLE_ERR_CANCELLED,
                  "unistyle_stylize_preset");
    EXPECT(untouched(&out), "a cancelled preset stylize wrote its output");
    expect_status(unistyle_stylize_preset(ctx, p, &in.desc, &out.desc, NULL, NULL, NULL), UNISTYLE_OK, "unistyle_stylize_preset");
    expect_status(unistyle_texture_preset(ctx, p, &out.desc, NULL, NULL, NULL), UNISTYLE_OK, "unistyle_texture_preset");
    expect_status(unistyle_texture_preset(ctx, NULL, &out.desc, NULL, NULL, NULL), UNISTYLE_ERR_NULL, "unistyle_texture_preset");
    unistyle_preset_destroy(p);
    phase("preset runs");
    free(in.bytes);
    free(out.bytes);
}

/* One cycle: every handle kind created, used along success, error and cancel paths, destroyed. */
static void cycle(const args *a) {
    unistyle_context *ctx = NULL;
    expect_status(unistyle_context_create("/no/such/weights.safetensors", NULL, &ctx), UNISTYLE_ERR_WEIGHTS,
                  "unistyle_context_create");
    EXPECT(ctx == NULL, "a failed context_create set *out");
    expect_status(unistyle_context_create(a->weights, "quantum", &ctx), UNISTYLE_ERR_INVALID, "unistyle_context_create");
    expect_status(unistyle_context_create(a->weights, "cpu", NULL), UNISTYLE_ERR_NULL, "unistyle_context_create");
    expect_status(unistyle_context_create(a->weights, "cpu", &ctx), UNISTYLE_OK, "unistyle_context_create");
    phase("context");
    if (!ctx) return;
    uint32_t levels[8], count = 0;
    expect_status(unistyle_context_levels(ctx, levels, 8, &count), UNISTYLE_OK, "unistyle_context_levels");
    EXPECT(count >= 1 && count <= 8, "%u levels", count);

    unistyle_style *from_file = NULL, *from_image = NULL, *none = NULL;
    expect_status(unistyle_style_create_from_file(ctx, "/no/such/style.png", 16, &none), UNISTYLE_ERR_IO,
                  "unistyle_style_create_from_file");
    expect_status(unistyle_style_create_from_file(ctx, a->weights, 16, &none), UNISTYLE_ERR_IMAGE,
                  "unistyle_style_create_from_file");
    EXPECT(none == NULL, "a failed style create set *out");
    expect_status(unistyle_style_create_from_file(ctx, a->style_path, 16, &from_file), UNISTYLE_OK,
                  "unistyle_style_create_from_file");
    buffer simg = make_buffer(20, 20, 3, 6);
    unistyle_image bad = simg.desc;
    bad.struct_size = 4;
    expect_status(unistyle_style_create_from_image(ctx, &bad, 0, &none), UNISTYLE_ERR_VERSION, "unistyle_style_create_from_image");
    bad = simg.desc;
    bad.channels = 7;
    expect_status(unistyle_style_create_from_image(ctx, &bad, 0, &none), UNISTYLE_ERR_INVALID, "unistyle_style_create_from_image");
    expect_status(unistyle_style_create_from_image(ctx, &simg.desc, 0, &from_image), UNISTYLE_OK,
                  "unistyle_style_create_from_image");
    free(simg.bytes);
    phase("styles");

    if (from_file && from_image) {
        const unistyle_style *one[1] = {from_file};
        const unistyle_style *two[2] = {from_file, from_image};
        stylize_paths(ctx, one, 1);
        stylize_paths(ctx, two, 2);
        texture_paths(ctx, one);
    }
    preset_paths(ctx, a);

    unistyle_style_destroy(from_image);
    unistyle_style_destroy(from_file);
    unistyle_context_destroy(ctx);
    phase("destroy");
    /* NULL is accepted by every destructor. */
    unistyle_context_destroy(NULL);
    unistyle_style_destroy(NULL);
    unistyle_job_destroy(NULL);
    unistyle_preset_destroy(NULL);
}

/* A thread that fails a call (its last-error string) and runs a stylize on a shared context. */
static void *worker(void *p) {
    const args *a = p;
    unistyle_context *ctx = NULL;
    expect_status(unistyle_context_create(a->weights, "cpu", &ctx), UNISTYLE_OK, "unistyle_context_create");
    unistyle_style *st = NULL;
    expect_status(unistyle_style_create_from_file(ctx, "/no/such/style.png", 16, &st), UNISTYLE_ERR_IO,
                  "unistyle_style_create_from_file");
    expect_status(unistyle_style_create_from_file(ctx, a->style_path, 16, &st), UNISTYLE_OK, "unistyle_style_create_from_file");
    if (st) {
        const unistyle_style *one[1] = {st};
        stylize_paths(ctx, one, 1);
    }
    unistyle_style_destroy(st);
    unistyle_context_destroy(ctx);
    return NULL;
}

/* Creates a context and a job and drops the handles without destroying them. */
static void __attribute__((noinline)) forget(const args *a) {
    unistyle_context *volatile ctx = NULL;
    unistyle_job *volatile job = NULL;
    expect_status(unistyle_context_create(a->weights, "cpu", (unistyle_context **)&ctx), UNISTYLE_OK, "unistyle_context_create");
    expect_status(unistyle_job_create((unistyle_job **)&job), UNISTYLE_OK, "unistyle_job_create");
    ctx = NULL;
    job = NULL;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s WEIGHTS STYLE.png DIR CYCLES [rss|forget]\n", argv[0]);
        return 2;
    }
    args a = {argv[1], argv[2], argv[3]};
    int cycles = atoi(argv[4]);
    int rss = argc > 5 && strcmp(argv[5], "rss") == 0;
    int leak = argc > 5 && strcmp(argv[5], "forget") == 0;
    trace = getenv("LEAK_CYCLES_TRACE") != NULL;
    phase("start");
    EXPECT(unistyle_abi_version() == UNISTYLE_ABI_VERSION, "ABI %u", unistyle_abi_version());
    EXPECT(strlen(unistyle_version()) > 0, "version");
    for (int i = 0; i < cycles; i++) {
        cycle(&a);
        if (!rss && i == 0) {
            /* Threads that exit: their thread-local last error must be freed with them. */
            pthread_t t[2];
            for (int k = 0; k < 2; k++) pthread_create(&t[k], NULL, worker, &a);
            for (int k = 0; k < 2; k++) pthread_join(t[k], NULL);
            phase("two threads");
        }
        if (rss) printf("rss %d %ld\n", i + 1, rss_kib());
        fflush(stdout);
    }
    if (leak) forget(&a);
    if (failures) {
        fprintf(stderr, "leak_cycles: %d failed checks\n", failures);
        return 1;
    }
    printf("leak_cycles: %d cycles ok\n", cycles);
    return 0;
}
