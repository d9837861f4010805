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

/* Exports net, compiles it, runs it on x (its first n samples) and
 * returns the program's output (caller frees). */
static char *export_and_run(const fixture *f, const snn_tensor *x, size_t n,
                            double duration, int precision)
{
    char src[700], exe[700], raw[700], out[700], cmd[4096];
    snprintf(src, sizeof src, "%s/net.c", f->dir);
    snprintf(exe, sizeof exe, "%s/net", f->dir);
    snprintf(raw, sizeof raw, "%s/samples.f32", f->dir);
    snprintf(out, sizeof out, "%s/out.txt", f->dir);
    snn_export_opts o = {.force = 1, .duration = duration,
                         .precision = precision};
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

/* The program's predictions equal snn_simulate's, sample by sample. */
static void check_agreement(fixture *f, int steps)
{
    snn_tensor x = {0}, y = {0};
    tu_small_cnn_samples(&x, &y, N_SAMPLES);
    snn_sim_opts so = {0};
    so.steps = steps;
    so.batch_size = 7;
    so.top_k = 1;
    so.seed = 0x5eed;
    snn_sim_result res;
    snn_error err;
    assert_int_equal(snn_simulate(&f->net, &x, &y, N_SAMPLES, &so, &res, &err),
                     SNN_OK);
    char *text = export_and_run(f, &x, N_SAMPLES, steps, 0);
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
    tu_small_cnn(&f->net, SNN_OP_MAXPOOL2D, 0, SNN_RESET_SUBTRACT);
    check_agreement(f, 60);
}

static void test_c_matches_simulator_avgpool_reset_zero(void **state)
{
    if (!have_cc())
        skip();
    fixture *f = *state;
    tu_small_cnn(&f->net, SNN_OP_AVGPOOL2D, 0, SNN_RESET_ZERO);
    check_agreement(f, 60);
}

/* The stochastic output draws from the same generator, keyed by sample,
 * step and layer. */
static void test_c_matches_simulator_softmax(void **state)
{
    if (!have_cc())
        skip();
    fixture *f = *state;
    tu_small_cnn(&f->net, SNN_OP_MAXPOOL2D, 1, SNN_RESET_SUBTRACT);
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
    char *text = export_and_run(f, &x, 1, 8, 0);
    assert_string_equal(text, "0 0 7 2\n");
    free(text);
    /* int8: the largest |weight| 1 becomes 2^6, the threshold 2^(6 + 8)
     * (inputs are x * 2^8): currents 14336 = 0.875 * 2^14 and 4096, exact,
     * so the counts stay 7 and 2. */
    text = export_and_run(f, &x, 1, 8, 8);
    assert_string_equal(text, "0 0 7 2\n");
    free(text);
    char *code = tu_read_text(f->dir, "net.c");
    assert_non_null(strstr(code, "typedef int8_t w_t;"));
    assert_non_null(strstr(code, "32, 64, 16, -32, 0, 16,"));
    assert_non_null(strstr(code, "2048, -4096,"));
    free(code);
    snn_tensor_free(&x);
}

/* The fixed-point program's output spike counts equal, sample by sample
 * and neuron by neuron, those of snn_simulate running the same quantized
 * net (snn_quantize) on the same rounded samples (snn_quant_input). */
static void check_fixed_point(fixture *f, int precision, int steps)
{
    snn_tensor x = {0}, y = {0}, xq = {0};
    snn_error err;
    tu_small_cnn_samples(&x, &y, N_SAMPLES);
    assert_int_equal(snn_tensor_copy(&xq, &x, &err), SNN_OK);
    assert_int_equal(snn_quant_input(&xq, N_SAMPLES), 0);
    snn_quant_opts qo;
    snn_quant q;
    snn_quant_opts_for(SNN_EXPORT_C, precision, &qo);
    assert_int_equal(snn_quantize(&f->net, &qo, NULL, &q, &err), SNN_OK);
    int last = q.net.n_layers - 1;
    size_t n_out = snn_net_layer_size(&q.net, last);
    float **counts = calloc((size_t)q.net.n_layers, sizeof *counts);
    counts[last] = calloc(N_SAMPLES * n_out, sizeof **counts);
    snn_sim_record rec = {0};
    rec.spike_counts = counts;
    rec.record_samples = N_SAMPLES;
    snn_sim_opts so = {0};
    so.steps = steps;
    so.batch_size = 5;
    so.top_k = 1;
    so.seed = 0x5eed;
    so.record = &rec;
    snn_sim_result res;
    assert_int_equal(snn_simulate(&q.net, &xq, &y, N_SAMPLES, &so, &res,
                                  &err), SNN_OK);
    char *text = export_and_run(f, &x, N_SAMPLES, steps, precision);
    const char *p = text;
    double total = 0;
    for (size_t j = 0; j < N_SAMPLES; j++) {
        unsigned long long idx;
        int pred, used;
        assert_int_equal(sscanf(p, "%llu %d%n", &idx, &pred, &used), 2);
        assert_int_equal(idx, j);
        assert_int_equal(pred, res.predictions[j]);
        p += used;
        for (size_t k = 0; k < n_out; k++) {
            unsigned c;
            assert_int_equal(sscanf(p, "%u%n", &c, &used), 1);
            assert_int_equal(c, (unsigned)counts[last][j * n_out + k]);
            total += c;
            p += used;
        }
        assert_int_equal(*p, '\n');
        p++;
    }
    /* The output layer is active: the comparison is not of zeros. */
    assert_true(total > N_SAMPLES);
    free(text);
    free(counts[last]);
    free(counts);
    snn_sim_result_free(&res);
    snn_quant_free(&q);
    snn_tensor_free(&x);
    snn_tensor_free(&xq);
    snn_tensor_free(&y);
}

static void test_c_int16_matches_quantized_simulation(void **state)
{
    if (!have_cc())
        skip();
    fixture *f = *state;
    tu_small_cnn(&f->net, SNN_OP_AVGPOOL2D, 0, SNN_RESET_SUBTRACT);
    check_fixed_point(f, 16, 60);
}

/* int8, max-pooling (average pooling in fixed point) and reset to zero. */
static void test_c_int8_matches_quantized_simulation(void **state)
{
    if (!have_cc())
        skip();
    fixture *f = *state;
    tu_small_cnn(&f->net, SNN_OP_MAXPOOL2D, 0, SNN_RESET_ZERO);
    check_fixed_point(f, 8, 60);
}

/* The small CNN's weights (k/16, k/32), biases and inputs (k/4) are exact
 * in int16 fixed point, so quantizing changes nothing: snn_quant_evaluate
 * must report the float net's accuracy for the quantized one and every
 * prediction equal. */
static void test_quant_evaluate_exact_in_int16(void **state)
{
    fixture *f = *state;
    tu_small_cnn(&f->net, SNN_OP_MAXPOOL2D, 0, SNN_RESET_SUBTRACT);
    snn_tensor x = {0}, y = {0};
    tu_small_cnn_samples(&x, &y, N_SAMPLES);
    snn_quant_opts qo;
    snn_quant_eval ev;
    snn_error err;
    snn_quant_opts_for(SNN_EXPORT_C, 16, &qo);
    assert_int_equal(snn_quant_evaluate(&f->net, &qo, &x, &y, N_SAMPLES, 60,
                                        NULL, &ev, NULL, &err), SNN_OK);
    assert_int_equal(ev.n, N_SAMPLES);
    assert_int_equal(ev.agree, N_SAMPLES);
    assert_true(ev.quant_top1 == ev.float_top1);
    assert_true(ev.float_reset_top1 == ev.float_top1);
    assert_int_equal(snn_quant_evaluate(&f->net, &qo, &x, &y, N_SAMPLES + 1,
                                        60, NULL, &ev, NULL, &err),
                     SNN_E_INVALID);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

static void test_c_refuses_unknown_precision(void **state)
{
    fixture *f = *state;
    char src[700];
    snprintf(src, sizeof src, "%s/net.c", f->dir);
    tu_small_cnn(&f->net, SNN_OP_AVGPOOL2D, 0, SNN_RESET_SUBTRACT);
    snn_export_opts o = {.force = 1, .duration = 10, .precision = 12};
    snn_error err = {0};
    assert_int_equal(snn_export(&f->net, SNN_EXPORT_C, src, &o, NULL, &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "precision 12"));
    assert_false(tu_file_exists(src));
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
        cmocka_unit_test_setup_teardown(
            test_c_int16_matches_quantized_simulation, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_c_int8_matches_quantized_simulation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quant_evaluate_exact_in_int16,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_c_refuses_unknown_precision,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
