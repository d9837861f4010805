/*
 * test_export.c - the NIR and Brian2 writers on a tiny hand-built net,
 * read back with libhdf5 and the library's .npz reader: graph, edges,
 * weights in the targets' conventions (spikes of value 1, channels-first
 * flatten), hand-counted synapses, PyNN's connection files in nA,
 * refusals that name the layer, every script target's max-pooling fallback
 * warning naming the layer, and existing files left alone without
 * --force.
 */
#include "testutil.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "snntb/dataset.h"
#include "snntb/export.h"
#include "snntb/graph.h"
#include "snntb/net.h"

#define TH 0.5f /* v_thresh: makes the spike-value scaling visible */
#define DT 0.25f

typedef struct fixture {
    snn_net net;
    char dir[512];
    int warnings;
    char warned[2048]; /* every warning, one per line */
} fixture;

static void set_window(snn_layer *l, int k, int stride, int pad)
{
    l->win.kernel[0] = l->win.kernel[1] = k;
    l->win.stride[0] = l->win.stride[1] = stride;
    for (int i = 0; i < 4; i++)
        l->win.pad[i] = pad;
}

/* input (1,4,4) -> conv 2x3x3 pad 1, relu -> pool 2x2 (avg or max) ->
 * flatten in (H, W, C) order -> dense 3, softmax.  Weights are w[k] = k+1
 * (conv) and w[o][j] = 10 o + j (dense), so any element can be checked by
 * hand. */
static void build_net(snn_net *net, snn_op pool_op, int conv_pad_bottom)
{
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, "in", NULL);
    l.shape = (snn_shape){3, {1, 4, 4}};
    tu_add_layer(&g, &l, -1);
    snn_layer_defaults(&l, SNN_OP_CONV2D, "conv", NULL);
    set_window(&l, 3, 1, 1);
    l.win.pad[2] = conv_pad_bottom;
    l.act = SNN_ACT_RELU;
    size_t wd[4] = {2, 1, 3, 3}, bd[1] = {2}, dd[2] = {3, 8};
    assert_int_equal(snn_tensor_init(&l.weight, 4, wd, &err), SNN_OK);
    for (int k = 0; k < 18; k++)
        l.weight.data[k] = (float)(k + 1);
    assert_int_equal(snn_tensor_init(&l.bias, 1, bd, &err), SNN_OK);
    l.bias.data[0] = 4.0f;
    l.bias.data[1] = -8.0f;
    tu_add_layer(&g, &l, 0);
    snn_layer_defaults(&l, pool_op, "pool", NULL);
    set_window(&l, 2, 2, 0);
    tu_add_layer(&g, &l, 1);
    snn_layer_defaults(&l, SNN_OP_FLATTEN, "flat", NULL);
    l.flatten_hwc = 1;
    tu_add_layer(&g, &l, 2);
    snn_layer_defaults(&l, SNN_OP_DENSE, "dense", NULL);
    l.act = SNN_ACT_SOFTMAX;
    assert_int_equal(snn_tensor_init(&l.weight, 2, dd, &err), SNN_OK);
    for (int o = 0; o < 3; o++)
        for (int j = 0; j < 8; j++)
            l.weight.data[o * 8 + j] = (float)(10 * o + j);
    tu_add_layer(&g, &l, 3);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts co = {TH, SNN_RESET_SUBTRACT, DT};
    assert_int_equal(snn_convert(&g, &co, net, &err), SNN_OK);
    snn_graph_free(&g);
}

static void count_warning(void *user, snn_log_level level, const char *msg)
{
    fixture *f = user;
    if (level != SNN_LOG_WARN)
        return;
    f->warnings++;
    size_t used = strlen(f->warned);
    snprintf(f->warned + used, sizeof f->warned - used, "%s\n", msg);
}

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

static void read_str(hid_t file, const char *path, char *buf, size_t n)
{
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    assert_true(ds >= 0);
    hid_t type = H5Dget_type(ds);
    assert_true(H5Tis_variable_str(type) > 0);
    char *s = NULL;
    assert_true(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0);
    snprintf(buf, n, "%s", s);
    H5free_memory(s);
    H5Tclose(type);
    H5Dclose(ds);
}

