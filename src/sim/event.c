/*
 * event.c - the event-driven engine (see event.h).
 *
 * Work per step is proportional to the spikes: a spike at input position
 * q, channel c adds, for each tap of q, one contiguous run of weights
 * (its output channels) to one output position's currents.  The runs are
 * added with AVX-512 where the CPU has it (chosen once, at run time) and
 * with a plain loop elsewhere.  When a layer's input is busy, one BLAS
 * product over the whole input is cheaper than many short runs: the
 * engine then gathers instead (im2col for convolutions, gemv for dense
 * layers).  Both sum the same products; only the rounding order differs.
 * An Add's neurons take the scatters of all their projections onto a
 * current whose constant part (bias, projections from the analog input)
 * was summed once per sample; index maps and concatenations re-index
 * spikes through tables, with no neurons.
 */
#include "sim/event.h"

#include <cblas.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"
#include "sim/input.h"
#include "sim/neuron.h"

/* Input spike density above which a layer step gathers.  On LeNet, at a
 * mean density of about 4 %, gathering every step (engine dense) took 9
 * times as long as scattering (bench/results.md): the two break even
 * near 35 %. */
#define GATHER_DENSITY 0.35
/* Gathering needs an im2col buffer; larger layers always scatter. */
#define GATHER_MAX_FLOATS ((size_t)1 << 22)

typedef struct layer_work {
    float *v, *cur, *spk;  /* neuron layers; spk: softmax draws */
    uint32_t *ev;          /* this step's spikes (internal indices) */
    size_t nev;
    uint32_t *count;       /* max gate: input spike counts */
    uint32_t *lead;        /* max gate: each window's leader (input index) */
    int32_t *lead_t;       /* max gate: its kernel offset; -1: no input */
    /* Direct max gate (plan gate_o): each input's key, its count * k plus
     * its tie rank, and each window's largest key, its leader's (one more
     * slot for "no window"). */
    uint64_t *in_key, *lead_key;
    uint32_t *refrac_until; /* tau_refrac: first step integrating again */
    size_t gather_at;      /* gather when at least this many input spikes */
    float *base;           /* Add: its current's part constant in a sample */
} layer_work;

struct sim_work {
    layer_work *l;
    int n;
    float *dense_in;       /* a gathered layer's input as 0/1 */
    float *cols;           /* im2col of a gathered convolution */
    int wide;              /* the CPU has AVX-512 */
    float *frame;          /* Poisson input: this step's frame */
    layer_work in;         /* Poisson input: its spikes as events */
    layer_work in_neg;     /* Poisson input: its negative spikes */
    float *cur_neg;        /* their current into a layer reading them */
    long fired_in;         /* Poisson input spikes of the sample so far */
    float *proj_out;       /* a current from the constant input, canonical */
};

static size_t cols_size(const plan_layer *pl)
{
    if (pl->kind != PLAN_CONV)
        return 0;
    size_t n = pl->out_p * pl->k * pl->cin_grp;
    return n <= GATHER_MAX_FLOATS ? n : 0;
}

static int can_gather(const plan_layer *pl, int i)
{
    return i > 0 && (pl->kind == PLAN_DENSE || cols_size(pl) > 0);
}

static void layer_work_init(layer_work *lw, const snn_net *net,
                            const plan_layer *pl, int i, int *ok)
{
    const snn_net_layer *l = &net->layers[i];
    /* One spare slot: the max gate writes an event before it knows
     * whether to keep it. */
    lw->ev = plan_alloc(pl->out_n + 1, sizeof *lw->ev, ok);
    if (pl->kind == PLAN_ADD)
        lw->base = plan_alloc(pl->out_n, sizeof *lw->base, ok);
    if (pl->kind == PLAN_CONV || pl->kind == PLAN_DENSE || pl->kind == PLAN_AVG ||
        pl->kind == PLAN_ADD || pl->kind == PLAN_CONVT) {
        lw->v = plan_alloc(pl->out_n, sizeof *lw->v, ok);
        lw->cur = plan_alloc(pl->out_n, sizeof *lw->cur, ok);
        if (l->unit == SNN_UNIT_SOFTMAX)
            lw->spk = plan_alloc(pl->out_n, sizeof *lw->spk, ok);
        if (net->cell.tau_refrac > 0)
            lw->refrac_until = plan_alloc(pl->out_n, sizeof *lw->refrac_until,
                                          ok);
    }
    if (pl->kind == PLAN_MAXGATE && pl->gate_o) {
        lw->in_key = plan_alloc(pl->in_n, sizeof *lw->in_key, ok);
        lw->lead_key = plan_alloc(pl->out_n + 1, sizeof *lw->lead_key, ok);
    } else if (pl->kind == PLAN_MAXGATE) {
        lw->count = plan_alloc(pl->in_n, sizeof *lw->count, ok);
        lw->lead = plan_alloc(pl->out_n, sizeof *lw->lead, ok);
        lw->lead_t = plan_alloc(pl->out_n, sizeof *lw->lead_t, ok);
    }
    lw->gather_at = can_gather(pl, i)
                        ? (size_t)(GATHER_DENSITY * (double)pl->in_n) + 1
                        : SIZE_MAX;
}

