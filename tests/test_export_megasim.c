/*
 * test_export_megasim.c - the MegaSim export on a tiny net, every file
 * against contents written out here by hand from the original toolbox's
 * formats (MegaSim_target_sim.py): the netlist, the conv, pooling,
 * flatten and dense parameter files (integers = values x scaling_factor,
 * truncated), the state files, and the input and bias-clock events of a
 * sample whose pixels are 0 or 1.  MegaSim itself is not installable.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snntb/export.h"

typedef struct fixture {
    char dir[512], out[600];
    snn_net net;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_tempdir(f->dir, sizeof f->dir);
    snprintf(f->out, sizeof f->out, "%s/mega", f->dir);
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

static void set(snn_tensor *t, int ndim, const size_t *dims, const float *v)
{
    snn_error err;
    assert_int_equal(snn_tensor_init(t, ndim, dims, &err), SNN_OK);
    memcpy(t->data, v, snn_tensor_numel(t) * sizeof *v);
}

/* input (1, 4, 4) -> conv 2 maps 3x3 valid, biases 0.5 and 0 -> 2x2
 * pool_op -> flatten -> dense 2 with biases 0.25 and 0. */
static void build(snn_net *net, snn_op pool_op, snn_activation out_act)
{
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, "in", NULL);
    l.shape = (snn_shape){3, {1, 4, 4}};
    tu_add_layer(&g, &l, -1);
    snn_layer_defaults(&l, SNN_OP_CONV2D, "conv", NULL);
    l.win.kernel[0] = l.win.kernel[1] = 3;
    l.act = SNN_ACT_RELU;
    float k[18], b2[2] = {0.5f, 0.0f};
    for (int j = 0; j < 9; j++) {
        k[j] = (float)(j + 1) / 16;
        k[9 + j] = -(float)(j + 1) / 16;
    }
    size_t wd[4] = {2, 1, 3, 3}, bd[1] = {2};
    set(&l.weight, 4, wd, k);
    set(&l.bias, 1, bd, b2);
    tu_add_layer(&g, &l, 0);
    snn_layer_defaults(&l, pool_op, "pool", NULL);
    l.win.kernel[0] = l.win.kernel[1] = 2;
    l.win.stride[0] = l.win.stride[1] = 2;
    tu_add_layer(&g, &l, 1);
    snn_layer_defaults(&l, SNN_OP_FLATTEN, "flat", NULL);
    tu_add_layer(&g, &l, 2);
    snn_layer_defaults(&l, SNN_OP_DENSE, "out", NULL);
    l.act = out_act;
    float w[4] = {0.5f, -0.25f, 0.125f, 1.0f}, bo[2] = {0.25f, 0.0f};
    size_t dd[2] = {2, 2};
    set(&l.weight, 2, dd, w);
    set(&l.bias, 1, bd, bo);
    tu_add_layer(&g, &l, 3);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts co = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    assert_int_equal(snn_convert(&g, &co, net, &err), SNN_OK);
    snn_graph_free(&g);
}

static int warnings;

static void count_warning(void *user, snn_log_level level, const char *msg)
{
    (void)user;
    (void)msg;
    warnings += level == SNN_LOG_WARN;
}

static snn_status export_to(fixture *f, snn_error *err)
{
    snn_export_opts o = {.duration = 20, .scaling_factor = 1000};
    snn_log log = {count_warning, NULL, SNN_LOG_WARN};
    warnings = 0;
    return snn_export(&f->net, SNN_EXPORT_MEGASIM, f->out, &o, &log, err);
}

static void assert_file(const fixture *f, const char *name, const char *want)
{
    char *got = tu_read_text(f->out, name);
    if (strcmp(got, want) != 0)
        fail_msg("%s is\n%s\nexpected\n%s", name, got, want);
    free(got);
}

#define HEADER(ports)                                                    \
    ".integers\nn_in_ports " ports "\nn_out_ports 1\ndelay_to_process 0\n" \
    "delay_to_ack 0\nfifo_depth 0\nn_repeat 1\ndelay_to_repeat 15\n"
#define NEURON                                                           \
    "Xmin 0\nYmin 0\nTHplus 1000\nTHplusInfo 1\nTHminus -2147483646\n"   \
    "THminusInfo 0\nReset_to_reminder 1\nMembReset 0\nTLplus 0\n"        \
    "TLminus 0\nTmin 0\nT_Refract 0\n"