static void export_nir(fixture *f, const char *path, snn_status expect,
                       snn_error *err)
{
    snn_log log = {count_warning, f, SNN_LOG_WARN};
    snn_export_opts o = {.force = 0, .duration = 100};
    assert_int_equal(snn_export(&f->net, SNN_EXPORT_NIR, path, &o, &log, err),
                     expect);
}

static void test_nir_graph_and_weights(void **state)
{
    fixture *f = *state;
    build_net(&f->net, SNN_OP_AVGPOOL2D, 1);
    char path[600], s[64];
    snprintf(path, sizeof path, "%s/net.nir", f->dir);
    snn_error err;
    export_nir(f, path, SNN_OK, &err);
    assert_int_equal(f->warnings, 1); /* the softmax output */
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    read_str(file, "/version", s, sizeof s);
    assert_string_equal(s, "1.0.8");
    read_str(file, "/node/type", s, sizeof s);
    assert_string_equal(s, "NIRGraph");
    read_str(file, "/node/nodes/conv/type", s, sizeof s);
    assert_string_equal(s, "Conv2d");
    read_str(file, "/node/nodes/pool_if/metadata/reset", s, sizeof s);
    assert_string_equal(s, "subtract");

    double v[64];
    /* The conv sees the sample: weights unscaled, bias times dt. */
    assert_int_equal(tu_h5_read_num(file, "/node/nodes/conv/weight", v, 64), 18);
    assert_true(v[0] == 1 && v[17] == 18);
    tu_h5_read_num(file, "/node/nodes/conv/bias", v, 64);
    assert_true(v[0] == 4 * DT && v[1] == -8 * DT);
    assert_int_equal(tu_h5_read_num(file, "/node/nodes/conv/padding", v, 64), 2);
    assert_true(v[0] == 1 && v[1] == 1);
    tu_h5_read_num(file, "/node/nodes/conv/input_shape", v, 64);
    assert_true(v[0] == 4 && v[1] == 4);
    /* NIR fires on v > v_threshold: the float just below v_thresh. */
    read_str(file, "/node/nodes/pool/type", s, sizeof s);
    assert_string_equal(s, "SumPool2d");
    assert_int_equal(tu_h5_read_num(file, "/node/nodes/conv_if/r", v, 64), 32);
    assert_true(v[0] == 1 && v[31] == 1);
    tu_h5_read_num(file, "/node/nodes/conv_if/v_threshold", v, 64);
    assert_true(v[5] == nextafterf(TH, 0) && v[5] < TH);
    /* The sum pool adds four spikes of 1 where the native neuron adds
     * their mean, each worth TH: potential x 4 / TH, threshold 4. */
    assert_int_equal(tu_h5_read_num(file, "/node/nodes/pool_if/r", v, 64), 8);
    assert_true(v[0] == 1 && v[7] == 1);
    tu_h5_read_num(file, "/node/nodes/pool_if/v_threshold", v, 64);
    assert_true(v[3] == nextafterf(4.0f, 0));
    tu_h5_read_num(file, "/node/nodes/pool_if/v_reset", v, 64);
    assert_true(v[3] == 0);
    tu_h5_read_num(file, "/node/nodes/pool_if/metadata/dt", v, 64);
    assert_true(v[0] == DT);
    /* Dense: columns moved from (H, W, C) to (C, H, W) order and scaled
     * by v_thresh.  Keras column j = p * 2 + c reads channel c, position p;
     * channels-first column c * 4 + p.  So NIR column 1 (c 0, p 1) is
     * Keras column 2, NIR column 4 (c 1, p 0) is Keras column 1. */
    assert_int_equal(tu_h5_read_num(file, "/node/nodes/dense/weight", v, 64), 24);
    assert_true(v[1] == 2 * TH && v[4] == 1 * TH);
    assert_true(v[8 + 7] == (10 + 7) * TH); /* c 1, p 3: Keras column 7 */
    tu_h5_read_num(file, "/node/nodes/flat/input_type", v, 64);
    assert_true(v[0] == 2 && v[1] == 2 && v[2] == 2);
    tu_h5_read_num(file, "/node/nodes/output/shape", v, 64);
    assert_true(v[0] == 3);
    H5Fclose(file);
}