snn_status sim_work_create(const snn_net *net, const sim_plan *plan,
                           sim_work **work, snn_error *err)
{
    sim_work *w = calloc(1, sizeof *w);
    int ok = w != NULL;
    size_t in_max = 0, cols_max = 0, add_max = 0;
    if (ok) {
        w->n = net->n_layers;
        w->l = plan_alloc((size_t)net->n_layers, sizeof *w->l, &ok);
    }
    for (int i = 0; ok && i < net->n_layers; i++) {
        const plan_layer *pl = &plan->layers[i];
        layer_work_init(&w->l[i], net, pl, i, &ok);
        if ((pl->kind == PLAN_ADD || net->layers[i].input < 0) &&
            pl->out_n > add_max)
            add_max = pl->out_n;
        if (can_gather(pl, i)) {
            in_max = pl->in_n > in_max ? pl->in_n : in_max;
            cols_max = cols_size(pl) > cols_max ? cols_size(pl) : cols_max;
        }
    }
    size_t n_x = snn_shape_numel(&net->input_shape);
    if (ok) {
        w->frame = plan_alloc(n_x, sizeof *w->frame, &ok);
        w->in.ev = plan_alloc(n_x, sizeof *w->in.ev, &ok);
        w->in_neg.ev = plan_alloc(n_x, sizeof *w->in_neg.ev, &ok);
        size_t neg_n = plan->layers[0].out_n > add_max ? plan->layers[0].out_n
                                                        : add_max;
        w->cur_neg = plan_alloc(neg_n, sizeof *w->cur_neg, &ok);
        w->dense_in = plan_alloc(in_max, sizeof *w->dense_in, &ok);
        w->cols = plan_alloc(cols_max, sizeof *w->cols, &ok);
        w->proj_out = plan_alloc(add_max, sizeof *w->proj_out, &ok);
        w->wide = __builtin_cpu_supports("avx512f");
    }
    if (!ok) {
        sim_work_free(w);
        return snn_error_set(err, SNN_E_NOMEM,
                             "cannot allocate a thread's simulation state");
    }
    *work = w;
    return SNN_OK;
}

void sim_work_free(sim_work *w)
{
    if (!w)
        return;
    for (int i = 0; w->l && i < w->n; i++) {
        free(w->l[i].v);
        free(w->l[i].cur);
        free(w->l[i].spk);
        free(w->l[i].ev);
        free(w->l[i].count);
        free(w->l[i].lead);
        free(w->l[i].lead_t);
        free(w->l[i].in_key);
        free(w->l[i].lead_key);
        free(w->l[i].refrac_until);
        free(w->l[i].base);
    }
    free(w->l);
    free(w->frame);
    free(w->in.ev);
    free(w->in_neg.ev);
    free(w->cur_neg);
    free(w->dense_in);
    free(w->cols);
    free(w->proj_out);
    free(w);
}

__attribute__((target("avx512f"))) static inline void
add_run_avx512(float *restrict d, const float *restrict s, size_t n)
{
    size_t o = 0;
    for (; o + 16 <= n; o += 16)
        _mm512_storeu_ps(d + o, _mm512_add_ps(_mm512_loadu_ps(d + o),
                                              _mm512_loadu_ps(s + o)));
    if (o < n) {
        __mmask16 m = (__mmask16)((1u << (n - o)) - 1);
        __m512 a = _mm512_maskz_loadu_ps(m, d + o);
        _mm512_mask_storeu_ps(d + o, m,
                              _mm512_add_ps(a, _mm512_maskz_loadu_ps(m, s + o)));
    }
}

static inline void add_run_plain(float *restrict d, const float *restrict s,
                                 size_t n)
{
    for (size_t o = 0; o < n; o++)
        d[o] += s[o];
}

/* Two spikes' runs into the same currents: (d + s) + t, the order of two
 * add_run calls, with one load and store of d. */
__attribute__((target("avx512f"))) static inline void
add_runs2_avx512(float *restrict d, const float *restrict s,
                 const float *restrict t, size_t n)
{
    size_t o = 0;
    for (; o + 16 <= n; o += 16) {
        __m512 a = _mm512_add_ps(_mm512_loadu_ps(d + o), _mm512_loadu_ps(s + o));
        _mm512_storeu_ps(d + o, _mm512_add_ps(a, _mm512_loadu_ps(t + o)));
    }
    if (o < n) {
        __mmask16 m = (__mmask16)((1u << (n - o)) - 1);
        __m512 a = _mm512_add_ps(_mm512_maskz_loadu_ps(m, d + o),
                                 _mm512_maskz_loadu_ps(m, s + o));
        _mm512_mask_storeu_ps(d + o, m,
                              _mm512_add_ps(a, _mm512_maskz_loadu_ps(m, t + o)));
    }
}

