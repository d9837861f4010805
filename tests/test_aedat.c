/*
 * test_aedat.c - DVS input: AEDAT 1.0/2.0/3.1 files that
 * scripts/gen_dataset_fixtures.py wrote from known event lists (by the
 * documented byte layouts) read back exactly; frames of a known event
 * list against a hand computation; cut files and bad headers refused; an
 * aedat dataset (class folders, chunks of num_dvs_events_per_sample) read
 * as frames and run through a hand-built network with hand-checked spike
 * counts; with eventframe_width, the per-step binary event frames of the
 * same recordings and the spikes they cause, both by hand.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/aedat.h"
#include "io/dvsframe.h"
#include "snntb/config.h"
#include "snntb/dataset.h"
#include "snntb/net.h"
#include "snntb/sim.h"

/* name.aedat read back equals name.npy: rows (x, y, t >> 16, t & 0xFFFF,
 * p). */
static void check_events(const char *name, int version, aedat_layout layout)
{
    char path[512], rel[128];
    snprintf(rel, sizeof rel, "aedat/%s.npy", name);
    snn_tensor want;
    tu_load_npy(rel, &want);
    snprintf(rel, sizeof rel, "aedat/%s.aedat", name);
    dvs_event *ev = NULL;
    size_t n = 0;
    aedat_info info;
    snn_error err = {0};
    if (aedat_read(tu_fixture(path, sizeof path, rel), &ev, &n, &info, &err) !=
        SNN_OK)
        fail_msg("%s: %s", name, err.msg);
    assert_int_equal(info.version, version);
    assert_int_equal(info.layout, layout);
    assert_int_equal(n, want.dims[0]);
    for (size_t i = 0; i < n; i++) {
        const float *r = want.data + i * 5;
        int64_t t = (int64_t)r[2] << 16 | (int64_t)r[3];
        if (ev[i].x != (int32_t)r[0] || ev[i].y != (int32_t)r[1] ||
            ev[i].t != t || ev[i].p != (int)r[4])
            fail_msg("%s event %zu: got (%d, %d, %lld, %d), want (%g, %g, "
                     "%lld, %g)", name, i, ev[i].x, ev[i].y,
                     (long long)ev[i].t, ev[i].p, r[0], r[1], (long long)t,
                     r[4]);
    }
    free(ev);
    snn_tensor_free(&want);
}

static void test_read_v1(void **state)
{
    (void)state;
    check_events("v1_dvs128", 1, AEDAT_DVS128);
    check_events("v1_noheader", 1, AEDAT_DVS128);
}

static void test_read_v2(void **state)
{
    (void)state;
    /* Includes an APS sample and a special event, which are skipped, and
     * the largest 32-bit timestamp. */
    check_events("v2_davis", 2, AEDAT_DAVIS);
    check_events("v2_dvs128", 2, AEDAT_DVS128);
}

static void test_read_v3(void **state)
{
    (void)state;
    /* Two polarity packets (one event invalid, the second packet's
     * timestamps extended by tsOverflow 2) around a non-polarity packet. */
    check_events("v3_polarity", 3, AEDAT_CAER);
}

static void expect_error(const char *name, snn_status want, const char *what)
{
    char path[512];
    dvs_event *ev = NULL;
    size_t n = 0;
    aedat_info info;
    snn_error err = {0};
    tu_fixture(path, sizeof path, name);
    assert_int_equal(aedat_read(path, &ev, &n, &info, &err), want);
    assert_null(ev);
    assert_non_null(strstr(err.msg, path));
    if (!strstr(err.msg, what))
        fail_msg("%s: '%s' lacks '%s'", name, err.msg, what);
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_error("aedat/cut.aedat", SNN_E_FORMAT, "truncated: file ends "
                 "inside an event at byte");
    expect_error("aedat/cut3.aedat", SNN_E_FORMAT, "inside a packet");
    expect_error("aedat/badversion.aedat", SNN_E_UNSUPPORTED,
                 "version '9.9'");
    expect_error("aedat/absent.aedat", SNN_E_IO, "cannot open");
}

