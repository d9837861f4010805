/*
 * test_lowlat.c - the low-latency conversion options on tiny hand-built
 * nets, against spike trains, scale factors and biases worked out by hand
 * (the arithmetic is in the comments): initial membrane potential at a
 * fraction of the threshold (both engines), channel-wise normalization and
 * its cache, bias calibration, and clipped-ReLU (QCFS-style) conversion.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pipeline/calibrate.h"
#include "pipeline/scalecache.h"
#include "snntb/config.h"
#include "snntb/net.h"
#include "snntb/normalize.h"
#include "snntb/run.h"
#include "snntb/sim.h"

static snn_tensor tensor_of(int ndim, const size_t *dims, const float *vals)
{
    snn_tensor t;
    snn_error err;
    assert_int_equal(snn_tensor_init(&t, ndim, dims, &err), SNN_OK);
    if (vals)
        memcpy(t.data, vals, snn_tensor_numel(&t) * sizeof(float));
    return t;
}

static void expect_near(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.9g, want %.9g", what, got, want);
}

static void add_input(snn_graph *g, snn_shape shape)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, "in", NULL);
    l.shape = shape;
    tu_add_layer(g, &l, -1);
}

/* A Dense layer of out x in weights w (row-major), no bias unless b. */
static void add_dense(snn_graph *g, const char *name, int input, size_t out,
                      size_t in, const float *w, const float *b,
                      snn_activation act)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_DENSE, name, NULL);
    l.weight = tensor_of(2, (size_t[]){out, in}, w);
    if (b)
        l.bias = tensor_of(1, &out, b);
    l.act = act;
    tu_add_layer(g, &l, input);
}

static void infer(snn_graph *g)
{
    snn_error err;
    assert_int_equal(snn_graph_infer_shapes(g, &err), SNN_OK);
}

static void convert(const snn_graph *g, snn_net *net)
{
    snn_error err;
    snn_convert_opts o = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    assert_int_equal(snn_convert(g, &o, net, &err), SNN_OK);
}

/* Input(2) -> Dense identity -> Dense identity, both ReLU: layer 2 sees
 * layer 1's spikes one for one. */
static void identity_chain(snn_net *net)
{
    snn_graph g;
    snn_graph_init(&g);
    add_input(&g, (snn_shape){1, {2}});
    add_dense(&g, "d1", 0, 2, 2, (const float[]){1, 0, 0, 1}, NULL,
              SNN_ACT_RELU);
    add_dense(&g, "d2", 1, 2, 2, (const float[]){1, 0, 0, 1}, NULL,
              SNN_ACT_RELU);
    infer(&g);
    convert(&g, net);
    snn_graph_free(&g);
}

/* Layer i's spike raster of sample 0 as one bitmask per neuron. */
static unsigned raster_mask(const unsigned char *r, int steps, size_t n,
                            size_t k)
{
    unsigned m = 0;
    for (int t = 0; t < steps; t++)
        m |= (unsigned)(r[(size_t)t * n + k] != 0) << t;
    return m;
}

/* Simulates one sample x for `steps` on engine e; fills the rasters of
 * both layers and the last potentials of layer 1. */
static void run_chain(const snn_net *net, const float *x, int steps,
                      snn_sim_engine e, unsigned mask[2][2], float v_end[2])
{
    snn_error err;
    snn_tensor xt = tensor_of(2, (size_t[]){1, 2}, x);
    snn_tensor y = tensor_of(2, (size_t[]){1, 2}, (const float[]){1, 0});
    unsigned char *raster[2];
    float *vmem[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++)
        raster[i] = malloc((size_t)steps * 2);
    vmem[0] = malloc((size_t)steps * 2 * sizeof(float));
    snn_sim_record rec = {.raster0 = raster, .vmem0 = vmem};
    snn_sim_opts o = {.steps = steps, .batch_size = 1, .top_k = 1, .seed = 1,
                      .engine = e, .record = &rec};
    snn_sim_result r;
    assert_int_equal(snn_simulate(net, &xt, &y, 1, &o, &r, &err), SNN_OK);
    for (int i = 0; i < 2; i++)
        for (size_t k = 0; k < 2; k++)
            mask[i][k] = raster_mask(raster[i], steps, 2, k);
    for (size_t k = 0; k < 2; k++)
        v_end[k] = vmem[0][(size_t)(steps - 1) * 2 + k];
    snn_sim_result_free(&r);
    for (int i = 0; i < 2; i++)
        free(raster[i]);
    free(vmem[0]);
    snn_tensor_free(&xt);
    snn_tensor_free(&y);
}

