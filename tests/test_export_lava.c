/*
 * test_export_lava.c - the Loihi (lava-dl netx) export: the HDF5 layout
 * netx reads, with integer weights, biases and vThMant computed here by
 * hand from the small test CNN's dyadic weights; and, when the .venv has
 * h5py and torch, scripts/check_lava_netx.py (which reads the file as
 * netx does and runs Loihi's integer CUBA neurons) must give, neuron by
 * neuron, the output spike counts of snn_simulate running the quantized
 * net.  lava-dl itself needs Python < 3.11 and is not installable here.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snntb/dataset.h"
#include "snntb/export.h"
#include "snntb/sim.h"

#define N_SAMPLES 24
#define STEPS 40

typedef struct fixture {
    char dir[512], path[600];
    snn_net net;
    hid_t file;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tu_tempdir(f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/net.h5", f->dir);
    f->file = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->file >= 0)
        H5Fclose(f->file);
    snn_net_free(&f->net);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

static void export_lava(fixture *f, snn_op pool)
{
    tu_small_cnn(&f->net, pool, 0, SNN_RESET_SUBTRACT);
    snn_export_opts o = {.duration = STEPS};
    snn_error err = {0};
    assert_int_equal(snn_export(&f->net, SNN_EXPORT_LAVA, f->path, &o, NULL,
                                &err), SNN_OK);
    f->file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f->file >= 0);
}

/* `type`, as lava-dl writes it: a fixed-length ASCII string array. */
static void assert_type(hid_t file, const char *path, const char *want)
{
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    assert_true(ds >= 0);
    hid_t t = H5Dget_type(ds);
    assert_int_equal(H5Tget_class(t), H5T_STRING);
    assert_false(H5Tis_variable_str(t));
    char buf[32] = {0};
    assert_true(H5Tget_size(t) < sizeof buf);
    assert_true(H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    assert_string_equal(buf, want);
    H5Tclose(t);
    H5Dclose(ds);
}

static double read_one(hid_t file, const char *path)
{
    double v;
    assert_int_equal(tu_h5_read_num(file, path, &v, 1), 1);
    return v;
}

static void assert_ints(hid_t file, const char *path, const double *want,
                        size_t n)
{
    double got[64];
    assert_int_equal(tu_h5_read_num(file, path, got, 64), n);
    for (size_t j = 0; j < n; j++)
        if (got[j] != want[j])
            fail_msg("%s[%zu] = %g, expected %g", path, j, got[j], want[j]);
}

static void assert_neuron(hid_t file, const char *layer, long vth)
{
    char p[64];
    snprintf(p, sizeof p, "/layer/%s/neuron/type", layer);
    assert_type(file, p, "CUBA");
    const char *keys[] = {"iDecay", "vDecay", "refDelay", "gradedSpike",
                          "vThMant"};
    const double want[] = {4096, 0, 1, 0, (double)vth};
    for (int k = 0; k < 5; k++) {
        snprintf(p, sizeof p, "/layer/%s/neuron/%s", layer, keys[k]);
        assert_true(read_one(file, p) == want[k]);
    }
}

static float max_abs(const snn_tensor *t)
{
    float m = 0;
    for (size_t j = 0; j < snn_tensor_numel(t); j++)
        m = fmaxf(m, fabsf(t->data[j]));
    return m;
}

/* Hand computation for each layer: the fixture's conv weights are k / 16
 * (|k| <= 8), its largest |w| 1/2, so 127 allows 2^7 (2^8 would give 128)
 * and the threshold is 2^(7 + 8) (the input is x * 2^8): weights w * 128,
 * biases b * 2^15 within Loihi's 13-bit bias (|b| <= 4095; the fixture
 * has a bias -2/16, clipped from -4096), vThMant 2^15 - 1.  The pool is a depthwise conv of 1/4
 * * 2^8 = 64 (2^9 would give 128), vThMant 255.  The hidden dense layer's
 * weights are k / 32 with largest |w| 10/32, so 2^8 (80 <= 127, 160 is
 * not): weights w * 256, columns moved from (H, W, C) to channels-first
 * order, biases b * 256. */
static void test_lava_layout_by_hand(void **state)
{
    fixture *f = *state;
    export_lava(f, SNN_OP_AVGPOOL2D);
    hid_t h = f->file;
    const snn_net *net = &f->net;
    assert_type(h, "/layer/0/type", "input");
    assert_ints(h, "/layer/0/shape", (double[]){2, 6, 6}, 3);

    const snn_layer *conv = &net->layers[0].syn;
    assert_true(max_abs(&conv->weight) == 0.5f);
    double w[64];
    for (size_t j = 0; j < 54; j++)
        w[j] = conv->weight.data[j] * 128.0;
    assert_type(h, "/layer/1/type", "conv");
    assert_ints(h, "/layer/1/shape", (double[]){3, 6, 6}, 3);
    assert_ints(h, "/layer/1/weight", w, 54);
    for (size_t j = 0; j < 3; j++)
        w[j] = fmin(fmax(conv->bias.data[j] * 32768.0, -4095), 4095);
    assert_ints(h, "/layer/1/bias", w, 3);
    assert_ints(h, "/layer/1/stride", (double[]){1, 1}, 2);
    assert_ints(h, "/layer/1/padding", (double[]){1, 1}, 2);
    assert_ints(h, "/layer/1/dilation", (double[]){1, 1}, 2);
    assert_true(read_one(h, "/layer/1/groups") == 1);
    assert_neuron(h, "1", 32767);

    assert_type(h, "/layer/2/type", "conv");
    for (size_t j = 0; j < 12; j++)
        w[j] = 64;
    assert_ints(h, "/layer/2/weight", w, 12);
    assert_ints(h, "/layer/2/stride", (double[]){2, 2}, 2);
    assert_true(read_one(h, "/layer/2/groups") == 3);
    assert_neuron(h, "2", 255);

    assert_type(h, "/layer/3/type", "flatten");
    assert_type(h, "/layer/4/type", "dense");
    const snn_layer *hid = &net->layers[3].syn;
    assert_true(max_abs(&hid->weight) == 10.0f / 32);
    double got[8 * 27];
    assert_int_equal(tu_h5_read_num(h, "/layer/4/weight", got, 8 * 27),
                     8 * 27);
    /* Source column j = (y * 3 + x) * 3 + c in (H, W, C) order is column
     * c * 9 + y * 3 + x channels first. */
    for (size_t o = 0; o < 8; o++)
        for (size_t j = 0; j < 27; j++) {
            size_t c = j % 3, p = j / 3;
            assert_true(got[o * 27 + c * 9 + p] ==
                        hid->weight.data[o * 27 + j] * 256.0);
        }
    for (size_t j = 0; j < 8; j++)
        w[j] = hid->bias.data[j] * 256.0;
    assert_ints(h, "/layer/4/bias", w, 8);
    assert_neuron(h, "4", 255);
    assert_type(h, "/layer/5/type", "dense");
}

static int have_python(char *py, size_t n)
{
    snprintf(py, n, "%s/../.venv/bin/python", SNNTB_FIXTURES "/..");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import h5py, numpy, torch' "
             ">/dev/null 2>&1", py);
    return system(cmd) == 0;
}