static void test_nir_edges(void **state)
{
    fixture *f = *state;
    build_net(&f->net, SNN_OP_AVGPOOL2D, 1);
    char path[600];
    snprintf(path, sizeof path, "%s/net.nir", f->dir);
    snn_error err;
    export_nir(f, path, SNN_OK, &err);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(file, "/node/edges", H5P_DEFAULT);
    hid_t type = H5Dget_type(ds);
    char *e[16] = {0};
    hid_t space = H5Dget_space(ds);
    assert_int_equal(H5Sget_simple_extent_npoints(space), 16);
    assert_true(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, e) >= 0);
    const char *expect[16] = {"input", "conv", "conv", "conv_if",
                              "conv_if", "pool", "pool", "pool_if",
                              "pool_if", "flat", "flat", "dense",
                              "dense", "dense_if", "dense_if", "output"};
    for (int i = 0; i < 16; i++) {
        assert_string_equal(e[i], expect[i]);
        H5free_memory(e[i]);
    }
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(ds);
    H5Fclose(file);
}

static void test_nir_maxpool_falls_back_with_warning(void **state)
{
    fixture *f = *state;
    build_net(&f->net, SNN_OP_MAXPOOL2D, 1);
    char path[600], s[64];
    snprintf(path, sizeof path, "%s/net.nir", f->dir);
    snn_error err;
    export_nir(f, path, SNN_OK, &err);
    assert_int_equal(f->warnings, 2); /* max pooling, softmax */
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    read_str(file, "/node/nodes/pool/type", s, sizeof s);
    assert_string_equal(s, "SumPool2d");
    double th[8];
    assert_int_equal(
        tu_h5_read_num(file, "/node/nodes/pool_if/v_threshold", th, 8), 8);
    assert_true(th[0] == nextafterf(4.0f, 0));
    H5Fclose(file);
}

/* No target but the C program has max-pool gating: each exporter writes
 * the original toolbox's fallback, average pooling, and says so naming
 * the layer (MegaSim, which refuses this net's padding, has its own test
 * in test_export_megasim.c). */
static void test_every_export_warns_of_max_pooling_by_name(void **state)
{
    fixture *f = *state;
    build_net(&f->net, SNN_OP_MAXPOOL2D, 1);
    const snn_export_format formats[] = {SNN_EXPORT_NIR, SNN_EXPORT_BRIAN2,
                                         SNN_EXPORT_PYNN, SNN_EXPORT_LAVA};
    const char *names[] = {"nir", "brian2", "pynn", "lava"};
    snn_export_opts o = {.duration = 50,
                         .cell = {.cm = 1, .tau_m = 1000, .tau_syn_e = 0.01,
                                  .tau_syn_i = 0.01, .delay = 1}};
    snn_log log = {count_warning, f, SNN_LOG_WARN};
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
        char out[600];
        snprintf(out, sizeof out, "%s/%s", f->dir, names[k]);
        f->warned[0] = '\0';
        snn_error err;
        assert_int_equal(snn_export(&f->net, formats[k], out, &o, &log, &err),
                         SNN_OK);
        const char *w = strstr(f->warned, "layer 'pool': ");
        if (w == NULL || strstr(w, "average pooling") == NULL)
            fail_msg("%s export: no average-pooling fallback warning naming "
                     "'pool' among:\n%s", names[k], f->warned);
    }
}

/* Reset to zero sets v_reset, scaled like the potential after a pool. */
static void test_nir_reset_to_zero_writes_v_reset(void **state)
{
    fixture *f = *state;
    build_net(&f->net, SNN_OP_AVGPOOL2D, 1);
    f->net.reset = SNN_RESET_ZERO;
    f->net.cell.v_reset = 0.125f;
    char path[600], s[64];
    snprintf(path, sizeof path, "%s/net.nir", f->dir);
    snn_error err;
    export_nir(f, path, SNN_OK, &err);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    read_str(file, "/node/nodes/conv_if/metadata/reset", s, sizeof s);
    assert_string_equal(s, "zero");
    double v[32];
    tu_h5_read_num(file, "/node/nodes/conv_if/v_reset", v, 32);
    assert_true(v[0] == 0.125 && v[31] == 0.125);
    tu_h5_read_num(file, "/node/nodes/pool_if/v_reset", v, 32);
    assert_true(v[0] == 0.125 * 4 / TH);
    H5Fclose(file);
}

