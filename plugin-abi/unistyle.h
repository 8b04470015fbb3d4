/*
 * unistyle.h — C ABI of unistyle: universal neural style transfer (WCT) and texture
 * synthesis for image editors.
 *
 * Link against libunistyle.so (built by `cargo build --release`, in target/release/).
 *
 * Conventions
 *  - Every fallible call returns a status (UNISTYLE_OK = 0, errors < 0); the message of the
 *    last failure on the calling thread is available from unistyle_last_error().
 *  - No call aborts or unwinds into the host; invalid arguments (NULL, zero or overflowing
 *    sizes, strides too small, wrong struct sizes, NaN/Inf float samples) are reported.
 *  - Handles (context, style, preset, job) are created by *_create* / *_load and freed by
 *    *_destroy, which accept NULL.
 *  - Contexts, styles and presets are reference-counted: every call holds the handles it
 *    is given until it returns, so another thread may destroy a handle while a call uses it
 *    (the call finishes normally; the memory is freed when the last user returns). A call
 *    given a handle already destroyed fails with UNISTYLE_ERR_INVALID, and destroying it
 *    again is ignored, as long as the address has not been reused by a new handle (so do
 *    not keep destroyed handles). Strings returned by unistyle_preset_name/_description
 *    live until the preset is destroyed. A job must outlive the calls it is attached to.
 *  - Memory: a call that cannot fit the memory the process may still use (its address-space
 *    limit or the system's available memory) fails with UNISTYLE_ERR_LIMITS before it
 *    starts, or when an allocation fails; it never aborts. Cancel and progress reach every
 *    loop: a call stops within about half a second of unistyle_job_cancel. docs/limits.md
 *    gives each mode's bounds.
 *  - Versioned structs start with `struct_size`: fill them with their *_init function (or set
 *    struct_size = sizeof the struct) so the ABI can grow without breaking callers (below).
 *  - Output buffers are written only when a call succeeds: a failed or cancelled call leaves
 *    them untouched.
 *
 * Versioning (how the ABI grows)
 *  - Structs only ever gain fields at their end; no field is moved, resized or removed, and
 *    every function keeps its signature. New behaviour comes as new fields (default = the old
 *    behaviour) or new functions (`_ex` variants taking a versioned struct).
 *  - `struct_size` is the size of the struct as the host was compiled (sizeof). The library
 *    reads min(struct_size, its own size) bytes; fields the host's struct does not reach take
 *    their defaults. Each struct's version-1 size is frozen (the end of its last v1 field);
 *    a smaller struct_size is refused with UNISTYLE_ERR_VERSION, and so is a struct_size
 *    that ends inside a field (the message names the field).
 *  - A struct larger than the library knows (a host built against a newer header running on
 *    an older library) is accepted when the bytes the library does not know are all zero:
 *    the host left the newer fields at their zero default. A non-zero byte there means the
 *    host asks for something this library cannot do: refused with UNISTYLE_ERR_VERSION (the
 *    message names the byte), never silently ignored. So zero-fill structs (the *_init
 *    functions do) and leave fields you do not use untouched. The library never reads past
 *    struct_size bytes; a struct_size more than 256 bytes beyond the library's own struct
 *    (e.g. an uninitialised struct) is refused with UNISTYLE_ERR_VERSION without reading
 *    anything past the fields it knows.
 *  - Initialise with the `_init` function taking struct_size: `x_init(&opts, sizeof opts)`
 *    writes the library's defaults for the fields it knows, zeros the rest and sets
 *    struct_size. unistyle_stylize_options_init / unistyle_texture_options_init (version 1,
 *    no size argument) write exactly the v1 struct, forever; newer hosts use their _init_ex.
 *  - UNISTYLE_ABI_VERSION changes only on an incompatible change (none so far).
 *
 * Threads
 *  - A context, its styles and presets are immutable after creation: they may be shared by
 *    several threads, also concurrently, and destroyed while other threads use them (see
 *    reference counting above). Separate contexts are independent.
 *  - unistyle_job_cancel and unistyle_job_progress may be called from any thread while
 *    another thread runs a call with that job.
 *  - unistyle_last_error is per thread.
 *  - A clip (unistyle_clip) remembers its previous frames: use it from one thread at a time.
 */
#ifndef UNISTYLE_H
#define UNISTYLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UNISTYLE_ABI_VERSION 1

