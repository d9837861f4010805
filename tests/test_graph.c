/*
 * test_graph.c - graph construction and shape inference: output sizes by
 * hand for valid/same/ceil windows, and errors that name the layer.
 */
#include "testutil.h"

#include <string.h>

#include "snntb/graph.h"

static void add_input(snn_graph *g, size_t c, size_t h, size_t w)
{
    snn_layer in;
    snn_layer_defaults(&in, SNN_OP_INPUT, "input", NULL);
    in.shape = (snn_shape){3, {c, h, w}};
    assert_int_equal(snn_graph_add(g, &in, NULL, NULL), SNN_OK);
}

static void add_conv(snn_graph *g, const char *name, size_t o, size_t i,
                     size_t k, int stride, snn_pad_mode mode)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_CONV2D, name, "Conv2D");
    size_t dims[4] = {o, i, k, k};
    assert_int_equal(snn_tensor_init(&l.weight, 4, dims, NULL), SNN_OK);
    l.win.stride[0] = l.win.stride[1] = stride;
    l.win.pad_mode = mode;
    l.inputs[0] = g->n_layers - 1;
    l.n_inputs = 1;
    assert_int_equal(snn_graph_add(g, &l, NULL, NULL), SNN_OK);
}

static void test_same_padding_like_tensorflow(void **state)
{
    (void)state;
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    add_input(&g, 2, 7, 8);
    /* TF "same", stride 2, k 3: out = ceil(7/2) = 4, ceil(8/2) = 4;
     * total pad rows = (4-1)*2 + 3 - 7 = 2 -> 1 top, 1 bottom;
     * cols = (4-1)*2 + 3 - 8 = 1 -> 0 left, 1 right. */
    add_conv(&g, "c", 5, 2, 3, 2, SNN_PAD_SAME);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    const snn_layer *c = &g.layers[1];
    assert_int_equal(c->shape.dims[0], 5);
    assert_int_equal(c->shape.dims[1], 4);
    assert_int_equal(c->shape.dims[2], 4);
    assert_int_equal(c->win.pad[0], 1);
    assert_int_equal(c->win.pad[2], 1);
    assert_int_equal(c->win.pad[1], 0);
    assert_int_equal(c->win.pad[3], 1);
    /* Inferring again keeps the resolved padding. */
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    assert_int_equal(g.layers[1].shape.dims[1], 4);
    snn_graph_free(&g);
}

static void test_pool_ceil_mode_like_caffe(void **state)
{
    (void)state;
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    add_input(&g, 1, 6, 7);
    snn_layer p;
    snn_layer_defaults(&p, SNN_OP_MAXPOOL2D, "pool", NULL);
    p.win.kernel[0] = p.win.kernel[1] = 3;
    p.win.stride[0] = p.win.stride[1] = 2;
    p.win.ceil_mode = 1;
    p.inputs[0] = 0;
    p.n_inputs = 1;
    assert_int_equal(snn_graph_add(&g, &p, NULL, NULL), SNN_OK);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    /* Caffe: ceil((6-3)/2)+1 = 3, ceil((7-3)/2)+1 = 3; floor would be 2, 3. */
    assert_int_equal(g.layers[1].shape.dims[1], 3);
    assert_int_equal(g.layers[1].shape.dims[2], 3);
    g.layers[1].win.ceil_mode = 0;
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    assert_int_equal(g.layers[1].shape.dims[1], 2);
    assert_int_equal(g.layers[1].shape.dims[2], 3);
    snn_graph_free(&g);
}

static void test_mismatched_weights_name_the_layer(void **state)
{
    (void)state;
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    add_input(&g, 3, 5, 5);
    add_conv(&g, "conv_bad", 4, 2, 3, 1, SNN_PAD_EXPLICIT);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_E_SHAPE);
    assert_non_null(strstr(err.msg, "conv_bad"));
    assert_non_null(strstr(err.msg, "3 input channels"));
    snn_graph_free(&g);
}

static void test_dense_needs_flat_input(void **state)
{
    (void)state;
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    add_input(&g, 1, 2, 2);
    snn_layer f, d;
    snn_layer_defaults(&f, SNN_OP_FLATTEN, "flat", NULL);
    f.n_inputs = 1;
    snn_layer_defaults(&d, SNN_OP_DENSE, "fc", "Dense");
    size_t wd[2] = {3, 5};
    assert_int_equal(snn_tensor_init(&d.weight, 2, wd, NULL), SNN_OK);
    d.inputs[0] = 1;
    d.n_inputs = 1;
    assert_int_equal(snn_graph_add(&g, &f, NULL, NULL), SNN_OK);
    assert_int_equal(snn_graph_add(&g, &d, NULL, NULL), SNN_OK);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_E_SHAPE);
    assert_non_null(strstr(err.msg, "'fc'"));
    assert_non_null(strstr(err.msg, "input of 4"));
    snn_graph_free(&g);
}

static void test_input_must_precede(void **state)
{
    (void)state;
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_FLATTEN, "f", NULL);
    l.n_inputs = 1;
    l.inputs[0] = 0;
    assert_int_equal(snn_graph_add(&g, &l, NULL, &err), SNN_E_INVALID);
    assert_int_equal(g.n_layers, 0);
    snn_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_padding_like_tensorflow),
        cmocka_unit_test(test_pool_ceil_mode_like_caffe),
        cmocka_unit_test(test_mismatched_weights_name_the_layer),
        cmocka_unit_test(test_dense_needs_flat_input),
        cmocka_unit_test(test_input_must_precede),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