/* Native output spike counts of the quantized net (Loihi's neurons). */
static float *native_counts(const snn_net *net, const snn_tensor *x,
                            const snn_tensor *y, size_t *n_out)
{
    snn_quant_opts qo;
    snn_quant q;
    snn_error err;
    snn_tensor xq = {0};
    snn_quant_opts_for(SNN_EXPORT_LAVA, 0, &qo);
    assert_int_equal(snn_quantize(net, &qo, NULL, &q, &err), SNN_OK);
    assert_int_equal(snn_tensor_copy(&xq, x, &err), SNN_OK);
    snn_quant_input(&xq, N_SAMPLES);
    int last = q.net.n_layers - 1;
    *n_out = snn_net_layer_size(&q.net, last);
    float **counts = calloc((size_t)q.net.n_layers, sizeof *counts);
    float *out = calloc(N_SAMPLES * *n_out, sizeof *out);
    counts[last] = out;
    snn_sim_record rec = {.spike_counts = counts,
                          .record_samples = N_SAMPLES};
    snn_sim_opts so = {.steps = STEPS, .batch_size = 8, .top_k = 1,
                       .seed = 0x5eed, .record = &rec};
    snn_sim_result res;
    assert_int_equal(snn_simulate(&q.net, &xq, y, N_SAMPLES, &so, &res,
                                  &err), SNN_OK);
    snn_sim_result_free(&res);
    free(counts);
    snn_tensor_free(&xq);
    snn_quant_free(&q);
    return out;
}