static inline void add_runs2_plain(float *restrict d, const float *restrict s,
                                   const float *restrict t, size_t n)
{
    for (size_t o = 0; o < n; o++)
        d[o] = (d[o] + s[o]) + t[o];
}

/* A dense layer's scatter: its currents, 128 at a time, summed in
 * registers over the spikes in their order (cur + w1 + w2 ..., as one
 * run per spike adds them) and stored once. */
__attribute__((target("avx512f"))) static void
sum_rows_avx512(float *cur, const float *w, size_t out_n, const uint32_t *ev,
                size_t nev)
{
    for (size_t c0 = 0; c0 < out_n; c0 += 128) {
        __m512 acc[8];
        __mmask16 m[8];
        for (size_t v = 0; v < 8; v++) {
            size_t lo = c0 + 16 * v;
            size_t n = lo >= out_n ? 0 : out_n - lo > 16 ? 16 : out_n - lo;
            m[v] = (__mmask16)((1u << n) - 1);
            acc[v] = _mm512_maskz_loadu_ps(m[v], cur + lo);
        }
        for (size_t e = 0; e < nev; e++) {
            const float *row = w + (size_t)ev[e] * out_n + c0;
            for (size_t v = 0; v < 8; v++)
                acc[v] = _mm512_add_ps(acc[v],
                                       _mm512_maskz_loadu_ps(m[v], row + 16 * v));
        }
        for (size_t v = 0; v < 8; v++)
            _mm512_mask_storeu_ps(cur + c0 + 16 * v, m[v], acc[v]);
    }
}

/* The scatter of one step's input spikes, written once and compiled for
 * both instruction sets by the two wrappers below.  Returns the synaptic
 * operations done. */
static inline __attribute__((always_inline)) double
scatter_body(const plan_layer *pl, const uint32_t *ev, size_t nev,
             float *cur, int wide)
{
    if (pl->kind == PLAN_DENSE) {
        if (wide)
            sum_rows_avx512(cur, pl->w, pl->out_n, ev, nev);
        for (size_t e = 0; e < nev && !wide; e++)
            add_run_plain(cur, pl->w + (size_t)ev[e] * pl->out_n, pl->out_n);
        return (double)nev * (double)pl->out_n;
    }
    /* The plan's tables in locals: the vector stores may alias anything,
     * so fields read through pl would be reloaded after every run. */
    const plan_in *in_ev = pl->in_ev;
    const uint32_t *q_start = pl->q_start;
    const plan_tap *taps = pl->taps;
    const float *weights = pl->w;
    size_t synops = 0;
    for (size_t e = 0; e < nev; e++) {
        const plan_in *in = &in_ev[ev[e]];
        float *dst = cur + in->d;
        const float *src = weights + in->w;
        uint32_t t0 = q_start[in->q], t1 = q_start[in->q + 1];
        /* The next spike at the same position (another channel; they
         * come in a row) has the same taps: both in one pass. */
        const plan_in *next = e + 1 < nev ? &in_ev[ev[e + 1]] : in;
        if (next != in && next->q == in->q && next->d == in->d) {
            const float *src2 = weights + next->w;
            for (uint32_t t = t0; t < t1; t++) {
                plan_tap tap = taps[t];
                synops += 2 * (size_t)tap.len;
                if (wide)
                    add_runs2_avx512(dst + tap.dst, src + tap.src,
                                     src2 + tap.src, (size_t)tap.len);
                else
                    add_runs2_plain(dst + tap.dst, src + tap.src,
                                    src2 + tap.src, (size_t)tap.len);
            }
            e++;
            continue;
        }
        for (uint32_t t = t0; t < t1; t++) {
            plan_tap tap = taps[t];
            synops += (size_t)tap.len;
            if (wide)
                add_run_avx512(dst + tap.dst, src + tap.src, (size_t)tap.len);
            else
                add_run_plain(dst + tap.dst, src + tap.src, (size_t)tap.len);
        }
    }
    return (double)synops;
}

__attribute__((target("avx512f"))) static double
scatter_avx512(const plan_layer *pl, const uint32_t *ev, size_t nev, float *cur)
{
    return scatter_body(pl, ev, nev, cur, 1);
}

static double scatter_plain(const plan_layer *pl, const uint32_t *ev,
                            size_t nev, float *cur)
{
    return scatter_body(pl, ev, nev, cur, 0);
}

/* Average pooling: each spike adds v_thresh to its windows' sums, which
 * are divided by the window sizes as the ANN kernel does. */
