/*
 * A minimal host for the unistyle C ABI: loads PNG files with libpng, calls the library
 * exactly as an image editor's filter would, and writes the result.
 *
 *   unistyle_host stylize WEIGHTS CONTENT.png STYLE.png OUT.png [ALPHA] [LEVELS e.g. 3,2,1]
 *   unistyle_host texture WEIGHTS STYLE.png OUT.png WIDTH HEIGHT [SEED] [ITERATIONS] [TILEABLE 0|1]
 *
 * Build: cc -O2 -I plugin-abi unistyle_host.c -o unistyle_host -L target/release -lunistyle -lpng
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unistyle.h"

static int load_png(const char *path, unistyle_image *img) {
    png_image p;
    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&p, path)) {
        fprintf(stderr, "error: cannot read %s: %s\n", path, p.message);
        return -1;
    }
    p.format = PNG_FORMAT_RGBA;
    size_t stride = PNG_IMAGE_ROW_STRIDE(p);
    void *buf = malloc(PNG_IMAGE_BUFFER_SIZE(p, stride));
    if (!buf || !png_image_finish_read(&p, NULL, buf, (png_int_32)stride, NULL)) {
        fprintf(stderr, "error: cannot decode %s: %s\n", path, p.message);
        free(buf);
        png_image_free(&p);
        return -1;
    }
    memset(img, 0, sizeof *img);
    img->struct_size = sizeof *img;
    img->width = p.width;
    img->height = p.height;
    img->channels = 4;
    img->sample_type = UNISTYLE_U8;
    img->stride = stride;
    img->data = buf;
    return 0;
}

static int save_png(const char *path, const unistyle_image *img, int with_alpha) {
    png_image p;
    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    p.width = img->width;
    p.height = img->height;
    p.format = with_alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&p, path, 0, img->data, (png_int_32)img->stride, NULL)) {
        fprintf(stderr, "error: cannot write %s: %s\n", path, p.message);
        return -1;
    }
    return 0;
}

static int report(float fraction, void *user) {
    (void)user;
    fprintf(stderr, "\rprogress %3d%%", (int)(fraction * 100.0f + 0.5f));
    if (fraction >= 1.0f) fputc('\n', stderr);
    return 0; /* non-zero would cancel */
}

static int check(int status, const char *what) {
    if (status != UNISTYLE_OK) {
        fprintf(stderr, "error: %s failed (%s): %s\n", what, unistyle_status_string(status), unistyle_last_error());
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "stylize") && strcmp(argv[1], "texture"))) {
        fprintf(stderr, "usage: %s stylize WEIGHTS CONTENT STYLE OUT [ALPHA] [LEVELS]\n"
                        "       %s texture WEIGHTS STYLE OUT WIDTH HEIGHT [SEED] [ITERATIONS] [TILEABLE]\n", argv[0], argv[0]);
        return 2;
    }
    if (unistyle_abi_version() != UNISTYLE_ABI_VERSION) {
        fprintf(stderr, "error: library ABI %u, header %u\n", unistyle_abi_version(), UNISTYLE_ABI_VERSION);
        return 1;
    }
    int stylize = strcmp(argv[1], "stylize") == 0;
    if ((stylize && argc < 6) || (!stylize && argc < 7)) {
        fprintf(stderr, "error: missing arguments\n");
        return 2;
    }
    int rc = 1;
    unistyle_context *ctx = NULL;
    unistyle_style *style = NULL;
    unistyle_image content = {0}, out = {0};
    uint32_t levels[5];

    if (check(unistyle_context_create(argv[2], "cpu", &ctx), "unistyle_context_create")) goto done;
    if (check(unistyle_style_create_from_file(ctx, argv[stylize ? 4 : 3], 0, &style), "unistyle_style_create_from_file")) goto done;
    const unistyle_style *styles[1] = {style};

    if (stylize) {
        if (load_png(argv[3], &content)) goto done;
        out = content; /* same layout; separate buffer */
        out.data = malloc(content.stride * content.height);
        if (!out.data) goto done;
        unistyle_stylize_options opts;
        unistyle_stylize_options_init(&opts);
        opts.style_count = 1;
        opts.styles = styles;
        opts.alpha = argc > 6 ? (float)atof(argv[6]) : 1.0f;
        opts.level_count = 0;
        if (argc > 7 && check(unistyle_levels_parse(argv[7], levels, 5, &opts.level_count), "unistyle_levels_parse"))
            goto done;
        opts.levels = levels;
        opts.progress = report;
        if (check(unistyle_stylize(ctx, &content, &opts, &out), "unistyle_stylize")) goto done;
        if (save_png(argv[5], &out, out.channels == 4)) goto done;
    } else {
        out.struct_size = sizeof out;
        out.width = (uint32_t)strtoul(argv[5], NULL, 10);
        out.height = (uint32_t)strtoul(argv[6], NULL, 10);
        out.channels = 3;
        out.sample_type = UNISTYLE_U8;
        out.stride = (size_t)out.width * 3;
        out.data = malloc(out.stride * (out.height ? out.height : 1));
        if (!out.data) goto done;
        unistyle_texture_options opts;
        unistyle_texture_options_init(&opts);
        opts.style_count = 1;
        opts.styles = styles;
        opts.seed = argc > 7 ? strtoull(argv[7], NULL, 10) : 0;
        opts.iterations = argc > 8 ? (uint32_t)strtoul(argv[8], NULL, 10) : 3;
        opts.tileable = argc > 9 ? atoi(argv[9]) : 0;
        opts.progress = report;
        if (check(unistyle_texture(ctx, &opts, &out), "unistyle_texture")) goto done;
        if (save_png(argv[4], &out, 0)) goto done;
    }
    rc = 0;
done:
    free(content.data);
    free(out.data);
    unistyle_style_destroy(style);
    unistyle_context_destroy(ctx);
    return rc;
}
