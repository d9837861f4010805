/*
 * test_layers_onnx.c - ONNX files from torch.onnx.export (opsets 11 to the
 * newest, both exporters; scripts/gen_onnx_fixtures.py layers, seq) with a
 * residual Add, ReLU6, Concat, nearest Resize and ConvTranspose, and with
 * 1-D Conv and pooling: the graph they become and its output against
 * PyTorch's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snntb/ann.h"
#include "snntb/dataset.h"
#include "snntb/parse.h"
#include "testutil.h"

static const char *const RES_FILES[] = {
    "onnx/res_o11.onnx", "onnx/res_o13.onnx", "onnx/res_o17.onnx",
    "onnx/res_o23.onnx", "onnx/res_o28_dynamo.onnx",
};

static void parse_fixture(const char *rel, snn_graph *g)
{
    char path[512];
    snn_error err = {0};
    if (snn_parse_onnx(tu_fixture(path, sizeof path, rel), g, &err) != SNN_OK)
        fail_msg("%s: %s", rel, err.msg);
}

static void check_outputs(const char *rel, const snn_tensor *x,
                          const snn_tensor *y)
{
    snn_graph g;
    parse_fixture(rel, &g);
    snn_tensor out;
    tu_ann_output(&g, x, &out, rel);
    tu_assert_close(&out, y, TU_TOL_REL, rel, "PyTorch");
    snn_tensor_free(&out);
    snn_graph_free(&g);
}

static void test_res_outputs_match_pytorch(void **state)
{
    (void)state;
    snn_tensor x, y;
    tu_load_npy("onnx/res_x.npy", &x);
    tu_load_npy("onnx/res_y.npy", &y);
    for (size_t i = 0; i < sizeof RES_FILES / sizeof RES_FILES[0]; i++)
        check_outputs(RES_FILES[i], &x, &y);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

/* Counts of the ops the model must become, whichever exporter wrote it:
 * one Add of two computed tensors, one Concat, one Upsample, one
 * ConvTranspose (8 -> 3 channels, 20x20), one ReLU6 clip. */
static void test_res_structure(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof RES_FILES / sizeof RES_FILES[0]; f++) {
        snn_graph g;
        int adds = 0, cats = 0, ups = 0, convts = 0, clips = 0;
        parse_fixture(RES_FILES[f], &g);
        for (int i = 0; i < g.n_layers; i++) {
            const snn_layer *l = &g.layers[i];
            adds += l->op == SNN_OP_ADD && l->n_inputs == 2;
            cats += l->op == SNN_OP_CONCAT && l->shape.dims[0] == 8;
            ups += l->op == SNN_OP_UPSAMPLE && l->shape.dims[1] == 10;
            convts += l->op == SNN_OP_CONV2D_T && l->shape.dims[0] == 3 &&
                      l->shape.dims[1] == 20 && l->shape.dims[2] == 20;
            clips += l->act == SNN_ACT_CLIP && l->clip_max == 6.0f;
        }
        if (adds != 1 || cats != 1 || ups != 1 || convts != 1 || clips != 1)
            fail_msg("%s: %d Add, %d Concat, %d Upsample, %d ConvTranspose, "
                     "%d ReLU6", RES_FILES[f], adds, cats, ups, convts, clips);
        snn_graph_free(&g);
    }
}

static const char *const SEQ_FILES[] = {
    "onnx/seq_o11.onnx", "onnx/seq_o13.onnx", "onnx/seq_o17.onnx",
    "onnx/seq_o23.onnx", "onnx/seq_o28_dynamo.onnx",
};

/* Conv1d, BatchNorm1d, MaxPool1d, AvgPool1d on a (C, 1, L) sequence; the
 * samples (N, C, L) are the same values as (N, C, 1, L). */
static void test_seq_outputs_match_pytorch(void **state)
{
    (void)state;
    snn_tensor x, y;
    tu_load_npy("onnx/seq_x.npy", &x);
    tu_load_npy("onnx/seq_y.npy", &y);
    assert_int_equal(x.ndim, 3);
    x.dims[3] = x.dims[2];
    x.dims[2] = 1;
    x.ndim = 4;
    for (size_t i = 0; i < sizeof SEQ_FILES / sizeof SEQ_FILES[0]; i++) {
        check_outputs(SEQ_FILES[i], &x, &y);
        snn_graph g;
        parse_fixture(SEQ_FILES[i], &g);
        assert_int_equal(g.layers[0].shape.dims[0], 3);
        assert_int_equal(g.layers[0].shape.dims[1], 1);
        assert_int_equal(g.layers[0].shape.dims[2], 16);
        snn_graph_free(&g);
    }
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_res_outputs_match_pytorch),
        cmocka_unit_test(test_res_structure),
        cmocka_unit_test(test_seq_outputs_match_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
