/*
 * test_run_metrics.c - the per-run figures of results.json beyond top-1:
 * the class-averaged accuracy and each neuron layer's mean firing rate,
 * on a tiny net whose spike counts are worked out by hand, from both
 * simulator engines.
 */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "snntb/net.h"
#include "snntb/report.h"
#include "snntb/sim.h"

/* Input (2) -> Dense "d1" identity -> Dense "d2" weights [[1, 0], [0, 0]]. */
static void chain(snn_net *net)
{
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    snn_layer in, d1, d2;
    snn_layer_defaults(&in, SNN_OP_INPUT, "in", NULL);
    in.shape = (snn_shape){1, {2}};
    tu_add_layer(&g, &in, -1);
    snn_layer_defaults(&d1, SNN_OP_DENSE, "d1", NULL);
    assert_int_equal(snn_tensor_init(&d1.weight, 2, (size_t[]){2, 2}, &err),
                     SNN_OK);
    d1.weight.data[0] = d1.weight.data[3] = 1;
    d1.act = SNN_ACT_RELU;
    tu_add_layer(&g, &d1, 0);
    snn_layer_defaults(&d2, SNN_OP_DENSE, "d2", NULL);
    assert_int_equal(snn_tensor_init(&d2.weight, 2, (size_t[]){2, 2}, &err),
                     SNN_OK);
    d2.weight.data[0] = 1;
    d2.act = SNN_ACT_RELU;
    tu_add_layer(&g, &d2, 1);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts o = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    assert_int_equal(snn_convert(&g, &o, net, &err), SNN_OK);
    snn_graph_free(&g);
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static void test_class_average_and_layer_rates(void **state)
{
    (void)state;
    snn_net net;
    snn_error err;
    chain(&net);
    /* 8 steps.  Sample 0 (0.5, 0.25), class 0: d1 fires 4 + 2, d2 4 + 0
     * -> predicts 0, right.  Sample 1 (0.25, 0.75), class 1: d1 2 + 6, d2
     * 2 + 0 -> predicts 0, wrong.  Sample 2 (0.125, 0), class 1: d1 1, d2
     * 1 -> 0, wrong.  Class 0: 1/1, class 1: 0/2: averaged 0.5 (top-1 is
     * 1/3).  d1: 15 spikes, d2: 7, over 3 samples x 8 steps x 2 neurons. */
    snn_tensor x, y;
    assert_int_equal(snn_tensor_init(&x, 2, (size_t[]){3, 2}, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&y, 2, (size_t[]){3, 2}, &err), SNN_OK);
    const float xv[6] = {0.5f, 0.25f, 0.25f, 0.75f, 0.125f, 0};
    memcpy(x.data, xv, sizeof xv);
    y.data[0] = 1;
    y.data[3] = 1;
    y.data[5] = 1;
    const snn_sim_engine engines[] = {SNN_ENGINE_REFERENCE, SNN_ENGINE_EVENT};
    for (int e = 0; e < 2; e++) {
        snn_sim_opts o = {.steps = 8, .batch_size = 2, .top_k = 1, .seed = 1,
                          .engine = engines[e]};
        snn_sim_result sr;
        assert_int_equal(snn_simulate(&net, &x, &y, 3, &o, &sr, &err), SNN_OK);
        assert_true(sr.layer_spikes[0] == 15 && sr.layer_spikes[1] == 7);
        snn_results r = {.num_samples = 3, .top_k = 1, .simulated = 1,
                         .duration = 8, .dt = 0.5};
        snn_results_take_sim(&r, &net, &sr, &y, o.steps);
        assert_true(r.snn_class_avg == 0.5);
        assert_int_equal(r.n_layer_rates, 2);
        assert_string_equal(r.layer_rates[1].name, "d2");
        assert_true(r.layer_rates[0].rate == 15.0 / 48);
        char dir[256];
        tu_tempdir(dir, sizeof dir);
        assert_int_equal(snn_results_write(dir, &r, &err), SNN_OK);
        char path[300];
        snprintf(path, sizeof path, "%s/results.json", dir);
        json_t *j = json_load_file(path, 0, NULL);
        assert_non_null(j);
        assert_true(num(j, "snn_class_averaged_top1") == 0.5);
        json_t *rates = json_object_get(j, "layer_rates");
        assert_int_equal(json_array_size(rates), 2);
        json_t *d2 = json_array_get(rates, 1);
        assert_string_equal(json_string_value(json_object_get(d2, "layer")),
                            "d2");
        assert_true(fabs(num(d2, "spikes_per_neuron_step") - 7.0 / 48) < 1e-9);
        /* dt = 0.5 ms: 7/48 spikes per step is 7/48 * 2000 Hz. */
        assert_true(fabs(num(d2, "rate_hz") - 7.0 / 48 * 2000) < 1e-6);
        json_decref(j);
        tu_rmtree(dir);
        snn_sim_result_free(&sr);
    }
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_average_and_layer_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