static void test_v_init_half_threshold(void **state)
{
    (void)state;
    snn_net net;
    identity_chain(&net);
    const float x[2] = {0.375f, 0.125f};
    const snn_sim_engine engines[] = {SNN_ENGINE_REFERENCE, SNN_ENGINE_EVENT};
    for (int e = 0; e < 2; e++) {
        unsigned m[2][2];
        float v[2];
        /* From 0, 4 steps: d1[0] V .375 .75 1.125>.125 .5: fires at t2;
         * d1[1] .125 .25 .375 .5: never.  d2 gets 1 at t2 and fires. */
        net.v_init = 0;
        run_chain(&net, x, 4, engines[e], m, v);
        assert_int_equal(m[0][0], 1u << 2);
        assert_int_equal(m[0][1], 0u);
        assert_int_equal(m[1][0], 1u << 2);
        assert_true(v[0] == 0.5f && v[1] == 0.5f);
        /* From 0.5: d1[0] .875 1.25>.25 .625 1.0>0: fires at t1 and t3
         * (2 = floor(4 * .375 + .5), the rounding QCFS trains for);
         * d1[1] .625 .75 .875 1.0>0 fires at t3.  d2 starts at .5 too:
         * 1.5>.5 whenever d1 fires. */
        net.v_init = 0.5f;
        run_chain(&net, x, 4, engines[e], m, v);
        assert_int_equal(m[0][0], (1u << 1) | (1u << 3));
        assert_int_equal(m[0][1], 1u << 3);
        assert_int_equal(m[1][0], (1u << 1) | (1u << 3));
        assert_int_equal(m[1][1], 1u << 3);
        assert_true(v[0] == 0.0f && v[1] == 0.0f);
    }
    snn_net_free(&net);
}

/* Input (1, 1, 2) -> conv 1x1, 2 channels, w = (1, w1), relu -> Flatten
 * (Keras (H, W, C) order when hwc) -> Dense 1, w = 1 1 1 1, relu. */
static void conv_net(snn_graph *g, float w1, int hwc)
{
    snn_graph_init(g);
    add_input(g, (snn_shape){3, {1, 1, 2}});
    snn_layer c;
    snn_layer_defaults(&c, SNN_OP_CONV2D, "conv", NULL);
    c.weight = tensor_of(4, (size_t[]){2, 1, 1, 1}, (const float[]){1, w1});
    c.win.kernel[0] = c.win.kernel[1] = 1;
    c.act = SNN_ACT_RELU;
    tu_add_layer(g, &c, 0);
    snn_layer f;
    snn_layer_defaults(&f, SNN_OP_FLATTEN, "flat", NULL);
    f.flatten_hwc = hwc;
    tu_add_layer(g, &f, 1);
    add_dense(g, "fc", 2, 1, 4, (const float[]){1, 1, 1, 1}, NULL,
              SNN_ACT_RELU);
    infer(g);
}

/* Samples (1, 2) and (4, 0). */
static snn_tensor conv_x(void)
{
    return tensor_of(4, (size_t[]){2, 1, 1, 2}, (const float[]){1, 2, 4, 0});
}

static void expect_chan(const snn_scales *s, int k, const double *want,
                        size_t n)
{
    assert_int_equal(s->chan_at[k + 1] - s->chan_at[k], n);
    for (size_t j = 0; j < n; j++)
        expect_near(s->chan[s->chan_at[k] + j], want[j], 1e-9, "factor");
}

