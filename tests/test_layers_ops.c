/*
 * test_layers_ops.c - the graph ops added for DAGs and shape layers (Add,
 * Concatenate, padding, cropping, upsampling, reshape, transposed
 * convolution, clipped ReLU): shape inference and ANN output on tiny
 * graphs whose results are worked out by hand in the comments.
 */
#include <stdlib.h>
#include <string.h>

#include "snntb/ann.h"
#include "snntb/graph.h"
#include "testutil.h"

/* A graph holding only an input layer of shape (c, h, w). */
static void image_graph(snn_graph *g, size_t c, size_t h, size_t w)
{
    snn_layer in;
    snn_graph_init(g);
    snn_layer_defaults(&in, SNN_OP_INPUT, "in", NULL);
    in.shape.ndim = 3;
    in.shape.dims[0] = c;
    in.shape.dims[1] = h;
    in.shape.dims[2] = w;
    assert_int_equal(snn_graph_add(g, &in, NULL, NULL), SNN_OK);
}

/* Appends l fed by the layers in inputs[0..n). */
static void add_layer(snn_graph *g, snn_layer *l, const int *inputs, int n)
{
    memcpy(l->inputs, inputs, (size_t)n * sizeof *inputs);
    l->n_inputs = n;
    assert_int_equal(snn_graph_add(g, l, NULL, NULL), SNN_OK);
}