static void test_nir_refuses_asymmetric_padding(void **state)
{
    fixture *f = *state;
    build_net(&f->net, SNN_OP_AVGPOOL2D, 2);
    char path[600];
    snprintf(path, sizeof path, "%s/net.nir", f->dir);
    snn_error err;
    export_nir(f, path, SNN_E_UNSUPPORTED, &err);
    assert_non_null(strstr(err.msg, "layer 'conv'"));
    assert_non_null(strstr(err.msg, "1/1/2/1"));
    assert_false(snn_file_exists(path));
}

static void test_existing_output_kept_without_force(void **state)
{
    fixture *f = *state;
    build_net(&f->net, SNN_OP_AVGPOOL2D, 1);
    char path[600];
    snprintf(path, sizeof path, "%s/mine.nir", f->dir);
    tu_write_file(path, "keep", 4);
    snn_error err;
    export_nir(f, path, SNN_E_INVALID, &err);
    assert_non_null(strstr(err.msg, "--force"));
    FILE *fp = fopen(path, "rb");
    char buf[8] = {0};
    assert_int_equal(fread(buf, 1, sizeof buf, fp), 4);
    fclose(fp);
    assert_string_equal(buf, "keep");
    snn_export_opts o = {.force = 1, .duration = 100};
    assert_int_equal(snn_export(&f->net, SNN_EXPORT_NIR, path, &o, NULL,
                                &err), SNN_OK);
    assert_true(H5Fis_hdf5(path) > 0);
}

static void load_npz(const char *dir, const char *key, snn_tensor *t)
{
    char path[700];
    snn_error err;
    snprintf(path, sizeof path, "%s/connections.npz", dir);
    assert_int_equal(snn_npz_load(path, key, t, &err), SNN_OK);
}

static void test_brian2_synapses(void **state)
{
    fixture *f = *state;
    build_net(&f->net, SNN_OP_AVGPOOL2D, 1);
    char out[600];
    snprintf(out, sizeof out, "%s/b2", f->dir);
    snn_export_opts o = {.force = 0, .duration = 50};
    snn_error err;
    assert_int_equal(snn_export(&f->net, SNN_EXPORT_BRIAN2, out, &o, NULL,
                                &err), SNN_OK);
    snn_tensor pre = {0}, post = {0}, w = {0}, b = {0};
    /* Conv, pad 1, 3x3 on 4x4: per axis 2+3+3+2 = 10 valid taps, so
     * 10 * 10 per (output, input) channel pair, 2 pairs. */
    load_npz(out, "pre0", &pre);
    load_npz(out, "w0", &w);
    assert_int_equal(snn_tensor_numel(&pre), 200);
    load_npz(out, "bias0", &b);
    assert_int_equal(snn_tensor_numel(&b), 32);
    assert_true(b.data[0] == 4 * DT && b.data[31] == -8 * DT);
    snn_tensor_free(&pre);
    snn_tensor_free(&w);
    snn_tensor_free(&b);
    /* Pool: 4 inputs per neuron, each weighs v_thresh / 4. */
    load_npz(out, "w1", &w);
    assert_int_equal(snn_tensor_numel(&w), 32);
    assert_true(w.data[0] == TH / 4);
    snn_tensor_free(&w);
    /* Dense after the (H, W, C) flatten: its column j = 2 (channel 0,
     * position 1) reads pool neuron 1; 24 synapses, weights times TH. */
    load_npz(out, "pre2", &pre);
    load_npz(out, "post2", &post);
    load_npz(out, "w2", &w);
    assert_int_equal(snn_tensor_numel(&pre), 24);
    int seen = 0;
    for (size_t k = 0; k < 24; k++)
        if (post.data[k] == 1 && w.data[k] == (10 + 2) * TH) {
            assert_true(pre.data[k] == 1);
            seen++;
        }
    assert_int_equal(seen, 1);
    snn_tensor_free(&pre);
    snn_tensor_free(&post);
    snn_tensor_free(&w);
    char script[700];
    snprintf(script, sizeof script, "%s/run_brian2.py", out);
    FILE *fp = fopen(script, "r");
    assert_non_null(fp);
    char text[4096] = {0};
    assert_true(fread(text, 1, sizeof text - 1, fp) > 0);
    fclose(fp);
    assert_non_null(strstr(text, "V_THRESH = 0.5\nDT_MS = 0.25\n"
                                 "DURATION_MS = 50\n"));
    assert_non_null(strstr(text, "(\"dense\", 3, 1, True)"));
}