/* The events of the hand computation: chip 9 x 9 to a 5 x 5 frame, so
 * coordinates halve exactly (4 / 8). */
static const dvs_event hand_events[] = {
    {0, 0, 1, 1}, /* -> (0, 0) */
    {1, 1, 1, 1}, /* -> (0, 0), same t and p: a duplicate */
    {8, 8, 2, 0}, /* -> (4, 4) */
    {3, 5, 3, 1}, /* -> (1, 2) */
    {3, 5, 3, 1}, /* exact duplicate */
    {2, 4, 3, 0}, /* -> (1, 2) OFF: a duplicate once polarity is dropped */
    {9, 0, 5, 1}, /* outside the chip */
};

/* Frame of hand_events; returns the value at each named pixel. */
static void make_frame(dvs_opts *o, float *frame)
{
    dvs_event ev[7], prep[7];
    memcpy(ev, hand_events, sizeof ev);
    size_t n = dvs_drop_outliers(o, ev, 7);
    assert_int_equal(n, 6);
    size_t m = dvs_prepare(o, ev, n, prep);
    dvs_frame(o, prep, m, frame);
}

static void assert_frame(const float *f, size_t n, const float *want)
{
    for (size_t i = 0; i < n; i++)
        if (f[i] != want[i])
            fail_msg("pixel %zu (row %zu, col %zu): %g, want %g", i, i / 5,
                     i % 5, f[i], want[i]);
}

static void test_frames_by_hand(void **state)
{
    (void)state;
    dvs_opts o = {{9, 9}, {5, 5}, DVS_RECTIFIED_SUM, 1, 0, 1, 0, 0};
    float f[50], want[50];
    /* rectified_sum, maxpool: one event each at (0,0), (4,4), (1,2). */
    make_frame(&o, f);
    memset(want, 0, sizeof want);
    want[0] = want[24] = want[7] = 1;
    assert_frame(f, 25, want);
    /* Without maxpool: 2, 1 and 3 events. */
    o.maxpool_subsampling = 0;
    make_frame(&o, f);
    want[0] = 2, want[24] = 1, want[7] = 3;
    assert_frame(f, 25, want);
    /* 3-sigma clip of the non-zero {2, 1, 3}: sigma = sqrt(2/3), so 3
     * becomes 3 * 0.816 = 2.449, cut to 2. */
    o.clip_three_sigma = 1;
    make_frame(&o, f);
    want[7] = 2;
    assert_frame(f, 25, want);
    /* signed_sum, maxpool: (0,0) +1, (4,4) -1, (1,2) +1 -1 = 0. */
    o = (dvs_opts){{9, 9}, {5, 5}, DVS_SIGNED_SUM, 1, 0, 1, 0, 0};
    make_frame(&o, f);
    memset(want, 0, sizeof want);
    want[0] = 1, want[24] = -1;
    assert_frame(f, 25, want);
    /* signed_sum, no maxpool: +2, -1, +1 +1 -1 = +1.  Clip: mean 2/25 =
     * .08, sigma sqrt(6/25 - .0064) = .483, bounds .08 -+ .725: every
     * value cut toward zero becomes 0. */
    o.maxpool_subsampling = 0;
    o.clip_three_sigma = 1;
    make_frame(&o, f);
    memset(want, 0, sizeof want);
    assert_frame(f, 25, want);
    /* Flips and axis order, rectified, maxpool: x' = 4 - x, y' = 4 - y,
     * then [y'][x'] (is_x_first off): (0,0) -> [4][4], (4,4) -> [0][0],
     * (1,2) -> (3,2) -> [2][3]. */
    o = (dvs_opts){{9, 9}, {5, 5}, DVS_RECTIFIED_SUM, 1, 0, 0, 1, 1};
    make_frame(&o, f);
    want[24] = want[0] = want[13] = 1;
    assert_frame(f, 25, want);
    /* Polarity channels: ON in channel 0, OFF in channel 1; (1,2) keeps
     * both events since polarity tells them apart. */
    o = (dvs_opts){{9, 9}, {5, 5}, DVS_SIGNED_CHANNELS, 1, 0, 1, 0, 0};
    make_frame(&o, f);
    memset(want, 0, sizeof want);
    want[0] = 1, want[7] = 1;        /* ON */
    want[25 + 24] = -1, want[25 + 7] = -1; /* OFF, signed */
    assert_frame(f, 50, want);
    o.method = DVS_RECTIFIED_CHANNELS;
    make_frame(&o, f);
    want[25 + 24] = 1, want[25 + 7] = 1;
    assert_frame(f, 50, want);
    /* Frames of a recording scale together: (f - min) / max. */
    float seq[4] = {-1, 0, 2, 1};
    dvs_scale_frames(seq, 4);
    assert_true(seq[0] == 0 && seq[1] == 0.5f && seq[2] == 1.5f &&
                seq[3] == 1);
}