static double scatter_avg(const plan_layer *pl, const uint32_t *ev,
                          size_t nev, float vth, float *cur)
{
    size_t taps = 0;
    memset(cur, 0, pl->out_n * sizeof *cur);
    for (size_t e = 0; e < nev; e++) {
        const plan_in *in = &pl->in_ev[ev[e]];
        uint32_t t0 = pl->q_start[in->q], t1 = pl->q_start[in->q + 1];
        taps += t1 - t0;
        for (uint32_t t = t0; t < t1; t++)
            cur[(size_t)pl->taps[t].dst + in->d] += vth;
    }
    for (size_t p = 0; p < pl->out_p; p++)
        for (size_t c = 0; c < pl->out_c; c++)
            if (pl->win_n[p])
                cur[p * pl->out_c + c] /= (float)pl->win_n[p];
    return (double)taps;
}

/* cur += W x for the whole 0/1 input x, as BLAS products. */
static void gather(const plan_layer *pl, const uint32_t *ev, size_t nev,
                   sim_work *w, float *cur)
{
    float *x = w->dense_in;
    memset(x, 0, pl->in_n * sizeof *x);
    for (size_t e = 0; e < nev; e++)
        x[ev[e]] = 1.0f;
    if (pl->kind == PLAN_DENSE) {
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)pl->in_n, (int)pl->out_n,
                    1.0f, pl->w, (int)pl->out_n, x, 1, 1.0f, cur, 1);
        return;
    }
    /* im2col in the weights' row order: (channel, kh, kw reversed). */
    size_t cg = pl->cin_grp, og = pl->out_grp, k = pl->k, kg = k * cg;
    size_t kw = pl->kw;
    for (size_t g = 0; g < pl->groups; g++) {
        for (size_t p = 0; p < pl->out_p; p++)
            for (size_t t = 0; t < k; t++) {
                int32_t q = pl->pk2q[p * k + t];
                float *dst = w->cols + p * kg + t / kw * kw + (kw - 1 - t % kw);
                size_t from = q < 0 ? 0 : (size_t)q * pl->in_c + g * cg;
                for (size_t c = 0; c < cg; c++)
                    dst[c * k] = q < 0 ? 0.0f : x[from + c];
            }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)pl->out_p,
                    (int)og, (int)kg, 1.0f, w->cols, (int)kg,
                    pl->w + g * kg * og, (int)og, 1.0f, cur + g * og,
                    (int)pl->out_c);
    }
}

/* What a gather did in synaptic operations: the spikes' fan-out. */
static double count_synops(const plan_layer *pl, const uint32_t *ev, size_t nev)
{
    if (pl->kind == PLAN_DENSE)
        return (double)nev * (double)pl->out_n;
    size_t synops = 0;
    for (size_t e = 0; e < nev; e++) {
        uint32_t q = pl->in_ev[ev[e]].q;
        for (uint32_t t = pl->q_start[q]; t < pl->q_start[q + 1]; t++)
            synops += (size_t)pl->taps[t].len;
    }
    return (double)synops;
}

/* The currents of neuron layer i from its input spikes (the input's
 * spikes: without the bias); returns the synaptic operations they stand
 * for. */
static double layer_current(const plan_layer *pl, const layer_work *in,
                            sim_work *w, layer_work *lw, float vth,
                            snn_sim_engine engine)
{
    if (pl->kind == PLAN_AVG)
        return scatter_avg(pl, in->ev, in->nev, vth, lw->cur);
    if (in == &w->in || in == &w->in_neg)
        memset(lw->cur, 0, pl->out_n * sizeof *lw->cur);
    else
        memcpy(lw->cur, pl->bias, pl->out_n * sizeof *lw->cur);
    int dense = engine == SNN_ENGINE_DENSE ||
                (engine == SNN_ENGINE_AUTO && in->nev >= lw->gather_at);
    if (dense && lw->gather_at != SIZE_MAX) {
        gather(pl, in->ev, in->nev, w, lw->cur);
        return count_synops(pl, in->ev, in->nev);
    }
    if (w->wide)
        return scatter_avx512(pl, in->ev, in->nev, lw->cur);
    return scatter_plain(pl, in->ev, in->nev, lw->cur);
}

static void fire(const snn_net *net, int i, const plan_layer *pl,
                 layer_work *lw, const snn_rng_key *key)
{
    snn_neuron_params p;
    snn_neuron_params_init(&p, net, i, (int)key->step);
    p.refrac_until = lw->refrac_until;
    if (net->layers[i].unit == SNN_UNIT_IF) {
        lw->nev = snn_if_fire_events(&p, lw->cur, lw->v, lw->ev, pl->out_n);
        return;
    }
    snn_softmax_fire(&p, lw->cur, lw->v, lw->spk, 1, pl->out_n, key);
    lw->nev = 0;
    for (size_t i = 0; i < pl->out_n; i++)
        if (lw->spk[i] != 0)
            lw->ev[lw->nev++] = (uint32_t)i;
}

