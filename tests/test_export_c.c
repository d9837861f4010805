/*
 * test_export_c.c - the standalone C export, compiled with the system's
 * C compiler (skipped when there is none) and run on samples: its output
 * spike counts against hand-computed ones, and its predictions against
 * snn_simulate's on random nets whose weights, biases and inputs are
 * small dyadic rationals, so that every sum is exact in float whatever
 * its order and the two simulators must agree spike for spike.
 */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snntb/export.h"
#include "snntb/graph.h"
#include "snntb/net.h"
#include "snntb/sim.h"

#define N_SAMPLES 48

typedef struct fixture {
    char dir[512];
    snn_net net;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_tempdir(f->dir, sizeof f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    snn_net_free(&f->net);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

static int have_cc(void)
{
    return system("command -v cc >/dev/null 2>&1") == 0;
}

/* A reproducible dyadic value k / den, k uniform in [lo, hi]. */
static float dyadic(uint64_t *s, int lo, int hi, int den)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    int k = lo + (int)((*s >> 33) % (uint64_t)(hi - lo + 1));
    return (float)k / (float)den;
}

static void fill(snn_tensor *t, int ndim, const size_t *dims, uint64_t *s,
                 int lo, int hi, int den)
{
    snn_error err;
    assert_int_equal(snn_tensor_init(t, ndim, dims, &err), SNN_OK);
    for (size_t k = 0; k < snn_tensor_numel(t); k++)
        t->data[k] = dyadic(s, lo, hi, den);
}

/* input (2,6,6) -> conv 3x3x3 pad 1, relu -> pool 2x2 (pool_op) ->
 * flatten in (H, W, C) order -> dense 8, relu -> dense 4 (softmax or
 * relu output). */
static void build_net(snn_net *net, snn_op pool_op, int softmax,
                      snn_reset reset)
{
    snn_graph g;
    snn_error err;
    uint64_t seed = 12345;
    snn_graph_init(&g);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, "in", NULL);
    l.shape = (snn_shape){3, {2, 6, 6}};
    tu_add_layer(&g, &l, -1);
    snn_layer_defaults(&l, SNN_OP_CONV2D, "conv", NULL);
    l.win.kernel[0] = l.win.kernel[1] = 3;
    l.win.stride[0] = l.win.stride[1] = 1;
    for (int i = 0; i < 4; i++)
        l.win.pad[i] = 1;
    l.act = SNN_ACT_RELU;
    size_t wc[4] = {3, 2, 3, 3}, b3[1] = {3}, w1[2] = {8, 27}, b8[1] = {8},
           w2[2] = {4, 8}, b4[1] = {4};
    fill(&l.weight, 4, wc, &seed, -8, 8, 16);
    fill(&l.bias, 1, b3, &seed, -2, 4, 16);
    tu_add_layer(&g, &l, 0);
    snn_layer_defaults(&l, pool_op, "pool", NULL);
    l.win.kernel[0] = l.win.kernel[1] = 2;
    l.win.stride[0] = l.win.stride[1] = 2;
    tu_add_layer(&g, &l, 1);
    snn_layer_defaults(&l, SNN_OP_FLATTEN, "flat", NULL);
    l.flatten_hwc = 1;
    tu_add_layer(&g, &l, 2);
    snn_layer_defaults(&l, SNN_OP_DENSE, "hidden", NULL);
    l.act = SNN_ACT_RELU;
    fill(&l.weight, 2, w1, &seed, -8, 10, 32);
    fill(&l.bias, 1, b8, &seed, -1, 2, 64);
    tu_add_layer(&g, &l, 3);
    snn_layer_defaults(&l, SNN_OP_DENSE, "out", NULL);
    l.act = softmax ? SNN_ACT_SOFTMAX : SNN_ACT_RELU;
    fill(&l.weight, 2, w2, &seed, -8, 12, 16);
    fill(&l.bias, 1, b4, &seed, -1, 1, 64);
    tu_add_layer(&g, &l, 4);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts co = {1.0f, reset, 1.0f};
    assert_int_equal(snn_convert(&g, &co, net, &err), SNN_OK);
    snn_graph_free(&g);
}

/* Exports net, compiles it, runs it on x (its first n samples) and
 * returns the program's output (caller frees). */
static char *export_and_run(const fixture *f, const snn_tensor *x, size_t n,
                            double duration)
{
    char src[700], exe[700], raw[700], out[700], cmd[4096];
    snprintf(src, sizeof src, "%s/net.c", f->dir);
    snprintf(exe, sizeof exe, "%s/net", f->dir);
    snprintf(raw, sizeof raw, "%s/samples.f32", f->dir);
    snprintf(out, sizeof out, "%s/out.txt", f->dir);
    snn_export_opts o = {.force = 1, .duration = duration};
    snn_error err;
    assert_int_equal(snn_export(&f->net, SNN_EXPORT_C, src, &o, NULL, &err),
                     SNN_OK);
    size_t per = snn_tensor_numel(x) / x->dims[0];
    tu_write_file(raw, (const char *)x->data, n * per * sizeof(float));
    snprintf(cmd, sizeof cmd, "cc -std=c99 -O2 -Wall -Wextra -Werror "
             "-pedantic -o '%s' '%s' -lm && '%s' '%s' > '%s'", exe, src, exe,
             raw, out);
    assert_int_equal(system(cmd), 0);
    FILE *fp = fopen(out, "rb");
    assert_non_null(fp);
    char *text = calloc(1, 1 << 16);
    assert_true(fread(text, 1, (1 << 16) - 1, fp) > 0);
    fclose(fp);
    return text;
}