static snn_config *dvs_config(const char *method, const char *extra_key,
                              const char *extra_value)
{
    char dir[512];
    snn_config *cfg;
    snn_error err = {0};
    assert_int_equal(snn_config_new(&cfg, &err), SNN_OK);
    const char *kv[][3] = {
        {"paths", "dataset_path", tu_fixture(dir, sizeof dir, "aedat/dataset")},
        {"input", "dataset_format", "aedat"},
        {"input", "frame_gen_method", method},
        {"input", "num_dvs_events_per_sample", "2"},
        {"input", "chip_size", "(240, 180)"},
        {"input", "is_x_first", "True"},
        {"input", "do_clip_three_sigma", "False"},
        {"input", extra_key, extra_value},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (snn_config_set(cfg, kv[i][0], kv[i][1], kv[i][2], &err) != SNN_OK)
            fail_msg("%s: %s", kv[i][1], err.msg);
    return cfg;
}

static const size_t frame_dims[3] = {1, 240, 180};
#define PX(x, y) ((size_t)(x) * 180 + (size_t)(y))

static void open_dvs(snn_dataset_src **src, snn_config *cfg)
{
    snn_error err = {0};
    if (snn_dataset_open(src, cfg, 3, frame_dims, &err) != SNN_OK)
        fail_msg("%s", err.msg);
}

/* rec1 (class a): 5 events -> samples of 2, 2, 1; rec2 (class b): 3 events,
 * 2 outside the 240 x 180 chip -> 1 sample. */
static void test_dataset_samples(void **state)
{
    (void)state;
    snn_config *cfg = dvs_config("rectified_sum", "maxpool_subsampling",
                                 "True");
    snn_dataset_src *src;
    open_dvs(&src, cfg);
    assert_int_equal(snn_dataset_src_size(src), 4);
    assert_int_equal(snn_dataset_src_classes(src), 2);
    const int labels[] = {0, 0, 0, 1};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(snn_dataset_src_label(src, i), labels[i]);
    size_t idx[] = {0, 1, 2, 3};
    snn_tensor x = {0}, y = {0};
    snn_error err = {0};
    assert_int_equal(snn_dataset_src_read(src, idx, 4, &x, &y, &err), SNN_OK);
    assert_int_equal(x.dims[0], 4);
    assert_int_equal(x.dims[2], 240);
    size_t per = 240 * 180;
    float want[4 * 240 * 180];
    memset(want, 0, sizeof want);
    want[PX(0, 0)] = want[PX(239, 179)] = 1;   /* (0,0,0,+) (239,179,1,+) */
    want[per + PX(120, 90)] = 1;               /* two identical OFF events */
    want[2 * per + PX(60, 45)] = 1;
    want[3 * per + PX(10, 10)] = 1;
    for (size_t i = 0; i < 4 * per; i++)
        if (x.data[i] != want[i])
            fail_msg("sample %zu pixel %zu: %g, want %g", i / per, i % per,
                     x.data[i], want[i]);
    assert_true(y.data[0] == 1 && y.data[7] == 1 && y.data[6] == 0);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_dataset_close(src);
    snn_config_free(cfg);

    /* signed_sum: the OFF pixel is -1, and rec1's frames scale together:
     * (f - (-1)) / 1, so background becomes 1, ON 2, OFF 0. */
    cfg = dvs_config("signed_sum", "maxpool_subsampling", "True");
    open_dvs(&src, cfg);
    size_t one = 1;
    assert_int_equal(snn_dataset_src_read(src, &one, 1, &x, NULL, &err),
                     SNN_OK);
    assert_true(x.data[PX(120, 90)] == 0 && x.data[PX(0, 0)] == 1 &&
                x.data[PX(5, 5)] == 1);
    size_t zero = 0;
    assert_int_equal(snn_dataset_src_read(src, &zero, 1, &x, NULL, &err),
                     SNN_OK);
    assert_true(x.data[PX(0, 0)] == 2 && x.data[PX(239, 179)] == 2);
    snn_tensor_free(&x);
    snn_dataset_close(src);
    snn_config_free(cfg);
}

static void test_dataset_errors(void **state)
{
    (void)state;
    snn_dataset_src *src = NULL;
    snn_error err = {0};
    snn_config *cfg = dvs_config("rectified_sum", "label_dict",
                                 "{'a': 1}");
    assert_int_equal(snn_dataset_open(&src, cfg, 3, frame_dims, &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "label_dict has 1 classes"));
    snn_config_free(cfg);
    cfg = dvs_config("rectified_polarity_channels", "label_dict",
                     "{'a': 1, 'b': 0}");
    assert_int_equal(snn_dataset_open(&src, cfg, 3, frame_dims, &err),
                     SNN_E_SHAPE);
    assert_non_null(strstr(err.msg, "2-channel frames"));
    snn_config_free(cfg);
    /* Event frames have one channel, as the original's. */
    cfg = dvs_config("rectified_polarity_channels", "eventframe_width", "10");
    const size_t two[3] = {2, 240, 180};
    assert_int_equal(snn_dataset_open(&src, cfg, 3, two, &err),
                     SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "eventframe_width"));
    snn_config_free(cfg);
    /* label_dict swaps the classes. */
    cfg = dvs_config("rectified_sum", "label_dict", "{'a': 1, 'b': 0}");
    open_dvs(&src, cfg);
    assert_int_equal(snn_dataset_src_label(src, 0), 1);
    assert_int_equal(snn_dataset_src_label(src, 3), 0);
    size_t bad = 4;
    snn_tensor x = {0};
    assert_int_equal(snn_dataset_src_read(src, &bad, 1, &x, NULL, &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "out of range"));
    snn_dataset_close(src);
    snn_config_free(cfg);
}

