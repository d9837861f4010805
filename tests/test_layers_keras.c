/*
 * test_layers_keras.c - Keras Functional DAGs and the layers beyond a
 * linear chain (Add, Concatenate, depthwise/separable/transposed
 * convolutions, padding, cropping, upsampling, reshape, global pooling,
 * clipped ReLUs, 1-D convolution and pooling), read from files Keras wrote
 * (scripts/gen_keras_fixtures.py layers, keras3) and run against Keras' own
 * outputs; and the clear refusals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snntb/ann.h"
#include "snntb/dataset.h"
#include "snntb/net.h"
#include "snntb/parse.h"
#include "testutil.h"

static void parse_fixture(const char *rel, snn_graph *g)
{
    char path[512];
    snn_error err = {0};
    if (snn_parse_keras(tu_fixture(path, sizeof path, rel), g, &err) !=
        SNN_OK)
        fail_msg("%s: %s", rel, err.msg);
}

/* Runs the model on <stem>_x_nchw.npy; every output must match Keras'
 * <stem>_y.npy within 1e-4 relative. */
static void check_outputs(const char *rel, const char *stem)
{
    char npy[256];
    snn_graph g;
    snn_tensor x, y;
    parse_fixture(rel, &g);
    snprintf(npy, sizeof npy, "keras/%s_x_nchw.npy", stem);
    tu_load_npy(npy, &x);
    snprintf(npy, sizeof npy, "keras/%s_y.npy", stem);
    tu_load_npy(npy, &y);
    snn_tensor out;
    tu_ann_output(&g, &x, &out, rel);
    tu_assert_close(&out, &y, TU_TOL_REL, rel, "Keras");
    snn_tensor_free(&out);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_graph_free(&g);
}

static void test_dag_outputs_match_keras(void **state)
{
    (void)state;
    check_outputs("keras/dag.h5", "dag");
    check_outputs("keras/dag_pair.json", "dag");
    check_outputs("keras/dag_k2.json", "dag");
}

static void test_shape_layers_match_keras(void **state)
{
    (void)state;
    check_outputs("keras/shapes.h5", "shapes");
}

/* Conv1D (same, causal + dilated, strided), 1-D pooling, Flatten of a
 * sequence and GlobalAveragePooling1D, as a (C, 1, steps) image. */
static void test_sequence_layers_match_keras(void **state)
{
    (void)state;
    check_outputs("keras/seq1d.keras", "seq1d");
    check_outputs("keras/seq1d.h5", "seq1d");
    check_outputs("keras/gap1d.keras", "gap1d");
    /* Cropping1D, UpSampling1D, ZeroPadding1D (test_resample converts
     * the .keras and .h5 files) */
    check_outputs("keras/seq_resample_pair.json", "seq_resample");
}

typedef struct expect_layer {
    const char *name;
    snn_op op;
    int n_inputs;
    size_t dims[3];
} expect_layer;

/* The DAG's layers in order, with shapes worked out by hand from the
 * generator's model (6x6x2 input). */
static const expect_layer DAG[] = {
    {"image", SNN_OP_INPUT, 0, {2, 6, 6}},
    {"c1", SNN_OP_CONV2D, 1, {4, 6, 6}},
    {"c2a", SNN_OP_CONV2D, 1, {4, 6, 6}},
    {"dw", SNN_OP_CONV2D, 1, {4, 6, 6}},
    {"add", SNN_OP_ADD, 3, {4, 6, 6}},
    {"relu6", SNN_OP_ACTIVATION, 1, {4, 6, 6}},
    {"pad", SNN_OP_PAD, 1, {4, 7, 7}},
    {"sep_depthwise", SNN_OP_CONV2D, 1, {8, 5, 5}},
    {"sep", SNN_OP_CONV2D, 1, {3, 5, 5}},
    {"crop", SNN_OP_CROP, 1, {4, 5, 5}},
    {"cat", SNN_OP_CONCAT, 2, {7, 5, 5}},
    {"up", SNN_OP_UPSAMPLE, 1, {7, 10, 5}},
    {"gap_pool", SNN_OP_AVGPOOL2D, 1, {7, 1, 1}},
    {"gap", SNN_OP_FLATTEN, 1, {7, 0, 0}},
    {"out", SNN_OP_DENSE, 1, {3, 0, 0}},
};

/* seq1d's layers, shapes worked out by hand from the generator's model
 * (16 steps, 3 channels). */