static void test_channelwise_scales(void **state)
{
    (void)state;
    for (int hwc = 0; hwc < 2; hwc++) {
        snn_graph g;
        conv_net(&g, 3, hwc);
        snn_tensor x = conv_x();
        snn_scales s;
        snn_error err;
        /* Channel 0 outputs 1 2 4 (0 dropped): median 2; channel 1 3 6 12:
         * 6.  fc: 1+2+3+6 = 12 and 4+12 = 16: median 14.  (Layer-wise,
         * conv would get the median of 1 2 3 4 6 12: 3.5.) */
        assert_int_equal(snn_compute_channel_scales(&g, &x, 50, 2, &s, &err),
                         SNN_OK);
        expect_chan(&s, 0, (const double[]){1}, 1);
        expect_chan(&s, 1, (const double[]){2, 6}, 2);
        /* (C, H, W) order: c0p0 c0p1 c1p0 c1p1; (H, W, C): p0c0 p0c1 ... */
        expect_chan(&s, 2, hwc ? (const double[]){2, 6, 2, 6}
                               : (const double[]){2, 2, 6, 6}, 4);
        expect_chan(&s, 3, (const double[]){14}, 1);
        expect_near(s.lambda[1], 6, 0, "conv's largest factor");
        assert_int_equal(snn_apply_scales(&g, &s, &err), SNN_OK);
        /* conv: 1/2, 3/6; fc: factor of its input / 14. */
        const float *wc = g.layers[1].weight.data, *wf = g.layers[3].weight.data;
        expect_near(wc[0], 0.5, 1e-7, "conv w0");
        expect_near(wc[1], 0.5, 1e-7, "conv w1");
        for (int j = 0; j < 4; j++) {
            double in = hwc ? (j % 2 ? 6 : 2) : (j < 2 ? 2 : 6);
            expect_near(wf[j], in / 14, 1e-7, "fc weight");
        }
        snn_scales_free(&s);
        snn_tensor_free(&x);
        snn_graph_free(&g);
    }
}

static void test_channelwise_inactive_channel_and_layerwise(void **state)
{
    (void)state;
    snn_graph g;
    snn_scales s;
    snn_error err;
    snn_tensor x = conv_x();
    /* w1 = -1: channel 1 never fires; it takes channel 0's factor 2. */
    conv_net(&g, -1, 0);
    assert_int_equal(snn_compute_channel_scales(&g, &x, 50, 2, &s, &err),
                     SNN_OK);
    expect_chan(&s, 1, (const double[]){2, 2}, 2);
    snn_scales_free(&s);
    snn_graph_free(&g);
    /* The same data layer-wise: 3.5, no channel factors. */
    conv_net(&g, 3, 0);
    assert_int_equal(snn_compute_scales(&g, &x, 50, 2, &s, &err), SNN_OK);
    assert_null(s.chan);
    expect_near(s.lambda[1], 3.5, 1e-9, "layer-wise conv");
    snn_scales_free(&s);
    snn_graph_free(&g);
    snn_tensor_free(&x);
}

static void test_channelwise_cache_keyed(void **state)
{
    (void)state;
    char dir[256], path[300];
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/scale_factors.json", dir);
    snn_graph g;
    conv_net(&g, 3, 0);
    snn_tensor x = conv_x();
    snn_scales s, back;
    snn_error err;
    assert_int_equal(snn_compute_channel_scales(&g, &x, 50, 2, &s, &err),
                     SNN_OK);
    snn_scale_key key = {&g, &x, "test", 50, 1};
    assert_int_equal(snn_scalecache_save(path, &key, &s, &err), SNN_OK);
    assert_int_equal(snn_scalecache_load(path, &key, &back), 1);
    for (int k = 0; k < g.n_layers; k++)
        expect_near(back.lambda[k], s.lambda[k], 0, "cached lambda");
    assert_int_equal(back.chan_at[g.n_layers], s.chan_at[g.n_layers]);
    for (size_t j = 0; j < s.chan_at[g.n_layers]; j++)
        expect_near(back.chan[j], s.chan[j], 0, "cached factor");
    snn_scales_free(&back);
    /* Layer-wise factors are not what a channel-wise run asked for. */
    key.channelwise = 0;
    assert_int_equal(snn_scalecache_load(path, &key, &back), 0);
    snn_scales_free(&s);
    snn_tensor_free(&x);
    snn_graph_free(&g);
    tu_rmtree(dir);
}

