/*
 * testutil.c - see testutil.h.
 */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <sys/wait.h>
#include <zip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snntb/ann.h"
#include "snntb/dataset.h"

const char *tu_fixture(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", SNNTB_FIXTURES, rel);
    return buf;
}

const char *tu_shared(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", SNNTB_SHARED, rel);
    if (access(buf, R_OK) != 0) {
        printf("skipping: shared file %s is absent\n", buf);
        return NULL;
    }
    return buf;
}

const char *tu_tempdir(char *buf, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, n, "%s/snntb-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(buf))
        fail_msg("mkdtemp failed");
    return buf;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

int tu_quick(void)
{
    const char *q = getenv("SNNTB_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

void tu_write_npz(const char *path, int ndim, const size_t *dims,
                  const float *data)
{
    char header[256];
    int len = snprintf(header, sizeof header,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        len += snprintf(header + len, sizeof header - (size_t)len, "%zu%s",
                        dims[i], ndim == 1 || i < ndim - 1 ? ", " : "");
        count *= dims[i];
    }
    len += snprintf(header + len, sizeof header - (size_t)len, "), }");
    /* Pad with spaces so magic + length + header + '\n' is 64-aligned. */
    while ((10 + len + 1) % 64)
        header[len++] = ' ';
    header[len++] = '\n';
    size_t total = 10 + (size_t)len + count * sizeof(float);
    unsigned char *npy = malloc(total);
    assert_non_null(npy);
    memcpy(npy, "\x93NUMPY\x01\x00", 8);
    npy[8] = (unsigned char)(len & 0xff);
    npy[9] = (unsigned char)(len >> 8);
    memcpy(npy + 10, header, (size_t)len);
    memcpy(npy + 10 + len, data, count * sizeof(float));
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    zip_source_t *src = zip_source_buffer(z, npy, total, 1);
    assert_non_null(src);
    assert_true(zip_file_add(z, "arr_0.npy", src, ZIP_FL_OVERWRITE) >= 0);
    assert_int_equal(zip_close(z), 0);
}

void tu_copy_file(const char *src, const char *dst, size_t len)
{
    FILE *in = fopen(src, "rb");
    assert_non_null(in);
    FILE *out = fopen(dst, "wb");
    assert_non_null(out);
    char buf[8192];
    size_t got;
    while (len > 0 && (got = fread(buf, 1, len < sizeof buf ? len : sizeof buf,
                                   in)) > 0) {
        assert_int_equal(fwrite(buf, 1, got, out), got);
        len -= got;
    }
    fclose(in);
    fclose(out);
}

int tu_run_cli(const char *args, char *errbuf, size_t n)
{
    char dir[512], errpath[600], cmd[4096];
    tu_tempdir(dir, sizeof dir);
    snprintf(errpath, sizeof errpath, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "'%s' %s >/dev/null 2>'%s'", SNNTB_CLI, args,
             errpath);
    int rc = system(cmd);
    FILE *f = fopen(errpath, "rb");
    assert_non_null(f);
    size_t got = fread(errbuf, 1, n - 1, f);
    errbuf[got] = '\0';
    fclose(f);
    tu_rmtree(dir);
    assert_true(WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

void tu_load_npy(const char *rel, snn_tensor *t)
{
    char path[512];
    snn_error err = {0};
    if (snn_npy_load(tu_fixture(path, sizeof path, rel), t, &err) != SNN_OK)
        fail_msg("%s: %s", rel, err.msg);
}

const snn_layer *tu_layer(const snn_graph *g, const char *name)
{
    int i = snn_graph_find(g, name);
    if (i < 0)
        fail_msg("no layer '%s'", name);
    return &g->layers[i];
}

void tu_add_layer(snn_graph *g, snn_layer *l, int input)
{
    snn_error err;
    l->inputs[0] = input;
    l->n_inputs = input >= 0;
    if (snn_graph_add(g, l, NULL, &err) != SNN_OK)
        fail_msg("%s", err.msg);
}

void tu_ann_output(const snn_graph *g, const snn_tensor *x, snn_tensor *out,
                   const char *what)
{
    snn_tensor *acts = calloc((size_t)g->n_layers, sizeof *acts);
    snn_error err = {0};
    assert_non_null(acts);
    if (snn_ann_forward(g, x, acts, &err) != SNN_OK)
        fail_msg("%s: %s", what, err.msg);
    assert_int_equal(snn_tensor_copy(out, &acts[g->n_layers - 1], &err),
                     SNN_OK);
    snn_ann_acts_free(acts, g->n_layers);
    free(acts);
}

/* tu_simulate with a batch size and the input's label row ready. */
static snn_status simulate_batch(const snn_net *net, const snn_tensor *x,
                                 size_t n, int steps, snn_sim_engine engine,
                                 size_t batch, double input_rate,
                                 float **counts, snn_sim_result *res,
                                 snn_error *err)
{
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    size_t dims[2] = {x->dims[0], n_out};
    snn_tensor y;
    assert_int_equal(snn_tensor_init(&y, 2, dims, err), SNN_OK);
    for (size_t j = 0; j < dims[0]; j++)
        y.data[j * n_out] = 1;
    for (int i = 0; i < net->n_layers; i++)
        counts[i] = calloc(n * snn_net_layer_size(net, i), sizeof(float));
    snn_sim_record rec = {.spike_counts = counts, .record_samples = n};
    snn_sim_opts o = {.steps = steps, .batch_size = batch, .top_k = 1,
                      .engine = engine, .record = &rec,
                      .input_rate = input_rate, .poisson_events = -1};
    snn_status st = snn_simulate(net, x, &y, n, &o, res, err);
    snn_tensor_free(&y);
    return st;
}

snn_status tu_simulate(const snn_net *net, const snn_tensor *x, size_t n,
                       int steps, snn_sim_engine engine, float **counts,
                       snn_sim_result *res, snn_error *err)
{
    return simulate_batch(net, x, n, steps, engine, n, 0, counts, res, err);
}

static void round_to(float *v, size_t n, float den)
{
    for (size_t k = 0; v && k < n; k++)
        v[k] = nearbyintf(v[k] * den) / den;
}

void tu_net_dyadic(snn_net *net, snn_tensor *x, float den_w, float den_x)
{
    for (int i = 0; i < net->n_layers; i++) {
        snn_net_layer *l = &net->layers[i];
        round_to(l->syn.weight.data, snn_tensor_numel(&l->syn.weight), den_w);
        round_to(l->syn.bias.data, snn_tensor_numel(&l->syn.bias), den_w);
        for (int j = 0; j < l->n_proj; j++)
            round_to(l->proj[j].syn.weight.data,
                     snn_tensor_numel(&l->proj[j].syn.weight), den_w);
    }
    round_to(x->data, snn_tensor_numel(x), den_x);
}

/* The reference engine's spike counts of every layer, with its result. */
static float **reference_counts(const snn_net *net, const snn_tensor *x,
                                size_t n, int steps, double input_rate,
                                snn_sim_result *res)
{
    snn_error err = {0};
    float **counts = calloc((size_t)net->n_layers, sizeof *counts);
    if (simulate_batch(net, x, n, steps, SNN_ENGINE_REFERENCE, n, input_rate,
                       counts, res, &err) != SNN_OK)
        fail_msg("reference engine: %s", err.msg);
    return counts;
}

/* The first layer whose counts differ between a and b, or -1. */
static int counts_differ(const snn_net *net, float **a, float **b, size_t n)
{
    for (int i = 0; i < net->n_layers; i++)
        if (memcmp(a[i], b[i], n * snn_net_layer_size(net, i) *
                                   sizeof(float)) != 0)
            return i;
    return -1;
}

static void counts_free(float **counts, int n)
{
    tu_counts_free(counts, n);
    free(counts);
}

void tu_engines_agree(const snn_net *net, const snn_tensor *x, size_t n,
                      int steps, double input_rate, const char *what)
{
    static const struct {
        snn_sim_engine engine;
        size_t batch;
        int threads;
    } runs[] = {
        {SNN_ENGINE_EVENT, 1, 1}, {SNN_ENGINE_EVENT, 3, 2},
        {SNN_ENGINE_EVENT, 0, 2}, {SNN_ENGINE_EVENT, 0, 1},
        {SNN_ENGINE_DENSE, 0, 2}, {SNN_ENGINE_AUTO, 3, 2},
    };
    snn_sim_result ref, ev;
    snn_error err = {0};
    float **want = reference_counts(net, x, n, steps, input_rate, &ref);
    int threads = omp_get_max_threads();
    for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
        size_t batch = runs[r].batch ? runs[r].batch : n;
        float **got = calloc((size_t)net->n_layers, sizeof *got);
        omp_set_num_threads(runs[r].threads);
        snn_status st = simulate_batch(net, x, n, steps, runs[r].engine,
                                       batch, input_rate, got, &ev, &err);
        omp_set_num_threads(threads);
        if (st != SNN_OK)
            fail_msg("%s: engine %d: %s", what, runs[r].engine, err.msg);
        int i = counts_differ(net, want, got, n);
        if (i >= 0)
            fail_msg("%s, engine %d, batch %zu, %d threads: layer %d (%s) "
                     "spikes differ from the reference engine's", what,
                     runs[r].engine, batch, runs[r].threads, i,
                     net->layers[i].syn.name);
        if (ev.synops != ref.synops || ev.spikes != ref.spikes)
            fail_msg("%s, engine %d, batch %zu, %d threads: %.0f synaptic "
                     "operations and %.0f spikes, reference %.0f and %.0f",
                     what, runs[r].engine, batch, runs[r].threads, ev.synops,
                     ev.spikes, ref.synops, ref.spikes);
        assert_memory_equal(ev.predictions, ref.predictions,
                            n * sizeof *ref.predictions);
        snn_sim_result_free(&ev);
        counts_free(got, net->n_layers);
    }
    print_message("%s: event = reference engine on %zu samples x %d steps, "
                  "%s input (%.0f spikes, %.0f synaptic operations)\n", what,
                  n, steps, input_rate > 0 ? "Poisson" : "constant",
                  ref.spikes, ref.synops);
    snn_sim_result_free(&ref);
    counts_free(want, net->n_layers);
}

/* Zeroes projection p's weights for a run, then restores them; whether
 * the reference engine's spikes then differ from want. */
static int dropping_matters(const snn_net *net, snn_net_proj *p,
                            const snn_tensor *x, size_t n, int steps,
                            float **want)
{
    snn_sim_result res;
    size_t m = snn_tensor_numel(&p->syn.weight);
    float *keep = malloc(m * sizeof *keep);
    memcpy(keep, p->syn.weight.data, m * sizeof *keep);
    memset(p->syn.weight.data, 0, m * sizeof *keep);
    float **got = reference_counts(net, x, n, steps, 0, &res);
    memcpy(p->syn.weight.data, keep, m * sizeof *keep);
    free(keep);
    int differ = counts_differ(net, want, got, n) >= 0;
    snn_sim_result_free(&res);
    counts_free(got, net->n_layers);
    return differ;
}

/* A concatenation's counts are those of its sources side by side: every
 * source must have spiked for a dropped one to show. */
static void check_sources_spike(const snn_net *net, const snn_net_layer *l,
                                float **want, size_t n, const char *what)
{
    for (int j = 0; j < l->n_proj; j++) {
        int src = l->proj[j].input;
        double sum = 0;
        for (size_t k = 0; src >= 0 && k < n * snn_net_layer_size(net, src);
             k++)
            sum += want[src][k];
        if (src >= 0 && sum == 0)
            fail_msg("%s: input %d of %s never spikes: dropping it would go "
                     "unseen", what, j, l->syn.name);
    }
}

void tu_projections_matter(snn_net *net, const snn_tensor *x, size_t n,
                           int steps, const char *what)
{
    snn_sim_result ref;
    float **want = reference_counts(net, x, n, steps, 0, &ref);
    int checked = 0;
    for (int i = 0; i < net->n_layers; i++) {
        snn_net_layer *l = &net->layers[i];
        if (l->unit == SNN_UNIT_RESHAPE)
            check_sources_spike(net, l, want, n, what);
        for (int j = 0; l->unit != SNN_UNIT_RESHAPE && j < l->n_proj; j++) {
            if (!dropping_matters(net, &l->proj[j], x, n, steps, want))
                fail_msg("%s: without input %d of %s the spikes are the "
                         "same: dropping it would go unseen", what, j,
                         l->syn.name);
            checked++;
        }
    }
    print_message("%s: dropping any of %d Add projections changes the "
                  "spikes\n", what, checked);
    snn_sim_result_free(&ref);
    counts_free(want, net->n_layers);
}

void tu_counts_free(float **counts, int n)
{
    for (int i = 0; i < n; i++)
        free(counts[i]);
}

void tu_rates_agree(const float *counts, const snn_tensor *want,
                    const int *pred, int steps, double tol, const char *what)
{
    size_t n = want->dims[0], n_out = want->dims[1], clear = 0;
    double worst = 0;
    for (size_t j = 0; j < n; j++) {
        const float *a = want->data + j * n_out;
        size_t top = 0, second = n_out > 1;
        for (size_t k = 0; k < n_out; k++) {
            double r = counts[j * n_out + k] / steps;
            double ann = a[k] < 0 ? 0 : a[k] > 1 ? 1 : a[k];
            worst = fabs(r - ann) > worst ? fabs(r - ann) : worst;
            if (a[k] > a[top]) {
                second = top;
                top = k;
            } else if (k != top && a[k] > a[second]) {
                second = k;
            }
        }
        if (a[top] - (a[second] > 0 ? a[second] : 0) > 0.05 && a[top] > 0) {
            clear++;
            if (pred[j] != (int)top)
                fail_msg("%s sample %zu: SNN class %d, ANN %zu", what, j,
                         pred[j], top);
        }
    }
    print_message("%s: %zu samples x %d steps, largest |rate - ANN| %.4f, "
                  "%zu samples with a clear ANN margin agree\n", what, n,
                  steps, worst, clear);
    if (worst > tol)
        fail_msg("%s: rate differs from the normalized ANN by %.4f > %.4f",
                 what, worst, tol);
    assert_true(clear >= n / 2);
}

void tu_assert_close(const snn_tensor *got, const snn_tensor *want,
                     tu_tolerance tol, const char *what, const char *truth)
{
    size_t n = snn_tensor_numel(want);
    assert_int_equal(snn_tensor_numel(got), n);
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs((double)want->data[i]));
    for (size_t i = 0; i < n; i++) {
        double a = got->data[i], b = want->data[i];
        double limit = tol == TU_TOL_ABS   ? 1e-4
                       : tol == TU_TOL_REL ? 1e-4 * fmax(1.0, fabs(b))
                                           : 1e-4 * scale;
        if (fabs(a - b) > limit)
            fail_msg("%s: output %zu is %.7g, %s computed %.7g", what, i, a,
                     truth, b);
    }
}

/* A reproducible dyadic value k / den, k uniform in [lo, hi]. */
static float dyadic(uint64_t *s, int lo, int hi, int den)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    int k = lo + (int)((*s >> 33) % (uint64_t)(hi - lo + 1));
    return (float)k / (float)den;
}

void tu_dyadic_tensor(snn_tensor *t, int ndim, const size_t *dims,
                      uint64_t *seed, int lo, int hi, int den)
{
    snn_error err;
    assert_int_equal(snn_tensor_init(t, ndim, dims, &err), SNN_OK);
    for (size_t k = 0; k < snn_tensor_numel(t); k++)
        t->data[k] = dyadic(seed, lo, hi, den);
}

void tu_small_cnn(snn_net *net, snn_op pool_op, int softmax, snn_reset reset)
{
    snn_graph g;
    snn_error err;
    uint64_t seed = 12345;
    snn_graph_init(&g);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, "in", NULL);
    l.shape = (snn_shape){3, {2, 6, 6}};
    tu_add_layer(&g, &l, -1);
    snn_layer_defaults(&l, SNN_OP_CONV2D, "conv", NULL);
    l.win.kernel[0] = l.win.kernel[1] = 3;
    l.win.stride[0] = l.win.stride[1] = 1;
    for (int i = 0; i < 4; i++)
        l.win.pad[i] = 1;
    l.act = SNN_ACT_RELU;
    size_t wc[4] = {3, 2, 3, 3}, b3[1] = {3}, w1[2] = {8, 27}, b8[1] = {8},
           w2[2] = {4, 8}, b4[1] = {4};
    tu_dyadic_tensor(&l.weight, 4, wc, &seed, -8, 8, 16);
    tu_dyadic_tensor(&l.bias, 1, b3, &seed, -2, 4, 16);
    tu_add_layer(&g, &l, 0);
    snn_layer_defaults(&l, pool_op, "pool", NULL);
    l.win.kernel[0] = l.win.kernel[1] = 2;
    l.win.stride[0] = l.win.stride[1] = 2;
    tu_add_layer(&g, &l, 1);
    snn_layer_defaults(&l, SNN_OP_FLATTEN, "flat", NULL);
    l.flatten_hwc = 1;
    tu_add_layer(&g, &l, 2);
    snn_layer_defaults(&l, SNN_OP_DENSE, "hidden", NULL);
    l.act = SNN_ACT_RELU;
    tu_dyadic_tensor(&l.weight, 2, w1, &seed, -8, 10, 32);
    tu_dyadic_tensor(&l.bias, 1, b8, &seed, -1, 2, 64);
    tu_add_layer(&g, &l, 3);
    snn_layer_defaults(&l, SNN_OP_DENSE, "out", NULL);
    l.act = softmax ? SNN_ACT_SOFTMAX : SNN_ACT_RELU;
    tu_dyadic_tensor(&l.weight, 2, w2, &seed, -8, 12, 16);
    tu_dyadic_tensor(&l.bias, 1, b4, &seed, -1, 1, 64);
    tu_add_layer(&g, &l, 4);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts co = {1.0f, reset, 1.0f};
    assert_int_equal(snn_convert(&g, &co, net, &err), SNN_OK);
    snn_graph_free(&g);
}

void tu_small_cnn_samples(snn_tensor *x, snn_tensor *y, size_t n)
{
    snn_error err;
    size_t xd[4] = {n, 2, 6, 6}, yd[2] = {n, 4};
    uint64_t seed = 777;
    tu_dyadic_tensor(x, 4, xd, &seed, 0, 4, 4);
    assert_int_equal(snn_tensor_init(y, 2, yd, &err), SNN_OK);
    for (size_t j = 0; j < n; j++)
        y->data[j * 4 + j % 4] = 1.0f;
}

char *tu_read_text(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    char *text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    return text;
}

int tu_file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

size_t tu_h5_read_num(hid_t file, const char *path, double *out, size_t cap)
{
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    if (ds < 0)
        fail_msg("no dataset %s", path);
    hid_t space = H5Dget_space(ds);
    size_t n = (size_t)H5Sget_simple_extent_npoints(space);
    assert_true(n <= cap);
    assert_true(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                        out) >= 0);
    H5Sclose(space);
    H5Dclose(ds);
    return n;
}