/* Runs g on one sample x; the last layer's output must equal want. */
static void expect_output(snn_graph *g, const float *x, const float *want,
                          size_t n_want)
{
    snn_error err = {0};
    if (snn_graph_infer_shapes(g, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    size_t n_in = snn_shape_numel(&g->layers[0].shape);
    size_t dims[1] = {n_in};
    snn_tensor t;
    assert_int_equal(snn_tensor_init(&t, 1, dims, NULL), SNN_OK);
    t.dims[0] = 1;
    t.ndim = 2;
    t.dims[1] = n_in;
    memcpy(t.data, x, n_in * sizeof *x);
    snn_tensor *acts = calloc((size_t)g->n_layers, sizeof *acts);
    assert_non_null(acts);
    if (snn_ann_forward(g, &t, acts, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    const snn_tensor *out = &acts[g->n_layers - 1];
    assert_int_equal(snn_tensor_numel(out), n_want);
    for (size_t i = 0; i < n_want; i++)
        if (out->data[i] != want[i])
            fail_msg("output %zu is %g, expected %g", i,
                     (double)out->data[i], (double)want[i]);
    snn_ann_acts_free(acts, g->n_layers);
    free(acts);
    snn_tensor_free(&t);
    snn_graph_free(g);
}

static void test_add_and_concat(void **state)
{
    (void)state;
    snn_graph g;
    snn_layer l;
    image_graph(&g, 1, 1, 2);
    int three[3] = {0, 0, 0}, two[2] = {1, 0};
    snn_layer_defaults(&l, SNN_OP_ADD, "sum", NULL);
    add_layer(&g, &l, three, 3);
    snn_layer_defaults(&l, SNN_OP_CONCAT, "cat", NULL);
    add_layer(&g, &l, two, 2);
    /* sum = 3x = (3, -6); cat = channels (sum, x). */
    const float x[2] = {1, -2}, want[4] = {3, -6, 1, -2};
    expect_output(&g, x, want, 4);
}

static void test_pad_crop_upsample(void **state)
{
    (void)state;
    snn_graph g;
    snn_layer l;
    int prev[1] = {0};
    image_graph(&g, 1, 2, 2);
    /* [[1,2],[3,4]] padded one row on top, one column on the right:
     * [[0,0,0],[1,2,0],[3,4,0]]; cropping the top row and left column
     * leaves [[2,0],[4,0]]; upsampling rows by 2: [[2,0],[2,0],[4,0],[4,0]]. */
    snn_layer_defaults(&l, SNN_OP_PAD, "pad", NULL);
    l.win.pad[0] = 1;
    l.win.pad[3] = 1;
    add_layer(&g, &l, prev, 1);
    snn_layer_defaults(&l, SNN_OP_CROP, "crop", NULL);
    l.win.pad[0] = 1;
    l.win.pad[1] = 1;
    prev[0] = 1;
    add_layer(&g, &l, prev, 1);
    snn_layer_defaults(&l, SNN_OP_UPSAMPLE, "up", NULL);
    l.win.stride[0] = 2;
    prev[0] = 2;
    add_layer(&g, &l, prev, 1);
    const float x[4] = {1, 2, 3, 4}, want[8] = {2, 0, 2, 0, 4, 0, 4, 0};
    expect_output(&g, x, want, 8);
}

static void test_reshape_channels_last(void **state)
{
    (void)state;
    snn_graph g;
    snn_layer in, l;
    int prev[1] = {0};
    snn_graph_init(&g);
    snn_layer_defaults(&in, SNN_OP_INPUT, "in", NULL);
    in.shape.ndim = 1;
    in.shape.dims[0] = 6;
    assert_int_equal(snn_graph_add(&g, &in, NULL, NULL), SNN_OK);
    /* Keras reads the vector as (H 1, W 2, C 3): value w*3 + c sits at
     * channel c, column w; in (C, H, W) memory that is 0,3,1,4,2,5. */
    snn_layer_defaults(&l, SNN_OP_RESHAPE, "r", NULL);
    l.target.ndim = 3;
    l.target.dims[0] = 3;
    l.target.dims[1] = 1;
    l.target.dims[2] = 2;
    l.flatten_hwc = 1;
    add_layer(&g, &l, prev, 1);
    const float x[6] = {0, 1, 2, 3, 4, 5}, want[6] = {0, 3, 1, 4, 2, 5};
    expect_output(&g, x, want, 6);
}

static void conv_t_layer(snn_layer *l, size_t kh, size_t kw, const float *k,
                         int stride)
{
    size_t dims[4] = {1, 1, kh, kw}, one = 1;
    snn_layer_defaults(l, SNN_OP_CONV2D_T, "convt", NULL);
    assert_int_equal(snn_tensor_init(&l->weight, 4, dims, NULL), SNN_OK);
    memcpy(l->weight.data, k, kh * kw * sizeof *k);
    assert_int_equal(snn_tensor_init(&l->bias, 1, &one, NULL), SNN_OK);
    l->bias.data[0] = 0.5f;
    l->win.stride[0] = l->win.stride[1] = stride;
}

static void test_conv_transpose(void **state)
{
    (void)state;
    snn_graph g;
    snn_layer l;
    int prev[1] = {0};
    /* Stride 2, kernel [[1,0],[0,1]]: each input cell stamps the kernel
     * times itself into its own 2x2 block, plus the bias 0.5. */
    image_graph(&g, 1, 2, 2);
    const float k2[4] = {1, 0, 0, 1};
    conv_t_layer(&l, 2, 2, k2, 2);
    add_layer(&g, &l, prev, 1);
    const float x[4] = {1, 2, 3, 4};
    const float want[16] = {1.5, 0.5, 2.5, 0.5, 0.5, 1.5, 0.5, 2.5,
                            3.5, 0.5, 4.5, 0.5, 0.5, 3.5, 0.5, 4.5};
    expect_output(&g, x, want, 16);
    /* Stride 1, kernel [1, 10] over [1, 2]: the stamps overlap:
     * [1, 10 + 2, 20] + 0.5. */
    image_graph(&g, 1, 1, 2);
    const float k1[2] = {1, 10};
    conv_t_layer(&l, 1, 2, k1, 1);
    add_layer(&g, &l, prev, 1);
    const float x1[2] = {1, 2}, want1[3] = {1.5, 12.5, 20.5};
    expect_output(&g, x1, want1, 3);
}

/* "same" with stride 2 gives twice the input, whatever the kernel: kernel
 * 3 pads 0 before and 1 after; kernel 1 appends a missing cell. */
static void test_conv_transpose_same(void **state)
{
    (void)state;
    const float k3[9] = {0}, k1[1] = {1};
    const struct { size_t k; const float *w; int pad_after, out_pad; } c[2] =
        {{3, k3, 1, 0}, {1, k1, 0, 1}};
    for (int i = 0; i < 2; i++) {
        snn_graph g;
        snn_layer l;
        int prev[1] = {0};
        image_graph(&g, 1, 5, 5);
        conv_t_layer(&l, c[i].k, c[i].k, c[i].w, 2);
        l.win.pad_mode = SNN_PAD_SAME;
        add_layer(&g, &l, prev, 1);
        assert_int_equal(snn_graph_infer_shapes(&g, NULL), SNN_OK);
        const snn_layer *t = &g.layers[1];
        assert_int_equal(t->shape.dims[1], 10);
        assert_int_equal(t->shape.dims[2], 10);
        assert_int_equal(t->win.pad[0], 0);
        assert_int_equal(t->win.pad[2], c[i].pad_after);
        assert_int_equal(t->out_pad[0], c[i].out_pad);
        snn_graph_free(&g);
    }
}

static void test_clipped_relu(void **state)
{
    (void)state;
    snn_graph g;
    snn_layer l;
    int prev[1] = {0};
    image_graph(&g, 1, 1, 3);
    snn_layer_defaults(&l, SNN_OP_ACTIVATION, "relu6", NULL);
    l.act = SNN_ACT_CLIP;
    l.clip_max = 6.0f;
    add_layer(&g, &l, prev, 1);
    const float x[3] = {-1, 3, 7}, want[3] = {0, 3, 6};
    expect_output(&g, x, want, 3);
}

/* Shape inference refuses what does not fit, naming the layer. */
static void infer_fails(snn_graph *g, const char *needle)
{
    snn_error err = {0};
    assert_int_equal(snn_graph_infer_shapes(g, &err), SNN_E_SHAPE);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
    snn_graph_free(g);
}

static void test_bad_shapes(void **state)
{
    (void)state;
    snn_graph g;
    snn_layer l;
    int prev[2] = {0, 1};
    image_graph(&g, 2, 4, 4);
    snn_layer_defaults(&l, SNN_OP_UPSAMPLE, "up", NULL);
    l.win.stride[0] = 2;
    add_layer(&g, &l, prev, 1);
    snn_layer_defaults(&l, SNN_OP_ADD, "sum", NULL);
    add_layer(&g, &l, prev, 2);
    infer_fails(&g, "layer 'sum' (Add): input 'up' (2, 8, 4) does not fit "
                    "input 'in' (2, 4, 4)");

    image_graph(&g, 2, 4, 4);
    snn_layer_defaults(&l, SNN_OP_CROP, "crop", NULL);
    l.win.pad[1] = 2;
    l.win.pad[3] = 2;
    add_layer(&g, &l, prev, 1);
    infer_fails(&g, "layer 'crop' (Cropping2D): crops away the whole image");

    image_graph(&g, 2, 4, 4);
    snn_layer_defaults(&l, SNN_OP_PAD, "pad", NULL);
    l.win.pad[0] = 1 << 30;
    add_layer(&g, &l, prev, 1);
    infer_fails(&g, "layer 'pad' (ZeroPadding2D): negative or huge");

    image_graph(&g, 2, 4, 4);
    snn_layer_defaults(&l, SNN_OP_RESHAPE, "r", NULL);
    l.target.ndim = 1;
    l.target.dims[0] = 31;
    add_layer(&g, &l, prev, 1);
    infer_fails(&g, "layer 'r' (Reshape): target shape does not hold");

    image_graph(&g, 2, 4, 4);
    snn_layer_defaults(&l, SNN_OP_ACTIVATION, "a", NULL);
    l.act = SNN_ACT_CLIP;
    add_layer(&g, &l, prev, 1);
    infer_fails(&g, "layer 'a' (Activation): a clipped ReLU needs a positive");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_concat),
        cmocka_unit_test(test_pad_crop_upsample),
        cmocka_unit_test(test_reshape_channels_last),
        cmocka_unit_test(test_conv_transpose),
        cmocka_unit_test(test_conv_transpose_same),
        cmocka_unit_test(test_clipped_relu),
        cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