static void test_bias_calibration(void **state)
{
    (void)state;
    snn_graph g;
    snn_graph_init(&g);
    add_input(&g, (snn_shape){1, {1}});
    add_dense(&g, "d1", 0, 1, 1, (const float[]){1}, NULL, SNN_ACT_RELU);
    add_dense(&g, "d2", 1, 1, 1, (const float[]){1}, NULL, SNN_ACT_RELU);
    infer(&g);
    snn_net net;
    convert(&g, &net);
    snn_tensor x = tensor_of(2, (size_t[]){3, 1},
                             (const float[]){0.3f, 0.6f, 1.5f});
    snn_sim_opts o = {.steps = 4, .batch_size = 2, .top_k = 1, .seed = 1,
                      .engine = SNN_ENGINE_AUTO};
    snn_error err;
    assert_int_equal(snn_calibrate_biases(&net, &g, &x, 3, &o, &err), SNN_OK);
    /* d1, 4 steps: .3 fires once (V 1.2 at t3), .6 twice, 1.5 every step:
     * rates x 1 = .25 .5 1 against the ANN's .3 .6 and 1.5 clipped to the
     * threshold, 1: bias += (.05 + .1 + 0) / 3. */
    expect_near(net.layers[0].syn.bias.data[0], 0.05, 1e-6, "d1 bias");
    /* With that bias d1 gets .35 .65 1.55: fires at t2; t1, t3; always.
     * d2 repeats those spikes (1 each, threshold 1): 1 2 4 against the
     * ANN's .3 .6 1 (clipped): again .05. */
    expect_near(net.layers[1].syn.bias.data[0], 0.05, 1e-6, "d2 bias");
    snn_tensor_free(&x);
    snn_net_free(&net);
    snn_graph_free(&g);
}

/* Input(2) -> Dense diag(2, 2) linear -> ReLU(max_value=2), as Keras
 * writes a clipped ReLU: a standalone activation. */
static void clip_net(snn_graph *g)
{
    snn_graph_init(g);
    add_input(g, (snn_shape){1, {2}});
    add_dense(g, "fc", 0, 2, 2, (const float[]){2, 0, 0, 2}, NULL,
              SNN_ACT_LINEAR);
    snn_layer a;
    snn_layer_defaults(&a, SNN_OP_ACTIVATION, "relu6", NULL);
    a.act = SNN_ACT_CLIP;
    a.clip_max = 2;
    tu_add_layer(g, &a, 1);
    infer(g);
}

static void test_clipped_relu_converts_with_clip_as_threshold(void **state)
{
    (void)state;
    snn_graph g;
    snn_scales s;
    snn_net net;
    snn_error err;
    snn_convert_opts co = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    clip_net(&g);
    /* Unscaled, the bound 2 is not the threshold 1: refused by name. */
    assert_int_equal(snn_convert(&g, &co, &net, &err), SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "relu6"));
    /* Data-based scales ignore the data for it: lambda = the bound. */
    snn_tensor x = tensor_of(2, (size_t[]){2, 2},
                             (const float[]){0.1f, 0.2f, 0.3f, 0.4f});
    assert_int_equal(snn_compute_scales(&g, &x, 50, 2, &s, &err), SNN_OK);
    expect_near(s.lambda[1], 2, 0, "clip lambda");
    snn_scales_free(&s);
    snn_tensor_free(&x);
    assert_int_equal(snn_clip_scales(&g, &s, &err), SNN_OK);
    expect_near(s.lambda[1], 2, 0, "clip lambda without data");
    assert_int_equal(snn_apply_scales(&g, &s, &err), SNN_OK);
    snn_scales_free(&s);
    expect_near(g.layers[2].clip_max, 1, 0, "scaled bound");
    expect_near(g.layers[1].weight.data[0], 1, 0, "scaled weight");
    assert_int_equal(snn_convert(&g, &co, &net, &err), SNN_OK);
    /* Inputs .375 and 1.2: ANN clip(2x, 0, 2) / 2 = .375 and 1.  From
     * .5, 4 steps: floor(4 * .375 + .5) = 2 spikes, and 1.2 > threshold
     * saturates at one spike per step: 4, the clip. */
    net.v_init = 0.5f;
    snn_tensor xs = tensor_of(2, (size_t[]){1, 2}, (const float[]){0.375f, 1.2f});
    snn_tensor y = tensor_of(2, (size_t[]){1, 2}, (const float[]){0, 1});
    float *counts[1];
    counts[0] = malloc(2 * sizeof(float));
    snn_sim_record rec = {.spike_counts = counts, .record_samples = 1};
    snn_sim_opts o = {.steps = 4, .batch_size = 1, .top_k = 1, .seed = 1,
                      .engine = SNN_ENGINE_AUTO, .record = &rec};
    snn_sim_result r;
    assert_int_equal(snn_simulate(&net, &xs, &y, 1, &o, &r, &err), SNN_OK);
    assert_true(counts[0][0] == 2 && counts[0][1] == 4);
    assert_int_equal(r.top1, 1);
    snn_sim_result_free(&r);
    free(counts[0]);
    snn_tensor_free(&xs);
    snn_tensor_free(&y);
    snn_net_free(&net);
    snn_graph_free(&g);
}