void tu_write_keras_dataset(const char *dir, const char *stem)
{
    char rel[512], buf[1024], path[1200];
    snn_tensor x, y;
    snn_error err;
    snprintf(rel, sizeof rel, "%s_x.npy", stem);
    assert_int_equal(snn_npy_load(tu_fixture(buf, sizeof buf, rel), &x, &err),
                     SNN_OK);
    snprintf(rel, sizeof rel, "%s_y.npy", stem);
    assert_int_equal(snn_npy_load(tu_fixture(buf, sizeof buf, rel), &y, &err),
                     SNN_OK);
    size_t n = y.dims[0], k = y.dims[1];
    float *onehot = calloc(n * k, sizeof *onehot);
    assert_non_null(onehot);
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t c = 1; c < k; c++)
            if (y.data[i * k + c] > y.data[i * k + best])
                best = c;
        onehot[i * k + best] = 1;
    }
    snprintf(path, sizeof path, "%s/x_test.npz", dir);
    tu_write_npz(path, x.ndim, x.dims, x.data);
    snprintf(path, sizeof path, "%s/y_test.npz", dir);
    tu_write_npz(path, 2, y.dims, onehot);
    free(onehot);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

void tu_write_cnn_dataset(const char *dir)
{
    tu_write_keras_dataset(dir, "keras/cnn");
}
