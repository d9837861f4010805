/*
 * test_report.c - the numbers behind the report's plots against numpy and
 * hand counts, the PNG encoder against zlib's own inflate, log_vars saved
 * and read back unchanged, every figure well-formed (xmllint), and a
 * redrawn report identical to the first.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report/rdata.h"
#include "report/svg.h"

/* np.corrcoef(a, b)[0, 1] */
static void test_pearson_matches_numpy(void **state)
{
    (void)state;
    const float a[] = {0.1f, 0.5f, 0.2f, 0.9f, 0.7f, 0.0f};
    const float b[] = {3, 11, 4, 19, 13, 0};
    assert_true(fabs(rp_pearson(a, b, 6) - 0.9935524795213294) < 1e-6);
    const float flat[] = {2, 2, 2};
    assert_true(isnan(rp_pearson(flat, b, 3)));
}

/* The original's filter: drop (0, 0) points and activations >= 1 except
 * in the output layer.  numpy on the kept subset: 0.94297689...; on all
 * points: 0.98954840... */
static void test_pearson_filter_matches_numpy(void **state)
{
    (void)state;
    const float rates[] = {0, 2, 5, 0, 7, 9, 4};
    const float acts[] = {0, 0.3f, 0.5f, 0, 0.8f, 1.0f, 0.35f};
    assert_true(fabs(rp_pearson_filtered(rates, acts, 7, 1.0, 0) -
                     0.9429768935214665) < 1e-6);
    assert_true(fabs(rp_pearson_filtered(rates, acts, 7, 1.0, 1) -
                     0.98954840530827) < 1e-6);
    assert_true(isnan(rp_pearson_filtered(rates, acts, 1, 1.0, 0)));
}

/* numpy.histogram of the clipped values: [4 0 1 3]; counts sum to n. */
static void test_histogram_counts(void **state)
{
    (void)state;
    const float v[] = {-1, 0, 0.05f, 0.1f, 0.5f, 0.99f, 1.0f, 2.0f, NAN};
    size_t c[4];
    rp_histogram(v, 9, 0, 1, 4, c);
    assert_int_equal(c[0], 4);
    assert_int_equal(c[1], 0);
    assert_int_equal(c[2], 1);
    assert_int_equal(c[3], 3);
    assert_int_equal(c[0] + c[1] + c[2] + c[3], 8);
}

static void test_confusion_counts(void **state)
{
    (void)state;
    const int truth[] = {0, 0, 1, 2, 2, 2, 7};
    const int guess[] = {0, 1, 1, 2, -1, 0, 1};
    size_t cm[3 * 4];
    /* The last sample's class 7 is out of range: skipped. */
    assert_int_equal(rp_confusion(truth, guess, 7, 3, cm), 6);
    const size_t want[3 * 4] = {1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 1};
    size_t sum = 0;
    for (int i = 0; i < 12; i++) {
        assert_int_equal(cm[i], want[i]);
        sum += cm[i];
    }
    assert_int_equal(sum, 6);
}

/* Base64 back to bytes, for the PNG check. */
static size_t unbase64(const char *s, unsigned char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned v = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        v = (v << 6) | (unsigned)(strchr(tab, *s) - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(v >> bits);
        }
    }
    return n;
}