static const expect_layer SEQ1D[] = {
    {"signal", SNN_OP_INPUT, 0, {3, 1, 16}},
    {"c_same", SNN_OP_CONV2D, 1, {4, 1, 16}},
    {"maxpool", SNN_OP_MAXPOOL2D, 1, {4, 1, 8}},
    {"c_causal", SNN_OP_CONV2D, 1, {5, 1, 8}},
    {"c_stride", SNN_OP_CONV2D, 1, {4, 1, 4}},
    {"avgpool", SNN_OP_AVGPOOL2D, 1, {4, 1, 3}},
    {"flatten", SNN_OP_FLATTEN, 1, {12, 0, 0}},
    {"out", SNN_OP_DENSE, 1, {3, 0, 0}},
};

static void test_sequence_structure(void **state)
{
    (void)state;
    snn_graph g;
    parse_fixture("keras/seq1d.keras", &g);
    int n = (int)(sizeof SEQ1D / sizeof SEQ1D[0]);
    assert_int_equal(g.n_layers, n);
    for (int i = 0; i < n; i++) {
        const snn_layer *l = &g.layers[i];
        assert_string_equal(l->name, SEQ1D[i].name);
        assert_int_equal(l->op, SEQ1D[i].op);
        for (int d = 0; d < l->shape.ndim; d++)
            assert_int_equal(l->shape.dims[d], SEQ1D[i].dims[d]);
    }
    /* causal: (3 - 1) * 2 cells before the sequence, none after */
    const snn_layer *causal = &g.layers[3];
    assert_int_equal(causal->win.pad[1], 4);
    assert_int_equal(causal->win.pad[3], 0);
    assert_int_equal(causal->win.dilation[1], 2);
    assert_true(g.layers[6].flatten_hwc);
    /* No new op: the spiking net takes it as it takes images. */
    snn_net net;
    snn_error err = {0};
    snn_convert_opts o = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    if (snn_convert(&g, &o, &net, &err) != SNN_OK)
        fail_msg("seq1d: %s", err.msg);
    snn_net_free(&net);
    snn_graph_free(&g);
}

static void test_dag_structure(void **state)
{
    (void)state;
    snn_graph g;
    parse_fixture("keras/dag_k2.json", &g);
    int n = (int)(sizeof DAG / sizeof DAG[0]);
    assert_int_equal(g.n_layers, n);
    for (int i = 0; i < n; i++) {
        const snn_layer *l = &g.layers[i];
        assert_string_equal(l->name, DAG[i].name);
        assert_int_equal(l->op, DAG[i].op);
        assert_int_equal(l->n_inputs, DAG[i].n_inputs);
        for (int d = 0; d < l->shape.ndim; d++)
            assert_int_equal(l->shape.dims[d], DAG[i].dims[d]);
    }
    /* The Add reads c2a, dw and c1 (c1 feeds three layers). */
    const snn_layer *add = &g.layers[4];
    assert_int_equal(add->inputs[0], 2);
    assert_int_equal(add->inputs[1], 3);
    assert_int_equal(add->inputs[2], 1);
    assert_int_equal(g.layers[3].groups, 4);
    assert_int_equal(g.layers[5].act, SNN_ACT_CLIP);
    assert_true(g.layers[5].clip_max == 6.0f);
    assert_int_equal(g.layers[8].act, SNN_ACT_CLIP);
    snn_graph_free(&g);
}

static void parse_fails(const char *rel, snn_status st, const char *needle)
{
    char path[512];
    snn_graph g;
    snn_error err = {0};
    assert_int_equal(snn_parse_keras(tu_fixture(path, sizeof path, rel), &g,
                                     &err), st);
    assert_int_equal(g.n_layers, 0);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_mismatched_add(void **state)
{
    (void)state;
    parse_fails("keras/dag_badadd.h5", SNN_E_SHAPE,
                "layer 'cat' (Add): input 'crop' (4, 5, 5) does not fit "
                "input 'sep' (3, 5, 5)");
}

static void test_hidden_sigmoid(void **state)
{
    (void)state;
    parse_fails("keras/sigmoid.h5", SNN_E_UNSUPPORTED,
                "layer 'hidden' of type 'Dense': activation 'sigmoid': "
                "integrate-and-fire neurons");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dag_outputs_match_keras),
        cmocka_unit_test(test_shape_layers_match_keras),
        cmocka_unit_test(test_sequence_layers_match_keras),
        cmocka_unit_test(test_sequence_structure),
        cmocka_unit_test(test_dag_structure),
        cmocka_unit_test(test_mismatched_add),
        cmocka_unit_test(test_hidden_sigmoid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