static void test_lava_netx_reader_matches_native(void **state)
{
    char py[700];
    if (!have_python(py, sizeof py)) {
        print_message("skipped: no .venv with h5py, numpy and torch\n");
        skip();
    }
    fixture *f = *state;
    export_lava(f, SNN_OP_MAXPOOL2D);
    snn_tensor x = {0}, y = {0}, got = {0};
    tu_small_cnn_samples(&x, &y, N_SAMPLES);
    char samples[700], out[700], cmd[3000];
    snprintf(samples, sizeof samples, "%s/x.npz", f->dir);
    snprintf(out, sizeof out, "%s/counts.npz", f->dir);
    tu_write_npz(samples, x.ndim, x.dims, x.data);
    snprintf(cmd, sizeof cmd, "'%s' '%s/../scripts/check_lava_netx.py' "
             "'%s' '%s' %d '%s' >/dev/null", py, SNNTB_FIXTURES "/..",
             f->path, samples, STEPS, out);
    assert_int_equal(system(cmd), 0);
    snn_error err;
    assert_int_equal(snn_npz_load(out, "counts", &got, &err), SNN_OK);
    size_t n_out;
    float *want = native_counts(&f->net, &x, &y, &n_out);
    assert_int_equal(snn_tensor_numel(&got), N_SAMPLES * n_out);
    double total = 0;
    for (size_t j = 0; j < N_SAMPLES * n_out; j++) {
        assert_true(got.data[j] == want[j]);
        total += want[j];
    }
    assert_true(total > N_SAMPLES);
    free(want);
    snn_tensor_free(&got);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

/* netx connects layers in file order: a flatten must lead to a dense
 * layer, and softmax outputs and max-pooling fall back with warnings. */
static void test_lava_refuses_unknown_format_name(void **state)
{
    (void)state;
    snn_export_format fmt;
    snn_error err = {0};
    assert_int_equal(snn_export_format_parse("loihi", &fmt, &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "lava"));
    assert_int_equal(snn_export_format_parse("lava", &fmt, &err), SNN_OK);
    assert_int_equal(fmt, SNN_EXPORT_LAVA);
}

static char note[2048];

static void keep_warning(void *user, snn_log_level level, const char *msg)
{
    (void)user;
    if (level == SNN_LOG_WARN && strstr(msg, "simulator = loihi"))
        snprintf(note, sizeof note, "%s", msg);
}

/* simulator = loihi in a run: <log>/loihi/net.h5 with the samples, and
 * the native accuracies of the float and the quantized net in the run's
 * log. */
static void test_lava_for_simulator(void **state)
{
    fixture *f = *state;
    tu_small_cnn(&f->net, SNN_OP_AVGPOOL2D, 0, SNN_RESET_ZERO);
    snn_tensor x = {0}, y = {0};
    tu_small_cnn_samples(&x, &y, N_SAMPLES);
    snn_export_opts o = {.duration = STEPS};
    snn_log log = {keep_warning, NULL, SNN_LOG_WARN};
    snn_error err = {0};
    note[0] = '\0';
    assert_int_equal(snn_export_for_simulator(&f->net, "loihi", &o, f->dir,
                                              &x, &y, N_SAMPLES, &log, &err),
                     SNN_OK);
    char p[700];
    snprintf(p, sizeof p, "%s/loihi/net.h5", f->dir);
    assert_true(tu_file_exists(p));
    snprintf(p, sizeof p, "%s/loihi/y_test.npz", f->dir);
    assert_true(tu_file_exists(p));
    assert_non_null(strstr(note, "Native accuracy on 24 samples: float "));
    assert_non_null(strstr(note, ", quantized "));
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

/* Options that do not fit the format are refused before any work. */
static void test_cli_refuses_misplaced_options(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"export --format nir --precision int8 none.ini out",
         "--precision is for the C export"},
        {"export --format c --precision int4 none.ini out",
         "--precision int4 is not known"},
        {"export --format nir --test 5 none.ini out",
         "--test is for the lava export"},
        {"export --format c --test 5 none.ini out",
         "--test is for the lava export"},
        {"export --format lava --sample 3 none.ini out",
         "--sample is for the megasim export"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char msg[1024];
        assert_int_equal(tu_run_cli(cases[k][0], msg, sizeof msg), 1);
        if (!strstr(msg, cases[k][1]))
            fail_msg("%s: %s", cases[k][0], msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lava_layout_by_hand, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lava_netx_reader_matches_native,
                                        setup, teardown),
        cmocka_unit_test(test_lava_refuses_unknown_format_name),
        cmocka_unit_test(test_cli_refuses_misplaced_options),
        cmocka_unit_test_setup_teardown(test_lava_for_simulator, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