/* The first in-bounds cell of each window: the leader while all counts
 * are equal (zero).  The direct gate's spare slot (inputs in no window)
 * has a key no input's can reach. */
static void maxgate_reset(const plan_layer *pl, layer_work *lw)
{
    if (lw->count)
        memset(lw->count, 0, pl->in_n * sizeof *lw->count);
    for (size_t i = 0; lw->in_key && i < pl->in_n; i++)
        lw->in_key[i] = pl->gate_tie[i];
    for (size_t p = 0; p < pl->out_p; p++) {
        int32_t first = -1;
        for (size_t t = 0; t < pl->k && first < 0; t++)
            if (pl->pk2q[p * pl->k + t] >= 0)
                first = (int32_t)t;
        for (size_t c = 0; c < pl->out_c; c++) {
            size_t o = p * pl->out_c + c;
            if (lw->lead_key) {
                lw->lead_key[o] = first < 0 ? 0 : pl->k - 1 - (size_t)first;
                continue;
            }
            lw->lead_t[o] = first;
            lw->lead[o] = first < 0 ? UINT32_MAX
                                    : (uint32_t)((size_t)pl->pk2q[p * pl->k +
                                                                  (size_t)first] *
                                                     pl->in_c + c);
        }
    }
    if (lw->lead_key)
        lw->lead_key[pl->out_n] = UINT64_MAX;
}

/* maxgate for windows that do not overlap: each spike has one window,
 * read from a table.  An input's count and tie rank are one key, count
 * * k + rank, unique in its window, so the leader (largest count, first
 * on ties) is the input with the window's largest key, and a spike
 * passes when its input's key is the window's: a running maximum, with
 * neither a branch nor the leader's index to keep. */
static void maxgate_direct(const plan_layer *pl, const layer_work *in,
                           layer_work *lw)
{
    const uint32_t *win = pl->gate_o;
    uint64_t *in_key = lw->in_key, *lead_key = lw->lead_key, k = pl->k;
    size_t nev = in->nev;
    for (size_t e = 0; e < nev; e++) {
        uint32_t i = in->ev[e], o = win[i];
        uint64_t key = in_key[i] += k, old = lead_key[o];
        lead_key[o] = key > old ? key : old;
    }
    size_t n = 0;
    for (size_t e = 0; e < nev; e++) {
        uint32_t i = in->ev[e], o = win[i];
        lw->ev[n] = o;
        n += lead_key[o] == in_key[i];
    }
    lw->nev = n;
}

/* Max-pool gating as snn_maxgate_step: counts go up by this step's
 * spikes, each window's leader is the cell with the largest count (the
 * first in window order on ties), and a window passes its leader's
 * spike.  Counts only grow, one at a time, so a window's leader can only
 * change to the cell just incremented: the leader is kept up to date per
 * spike instead of rescanning every window.  Whether a spike takes the
 * lead or passes is data, not control flow: written without branches,
 * which the CPU could not predict. */
static void maxgate(const plan_layer *pl, const layer_work *in, layer_work *lw)
{
    if (pl->gate_o) {
        maxgate_direct(pl, in, lw);
        return;
    }
    for (size_t e = 0; e < in->nev; e++) {
        uint32_t i = in->ev[e], mine = ++lw->count[i];
        const plan_in *at = &pl->in_ev[i];
        for (uint32_t t = pl->q_start[at->q]; t < pl->q_start[at->q + 1]; t++) {
            size_t o = (size_t)pl->taps[t].dst + at->d;
            int32_t kt = pl->taps[t].src, lead_t = lw->lead_t[o];
            uint32_t lead = lw->lead[o], theirs = lw->count[lead];
            /* The leader itself never takes over: equal count, same kt. */
            int take = (mine > theirs) | ((mine == theirs) & (kt < lead_t));
            lw->lead[o] = take ? i : lead;
            lw->lead_t[o] = take ? kt : lead_t;
        }
    }
    size_t n = 0;
    for (size_t e = 0; e < in->nev; e++) {
        uint32_t i = in->ev[e];
        const plan_in *at = &pl->in_ev[i];
        for (uint32_t t = pl->q_start[at->q]; t < pl->q_start[at->q + 1]; t++) {
            uint32_t o = (uint32_t)pl->taps[t].dst + at->d;
            lw->ev[n] = o;
            n += lw->lead[o] == i;
        }
    }
    lw->nev = n;
}

static void reshape(const plan_layer *pl, const layer_work *in, layer_work *lw)
{
    for (size_t e = 0; e < in->nev; e++)
        lw->ev[e] = pl->reshape[in->ev[e]];
    lw->nev = in->nev;
}