/* Status codes */
#define UNISTYLE_OK 0
#define UNISTYLE_ERR_NULL (-1)      /* a required pointer was NULL */
#define UNISTYLE_ERR_INVALID (-2)   /* argument out of range or inconsistent */
#define UNISTYLE_ERR_VERSION (-3)   /* struct_size below v1, or a newer field this library lacks is set */
#define UNISTYLE_ERR_IO (-4)        /* a file could not be read or written */
#define UNISTYLE_ERR_IMAGE (-5)     /* an image file could not be decoded */
#define UNISTYLE_ERR_WEIGHTS (-6)   /* weights missing, corrupt or of the wrong layout */
#define UNISTYLE_ERR_LEVEL (-7)     /* a level the weights do not have */
#define UNISTYLE_ERR_CANCELLED (-8) /* cancelled by the progress callback or a job */
#define UNISTYLE_ERR_LIMITS (-9)    /* a size or memory limit was exceeded */
#define UNISTYLE_ERR_INTERNAL (-10) /* internal failure; see unistyle_last_error() */
#define UNISTYLE_ERR_PRESET (-11)   /* invalid preset file */

/* Sample types of unistyle_image */
#define UNISTYLE_U8 1  /* 0..255 */
#define UNISTYLE_U16 2 /* 0..65535, native endianness */
#define UNISTYLE_F32 3 /* 0..1 (values outside are clamped on output; NaN/Inf rejected on input) */

/* Largest width or height accepted, and largest width × height (2^27, ~134 megapixels);
 * larger images are refused with UNISTYLE_ERR_LIMITS before their pixels are read. */
#define UNISTYLE_MAX_SIDE 32768
#define UNISTYLE_MAX_PIXELS 134217728
/* Largest mask_count accepted (each region keeps its own statistics); more is refused with
 * UNISTYLE_ERR_LIMITS before any mask is read. A job whose estimated memory (from its sizes,
 * masks and feathering) exceeds what the process may still allocate (its RLIMIT_AS, the
 * system's available memory) is refused with UNISTYLE_ERR_LIMITS before it starts. */
#define UNISTYLE_MAX_MASKS 64

typedef struct unistyle_context unistyle_context; /* model + device */
typedef struct unistyle_style unistyle_style;     /* a style encoded once, reusable */
typedef struct unistyle_job unistyle_job;         /* cancel flag + progress, shared across threads */
typedef struct unistyle_preset unistyle_preset;   /* a TOML preset with its styles encoded */
typedef struct unistyle_clip unistyle_clip;       /* frames stylized in order as one clip (animation) */

/* Preset kinds */
#define UNISTYLE_PRESET_STYLIZE 0
#define UNISTYLE_PRESET_TEXTURE 1

/* Arithmetic precision of the network (the options' `precision` field) */
#define UNISTYLE_PRECISION_F32 0  /* f32 throughout (default) */
#define UNISTYLE_PRECISION_BF16 1 /* bf16 products, f32 accumulation, in the wide layers: for previews */

/* Pixels as the host holds them: interleaved channels, rows `stride` bytes apart.
 * channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. Alpha is passed through unchanged by
 * unistyle_stylize (an output with alpha but an input without gets opaque alpha). Data and
 * stride must be aligned to the sample size. */
typedef struct unistyle_image {
    uint32_t struct_size; /* sizeof(unistyle_image) */
    uint32_t width;
    uint32_t height;
    uint32_t channels;
    uint32_t sample_type; /* UNISTYLE_U8, UNISTYLE_U16 or UNISTYLE_F32 */
    size_t stride;        /* bytes from one row to the next, >= width * channels * sample size */
    void *data;
} unistyle_image;

/* Progress callback: fraction grows from 0 to 1; return non-zero to cancel. */
typedef int (*unistyle_progress_fn)(float fraction, void *user_data);