static unsigned be32(const unsigned char *p)
{
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

/* zlib inflates the IDAT back to the filtered rows; every CRC checks. */
static void test_png_decodes(void **state)
{
    (void)state;
    unsigned char rgb[3 * 2 * 3];
    for (int i = 0; i < 18; i++)
        rgb[i] = (unsigned char)(i * 13);
    rp_buf b = {0};
    rp_png_base64(&b, rgb, 3, 2);
    char *text = rp_take(&b);
    assert_non_null(text);
    unsigned char png[512];
    size_t n = unbase64(text, png);
    free(text);
    assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
    unsigned char raw[64];
    uLongf raw_len = sizeof raw;
    for (size_t pos = 8; pos < n;) {
        unsigned len = be32(png + pos);
        assert_true(pos + 12 + len <= n);
        assert_int_equal(crc32(0, png + pos + 4, len + 4), be32(png + pos + 8 + len));
        if (!memcmp(png + pos + 4, "IHDR", 4)) {
            assert_int_equal(be32(png + pos + 8), 3);
            assert_int_equal(be32(png + pos + 12), 2);
        }
        if (!memcmp(png + pos + 4, "IDAT", 4))
            assert_int_equal(uncompress(raw, &raw_len, png + pos + 8, len), Z_OK);
        pos += 12 + len;
    }
    assert_int_equal(raw_len, 2 * (1 + 9));
    for (int y = 0; y < 2; y++) {
        assert_int_equal(raw[y * 10], 0);
        assert_memory_equal(raw + y * 10 + 1, rgb + y * 9, 9);
    }
}

/* ---- a small synthetic run: 2 layers, 3 recorded samples, 4 steps ---- */

static float *floats(size_t n, float scale, int seed)
{
    float *v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = scale * (float)((i * 7 + (size_t)seed * 3) % 11) / 10.0f;
    return v;
}

static void fill_layer(rp_layer *l, const char *label, int ndim,
                       const size_t *dims, size_t n_rec, int steps, int seed)
{
    snprintf(l->label, sizeof l->label, "%s", label);
    snprintf(l->name, sizeof l->name, "layer_%s", label);
    snprintf(l->kind, sizeof l->kind, ndim == 3 ? "Conv2D" : "Dense");
    l->shape.ndim = ndim;
    l->size = 1;
    for (int d = 0; d < ndim; d++) {
        l->shape.dims[d] = dims[d];
        l->size *= dims[d];
    }
    l->neurons = 1;
    l->lambda = 2.5;
    l->lambda_prev = 1.25;
    l->params = l->size * 3;
    l->macs = (double)l->size * 9;
    l->act = floats(n_rec * l->size, 1.0f, seed);
    l->counts = calloc(n_rec * l->size, sizeof(float));
    for (size_t i = 0; i < n_rec * l->size; i++)
        l->counts[i] = (float)(int)(l->act[i] * (float)steps + (float)(i % 2));
    l->raster0 = calloc((size_t)steps * l->size, 1);
    for (size_t i = 0; i < (size_t)steps * l->size; i++)
        l->raster0[i] = (unsigned char)(i % 3 == 0);
    l->vmem0 = floats((size_t)steps * l->size, 0.9f, seed + 1);
    l->n_weights = 6;
    l->weights = floats(6, -0.5f, seed + 2);
}

static snn_report *synthetic(void)
{
    snn_report *r = calloc(1, sizeof *r);
    r->plots = SNN_PLOT_ALL;
    r->steps = 4;
    r->top_k = 2;
    r->n_classes = 3;
    r->dt = 0.5;
    r->v_thresh = 1;
    r->n_tested = 5;
    r->n_rec = 3;
    r->input_shape = (snn_shape){3, {1, 2, 2}};
    r->input = floats(3 * 4, 1.0f, 0);
    const int truth[] = {0, 1, 2, 2, 1}, guess[] = {0, 1, 1, -1, 1};
    r->truth = calloc(5, sizeof(int));
    r->guess = calloc(5, sizeof(int));
    memcpy(r->truth, truth, sizeof truth);
    memcpy(r->guess, guess, sizeof guess);
    r->top1_t = calloc(4, sizeof(double));
    r->topk_t = calloc(4, sizeof(double));
    r->synops_t = calloc(4, sizeof(double));
    for (int t = 0; t < 4; t++) {
        r->top1_t[t] = 1 - 0.2 * t;
        r->topk_t[t] = 0.8 - 0.2 * t;
        r->synops_t[t] = 0.25 * (t + 1);
    }
    r->ann_macs = 1e6;
    r->results = (snn_results){.num_samples = 5, .top_k = 2, .ann_evaluated = 1,
                               .ann_top1 = 0.8, .ann_topk = 1, .simulated = 1,
                               .snn_top1 = 0.6, .snn_topk = 0.8, .silent = 1,
                               .duration = 2, .dt = 0.5, .mean_rate = 0.3};
    snprintf(r->source, sizeof r->source, "keras 3.0 <&>");
    snprintf(r->settings[0][0], sizeof r->settings[0][0], "[simulation] dt");
    snprintf(r->settings[0][1], sizeof r->settings[0][1], "0.5");
    r->n_settings = 1;
    r->layers = calloc(2, sizeof *r->layers);
    const size_t conv[] = {2, 3, 3}, dense[] = {4};
    fill_layer(&r->layers[0], "01Conv2D_2x3x3", 3, conv, 3, 4, 1);
    fill_layer(&r->layers[1], "02Dense_4", 1, dense, 3, 4, 2);
    r->n_layers = 2;
    return r;
}

static void assert_floats(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_true(a[i] == b[i]);
}

static void assert_same_report(const snn_report *a, const snn_report *b)
{
    assert_int_equal(a->n_layers, b->n_layers);
    assert_int_equal(a->n_rec, b->n_rec);
    assert_int_equal(a->n_tested, b->n_tested);
    assert_int_equal(a->steps, b->steps);
    assert_floats(a->input, b->input, 12);
    assert_memory_equal(a->truth, b->truth, 5 * sizeof(int));
    assert_memory_equal(a->guess, b->guess, 5 * sizeof(int));
    for (int t = 0; t < 4; t++)
        assert_true(fabs(a->top1_t[t] - b->top1_t[t]) < 1e-6);
    for (int i = 0; i < a->n_layers; i++) {
        const rp_layer *x = &a->layers[i], *y = &b->layers[i];
        assert_string_equal(x->label, y->label);
        assert_int_equal(x->size, y->size);
        assert_floats(x->act, y->act, 3 * x->size);
        assert_floats(x->counts, y->counts, 3 * x->size);
        assert_memory_equal(x->raster0, y->raster0, 4 * x->size);
        assert_floats(x->vmem0, y->vmem0, 4 * x->size);
        assert_floats(x->weights, y->weights, 6);
        assert_true(x->lambda == y->lambda);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc((size_t)n + 1, 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    return s;
}

static int have_xmllint(void)
{
    return system("xmllint --version >/dev/null 2>&1") == 0;
}

/* The r = ... in a correlation plot's title is Pearson of the plotted
 * points (activation vs rate), computed here directly. */
static void check_correlation_title(const rp_figures *f, const snn_report *r)
{
    const rp_layer *l = &r->layers[0];
    size_t n = 3 * l->size;
    double sa = 0, sr = 0, saa = 0, srr = 0, sar = 0;
    for (size_t i = 0; i < n; i++) {
        double a = l->act[i], c = l->counts[i] * 1000.0 / (r->steps * r->dt);
        sa += a;
        sr += c;
        saa += a * a;
        srr += c * c;
        sar += a * c;
    }
    double want = (n * sar - sa * sr) / sqrt((n * saa - sa * sa) * (n * srr - sr * sr));
    int found = 0;
    for (size_t i = 0; i < f->n; i++) {
        const char *t = strstr(f->f[i].svg, ": r = ");
        if (strcmp(f->f[i].id, "01Conv2D_2x3x3_correlation") || !t)
            continue;
        assert_true(fabs(atof(t + 6) - want) < 2e-4);
        found = 1;
    }
    assert_true(found);
}

static void check_figures(const rp_figures *f)
{
    const char *want[] = {"input_image", "error_t", "confusion_matrix", "operations",
                          "spikecounts", "pearson", "hist_spikerates_activations",
                          "01Conv2D_2x3x3_spiketrains", "01Conv2D_2x3x3_spikerates",
                          "01Conv2D_2x3x3_activations",
                          "01Conv2D_2x3x3_spikerates_minus_activations",
                          "01Conv2D_2x3x3_correlation", "01Conv2D_2x3x3_v_mem",
                          "02Dense_4_norm_act_before", "02Dense_4_norm_w_after"};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        int found = 0;
        for (size_t i = 0; i < f->n; i++)
            found |= !strcmp(f->f[i].id, want[k]);
        if (!found)
            fail_msg("no figure %s", want[k]);
    }
}

static void test_logvars_roundtrip_and_figures(void **state)
{
    (void)state;
    char dir[512], cmd[1200], path[700];
    snn_error err = {0};
    tu_tempdir(dir, sizeof dir);
    snn_report *r = synthetic(), back;
    memset(&back, 0, sizeof back);
    assert_int_equal(rp_logvars_save(r, dir, 2, &err), SNN_OK);
    assert_int_equal(rp_logvars_load(&back, dir, &err), SNN_OK);
    assert_same_report(r, &back);

    rp_figures f = {0};
    assert_int_equal(rp_make_figures(r, &f, &err), SNN_OK);
    check_figures(&f);
    check_correlation_title(&f, r);
    assert_int_equal(rp_write_html(r, &f, dir, &err), SNN_OK);
    rp_figures_free(&f);
    snprintf(path, sizeof path, "%s/report/index.html", dir);
    char *first = slurp(path);
    assert_non_null(first);
    assert_non_null(strstr(first, "keras 3.0 &lt;&amp;&gt;"));

    /* Redrawn from log_vars alone: the same page. */
    assert_int_equal(snn_report_rebuild(dir, &err), SNN_OK);
    char *second = slurp(path);
    assert_string_equal(first, second);
    free(first);
    free(second);

    if (have_xmllint()) {
        snprintf(cmd, sizeof cmd, "xmllint --noout %s/report/plots/*.svg", dir);
        assert_int_equal(system(cmd), 0);
    } else {
        printf("xmllint absent (apt-get install libxml2-utils): SVGs not validated\n");
    }
    rp_report_clear(&back);
    snn_report_free(r);
    tu_rmtree(dir);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The error_t figure and index.html of r, written to dir. */
static void render(const snn_report *r, const char *dir, char **error_t,
                   char **html)
{
    char path[700];
    snn_error err = {0};
    rp_figures f = {0};
    assert_int_equal(rp_make_figures(r, &f, &err), SNN_OK);
    *error_t = NULL;
    for (size_t i = 0; i < f.n; i++)
        if (!strcmp(f.f[i].id, "error_t"))
            *error_t = strdup(f.f[i].svg);
    assert_non_null(*error_t);
    assert_int_equal(rp_write_html(r, &f, dir, &err), SNN_OK);
    rp_figures_free(&f);
    snprintf(path, sizeof path, "%s/report/index.html", dir);
    *html = slurp(path);
    assert_non_null(*html);
}

/* Issue 7: with top_k = 1 the results table has one top-1 column and the
 * error_t legend one SNN and one ANN top-1 entry; with top_k = 2 both
 * top-1 and top-2 appear. */
static void test_top_k_shown_only_above_one(void **state)
{
    (void)state;
    char dir[512], *svg, *html;
    tu_tempdir(dir, sizeof dir);
    snn_report *r = synthetic();
    r->top_k = r->results.top_k = 1;
    render(r, dir, &svg, &html);
    assert_int_equal(count_of(svg, "SNN top-1"), 1);
    assert_int_equal(count_of(svg, "ANN top-1"), 1);
    assert_int_equal(count_of(html, "<th>top-"), 1);
    assert_int_equal(count_of(html, "<th>top-1</th>"), 1);
    free(svg);
    free(html);
    r->top_k = r->results.top_k = 2;
    render(r, dir, &svg, &html);
    assert_int_equal(count_of(svg, "SNN top-1"), 1);
    assert_int_equal(count_of(svg, "SNN top-2"), 1);
    assert_int_equal(count_of(svg, "ANN top-2"), 1);
    assert_int_equal(count_of(html, "<th>top-1</th>"), 1);
    assert_int_equal(count_of(html, "<th>top-2</th>"), 1);
    free(svg);
    free(html);
    snn_report_free(r);
    tu_rmtree(dir);
}

/* The original's neuron operations on tu_small_cnn: per step one update
 * per neuron with a bias, conv 3x6x6 + dense 8 + dense 4 = 120 (the
 * max-pool gate and the flatten have none); at step 0 also the conv's
 * input current once, 2 ops x (2x3x3 taps x 108 outputs) = 3888.  With
 * Poisson input that current is synaptic operations instead. */
static void test_neuron_operations(void **state)
{
    (void)state;
    snn_net net;
    tu_small_cnn(&net, SNN_OP_MAXPOOL2D, 1, SNN_RESET_SUBTRACT);
    double first, step;
    rp_neuron_ops(&net, 1, &first, &step);
    assert_true(step == 120);
    assert_true(first == 120 + 3888);
    rp_neuron_ops(&net, 0, &first, &step);
    assert_true(step == 120 && first == 120);
    snn_net_free(&net);
}

static void test_hostile_logvars(void **state)
{
    (void)state;
    char dir[512], path[700];
    snn_error err = {0};
    snn_report back;
    tu_tempdir(dir, sizeof dir);
    memset(&back, 0, sizeof back);
    assert_int_not_equal(rp_logvars_load(&back, dir, &err), SNN_OK);
    rp_report_clear(&back);

    snn_report *r = synthetic();
    assert_int_equal(rp_logvars_save(r, dir, 2, &err), SNN_OK);
    snn_report_free(r);
    /* A summary claiming a huge layer must not be believed. */
    snprintf(path, sizeof path, "%s/log_vars/summary.json", dir);
    char *text = slurp(path), *dims = strstr(text, "\"shape\": [");
    assert_non_null(dims);
    const char *evil = "{\"plots\":1,\"steps\":4,\"n_tested\":5,\"n_rec\":3,"
                       "\"batch_size\":2,\"n_classes\":3,\"input_shape\":[1,2,2],"
                       "\"layers\":[{\"label\":\"01Conv2D_2x3x3\",\"shape\":"
                       "[100000,100000,100000]}]}";
    tu_write_file(path, evil, strlen(evil));
    memset(&back, 0, sizeof back);
    assert_int_equal(rp_logvars_load(&back, dir, &err), SNN_E_FORMAT);
    rp_report_clear(&back);
    /* A batch file cut short. */
    tu_write_file(path, text, strlen(text));
    free(text);
    snprintf(path, sizeof path, "%s/log_vars/0.npz", dir);
    tu_write_file(path, "PK\x03\x04", 4);
    memset(&back, 0, sizeof back);
    assert_int_not_equal(rp_logvars_load(&back, dir, &err), SNN_OK);
    assert_non_null(strstr(err.msg, "0.npz"));
    rp_report_clear(&back);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pearson_matches_numpy),
        cmocka_unit_test(test_pearson_filter_matches_numpy),
        cmocka_unit_test(test_histogram_counts),
        cmocka_unit_test(test_confusion_counts),
        cmocka_unit_test(test_png_decodes),
        cmocka_unit_test(test_logvars_roundtrip_and_figures),
        cmocka_unit_test(test_top_k_shown_only_above_one),
        cmocka_unit_test(test_neuron_operations),
        cmocka_unit_test(test_hostile_logvars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