static void sample_reset(const snn_net *net, const sim_plan *plan,
                         sim_work *w, const float *cur0, int keep_v)
{
    for (int i = 0; i < net->n_layers; i++) {
        const plan_layer *pl = &plan->layers[i];
        layer_work *lw = &w->l[i];
        lw->nev = 0;
        if (lw->v && !keep_v)
            snn_membrane_start(net, lw->v, pl->out_n);
        if (lw->count || lw->in_key)
            maxgate_reset(pl, lw);
        if (lw->refrac_until)
            memset(lw->refrac_until, 0, pl->out_n * sizeof *lw->refrac_until);
    }
    w->fired_in = 0;
    if (!cur0)
        return;
    /* cur0 is (C, P); the engine's order is (P, C). */
    const plan_layer *pl0 = &plan->layers[0];
    size_t c_n = pl0->spatial_out ? pl0->out_c : 1;
    size_t p_n = pl0->spatial_out ? pl0->out_p : pl0->out_n;
    for (size_t c = 0; c < c_n; c++)
        for (size_t p = 0; p < p_n; p++)
            w->l[0].cur[p * c_n + c] = cur0[c * p_n + p];
}

/* Layer i's spikes and potentials of step t, in canonical order. */
static void record_layer(const rec_sample *r, int i, int t,
                         const plan_layer *pl, const layer_work *lw)
{
    if (!sim_record_neurons(r, i))
        return;
    for (size_t e = 0; e < lw->nev; e++)
        sim_record_spike(r, i, t, plan_to_canon(pl, lw->ev[e]));
    for (size_t k = 0; lw->v && k < pl->out_n; k++)
        sim_record_vmem(r, i, t, plan_to_canon(pl, k), lw->v[k]);
}

/* What this step's input frame brings through pl into cur, without
 * bias: the spikes of w->in minus those of w->in_neg (scattered apart, so
 * that a frame without negative ones costs nothing more), times scale,
 * their amplitude over v_thresh.  lw: pl's layer (it may gather), or
 * NULL for an Add's projection.  Returns the synaptic operations. */
static double frame_current(const plan_layer *pl, sim_work *w,
                            const layer_work *lw, float *cur, float scale,
                            float vth, snn_sim_engine engine)
{
    size_t at = lw ? lw->gather_at : SIZE_MAX;
    layer_work pos = {.cur = cur, .gather_at = at};
    layer_work neg = {.cur = w->cur_neg, .gather_at = at};
    double ops = 0;
    if (pl->kind == PLAN_SCALE) {
        memset(cur, 0, pl->out_n * sizeof *cur);
        for (size_t e = 0; e < w->in.nev; e++)
            cur[w->in.ev[e]] += pl->w[w->in.ev[e]];
        for (size_t e = 0; e < w->in_neg.nev; e++)
            cur[w->in_neg.ev[e]] -= pl->w[w->in_neg.ev[e]];
        ops = (double)(w->in.nev + w->in_neg.nev);
    } else {
        ops = layer_current(pl, &w->in, w, &pos, vth, engine);
        if (w->in_neg.nev) {
            ops += layer_current(pl, &w->in_neg, w, &neg, vth, engine);
            for (size_t k = 0; k < pl->out_n; k++)
                cur[k] -= neg.cur[k];
        }
    }
    for (size_t k = 0; k < pl->out_n; k++)
        cur[k] *= scale;
    return ops;
}

/* Poisson or step input: the currents of every layer reading this step's
 * frame: the first layer, branches from the input, an Add's projections
 * from it (into its constant part, the bias plus these).  Returns the
 * synaptic operations. */
static double frame_currents(const snn_net *net, const sim_plan *plan,
                             sim_work *w, float scale, snn_sim_engine engine)
{
    double ops = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        const plan_layer *pl = &plan->layers[i];
        layer_work *lw = &w->l[i];
        if (pl->kind == PLAN_ADD) {
            memcpy(lw->base, pl->bias, pl->out_n * sizeof *lw->base);
            for (int j = 0; j < l->n_proj; j++) {
                if (l->proj[j].input >= 0)
                    continue;
                ops += frame_current(&pl->proj[j], w, NULL, w->proj_out,
                                     scale, net->v_thresh, engine);
                for (size_t k = 0; k < pl->out_n; k++)
                    lw->base[k] += w->proj_out[k];
            }
        } else if (l->input < 0 && lw->cur) {
            ops += frame_current(pl, w, lw, lw->cur, scale, net->v_thresh,
                                 engine);
            for (size_t k = 0; k < pl->out_n; k++)
                lw->cur[k] = pl->bias[k] + lw->cur[k];
        }
    }
    return ops;
}

/* This step's frame of o->step_input into w->frame; its non-zero values
 * are spikes that must all carry one positive amplitude (*amp). */
