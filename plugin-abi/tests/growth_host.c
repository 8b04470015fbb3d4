/* A host that proves the ABI can grow. Built twice by tests/c_host.rs:
 *  - against plugin-abi/tests/v1/unistyle.h (the header of the first release, unchanged):
 *    a v1 host running against today's library;
 *  - with -DV2 against today's header plus a test-only "v2" struct that has one more field
 *    than the library knows.
 * Usage: growth_host WEIGHTS STYLE_PNG OUT_RAW
 * Stylizes a synthetic 64x48 RGB gradient (alpha 0.8, levels 2,1) into OUT_RAW and, for v2,
 * checks the growth rules; prints one line per check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unistyle.h"

#define W 64
#define H 48

static int fails = 0;
#define CHECK(cond, what)                                                                        \
    do {                                                                                         \
        if (cond) {                                                                              \
            printf("ok %s\n", what);                                                             \
        } else {                                                                                 \
            printf("FAIL %s (%s)\n", what, unistyle_last_error());                               \
            fails++;                                                                             \
        }                                                                                        \
    } while (0)

static void gradient(unsigned char *px) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            unsigned char *p = px + (y * W + x) * 3;
            p[0] = (unsigned char)(x * 4);
            p[1] = (unsigned char)(y * 5);
            p[2] = (unsigned char)((x + y) * 2);
        }
}

static unistyle_image desc(unsigned char *px) {
    unistyle_image d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.width = W;
    d.height = H;
    d.channels = 3;
    d.sample_type = UNISTYLE_U8;
    d.stride = W * 3;
    d.data = px;
    return d;
}

#ifdef V2
/* What a future header would declare: today's struct with one more field at its end. */
typedef struct {
    unistyle_stylize_options v1;
    uint64_t future_field; /* unknown to this library */
} stylize_options_v2;
#endif

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: growth_host WEIGHTS STYLE_PNG OUT_RAW\n");
        return 2;
    }
    static unsigned char in[W * H * 3], out[W * H * 3];
    gradient(in);
    unistyle_image input = desc(in), output = desc(out);

    /* The v1 initialiser writes exactly the v1 struct, whatever the library's version. */
    struct {
        unistyle_stylize_options o;
        unsigned char guard[64];
    } guarded;
    memset(guarded.guard, 0xAB, sizeof guarded.guard);
    CHECK(unistyle_stylize_options_init(&guarded.o) == UNISTYLE_OK, "stylize_options_init");
    int intact = 1;
    for (size_t i = 0; i < sizeof guarded.guard; i++) intact &= guarded.guard[i] == 0xAB;
    CHECK(intact, "init writes no byte past the v1 struct");

    unistyle_context *ctx = NULL;
    unistyle_style *style = NULL;
    if (unistyle_context_create(argv[1], NULL, &ctx) != UNISTYLE_OK ||
        unistyle_style_create_from_file(ctx, argv[2], 128, &style) != UNISTYLE_OK) {
        printf("FAIL setup (%s)\n", unistyle_last_error());
        return 1;
    }
    const unistyle_style *styles[1] = {style};
    uint32_t levels[2] = {2, 1};
    unistyle_stylize_options opts;
    unistyle_stylize_options_init(&opts);
    opts.style_count = 1;
    opts.styles = styles;
    opts.alpha = 0.8f;
    opts.level_count = 2;
    opts.levels = levels;
    CHECK(unistyle_stylize(ctx, &input, &opts, &output) == UNISTYLE_OK, "stylize");
    FILE *f = fopen(argv[3], "wb");
    if (!f || fwrite(out, 1, sizeof out, f) != sizeof out) return 1;
    fclose(f);

#ifdef V2
    static unsigned char out2[W * H * 3];
    unistyle_image output2 = desc(out2);
    stylize_options_v2 o2;
    memset(&o2, 0xCD, sizeof o2);
    CHECK(unistyle_stylize_options_init_ex(&o2.v1, sizeof o2) == UNISTYLE_OK, "init_ex with a larger struct");
    CHECK(o2.v1.struct_size == sizeof o2 && o2.future_field == 0 && o2.v1.alpha == 1.0f,
          "init_ex: defaults, zero tail, host's struct_size");
    o2.v1.style_count = 1;
    o2.v1.styles = styles;
    o2.v1.alpha = 0.8f;
    o2.v1.level_count = 2;
    o2.v1.levels = levels;
    CHECK(unistyle_stylize(ctx, &input, &o2.v1, &output2) == UNISTYLE_OK, "larger struct, zero tail accepted");
    CHECK(memcmp(out, out2, sizeof out) == 0, "larger struct gives the same result");
    o2.future_field = 1;
    memset(out2, 7, sizeof out2);
    CHECK(unistyle_stylize(ctx, &input, &o2.v1, &output2) == UNISTYLE_ERR_VERSION, "non-zero unknown field refused");
    printf("message: %s\n", unistyle_last_error());
    CHECK(out2[0] == 7 && out2[sizeof out2 - 1] == 7, "refused call leaves the output untouched");
    o2.v1.struct_size = 8;
    CHECK(unistyle_stylize(ctx, &input, &o2.v1, &output2) == UNISTYLE_ERR_VERSION, "struct_size below v1 refused");

    /* A larger image descriptor (zero tail) is accepted too. */
    struct {
        unistyle_image d;
        uint64_t future_field;
    } big_in = {input, 0};
    big_in.d.struct_size = sizeof big_in;
    CHECK(unistyle_stylize(ctx, &big_in.d, &opts, &output2) == UNISTYLE_OK &&
              memcmp(out, out2, sizeof out) == 0,
          "larger unistyle_image accepted");

    uint32_t parsed[5], count = 99;
    CHECK(unistyle_levels_parse(" 3, 2,1", parsed, 5, &count) == UNISTYLE_OK && count == 3 && parsed[0] == 3 &&
              parsed[2] == 1,
          "levels_parse \" 3, 2,1\"");
    CHECK(unistyle_levels_parse("", parsed, 5, &count) == UNISTYLE_OK && count == 0, "levels_parse \"\"");
    CHECK(unistyle_levels_parse("3,7", parsed, 5, &count) == UNISTYLE_ERR_INVALID, "levels_parse \"3,7\" refused");
    printf("message: %s\n", unistyle_last_error());
#endif

    unistyle_style_destroy(style);
    unistyle_context_destroy(ctx);
    return fails ? 1 : 0;
}