/* Input (43200 = 240 x 180, flat) -> Dense (2), IF: output 0 weighs pixels
 * (0,0) by .5 and (239,179) by .25; output 1 pixels (120,90) by .75 and
 * (60,45) by .125. */
static void build_dvs_net(snn_net *net)
{
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    snn_layer in, d;
    snn_layer_defaults(&in, SNN_OP_INPUT, "in", NULL);
    in.shape = (snn_shape){1, {240 * 180}};
    assert_int_equal(snn_graph_add(&g, &in, NULL, &err), SNN_OK);
    snn_layer_defaults(&d, SNN_OP_DENSE, "out", NULL);
    size_t wd[2] = {2, 240 * 180};
    assert_int_equal(snn_tensor_init(&d.weight, 2, wd, &err), SNN_OK);
    d.weight.data[PX(0, 0)] = 0.5f;
    d.weight.data[PX(239, 179)] = 0.25f;
    d.weight.data[wd[1] + PX(120, 90)] = 0.75f;
    d.weight.data[wd[1] + PX(60, 45)] = 0.125f;
    d.act = SNN_ACT_RELU;
    d.n_inputs = 1;
    assert_int_equal(snn_graph_add(&g, &d, NULL, &err), SNN_OK);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts o = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    assert_int_equal(snn_convert(&g, &o, net, &err), SNN_OK);
    snn_graph_free(&g);
}

