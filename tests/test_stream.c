/*
 * test_stream.c - datasets read batch by batch: any list of samples read
 * through snn_dataset_src equals the same rows of the whole-file loaders
 * (stored and deflated .npz, gzip IDX); a simulation fed batch by batch
 * (snn_simulate_fetch) equals one on the whole tensor; and a run's
 * sample_idxs_to_test simulates exactly the samples it lists, in order
 * (checked against a plain run's and the ANN's per-sample predictions on
 * the shared LeNet and MNIST).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snntb/ann.h"
#include "snntb/config.h"
#include "snntb/dataset.h"
#include "snntb/parse.h"
#include "snntb/run.h"
#include "pipeline/dataset_fit.h"

static snn_config *dataset_config(const char *dir, const char *format)
{
    snn_config *cfg;
    snn_error err = {0};
    assert_int_equal(snn_config_new(&cfg, &err), SNN_OK);
    assert_int_equal(snn_config_set(cfg, "paths", "dataset_path", dir, &err),
                     SNN_OK);
    assert_int_equal(snn_config_set(cfg, "input", "dataset_format", format,
                                    &err), SNN_OK);
    return cfg;
}

/* Reads idx[0..n) through the source and compares with rows of whole. */
static void check_rows(const char *dir, const char *format,
                       const snn_dataset *whole, const size_t *idx, size_t n)
{
    snn_config *cfg = dataset_config(dir, format);
    snn_dataset_src *src;
    snn_error err = {0};
    size_t in[1] = {1};
    if (snn_dataset_open(&src, cfg, 1, in, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(snn_dataset_src_size(src), snn_dataset_size(whole));
    snn_tensor x = {0}, y = {0};
    if (snn_dataset_src_read(src, idx, n, &x, &y, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    size_t per = snn_tensor_numel(&whole->x) / whole->x.dims[0];
    size_t classes = whole->y.dims[1];
    assert_int_equal(snn_tensor_numel(&x), n * per);
    for (size_t i = 0; i < n; i++) {
        if (memcmp(x.data + i * per, whole->x.data + idx[i] * per,
                   per * sizeof(float)) != 0)
            fail_msg("%s: sample %zu differs from the whole load", dir,
                     idx[i]);
        assert_memory_equal(y.data + i * classes,
                            whole->y.data + idx[i] * classes,
                            classes * sizeof(float));
        assert_int_equal(snn_dataset_src_label(src, idx[i]),
                         snn_dataset_label(whole, idx[i]));
    }
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_dataset_close(src);
    snn_config_free(cfg);
}

static void test_fixture_rows(void **state)
{
    (void)state;
    char dir[512];
    snn_dataset d;
    snn_error err = {0};
    /* Backwards, repeated and forward reads. */
    const size_t idx[] = {3, 1, 1, 0, 2, 3};
    tu_fixture(dir, sizeof dir, "npy/dataset_npz");
    assert_int_equal(snn_dataset_load_npz(&d, dir, &err), SNN_OK);
    check_rows(dir, "npz", &d, idx, 6);
    snn_dataset_free(&d);
    tu_fixture(dir, sizeof dir, "npy/dataset_idx");
    assert_int_equal(snn_dataset_load_idx(&d, dir, &err), SNN_OK);
    const size_t idx3[] = {2, 0, 0, 1, 2};
    check_rows(dir, "idx", &d, idx3, 5);
    snn_dataset_free(&d);
}

static void test_mnist_rows(void **state)
{
    (void)state;
    char dir[512];
    if (!tu_shared(dir, sizeof dir, "data/mnist/x_test.npz"))
        skip();
    *strrchr(dir, '/') = '\0';
    snn_dataset d;
    snn_error err = {0};
    assert_int_equal(snn_dataset_load_npz(&d, dir, &err), SNN_OK);
    /* A deflated member: forward skips, and restarts for backward reads. */
    const size_t idx[] = {9999, 0, 5000, 5001, 5002, 17, 9998};
    check_rows(dir, "npz", &d, idx, 7);
    snn_dataset_free(&d);
}

static void test_out_of_range(void **state)
{
    (void)state;
    char dir[512];
    tu_fixture(dir, sizeof dir, "npy/dataset_npz");
    snn_config *cfg = dataset_config(dir, "npz");
    snn_dataset_src *src;
    snn_error err = {0};
    size_t in[1] = {1}, bad[2] = {0, 4};
    assert_int_equal(snn_dataset_open(&src, cfg, 1, in, &err), SNN_OK);
    snn_tensor x = {0};
    assert_int_equal(snn_dataset_src_read(src, bad, 2, &x, NULL, &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "sample index 4 is out of range"));
    snn_tensor_free(&x);
    snn_dataset_close(src);
    snn_config_free(cfg);
}

static void link_into(const char *dir, const char *src, const char *name)
{
    char link[600];
    snprintf(link, sizeof link, "%s/%s", dir, name);
    assert_int_equal(symlink(src, link), 0);
}

/* A run of the shared LeNet on MNIST (d, loaded whole), its dataset folder
 * in wd with x_norm.npz the first 500 test samples (fast normalization);
 * NULL when model or data are absent. */
static snn_config *lenet_config(char *wd, size_t n, snn_dataset *d)
{
    char model[512], data[512], path[600];
    snn_error err = {0};
    if (!tu_shared(model, sizeof model, "models/lenet5/keras/99.14.h5") ||
        !tu_shared(data, sizeof data, "data/mnist/x_test.npz"))
        return NULL;
    tu_tempdir(wd, n);
    link_into(wd, model, "99.14.h5");
    link_into(wd, data, "x_test.npz");
    *strrchr(data, '/') = '\0';
    assert_int_equal(snn_dataset_load_npz(d, data, &err), SNN_OK);
    snprintf(path, sizeof path, "%s/y_test.npz", data);
    link_into(wd, path, "y_test.npz");
    snprintf(path, sizeof path, "%s/x_norm.npz", wd);
    size_t dims[4] = {500, d->x.dims[1], d->x.dims[2], d->x.dims[3]};
    tu_write_npz(path, d->x.ndim, dims, d->x.data);
    snn_config *cfg = dataset_config(wd, "npz");
    const char *kv[][3] = {
        {"paths", "path_wd", wd},
        {"paths", "filename_ann", "99.14"},
        {"tools", "evaluate_ann", "False"},
        {"conversion", "softmax_to_relu", "True"},
        {"simulation", "duration", "50"},
        {"simulation", "batch_size", "8"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        assert_int_equal(snn_config_set(cfg, kv[i][0], kv[i][1], kv[i][2],
                                        &err), SNN_OK);
    return cfg;
}

/* predictions.txt of a run into pred (n lines). */
static void run_predictions(snn_config *cfg, int *pred, size_t n)
{
    snn_results res;
    snn_error err = {0};
    char log_dir[1024], path[1100];
    if (snn_run(cfg, NULL, NULL, &res, log_dir, sizeof log_dir, &err) !=
        SNN_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(res.num_samples, n);
    snprintf(path, sizeof path, "%s/predictions.txt", log_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(fscanf(f, "%d", &pred[i]), 1);
    fclose(f);
}

/* The ANN's class for each of the first n samples. */
static void ann_predictions(const char *wd, const snn_dataset *d, int *pred,
                            size_t n)
{
    snn_graph g;
    snn_error err = {0};
    snn_graph_init(&g);
    assert_int_equal(snn_model_load(wd, "99.14", "keras", &g, &err), SNN_OK);
    snn_tensor view = d->x, *acts = calloc((size_t)g.n_layers, sizeof *acts);
    view.dims[0] = n;
    assert_int_equal(snn_ann_forward(&g, &view, acts, &err), SNN_OK);
    const snn_tensor *out = &acts[g.n_layers - 1];
    size_t k = out->dims[1];
    for (size_t i = 0; i < n; i++) {
        pred[i] = 0;
        for (size_t j = 1; j < k; j++)
            if (out->data[i * k + j] > out->data[i * k + (size_t)pred[i]])
                pred[i] = (int)j;
    }
    snn_ann_acts_free(acts, g.n_layers);
    free(acts);
    snn_graph_free(&g);
}

static void test_sample_idxs_to_test(void **state)
{
    (void)state;
    char wd[512];
    snn_dataset d;
    snn_config *cfg = lenet_config(wd, sizeof wd, &d);
    if (!cfg)
        skip();
    snn_error err = {0};
    int plain[24], picked[6], ann[24];
    assert_int_equal(snn_config_set(cfg, "simulation", "num_to_test", "24",
                                    &err), SNN_OK);
    run_predictions(cfg, plain, 24);
    /* Out of order, repeated, across batches of 8. */
    const int idx[6] = {17, 3, 3, 0, 23, 8};
    assert_int_equal(snn_config_set(cfg, "simulation", "sample_idxs_to_test",
                                    "[17, 3, 3, 0, 23, 8]", &err), SNN_OK);
    run_predictions(cfg, picked, 6);
    ann_predictions(wd, &d, ann, 24);
    /* With IF outputs (softmax_to_relu) a sample's spikes depend on the
     * sample only, so the picked samples predict as in the plain run; and
     * the LeNet SNN agrees with the ANN on these samples. */
    for (int i = 0; i < 6; i++) {
        assert_int_equal(picked[i], plain[idx[i]]);
        assert_int_equal(picked[i], ann[idx[i]]);
    }
    /* The plain run matches the ANN sample by sample too (no off-by-one
     * in what was simulated). */
    int agree = 0;
    for (int i = 0; i < 24; i++)
        agree += plain[i] == ann[i];
    assert_true(agree >= 23);
    assert_int_equal(snn_config_set(cfg, "simulation", "sample_idxs_to_test",
                                    "[5, 10000]", &err), SNN_OK);
    snn_results res;
    char log_dir[1024];
    assert_int_equal(snn_run(cfg, NULL, NULL, &res, log_dir, sizeof log_dir,
                             &err), SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "sample_idxs_to_test: index 10000 is "
                                    "out of range"));
    snn_dataset_free(&d);
    snn_config_free(cfg);
    tu_rmtree(wd);
}

typedef struct fetch_ctx {
    snn_dataset_src *src;
    const snn_shape *in;
} fetch_ctx;

static snn_status fetch_rows(void *user, size_t first, size_t n, float *x,
                             snn_error *err)
{
    fetch_ctx *f = user;
    size_t idx[64];
    snn_tensor t = {0};
    for (size_t i = 0; i < n; i++)
        idx[i] = first + i;
    snn_status st = snn_dataset_src_read(f->src, idx, n, &t, NULL, err);
    if (st == SNN_OK)
        st = snn_dataset_fit(&t, f->in, "fetch", err);
    if (st == SNN_OK)
        memcpy(x, t.data, snn_tensor_numel(&t) * sizeof *x);
    snn_tensor_free(&t);
    return st;
}

/* The converted LeNet (softmax output, stochastic) on 40 samples: the
 * whole tensor and the batch-by-batch reads give identical results. */
static void test_simulate_fetch_equals_whole(void **state)
{
    (void)state;
    char wd[512];
    snn_dataset d;
    snn_config *cfg = lenet_config(wd, sizeof wd, &d);
    if (!cfg)
        skip();
    snn_error err = {0};
    assert_int_equal(snn_config_set(cfg, "conversion", "softmax_to_relu",
                                    "False", &err), SNN_OK);
    snn_net net;
    if (snn_run_convert(cfg, NULL, &net, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    snn_tensor x = {0};
    assert_int_equal(snn_tensor_copy(&x, &d.x, &err), SNN_OK);
    x.dims[0] = 40;
    assert_int_equal(snn_dataset_fit(&x, &net.input_shape, "x", &err), SNN_OK);
    snn_tensor y = d.y;
    y.dims[0] = 40;
    snn_sim_opts o = {.steps = 30, .batch_size = 8, .top_k = 1, .seed = 7};
    snn_sim_result whole, fetched;
    assert_int_equal(snn_simulate(&net, &x, &y, 40, &o, &whole, &err), SNN_OK);
    snn_dataset_src *src;
    int in_ndim = net.input_shape.ndim;
    assert_int_equal(snn_dataset_open(&src, cfg, in_ndim, net.input_shape.dims,
                                      &err), SNN_OK);
    fetch_ctx f = {src, &net.input_shape};
    assert_int_equal(snn_simulate_fetch(&net, fetch_rows, &f, &y, 40, &o,
                                        &fetched, &err), SNN_OK);
    assert_memory_equal(whole.predictions, fetched.predictions,
                        40 * sizeof(int));
    assert_true(whole.spikes == fetched.spikes && whole.spikes > 0);
    assert_true(whole.synops == fetched.synops);
    assert_int_equal(whole.top1, fetched.top1);
    snn_sim_result_free(&whole);
    snn_sim_result_free(&fetched);
    snn_dataset_close(src);
    snn_tensor_free(&x);
    snn_net_free(&net);
    snn_dataset_free(&d);
    snn_config_free(cfg);
    tu_rmtree(wd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_rows),
        cmocka_unit_test(test_mnist_rows),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_simulate_fetch_equals_whole),
        cmocka_unit_test(test_sample_idxs_to_test),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