static void test_config_keys(void **state)
{
    (void)state;
    snn_config *cfg;
    snn_error err;
    assert_int_equal(snn_config_new(&cfg, &err), SNN_OK);
    assert_true(snn_config_get_float(cfg, "conversion", "v_init") == 0);
    assert_int_equal(snn_config_set(cfg, "conversion", "v_init", "0.5", &err),
                     SNN_OK);
    assert_true(snn_config_get_float(cfg, "conversion", "v_init") == 0.5);
    assert_int_equal(snn_config_set(cfg, "conversion", "v_init", "1.5", &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "v_init"));
    assert_int_equal(snn_config_set(cfg, "conversion",
                                    "bias_calibration_samples", "-1", &err),
                     SNN_E_INVALID);
    assert_false(snn_config_get_bool(cfg, "normalization", "channelwise"));
    snn_config_free(cfg);
}

/* The options through a whole run (snntb's pipeline) on the small Keras
 * CNN fixture: the run succeeds and the cache holds channel factors. */
static void test_run_with_all_options(void **state)
{
    (void)state;
    char wd[256], path[4200], model[600], text[1024];
    tu_tempdir(wd, sizeof wd);
    char buf[1024];
    snprintf(model, sizeof model, "%s/model.h5", wd);
    tu_copy_file(tu_fixture(buf, sizeof buf, "keras/cnn.h5"), model,
                 (size_t)-1);
    tu_write_cnn_dataset(wd);
    snprintf(path, sizeof path, "%s/config.ini", wd);
    int len = snprintf(text, sizeof text,
                       "[paths]\ndataset_path = %%(path_wd)s\n"
                       "filename_ann = model\n"
                       "[simulation]\nduration = 8\nnum_to_test = 4\n"
                       "batch_size = 3\n"
                       "[conversion]\nv_init = 0.5\n"
                       "bias_calibration_samples = 3\n"
                       "[normalization]\nchannelwise = True\n");
    tu_write_file(path, text, (size_t)len);
    snn_config *cfg;
    snn_error err;
    assert_int_equal(snn_config_load(&cfg, path, NULL, &err), SNN_OK);
    snn_results res;
    char log_dir[4096];
    snn_status st = snn_run(cfg, NULL, NULL, &res, log_dir, sizeof log_dir,
                            &err);
    if (st != SNN_OK)
        fail_msg("run: %s", err.msg);
    assert_int_equal(res.num_samples, 4);
    snprintf(path, sizeof path, "%s/normalization/scale_factors.json",
             log_dir);
    json_t *j = json_load_file(path, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(json_object_get(j, "key"),
                                             "channelwise")));
    json_t *factors = json_object_get(j, "scale_factors");
    const char *name;
    json_t *v;
    int lists = 0;
    json_object_foreach(factors, name, v)
        lists += json_is_array(v);
    assert_int_equal(lists, (int)json_object_size(factors));
    json_decref(j);
    snn_config_free(cfg);
    tu_rmtree(wd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v_init_half_threshold),
        cmocka_unit_test(test_channelwise_scales),
        cmocka_unit_test(test_channelwise_inactive_channel_and_layerwise),
        cmocka_unit_test(test_channelwise_cache_keyed),
        cmocka_unit_test(test_bias_calibration),
        cmocka_unit_test(test_clipped_relu_converts_with_clip_as_threshold),
        cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_run_with_all_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