static void random_samples(snn_tensor *x, snn_tensor *y)
{
    snn_error err;
    size_t xd[4] = {N_SAMPLES, 2, 6, 6}, yd[2] = {N_SAMPLES, 4};
    uint64_t seed = 777;
    fill(x, 4, xd, &seed, 0, 4, 4);
    assert_int_equal(snn_tensor_init(y, 2, yd, &err), SNN_OK);
    for (size_t j = 0; j < N_SAMPLES; j++)
        y->data[j * 4 + j % 4] = 1.0f;
}

/* The program's predictions equal snn_simulate's, sample by sample. */
static void check_agreement(fixture *f, int steps)
{
    snn_tensor x = {0}, y = {0};
    random_samples(&x, &y);
    snn_sim_opts so = {0};
    so.steps = steps;
    so.batch_size = 7;
    so.top_k = 1;
    so.seed = 0x5eed;
    snn_sim_result res;
    snn_error err;
    assert_int_equal(snn_simulate(&f->net, &x, &y, N_SAMPLES, &so, &res, &err),
                     SNN_OK);
    char *text = export_and_run(f, &x, N_SAMPLES, steps);
    const char *p = text;
    int distinct[6] = {0};
    for (size_t j = 0; j < N_SAMPLES; j++) {
        unsigned long long idx;
        int pred, used;
        assert_int_equal(sscanf(p, "%llu %d%n", &idx, &pred, &used), 2);
        assert_int_equal(idx, j);
        assert_int_equal(pred, res.predictions[j]);
        distinct[pred + 1] = 1;
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    /* The samples exercise several classes, not one constant answer. */
    assert_true(distinct[1] + distinct[2] + distinct[3] + distinct[4] >= 3);
    free(text);
    snn_sim_result_free(&res);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

static void test_c_matches_simulator_maxpool(void **state)
{
    if (!have_cc())
        skip();
    fixture *f = *state;
    build_net(&f->net, SNN_OP_MAXPOOL2D, 0, SNN_RESET_SUBTRACT);
    check_agreement(f, 60);
}

static void test_c_matches_simulator_avgpool_reset_zero(void **state)
{
    if (!have_cc())
        skip();
    fixture *f = *state;
    build_net(&f->net, SNN_OP_AVGPOOL2D, 0, SNN_RESET_ZERO);
    check_agreement(f, 60);
}

/* The stochastic output draws from the same generator, keyed by sample,
 * step and layer. */
static void test_c_matches_simulator_softmax(void **state)
{
    if (!have_cc())
        skip();
    fixture *f = *state;
    build_net(&f->net, SNN_OP_MAXPOOL2D, 1, SNN_RESET_SUBTRACT);
    check_agreement(f, 60);
}

/* One dense layer of 2 neurons on a 3-value sample, by hand: currents
 * 0.75 + 0.125 = 0.875 and 0.5 - 0.25 = 0.25 per step; over 8 steps with
 * reset by subtraction (v_thresh 1) they fire floor(8 * 0.875) = 7 and
 * floor(8 * 0.25) = 2 times. */
static void test_c_counts_by_hand(void **state)
{
    if (!have_cc())
        skip();
    fixture *f = *state;
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, "in", NULL);
    l.shape = (snn_shape){1, {3}};
    tu_add_layer(&g, &l, -1);
    snn_layer_defaults(&l, SNN_OP_DENSE, "d", NULL);
    l.act = SNN_ACT_RELU;
    size_t wd[2] = {2, 3}, bd[1] = {2};
    assert_int_equal(snn_tensor_init(&l.weight, 2, wd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&l.bias, 1, bd, &err), SNN_OK);
    const float w[6] = {0.5f, 0.25f, 0.0f, 1.0f, -0.5f, 0.25f};
    memcpy(l.weight.data, w, sizeof w);
    l.bias.data[0] = 0.125f;
    l.bias.data[1] = -0.25f;
    tu_add_layer(&g, &l, 0);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts co = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    assert_int_equal(snn_convert(&g, &co, &f->net, &err), SNN_OK);
    snn_graph_free(&g);
    snn_tensor x = {0};
    size_t xd[2] = {1, 3};
    assert_int_equal(snn_tensor_init(&x, 2, xd, &err), SNN_OK);
    /* 0.5 + 0.25 = 0.75 and 1 - 0.5 = 0.5 before the biases. */
    x.data[0] = 1.0f;
    x.data[1] = 1.0f;
    x.data[2] = 0.0f;
    char *text = export_and_run(f, &x, 1, 8);
    assert_string_equal(text, "0 0 7 2\n");
    free(text);
    snn_tensor_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_c_counts_by_hand, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_c_matches_simulator_maxpool,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_c_matches_simulator_avgpool_reset_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c_matches_simulator_softmax,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