static snn_status fetch_frames(void *user, size_t first, size_t n, float *x,
                               snn_error *err)
{
    snn_tensor t = {0};
    size_t idx[4];
    for (size_t i = 0; i < n; i++)
        idx[i] = first + i;
    snn_status st = snn_dataset_src_read(user, idx, n, &t, NULL, err);
    if (st == SNN_OK)
        memcpy(x, t.data, snn_tensor_numel(&t) * sizeof *x);
    snn_tensor_free(&t);
    return st;
}

static void test_network_on_frames(void **state)
{
    (void)state;
    snn_config *cfg = dvs_config("rectified_sum", "maxpool_subsampling",
                                 "True");
    snn_dataset_src *src;
    open_dvs(&src, cfg);
    snn_net net;
    build_dvs_net(&net);
    size_t yd[2] = {4, 2};
    snn_tensor y;
    snn_error err = {0};
    assert_int_equal(snn_tensor_init(&y, 2, yd, &err), SNN_OK);
    for (size_t i = 0; i < 4; i++)
        y.data[i * 2 + (size_t)snn_dataset_src_label(src, i)] = 1;
    float counts[8] = {0};
    float *per_layer[1] = {counts};
    snn_sim_record rec = {NULL, NULL, NULL, per_layer, 4, NULL, NULL};
    snn_sim_opts o = {.steps = 8, .batch_size = 3, .top_k = 1, .seed = 1,
                      .record = &rec};
    snn_sim_result r;
    assert_int_equal(snn_simulate_fetch(&net, fetch_frames, src, &y, 4, &o,
                                        &r, &err), SNN_OK);
    /* Constant currents over 8 steps, reset by subtraction:
     * sample 0: .5 + .25 = .75 -> 6 spikes, 0; sample 1: 0, .75 -> 6;
     * sample 2: 0, .125 -> 1; sample 3: nothing (pixel (10,10)). */
    const float want[8] = {6, 0, 0, 6, 0, 1, 0, 0};
    for (int i = 0; i < 8; i++)
        if (counts[i] != want[i])
            fail_msg("sample %d output %d: %g spikes, want %g", i / 2, i % 2,
                     counts[i], want[i]);
    assert_int_equal(r.predictions[0], 0);
    assert_int_equal(r.predictions[1], 1);
    assert_int_equal(r.predictions[2], 1);
    assert_int_equal(r.predictions[3], -1);
    assert_int_equal(r.top1, 1);
    snn_sim_result_free(&r);
    snn_tensor_free(&y);
    snn_net_free(&net);
    snn_dataset_close(src);
    snn_config_free(cfg);
}

/* rec1 and rec2 in samples of 5 events, with eventframe_width. */
static snn_config *step_config(const char *width, int maxpool, int clip)
{
    snn_error err = {0};
    snn_config *cfg = dvs_config("rectified_sum", "eventframe_width", width);
    if (snn_config_set(cfg, "input", "num_dvs_events_per_sample", "5",
                       &err) != SNN_OK ||
        snn_config_set(cfg, "input", "maxpool_subsampling",
                       maxpool ? "True" : "False", &err) != SNN_OK ||
        snn_config_set(cfg, "input", "do_clip_three_sigma",
                       clip ? "True" : "False", &err) != SNN_OK)
        fail_msg("%s", err.msg);
    return cfg;
}