/* Kernel rows flipped upside down, times 1000, truncated: 7/16 -> 437,
 * 9/16 -> 562, 1/16 -> 62.  Output 2x2 of a 4x4 input: Nx_array = 2 + 3
 * - 1, crop [1, 2], shifts -1.  The bias port covers Nx_array x Ny_array
 * with 0.5 * 1000. */
static void test_megasim_files_by_hand(void **state)
{
    fixture *f = *state;
    build(&f->net, SNN_OP_AVGPOOL2D, SNN_ACT_RELU);
    snn_error err = {0};
    assert_int_equal(export_to(f, &err), SNN_OK);
    assert_int_equal(warnings, 0);
    assert_file(f, "megasim.sch",
                ".netlist\nsource {InputLayer} InputLayer.stim\n\n"
                "source {bias_clk} bias_clk.stim\n"
                "module_conv {InputLayer,bias_clk}{conv_0} conv_0.prm "
                "conv.stt\n"
                "module_conv {InputLayer,bias_clk}{conv_1} conv_1.prm "
                "conv.stt\n\n"
                "module_conv {conv_0}{pool_0} pool_0.prm pool.stt\n"
                "module_conv {conv_1}{pool_1} pool_1.prm pool.stt\n\n"
                "module_flatten {pool_0,pool_1}{flat} flat.prm flat.stt\n\n"
                "module_fully_connected {flat,bias_clk}{out} out.prm "
                "out.stt\n\n\n.options\nTmax=20\n");
    const char *tail = "xshift_pos 0\nyshift_pos 0\nrectify 0\n.floats\n";
    char want[2048];
    snprintf(want, sizeof want,
             HEADER("2") "Nx_array 4\nNy_array 4\n" NEURON
             "Nx_kernel 3\nNy_kernel 3\nDx -1\nDy -1\n"
             "437 500 562\n250 312 375\n62 125 187\n"
             "Nx_kernel 4\nNy_kernel 4\nDx 0\nDy 0\n"
             "500 500 500 500\n500 500 500 500\n500 500 500 500\n"
             "500 500 500 500\n"
             "crop_xmin 1\ncrop_xmax 2\ncrop_ymin 1\ncrop_ymax 2\n"
             "xshift_pre -1\nyshift_pre -1\nx_subsmp 1\ny_subsmp 1\n%s",
             tail);
    assert_file(f, "conv_0.prm", want);
    snprintf(want, sizeof want,
             HEADER("2") "Nx_array 4\nNy_array 4\n" NEURON
             "Nx_kernel 3\nNy_kernel 3\nDx -1\nDy -1\n"
             "-437 -500 -562\n-250 -312 -375\n-62 -125 -187\n"
             "Nx_kernel 4\nNy_kernel 4\nDx 0\nDy 0\n"
             "0 0 0 0\n0 0 0 0\n0 0 0 0\n0 0 0 0\n"
             "crop_xmin 1\ncrop_xmax 2\ncrop_ymin 1\ncrop_ymax 2\n"
             "xshift_pre -1\nyshift_pre -1\nx_subsmp 1\ny_subsmp 1\n%s",
             tail);
    assert_file(f, "conv_1.prm", want);
    /* A pooled spike carries v_thresh (1) times 1000 / 4 cells. */
    snprintf(want, sizeof want,
             HEADER("1") "Nx_array 2\nNy_array 2\n" NEURON
             "Nx_kernel 1\nNy_kernel 1\nDx 0\nDy 0\n250\n"
             "crop_xmin 0\ncrop_xmax 1\ncrop_ymin 0\ncrop_ymax 1\n"
             "xshift_pre 0\nyshift_pre 0\nx_subsmp 2\ny_subsmp 2\n%s", tail);
    assert_file(f, "pool_1.prm", want);
    assert_file(f, "flat.prm", HEADER("2") "Nx_array 1\nNy_array 1\n"
                               "Nx_array 1\nNy_array 1\n.floats\n");
    /* One row per input neuron: w (2 out x 2 in) = [[0.5, -0.25],
     * [0.125, 1]] gives rows 500 125 and -250 1000. */
    snprintf(want, sizeof want,
             HEADER("2") "population_size 2\nNy_array 1\n" NEURON
             "Nx_array_pre 2\nNy_array_pre 1\n500 125\n-250 1000\n"
             "Nx_array_pre 1\nNy_array_pre 1\n250 0\n"
             "crop_xmin 0\ncrop_xmax 2\ncrop_ymin 0\ncrop_ymax 2\n"
             "xshift_pre 0\nyshift_pre 0\nx_subsmp 1\ny_subsmp 1\n%s    ",
             tail);
    assert_file(f, "out.prm", want);
    const char *stt = ".integers\ntime_busy_initial 0\n.floats\n";
    assert_file(f, "conv.stt", stt);
    assert_file(f, "pool.stt", stt);
    assert_file(f, "flat.stt", stt);
    assert_file(f, "out.stt", stt);
}