/* Weights become the charge of an exponential current: w * cm / tau_syn
 * nA; biases i_offset = b * cm / dt; excitatory and inhibitory apart. */
static void test_pynn_connection_files(void **state)
{
    fixture *f = *state;
    build_net(&f->net, SNN_OP_AVGPOOL2D, 1);
    char out[600];
    snprintf(out, sizeof out, "%s/pynn", f->dir);
    snn_export_opts o = {.duration = 50,
                         .cell = {.cm = 0.5, .tau_m = 1000, .tau_syn_e = 0.25,
                                  .tau_syn_i = 0.125, .delay = 1}};
    snn_log log = {count_warning, f, SNN_LOG_WARN};
    snn_error err;
    assert_int_equal(snn_export(&f->net, SNN_EXPORT_PYNN, out, &o, &log,
                                &err), SNN_OK);
    /* Reset by subtraction and the softmax output are approximated. */
    assert_int_equal(f->warnings, 2);
    const char *header = "# columns = [\"i\", \"j\", \"weight\", \"delay\"]\n";
    /* Conv weights k + 1 > 0: first synapse (input 0 -> output 0) is
     * kernel cell (1, 1) = 5, times cm / tau_syn_E = 2. */
    char *text = tu_read_text(out, "00_conv_excitatory");
    assert_memory_equal(text, header, strlen(header));
    assert_non_null(strstr(text, "\n0 0 10 1\n"));
    free(text);
    text = tu_read_text(out, "00_conv_inhibitory");
    assert_string_equal(text, header);
    free(text);
    /* Biases 4 and -8, per step 4 * DT and -8 * DT, as i_offset times
     * cm / DT: 2 and -4. */
    text = tu_read_text(out, "00_conv_biases");
    assert_non_null(strstr(text, "\n2\n"));
    assert_non_null(strstr(text, "\n-4\n"));
    free(text);
    /* Dense column 2 reads pool neuron 1 (flatten order): 12 * TH * 2. */
    text = tu_read_text(out, "02_dense_excitatory");
    assert_non_null(strstr(text, "\n1 1 12 1\n"));
    free(text);
    text = tu_read_text(out, "run_pynn.py");
    assert_non_null(strstr(text, "CELL = dict(cm=0.5, tau_m=1000, "
                                 "tau_syn_E=0.25, tau_syn_I=0.125,\n"));
    assert_non_null(strstr(text, "v_thresh=0.5 * (1 - 1e-6))"));
    assert_non_null(strstr(text, "(\"02_dense\", 3, 1),"));
    free(text);
}

static void test_pynn_refuses_bad_cell(void **state)
{
    fixture *f = *state;
    build_net(&f->net, SNN_OP_AVGPOOL2D, 1);
    char out[600];
    snprintf(out, sizeof out, "%s/pynn", f->dir);
    snn_export_opts o = {.duration = 50, .cell = {.cm = 0, .tau_m = 1000,
                                                  .tau_syn_e = 1,
                                                  .tau_syn_i = 1}};
    snn_error err;
    assert_int_equal(snn_export(&f->net, SNN_EXPORT_PYNN, out, &o, NULL,
                                &err), SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "cm"));
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nir_graph_and_weights, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nir_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_nir_maxpool_falls_back_with_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_every_export_warns_of_max_pooling_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_nir_reset_to_zero_writes_v_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nir_refuses_asymmetric_padding,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_existing_output_kept_without_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_brian2_synapses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pynn_connection_files, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pynn_refuses_bad_cell, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