/* Sample k of the last read, step t: exactly the pixels px[0..n). */
static void assert_step_frame(snn_dataset_src *src, size_t k, int t,
                              const size_t *px, size_t n)
{
    static float f[240 * 180], want[240 * 180];
    snn_error err = {0};
    if (snn_dataset_src_step_frame(src, k, t, f, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    memset(want, 0, sizeof want);
    for (size_t i = 0; i < n; i++)
        want[px[i]] = 1;
    for (size_t i = 0; i < 240 * 180; i++)
        if (f[i] != want[i])
            fail_msg("sample %zu step %d pixel (%zu, %zu): %g, want %g", k, t,
                     i / 180, i % 180, f[i], want[i]);
}

/* rec1's events (x, y, t, p): e0 (0,0,0,+), e1 (239,179,1,+),
 * e2 (120,90,2,-), e3 = e2, e4 (60,45,3,+): one sample of 5; rec2 keeps
 * (10,10,0,-): one sample.  A step's frame takes the remaining events in
 * order, one per pixel, and ends after the first event more than width
 * after its first remaining event (the original's get_binary_frame). */
static void test_step_frames(void **state)
{
    (void)state;
    const size_t p00 = PX(0, 0), pend = PX(239, 179), pmid = PX(120, 90),
                 pq = PX(60, 45), p10 = PX(10, 10);
    size_t idx[] = {0, 1};
    snn_tensor x = {0};
    snn_error err = {0};
    snn_dataset_src *src;
    /* width 2: step 0 takes e0, e1, e2, then e3 waits (its pixel is
     * taken) and e4 (3 - 0 > 2) ends it; step 1 takes e3. */
    snn_config *cfg = step_config("2", 0, 0);
    open_dvs(&src, cfg);
    assert_true(snn_dataset_src_stepped(src));
    assert_int_equal(snn_dataset_src_size(src), 2);
    assert_int_equal(snn_dataset_src_read(src, idx, 2, &x, NULL, &err), SNN_OK);
    assert_step_frame(src, 0, 0, (size_t[]){p00, pend, pmid, pq}, 4);
    assert_step_frame(src, 0, 1, (size_t[]){pmid}, 1);
    assert_step_frame(src, 0, 2, NULL, 0);
    assert_step_frame(src, 1, 0, (size_t[]){p10}, 1);
    assert_step_frame(src, 1, 1, NULL, 0);
    /* A read of sample 1 alone: it is now the read's sample 0. */
    assert_int_equal(snn_dataset_src_read(src, idx + 1, 1, &x, NULL, &err),
                     SNN_OK);
    assert_step_frame(src, 0, 0, (size_t[]){p10}, 1);
    assert_int_equal(snn_dataset_src_step_frame(src, 1, 0, x.data, &err),
                     SNN_E_INVALID);
    snn_dataset_close(src);
    snn_config_free(cfg);
    /* width 1: step 0 takes e0, e1, e2 (2 - 0 > 1 ends it); step 1 e3,
     * e4. */
    cfg = step_config("1", 0, 0);
    open_dvs(&src, cfg);
    assert_int_equal(snn_dataset_src_read(src, idx, 2, &x, NULL, &err), SNN_OK);
    assert_step_frame(src, 0, 0, (size_t[]){p00, pend, pmid}, 3);
    assert_step_frame(src, 0, 1, (size_t[]){pmid, pq}, 2);
    assert_step_frame(src, 0, 2, NULL, 0);
    snn_dataset_close(src);
    snn_config_free(cfg);
    /* maxpool_subsampling drops e3 (a copy of e2); width 2 then takes
     * every event at step 0. */
    cfg = step_config("2", 1, 0);
    open_dvs(&src, cfg);
    assert_int_equal(snn_dataset_src_read(src, idx, 2, &x, NULL, &err), SNN_OK);
    assert_step_frame(src, 0, 0, (size_t[]){p00, pend, pmid, pq}, 4);
    assert_step_frame(src, 0, 1, NULL, 0);
    snn_dataset_close(src);
    snn_config_free(cfg);
    /* 3-sigma clipping keeps per pixel as many events as the clipped sum:
     * sums {1, 1, 2, 1}, mean 1.25, sigma sqrt(.1875) = .433, 3 sigma =
     * 1.299, so (120,90)'s 2 becomes 1 and e3, its later event, is
     * dropped: with width 1, step 0 takes e0, e1, e2 and step 1 e4. */
    cfg = step_config("1", 0, 1);
    open_dvs(&src, cfg);
    assert_int_equal(snn_dataset_src_read(src, idx, 2, &x, NULL, &err), SNN_OK);
    assert_step_frame(src, 0, 0, (size_t[]){p00, pend, pmid}, 3);
    assert_step_frame(src, 0, 1, (size_t[]){pq}, 1);
    assert_step_frame(src, 0, 2, NULL, 0);
    snn_tensor_free(&x);
    snn_dataset_close(src);
    snn_config_free(cfg);
}

/* What a run's pipeline does: frames of the batch fetched last. */
typedef struct step_feed {
    snn_dataset_src *src;
    size_t first;
} step_feed;

static snn_status fetch_step_batch(void *user, size_t first, size_t n,
                                   float *x, snn_error *err)
{
    step_feed *f = user;
    f->first = first;
    return fetch_frames(f->src, first, n, x, err);
}

static snn_status step_input(void *user, size_t sample, int t, float *frame,
                             snn_error *err)
{
    step_feed *f = user;
    return snn_dataset_src_step_frame(f->src, sample - f->first, t, frame,
                                      err);
}

/* build_dvs_net (threshold 1, reset by subtraction) on the width 2 frames
 * of test_step_frames over 8 steps.  Sample 0: step 0 (0,0) + (239,179)
 * give output 0 .5 + .25 = .75, (120,90) + (60,45) output 1 .75 + .125 =
 * .875; step 1 (120,90) adds .75: 1.625 >= 1, one spike, .625 left; then
 * no input.  Counts (0, 1), v after steps 0 and 1: (.75, .875), (.75,
 * .625), then unchanged.  (A constant frame would make output 0 fire
 * too.)  Sample 1: (10,10) weighs nothing: no spike.  Synaptic
 * operations: 5 + 1 input spikes times fan-out 2 = 12. */
static void test_network_on_step_frames(void **state)
{
    (void)state;
    snn_config *cfg = step_config("2", 0, 0);
    step_feed feed = {NULL, 0};
    open_dvs(&feed.src, cfg);
    snn_net net;
    build_dvs_net(&net);
    size_t yd[2] = {2, 2};
    snn_tensor y;
    snn_error err = {0};
    assert_int_equal(snn_tensor_init(&y, 2, yd, &err), SNN_OK);
    y.data[0] = y.data[3] = 1;
    float counts[4], vmem[16];
    unsigned char raster[16];
    float *per_layer[1] = {counts}, *vm[1] = {vmem};
    unsigned char *ras[1] = {raster};
    snn_sim_record rec = {NULL, NULL, NULL, per_layer, 2, ras, vm};
    snn_sim_opts o = {.steps = 8, .batch_size = 2, .top_k = 1, .seed = 1,
                      .record = &rec, .step_input = step_input,
                      .step_user = &feed};
    const float want_v[16] = {.75f, .875f, .75f, .625f, .75f, .625f, .75f,
                              .625f, .75f, .625f, .75f, .625f, .75f, .625f,
                              .75f, .625f};
    for (int engine = SNN_ENGINE_AUTO; engine <= SNN_ENGINE_REFERENCE;
         engine++) {
        snn_sim_result r;
        o.engine = (snn_sim_engine)engine;
        o.early_stopping = 0;
        memset(counts, 0xFF, sizeof counts);
        memset(vmem, 0xFF, sizeof vmem);
        if (snn_simulate_fetch(&net, fetch_step_batch, &feed, &y, 2, &o, &r,
                               &err) != SNN_OK)
            fail_msg("engine %d: %s", engine, err.msg);
        assert_true(counts[0] == 0 && counts[1] == 1 && counts[2] == 0 &&
                    counts[3] == 0);
        for (int k = 0; k < 16; k++) {
            assert_int_equal(raster[k], k == 3);
            if (vmem[k] != want_v[k])
                fail_msg("step %d neuron %d: v %g, want %g", k / 2, k % 2,
                         vmem[k], want_v[k]);
        }
        assert_int_equal(r.predictions[0], 1);
        assert_int_equal(r.predictions[1], -1);
        assert_int_equal(r.top1, 0);
        assert_true(r.synops == 12);
        assert_true(r.neuron_steps == 2 * 8 * 2);
        snn_sim_result_free(&r);
        /* early_stopping: sample 0 ends at its empty step 2, sample 1 at
         * step 1: 2 + 1 steps of 2 neurons; the counts stay. */
        o.early_stopping = 1;
        assert_int_equal(snn_simulate_fetch(&net, fetch_step_batch, &feed, &y,
                                            2, &o, &r, &err), SNN_OK);
        assert_true(r.neuron_steps == (2 + 1) * 2);
        assert_true(counts[1] == 1 && r.synops == 12);
        snn_sim_result_free(&r);
    }
    /* Step frames and Poisson input exclude each other. */
    o.engine = SNN_ENGINE_AUTO;
    o.input_rate = 1000;
    snn_sim_result r;
    assert_int_equal(snn_simulate_fetch(&net, fetch_step_batch, &feed, &y, 2,
                                        &o, &r, &err), SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "Poisson"));
    snn_tensor_free(&y);
    snn_net_free(&net);
    snn_dataset_close(feed.src);
    snn_config_free(cfg);
}

/* Spikes of two values (1 at (0,0), 2 at (239,179)) every step. */
static snn_status two_values(void *user, size_t sample, int t, float *frame,
                             snn_error *err)
{
    (void)user, (void)sample, (void)t, (void)err;
    memset(frame, 0, 240 * 180 * sizeof *frame);
    frame[PX(0, 0)] = 1;
    frame[PX(239, 179)] = 2;
    return SNN_OK;
}

static snn_status unreadable(void *user, size_t sample, int t, float *frame,
                             snn_error *err)
{
    (void)user, (void)frame;
    return snn_error_set(err, SNN_E_IO, "sample %zu step %d unreadable",
                         sample, t);
}

/* The reference engine takes any frame: output 0 gets .5 + 2 * .25 = 1
 * each step, 8 spikes in 8 steps; the event engine needs one spike value
 * and says so.  A failing step_input's error comes back from every
 * engine. */
static void test_step_input_errors(void **state)
{
    (void)state;
    snn_net net;
    build_dvs_net(&net);
    size_t xd[2] = {1, 240 * 180}, yd[2] = {1, 2};
    snn_tensor x, y;
    snn_error err = {0};
    assert_int_equal(snn_tensor_init(&x, 2, xd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&y, 2, yd, &err), SNN_OK);
    y.data[0] = 1;
    snn_sim_opts o = {.steps = 8, .batch_size = 1, .top_k = 1,
                      .step_input = two_values,
                      .engine = SNN_ENGINE_REFERENCE};
    snn_sim_result r;
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err), SNN_OK);
    assert_true(r.layer_spikes[0] == 8 && r.predictions[0] == 0);
    snn_sim_result_free(&r);
    o.engine = SNN_ENGINE_EVENT;
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err),
                     SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "one positive value"));
    o.step_input = unreadable;
    for (int engine = SNN_ENGINE_AUTO; engine <= SNN_ENGINE_REFERENCE;
         engine++) {
        o.engine = (snn_sim_engine)engine;
        memset(&err, 0, sizeof err);
        assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err),
                         SNN_E_IO);
        assert_string_equal(err.msg, "sample 0 step 0 unreadable");
    }
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_v1),
        cmocka_unit_test(test_read_v2),
        cmocka_unit_test(test_read_v3),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_frames_by_hand),
        cmocka_unit_test(test_dataset_samples),
        cmocka_unit_test(test_dataset_errors),
        cmocka_unit_test(test_network_on_frames),
        cmocka_unit_test(test_step_frames),
        cmocka_unit_test(test_network_on_step_frames),
        cmocka_unit_test(test_step_input_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