static snn_status step_frame(const snn_net *net, sim_work *w, uint64_t sample,
                             int t, const snn_sim_opts *o, float *amp,
                             size_t *spikes, snn_error *err)
{
    size_t n = snn_shape_numel(&net->input_shape);
    snn_status st = o->step_input(o->step_user, sample, t, w->frame, err);
    *amp = 0;
    *spikes = 0;
    for (size_t k = 0; st == SNN_OK && k < n; k++) {
        float v = w->frame[k];
        if (v != 0 && (v < 0 || (*amp != 0 && v != *amp)))
            return snn_error_set(err, SNN_E_UNSUPPORTED, "the event engine "
                                 "takes per-step input frames whose spikes "
                                 "all carry one positive value; sample %llu "
                                 "step %d has %g and %g: use engine "
                                 "reference", (unsigned long long)sample, t,
                                 (double)*amp, (double)v);
        *amp = v != 0 ? v : *amp;
        *spikes += v != 0;
    }
    return st;
}

/* Poisson or step input: the first layer's current from this step's
 * frame, whose spikes all carry one amplitude (Poisson: the sample's
 * peak, negative for a negative input value).  The negative spikes are
 * scattered apart and subtracted, so that a frame without any costs
 * nothing more.  *ops: the synaptic operations, or -1 when the frame is
 * empty. */
static snn_status input_current(const snn_net *net, const sim_plan *plan,
                                sim_work *w, const float *x, uint64_t sample,
                                int t, const snn_sim_opts *o, double *ops,
                                snn_error *err)
{
    const plan_layer *pl = &plan->layers[0];
    const snn_net_layer *l0 = &net->layers[0];
    size_t n = snn_shape_numel(&net->input_shape), spikes = 0;
    float peak = 0;
    snn_status st = SNN_OK;
    if (o->step_input) {
        st = step_frame(net, w, sample, t, o, &peak, &spikes, err);
    } else {
        peak = sim_input_peak(x, n);
        spikes = sim_input_frame(o, net->dt, x, n, peak, sample, t,
                                 &w->fired_in, w->frame);
    }
    if (st != SNN_OK)
        return st;
    int spatial = l0->in_shape.ndim == 3;
    w->in.nev = w->in_neg.nev = 0;
    for (size_t k = 0; k < n; k++) {
        layer_work *to = w->frame[k] < 0 ? &w->in_neg : &w->in;
        if (w->frame[k] != 0)
            to->ev[to->nev++] =
                (uint32_t)plan_to_internal(pl->in_c, pl->in_p, spatial, k);
    }
    *ops = frame_currents(net, plan, w, peak / net->v_thresh, o->engine);
    *ops = spikes ? *ops : -1;
    return SNN_OK;
}

/* dst (internal order) += w->proj_out (canonical). */
static void add_canonical(const plan_layer *pl, const sim_work *w, float *dst)
{
    for (size_t k = 0; k < pl->out_n; k++)
        dst[plan_to_internal(pl->out_c, pl->out_p, pl->spatial_out, k)] +=
            w->proj_out[k];
}

/* An Add's current that stays the same through a sample: its bias plus
 * its projections from the constant input x (canonical), added in the
 * projections' order as the reference engine adds them. */
static void add_base(const snn_net_layer *l, const plan_layer *pl,
                     sim_work *w, layer_work *lw, const float *x)
{
    memcpy(lw->base, pl->bias, pl->out_n * sizeof *lw->base);
    for (int j = 0; j < l->n_proj; j++) {
        const snn_net_proj *p = &l->proj[j];
        if (p->input >= 0)
            continue;
        if (p->syn.op == SNN_OP_ACTIVATION)
            for (size_t k = 0; k < pl->out_n; k++)
                w->proj_out[k] = p->syn.weight.data[k / pl->out_p] * x[k];
        else
            snn_op_forward(&p->syn, &p->in_shape, x, 1, w->proj_out);
        add_canonical(pl, w, lw->base);
    }
}

/* The currents fixed for the sample by its constant input x: of the
 * Adds (their constant part) and of layers after the first fed by the
 * input (branches from it; the first layer's comes in cur0).  Under
 * Poisson or step input, frame_currents makes them every step. */
static void constant_currents(const snn_net *net, const sim_plan *plan,
                              sim_work *w, const float *x)
{
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        const plan_layer *pl = &plan->layers[i];
        layer_work *lw = &w->l[i];
        if (pl->kind == PLAN_ADD) {
            add_base(l, pl, w, lw, x);
        } else if (i > 0 && l->input < 0 && lw->cur) {
            snn_op_forward(&l->syn, &l->in_shape, x, 1, w->proj_out);
            memset(lw->cur, 0, pl->out_n * sizeof *lw->cur);
            add_canonical(pl, w, lw->cur);
        }
    }
}

/* An Add's currents this step: its constant part, then each projection's
 * spikes scattered (an identity projection: one synapse per spike).
 * Returns the synaptic operations. */