typedef struct unistyle_stylize_options {
    uint32_t struct_size;
    uint32_t style_count;                 /* >= 1 */
    const unistyle_style *const *styles;  /* style_count handles */
    const float *weights;                 /* style_count blend weights (normalised) or NULL = equal; only without masks */
    uint32_t mask_count;                  /* N styles: 0 (blend), N-1 (last style elsewhere) or N (elsewhere keeps the input) */
    const unistyle_image *masks;          /* mask_count grayscale/RGB masks of any size, white = inside */
    uint32_t level_count;                 /* 0 = every level of the model */
    const uint32_t *levels;               /* run coarse to fine whatever the order */
    float alpha;                          /* 0 keeps the input, 1 fully stylized (default 1) */
    float feather;                        /* soft region borders, in pixels (0 = hard, the paper's rule) */
    int preserve_color;                   /* keep the input's colours, stylize lightness only */
    int foreground_only;                  /* styles inside the masks, original pixels outside */
    unistyle_progress_fn progress;        /* optional */
    void *progress_user_data;
    const unistyle_job *job;              /* optional: cancel/progress from other threads */
    /* Version 2 (one release: the modes beyond plain WCT and the arithmetic precision;
     * defaults from unistyle_stylize_options_init_ex). */
    int patch_swap;                       /* non-zero: swap content patches for style patches at the coarsest level (no masks) */
    int transform;                        /* UNISTYLE_TRANSFORM_WCT (default) or UNISTYLE_TRANSFORM_OST */
    float variation;                      /* random variation strength 0..1 (0 = plain output) */
    float stroke_scale;                   /* the style taken at this scale, 0.125..8 (default 1 = as given; 2 = larger strokes) */
    uint64_t seed;                        /* seed of the variation: same seed, bit-identical output */
    int photo;                            /* non-zero: edge-preserving smoothing guided by the input (a photo stays a photo) */
    int precision;                        /* UNISTYLE_PRECISION_F32 (default) or UNISTYLE_PRECISION_BF16 */
} unistyle_stylize_options;

/* Values of unistyle_stylize_options.transform */
#define UNISTYLE_TRANSFORM_WCT 0 /* whitening and colouring (the paper) */
#define UNISTYLE_TRANSFORM_OST 1 /* optimal-transport colouring: moves the input's features the least */

/* Progress and cancellation of the _ex preset calls (unistyle_run_options_init). */
typedef struct unistyle_run_options {
    uint32_t struct_size;
    unistyle_progress_fn progress;        /* optional */
    void *progress_user_data;
    const unistyle_job *job;              /* optional: cancel/progress from other threads */
} unistyle_run_options;

/* Settings of unistyle_style_create_from_file_ex / _from_image_ex (unistyle_style_options_init). */
typedef struct unistyle_style_options {
    uint32_t struct_size;
    uint32_t max_size;                    /* > 0: downscale so the longer side is at most this */
    unistyle_progress_fn progress;        /* optional */
    void *progress_user_data;
    const unistyle_job *job;              /* optional: cancel/progress from other threads */
} unistyle_style_options;

typedef struct unistyle_texture_options {
    uint32_t struct_size;
    uint32_t style_count;
    const unistyle_style *const *styles;
    const float *weights;                 /* texture interpolation weights, or NULL = equal; only without masks */
    uint32_t mask_count;                  /* N-1 masks for N styles: style i inside mask i, the last elsewhere */
    const unistyle_image *masks;
    uint32_t level_count;
    const uint32_t *levels;
    uint64_t seed;                        /* same seed and inputs -> bit-identical output */
    uint32_t iterations;                  /* passes of the pipeline (default 3), 1..100 */
    int tileable;                         /* wrap-around borders: the texture tiles seamlessly */
    float feather;
    unistyle_progress_fn progress;
    void *progress_user_data;
    const unistyle_job *job;
    const unistyle_image *init;           /* optional start image instead of seeded noise */
    /* Version 2: arithmetic precision (defaults from unistyle_texture_options_init_ex). */
    int precision;                        /* UNISTYLE_PRECISION_F32 (default) or UNISTYLE_PRECISION_BF16 */
} unistyle_texture_options;

/* Version of this ABI (UNISTYLE_ABI_VERSION of the library actually loaded). */
uint32_t unistyle_abi_version(void);
/* Library version string, e.g. "0.1.0" (static). */
const char *unistyle_version(void);
/* Message of the last failed call on this thread ("" if none); valid until the next failure on this thread. */
const char *unistyle_last_error(void);
/* Static description of a status code. */
const char *unistyle_status_string(int status);

/* Loads weights (NULL: $UNISTYLE_WEIGHTS, else the per-user weights folder, else the
 * share/unistyle/weights/ of the unpacked archive holding this library, else the project's
 * weights/ folder) on a device
 * ("cpu", "cuda", "cuda:N", "metal"; NULL = "cpu"). *out must be freed with unistyle_context_destroy. */
int unistyle_context_create(const char *weights_path, const char *device, unistyle_context **out);
/* Frees the context, and the memory the library kept for its next run. */
void unistyle_context_destroy(unistyle_context *ctx);
/* Writes up to `capacity` levels (ascending) and sets *count to how many the model has. */
int unistyle_context_levels(const unistyle_context *ctx, uint32_t *levels, uint32_t capacity, uint32_t *count);

/* Encodes a style image once for every level; max_size > 0 downscales it first.
 * *out must be freed with unistyle_style_destroy. */
