/*
 * test_compose.c - snn_compose_convs on the Keras fixture dag.h5: its
 * ZeroPadding2D joins the padding of the SeparableConv2D it feeds, whose
 * two halves (depth multiplier 2, so the depthwise half is a grouped
 * convolution with 8 outputs from 4 channels) become one Conv2D, and the
 * graph still gives Keras' own outputs; linear convolutions that feed
 * anything but a pointwise convolution are left alone.
 */
#include <string.h>

#include "snntb/normalize.h"
#include "snntb/parse.h"
#include "testutil.h"

static void parse_dag(snn_graph *g)
{
    char path[512];
    snn_error err = {0};
    if (snn_parse_keras(tu_fixture(path, sizeof path, "keras/dag.h5"), g,
                        &err) != SNN_OK)
        fail_msg("keras/dag.h5: %s", err.msg);
}

static void test_separable_composed_matches_keras(void **state)
{
    (void)state;
    snn_graph g;
    snn_tensor x, y, out;
    snn_error err = {0};
    parse_dag(&g);
    int n = g.n_layers;
    assert_true(snn_graph_find(&g, "sep_depthwise") >= 0);

    assert_int_equal(snn_compose_convs(&g, &err), SNN_OK);
    assert_int_equal(g.n_layers, n - 2);
    assert_int_equal(snn_graph_find(&g, "sep_depthwise"), -1);
    assert_int_equal(snn_graph_find(&g, "pad"), -1);
    const snn_layer *sep = &g.layers[snn_graph_find(&g, "sep")];
    assert_int_equal(sep->groups, 1);
    assert_int_equal(sep->weight.dims[0], 3);
    assert_int_equal(sep->weight.dims[1], 4);
    assert_int_equal(sep->weight.dims[2], 3);
    assert_int_equal(sep->weight.dims[3], 3);
    assert_int_equal(sep->act, SNN_ACT_CLIP);
    /* ZeroPadding2D(((1, 0), (0, 1))): top, left, bottom, right. */
    assert_string_equal(g.layers[sep->inputs[0]].name, "relu6");
    const int pads[4] = {1, 0, 0, 1};
    assert_memory_equal(sep->win.pad, pads, sizeof pads);
    /* The linear 'c2a' and depthwise 'dw' feed an Add: kept. */
    assert_true(snn_graph_find(&g, "c2a") >= 0);
    assert_true(snn_graph_find(&g, "dw") >= 0);

    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    tu_load_npy("keras/dag_x_nchw.npy", &x);
    tu_load_npy("keras/dag_y.npy", &y);
    tu_ann_output(&g, &x, &out, "dag.h5 composed");
    tu_assert_close(&out, &y, TU_TOL_REL, "dag.h5 composed", "Keras");
    snn_tensor_free(&out);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separable_composed_matches_keras),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