static double add_current(const snn_net_layer *l, const plan_layer *pl,
                          sim_work *w, layer_work *lw)
{
    double ops = 0;
    memcpy(lw->cur, lw->base, pl->out_n * sizeof *lw->cur);
    for (int j = 0; j < pl->n_proj; j++) {
        const plan_layer *pj = &pl->proj[j];
        if (l->proj[j].input < 0)
            continue;
        const layer_work *in = &w->l[l->proj[j].input];
        if (pj->kind == PLAN_SCALE) {
            for (size_t e = 0; e < in->nev; e++)
                lw->cur[in->ev[e]] += pj->w[in->ev[e]];
            ops += (double)in->nev;
        } else if (w->wide) {
            ops += scatter_avx512(pj, in->ev, in->nev, lw->cur);
        } else {
            ops += scatter_plain(pj, in->ev, in->nev, lw->cur);
        }
    }
    return ops;
}

/* Spikes re-indexed: each of src's spikes goes to its outputs in pj's
 * map, appended to lw's. */
static void remap_append(const plan_layer *pj, const layer_work *src,
                         layer_work *lw)
{
    for (size_t e = 0; e < src->nev; e++) {
        uint32_t i = src->ev[e];
        for (uint32_t m = pj->map_start[i]; m < pj->map_start[i + 1]; m++)
            lw->ev[lw->nev++] = pj->map[m];
    }
}

/* An index map, or a concatenation of its projections' spikes. */
static void remap(const snn_net_layer *l, const plan_layer *pl, sim_work *w,
                  layer_work *lw)
{
    lw->nev = 0;
    if (pl->n_proj == 0)
        remap_append(pl, &w->l[l->input], lw);
    for (int j = 0; j < pl->n_proj; j++)
        remap_append(&pl->proj[j], &w->l[l->proj[j].input], lw);
}

static void step(const snn_net *net, const sim_plan *plan, sim_work *w,
                 const snn_rng_key *key0, snn_sim_engine engine,
                 sim_sample *out)
{
    int t = (int)key0->step;
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        const plan_layer *pl = &plan->layers[i];
        layer_work *lw = &w->l[i];
        const layer_work *in = i > 0 && l->input >= 0 ? &w->l[l->input] : NULL;
        snn_rng_key key = *key0;
        key.layer = (uint64_t)i;
        switch (pl->kind) {
        case PLAN_MAXGATE:
            maxgate(pl, in, lw);
            break;
        case PLAN_RESHAPE:
            reshape(pl, in, lw);
            break;
        case PLAN_REMAP:
            remap(l, pl, w, lw);
            break;
        case PLAN_MERGE: /* never: sim_plan_event_refused */
        case PLAN_SCALE: /* projections only */
            break;
        case PLAN_ADD:
        case PLAN_CONVT:
        case PLAN_CONV:
        case PLAN_DENSE:
        case PLAN_AVG:
            if (pl->kind == PLAN_ADD)
                out->synops += add_current(l, pl, w, lw);
            else if (in)
                out->synops +=
                    layer_current(pl, in, w, lw, net->v_thresh, engine);
            fire(net, i, pl, lw, &key);
            out->spikes += (double)lw->nev;
            out->layer_spikes[i] += (double)lw->nev;
            break;
        }
        if (out->rec)
            record_layer(out->rec, i, t, pl, lw);
    }
}

snn_status sim_event_sample(const snn_net *net, const sim_plan *plan,
                            sim_work *w, const float *cur0, uint64_t sample,
                            const snn_sim_opts *o, sim_sample *out,
                            snn_error *err)
{
    int last = net->n_layers - 1, t = 0;
    const plan_layer *pl_last = &plan->layers[last];
    const layer_work *lw_last = &w->l[last];
    int poisson = sim_input_poisson(o) || o->step_input;
    snn_status st = SNN_OK;
    memset(out->out_count, 0, pl_last->out_n * sizeof *out->out_count);
    out->spikes = out->synops = 0;
    sample_reset(net, plan, w, poisson ? NULL : cur0, out->keep_v);
    if (!poisson)
        constant_currents(net, plan, w, out->x);
    int empty = !poisson && o->early_stopping &&
                sim_input_empty(out->x, snn_shape_numel(&net->input_shape));
    for (; t < o->steps && !empty; t++) {
        snn_rng_key key = {o->seed, sample, (uint64_t)t, 0};
        double synops = out->synops;
        if (poisson) {
            double ops = 0;
            st = input_current(net, plan, w, out->x, sample, t, o, &ops, err);
            if (st != SNN_OK)
                break;
            if (ops < 0 && o->early_stopping)
                break;
            out->synops += ops > 0 ? ops : 0;
        }
        step(net, plan, w, &key, o->engine, out);
        for (size_t e = 0; e < lw_last->nev; e++)
            out->out_count[plan_to_canon(pl_last, lw_last->ev[e])] += 1;
        if (out->rec) {
            if (out->rec->synops)
                out->rec->synops[t] += out->synops - synops;
            sim_record_hits(out->rec, t, out->out_count);
        }
    }
    out->steps_run = t;
    if (out->rec)
        sim_record_rest(out->rec, t, o->steps, out->out_count);
    return st;
}