int unistyle_style_create_from_file(const unistyle_context *ctx, const char *path, uint32_t max_size, unistyle_style **out);
int unistyle_style_create_from_image(const unistyle_context *ctx, const unistyle_image *image, uint32_t max_size, unistyle_style **out);
/* As above with versioned options (NULL = defaults): max_size, progress and a job to cancel the
 * encoding (reported after every tile of the encoder). */
int unistyle_style_options_init(unistyle_style_options *opts, uint32_t struct_size);
int unistyle_style_create_from_file_ex(const unistyle_context *ctx, const char *path,
                                       const unistyle_style_options *opts, unistyle_style **out);
int unistyle_style_create_from_image_ex(const unistyle_context *ctx, const unistyle_image *image,
                                        const unistyle_style_options *opts, unistyle_style **out);
void unistyle_style_destroy(unistyle_style *style);

/* Parses a levels string exactly as the CLI's --levels: "3,2,1" (spaces allowed) into
 * levels[0..capacity] in the order given; "" = every level of the model (*count = 0).
 * *count is the number of levels (5 at most, it may exceed capacity). Errors
 * (UNISTYLE_ERR_INVALID) carry the CLI's message, e.g. "levels: must be in 1..=5, got 7 (in '3,7')". */
int unistyle_levels_parse(const char *text, uint32_t *levels, uint32_t capacity, uint32_t *count);

/* The range of a numeric parameter, by its preset key ("alpha", "feather", "style_size",
 * "variation", "seed", "stroke_scale", "texture.width", "texture.height", "texture.seed",
 * "texture.iterations"; "-" may stand for "_" and "texture." may be left out): its minimum,
 * maximum, the library's default and whether only whole numbers are accepted (each output
 * may be NULL). An unknown key is UNISTYLE_ERR_INVALID. Build controls from this so that a
 * host's bounds are the library's. */
int unistyle_param_bounds(const char *key, double *min, double *max, double *default_value, int *integer);

/* Jobs: attach to options to cancel a running call from another thread or read its progress.
 * Cancelling is final: a later call with a cancelled job stops at its first progress report
 * (UNISTYLE_ERR_CANCELLED), so give each call that may be cancelled a new job. */
int unistyle_job_create(unistyle_job **out);
void unistyle_job_cancel(const unistyle_job *job);
float unistyle_job_progress(const unistyle_job *job);
void unistyle_job_destroy(unistyle_job *job);

/* Version-1 initialisers: write exactly the v1 struct (defaults, struct_size = v1 size). */
int unistyle_stylize_options_init(unistyle_stylize_options *opts);
int unistyle_texture_options_init(unistyle_texture_options *opts);
/* Initialisers for a host struct of struct_size bytes (pass sizeof *opts): defaults for the
 * fields this library knows, zeros after them, struct_size set. */
int unistyle_stylize_options_init_ex(unistyle_stylize_options *opts, uint32_t struct_size);
int unistyle_texture_options_init_ex(unistyle_texture_options *opts, uint32_t struct_size);
int unistyle_run_options_init(unistyle_run_options *opts, uint32_t struct_size);

/* Stylizes `input` into `output` (same width and height; any channels/sample type; may be
 * the same buffer). The output is written only on success. */
int unistyle_stylize(const unistyle_context *ctx, const unistyle_image *input,
                     const unistyle_stylize_options *opts, const unistyle_image *output);
/* Stylizes a preview of `input` at output->width x output->height (the preview size; aspect is
 * the host's choice; any channels/sample type): input and masks are downsampled by area
 * average (feather scales along), then stylized with `opts`. Cancel a stale preview with
 * unistyle_job_cancel on opts->job. The output is written only on success. */
int unistyle_preview(const unistyle_context *ctx, const unistyle_image *input,
                     const unistyle_stylize_options *opts, const unistyle_image *output);
/* Synthesizes a texture of output->width x output->height into `output`. */
int unistyle_texture(const unistyle_context *ctx, const unistyle_texture_options *opts,
                     const unistyle_image *output);

/* Presets (the host's preset menu): a TOML file naming styles (found beside it or on
 * UNISTYLE_STYLE_PATH), weights, masks, levels, alpha, colour preservation and texture
 * settings; see presets/README.md. Loading encodes the styles (cached beside the preset). */
int unistyle_preset_load(const unistyle_context *ctx, const char *path, unistyle_preset **out);
/* As unistyle_preset_load with versioned run options (NULL = none): progress of the styles'
 * encoding and a job that cancels it (UNISTYLE_ERR_CANCELLED, nothing loaded). A preset
 * names at most 65 style images (more is refused, naming the file, line and key). */
