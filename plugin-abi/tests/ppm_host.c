/*
 * A host of the unistyle C ABI with no dependency but the C library, for platforms where
 * libpng is not at hand (tests/dist.rs builds it with mingw-w64 against the Windows
 * archive's DLL and runs it under Wine): the content comes and the result goes as binary
 * PPM (P6, 8-bit RGB); the style is read by the library itself.
 *
 *   ppm_host CONTENT.ppm STYLE.png OUT.ppm ALPHA LEVELS [WEIGHTS]
 *
 * Without WEIGHTS the library finds them itself (the archive's share/unistyle/weights).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unistyle.h"

/* Reads a P6 file with maxval 255 into a tightly packed RGB buffer. */
static int load_ppm(const char *path, unistyle_image *img) {
    FILE *f = fopen(path, "rb");
    unsigned w = 0, h = 0, maxval = 0;
    if (!f) {
        fprintf(stderr, "error: cannot open %s\n", path);
        return -1;
    }
    if (fscanf(f, "P6 %u %u %u", &w, &h, &maxval) != 3 || maxval != 255 || fgetc(f) == EOF || !w || !h) {
        fprintf(stderr, "error: %s is not an 8-bit binary PPM\n", path);
        fclose(f);
        return -1;
    }
    size_t size = (size_t)w * h * 3;
    void *buf = malloc(size);
    if (!buf || fread(buf, 1, size, f) != size) {
        fprintf(stderr, "error: %s is truncated\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    memset(img, 0, sizeof *img);
    img->struct_size = sizeof *img;
    img->width = w;
    img->height = h;
    img->channels = 3;
    img->sample_type = UNISTYLE_U8;
    img->stride = (size_t)w * 3;
    img->data = buf;
    return 0;
}

static int save_ppm(const char *path, const unistyle_image *img) {
    FILE *f = fopen(path, "wb");
    size_t size = img->stride * img->height;
    if (!f || fprintf(f, "P6\n%u %u\n255\n", img->width, img->height) < 0 ||
        fwrite(img->data, 1, size, f) != size) {
        fprintf(stderr, "error: cannot write %s\n", path);
        if (f) fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int check(int status, const char *what) {
    if (status != UNISTYLE_OK) {
        fprintf(stderr, "error: %s failed (%s): %s\n", what, unistyle_status_string(status), unistyle_last_error());
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s CONTENT.ppm STYLE.png OUT.ppm ALPHA LEVELS [WEIGHTS]\n", argv[0]);
        return 2;
    }
    if (unistyle_abi_version() != UNISTYLE_ABI_VERSION) {
        fprintf(stderr, "error: library ABI %u, header %u\n", unistyle_abi_version(), UNISTYLE_ABI_VERSION);
        return 1;
    }
    int rc = 1;
    unistyle_context *ctx = NULL;
    unistyle_style *style = NULL;
    unistyle_image content = {0}, out = {0};
    uint32_t levels[5];

    if (check(unistyle_context_create(argc > 6 ? argv[6] : NULL, "cpu", &ctx), "unistyle_context_create")) goto done;
    if (check(unistyle_style_create_from_file(ctx, argv[2], 0, &style), "unistyle_style_create_from_file")) goto done;
    const unistyle_style *styles[1] = {style};
    if (load_ppm(argv[1], &content)) goto done;
    out = content;
    out.data = malloc(content.stride * content.height);
    if (!out.data) goto done;
    unistyle_stylize_options opts;
    unistyle_stylize_options_init(&opts);
    opts.style_count = 1;
    opts.styles = styles;
    opts.alpha = (float)atof(argv[4]);
    if (check(unistyle_levels_parse(argv[5], levels, 5, &opts.level_count), "unistyle_levels_parse")) goto done;
    opts.levels = levels;
    if (check(unistyle_stylize(ctx, &content, &opts, &out), "unistyle_stylize")) goto done;
    if (save_ppm(argv[3], &out)) goto done;
    rc = 0;
done:
    free(content.data);
    free(out.data);
    unistyle_style_destroy(style);
    unistyle_context_destroy(ctx);
    return rc;
}