/* Pixels of value 1 spike every step, 0 never: one pixel at column 2,
 * row 1 gives "t -1 -1 2 1 1" for t = 0, 1, 2; the bias clock ticks every
 * step. */
static void test_megasim_stimulus_by_hand(void **state)
{
    fixture *f = *state;
    build(&f->net, SNN_OP_AVGPOOL2D, SNN_ACT_RELU);
    snn_error err = {0};
    assert_int_equal(export_to(f, &err), SNN_OK);
    float x[16] = {0};
    x[1 * 4 + 2] = 1.0f;
    assert_int_equal(snn_export_megasim_stim(&f->net, f->out, x, 3, 7, &err),
                     SNN_OK);
    assert_file(f, "InputLayer.stim",
                "0 -1 -1 2 1 1\n1 -1 -1 2 1 1\n2 -1 -1 2 1 1\n");
    assert_file(f, "bias_clk.stim",
                "0 -1 -1 0 0 1\n1 -1 -1 0 0 1\n2 -1 -1 0 0 1\n");
}

/* Max-pooling and a softmax output fall back with a warning each, as the
 * original does for max-pooling. */
static void test_megasim_fallbacks_warn(void **state)
{
    fixture *f = *state;
    build(&f->net, SNN_OP_MAXPOOL2D, SNN_ACT_SOFTMAX);
    snn_error err = {0};
    assert_int_equal(export_to(f, &err), SNN_OK);
    assert_int_equal(warnings, 2);
    char *sch = tu_read_text(f->out, "megasim.sch");
    assert_non_null(strstr(sch, "module_conv {conv_0}{pool_0}"));
    assert_non_null(strstr(sch, "module_fully_connected {flat,bias_clk}"));
    free(sch);
}

/* What MegaSim's modules cannot express is refused, naming the layer,
 * before anything is written. */
static void test_megasim_refuses_padding(void **state)
{
    fixture *f = *state;
    build(&f->net, SNN_OP_AVGPOOL2D, SNN_ACT_RELU);
    f->net.layers[0].syn.win.pad[0] = 1;
    snn_error err = {0};
    assert_int_equal(export_to(f, &err), SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "layer 'conv'"));
    assert_non_null(strstr(err.msg, "valid padding"));
    assert_false(tu_file_exists(f->out));
    snn_export_opts o = {.duration = 20, .scaling_factor = 0};
    f->net.layers[0].syn.win.pad[0] = 0;
    assert_int_equal(snn_export(&f->net, SNN_EXPORT_MEGASIM, f->out, &o,
                                NULL, &err), SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "scaling_factor"));
}

/* simulator = MegaSim in a run: the export in <log>/MegaSim with the
 * samples and the first sample's input events. */
static void test_megasim_for_simulator(void **state)
{
    fixture *f = *state;
    build(&f->net, SNN_OP_AVGPOOL2D, SNN_ACT_RELU);
    snn_tensor x = {0}, y = {0};
    snn_error err = {0};
    size_t xd[4] = {2, 1, 4, 4}, yd[2] = {2, 2};
    assert_int_equal(snn_tensor_init(&x, 4, xd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&y, 2, yd, &err), SNN_OK);
    x.data[1 * 4 + 2] = 1.0f;
    snn_export_opts o = {.duration = 3, .scaling_factor = 1000};
    snn_log log = {count_warning, NULL, SNN_LOG_WARN};
    warnings = 0;
    assert_int_equal(snn_export_for_simulator(&f->net, "MegaSim", &o, f->dir,
                                              &x, &y, 2, &log, &err), SNN_OK);
    assert_int_equal(warnings, 1);
    snprintf(f->out, sizeof f->out, "%s/MegaSim", f->dir);
    assert_file(f, "InputLayer.stim",
                "0 -1 -1 2 1 1\n1 -1 -1 2 1 1\n2 -1 -1 2 1 1\n");
    char *sch = tu_read_text(f->out, "megasim.sch");
    assert_non_null(strstr(sch, "Tmax=3\n"));
    free(sch);
    char p[700];
    snprintf(p, sizeof p, "%s/x_test.npz", f->out);
    assert_true(tu_file_exists(p));
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_megasim_files_by_hand, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_megasim_stimulus_by_hand, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_megasim_fallbacks_warn, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_megasim_refuses_padding, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_megasim_for_simulator, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