int unistyle_preset_load_ex(const unistyle_context *ctx, const char *path,
                            const unistyle_run_options *run, unistyle_preset **out);
const char *unistyle_preset_name(const unistyle_preset *preset);        /* valid until destroyed */
const char *unistyle_preset_description(const unistyle_preset *preset); /* valid until destroyed */
int unistyle_preset_kind(const unistyle_preset *preset);                /* UNISTYLE_PRESET_* */
void unistyle_preset_destroy(unistyle_preset *preset);
/* Stylize with everything the preset says; buffer rules as unistyle_stylize. */
int unistyle_stylize_preset(const unistyle_context *ctx, const unistyle_preset *preset,
                            const unistyle_image *input, const unistyle_image *output,
                            unistyle_progress_fn progress, void *progress_user_data, const unistyle_job *job);
/* Synthesize the preset's texture at output->width x output->height. */
int unistyle_texture_preset(const unistyle_context *ctx, const unistyle_preset *preset,
                            const unistyle_image *output,
                            unistyle_progress_fn progress, void *progress_user_data, const unistyle_job *job);

/* The preset calls with versioned run options (NULL = no progress, no job). */
int unistyle_stylize_preset_ex(const unistyle_context *ctx, const unistyle_preset *preset,
                               const unistyle_image *input, const unistyle_image *output,
                               const unistyle_run_options *run);
int unistyle_texture_preset_ex(const unistyle_context *ctx, const unistyle_preset *preset,
                               const unistyle_image *output, const unistyle_run_options *run);

/* Animation: a clip stylizes frames in order as one sequence. The styles are encoded once
 * (taken from the options or the preset at creation), the variation's seed is the clip's, and
 * a temporal stabilizer ties consecutive frames together: each level's content statistics are
 * moving averages over the frames (regularised, so the feature map cannot jump), and the
 * previous result, moved by the global motion between the frames, is blended in where the
 * content did not change. stability 0 styles every frame on its own, bit-identical to
 * unistyle_stylize with the same options; 1 is the strongest smoothing.
 *
 *   unistyle_clip_options co; unistyle_clip_options_init(&co, sizeof co); co.stability = 0.6f;
 *   unistyle_clip *clip; unistyle_clip_new(ctx, &opts, &co, &clip);
 *   for each frame: unistyle_clip_push_frame(clip, &in, &out, &run);   (in order)
 *   unistyle_clip_free(clip);
 *
 * The clip copies what it needs of the options (styles, masks, levels, modes) or the preset:
 * those, and the context, may be destroyed after unistyle_clip_new* (the clip holds its own
 * references).
 * The stylize options' progress and job are not used by a clip: every frame takes its own
 * run options (progress within that frame, a job to cancel it). A failed or cancelled frame
 * leaves the clip as before it (push the frame again, or go on) and its output untouched.
 * Frames may change size; a frame of another size than the previous one is not blended. */
#define UNISTYLE_DEFAULT_STABILITY 0.6f
typedef struct unistyle_clip_options {
    uint32_t struct_size;
    float stability;                      /* 0..1 (default UNISTYLE_DEFAULT_STABILITY) */
} unistyle_clip_options;

int unistyle_clip_options_init(unistyle_clip_options *opts, uint32_t struct_size);
/* A clip stylized with `opts` (everything unistyle_stylize takes). clip_opts NULL = defaults.
 * *out must be freed with unistyle_clip_free. */
int unistyle_clip_new(const unistyle_context *ctx, const unistyle_stylize_options *opts,
                      const unistyle_clip_options *clip_opts, unistyle_clip **out);
/* A clip stylized with everything the preset says. */
int unistyle_clip_new_preset(const unistyle_context *ctx, const unistyle_preset *preset,
                             const unistyle_clip_options *clip_opts, unistyle_clip **out);
/* Stylizes the next frame `input` into `output` (same width and height; any channels/sample
 * type; may be the same buffer). run NULL = no progress, no job. Written only on success. */
int unistyle_clip_push_frame(unistyle_clip *clip, const unistyle_image *input,
                             const unistyle_image *output, const unistyle_run_options *run);
/* Frames stylized so far (0 for NULL). */
uint64_t unistyle_clip_frames(const unistyle_clip *clip);
void unistyle_clip_free(unistyle_clip *clip); /* NULL is ignored */

#ifdef __cplusplus
}
#endif
#endif /* UNISTYLE_H */
