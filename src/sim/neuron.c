/*
 * neuron.c - integrate-and-fire (and the original's binary neurons),
 * softmax output and max-pool gating updates, one time step at a time.
 * See neuron.h.
 */
#include "sim/neuron.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* splitmix64's finalizer: a good bijective mix, enough to turn a counter
 * into independent-looking uniforms. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double snn_rng_uniform(const snn_rng_key *key, size_t j, size_t neuron)
{
    uint64_t h = mix64(key->seed + 0x9e3779b97f4a7c15ULL);
    h = mix64(h ^ (key->sample + j));
    h = mix64(h ^ key->step);
    h = mix64(h ^ key->layer);
    h = mix64(h ^ neuron);
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

void snn_membrane_start(const snn_net *net, float *v, size_t n)
{
    float v0 = net->v_init * net->v_thresh;
    for (size_t i = 0; i < n; i++)
        v[i] = v0;
}

static float reset_value(const snn_neuron_params *p, float v)
{
    switch (p->reset) {
    case SNN_RESET_ZERO:
        return p->v_reset;
    case SNN_RESET_MODULO:
        return fmodf(v, p->v_thresh);
    case SNN_RESET_SUBTRACT:
        break;
    }
    return v - p->v_thresh;
}

/* Longer refractory periods than this many steps outlast any run (steps
 * are ints); the cap keeps step + 1 + refrac within 32 bits. */
#define REFRAC_MAX ((uint32_t)1 << 30)

uint32_t snn_refrac_steps(float tau_refrac, float dt)
{
    if (!(tau_refrac > 0) || !(dt > 0))
        return 0;
    double steps = ceil((double)tau_refrac / dt);
    if (steps > REFRAC_MAX)
        return REFRAC_MAX;
    uint32_t d = steps >= 1 ? (uint32_t)steps - 1 : 0;
    /* The quotient's rounding aside, d is the largest d * dt < tau. */
    while (d > 0 && (double)d * dt >= tau_refrac)
        d--;
    while (d < REFRAC_MAX && (double)(d + 1) * dt < tau_refrac)
        d++;
    return d;
}

void snn_neuron_params_init(snn_neuron_params *p, const snn_net *net,
                            int layer, int step)
{
    const snn_cell *c = &net->cell;
    memset(p, 0, sizeof *p);
    p->v_thresh = p->v_thresh0 = net->v_thresh;
    p->reset = net->reset;
    p->v_reset = c->v_reset;
    p->leak = c->leak ? 0.1f * net->dt : 0.0f;
    p->clip = c->v_clip;
    p->v_min = c->v_min;
    p->v_max = c->v_max;
    p->step = (uint32_t)step;
    p->refrac = snn_refrac_steps(c->tau_refrac, net->dt);
    /* The original's time of step k is (k + 1) dt. */
    p->hold = (double)(step + 1) * net->dt < net->layers[layer].clamp_until;
    p->binary = snn_act_is_binary(net->layers[layer].syn.act)
                    ? net->layers[layer].syn.act : SNN_ACT_LINEAR;
}

int snn_neuron_plain(const snn_neuron_params *p)
{
    return p->leak == 0 && !p->clip && !p->hold && !p->refrac_until &&
           !p->payload && !snn_act_is_binary(p->binary);
}

/* V plus this step's input: held or refractory neurons get none. */
static inline float integrate(const snn_neuron_params *p, size_t i,
                              float v, float cur)
{
    int quiet = p->hold || (p->refrac_until && p->step < p->refrac_until[i]);
    float u = v + (quiet ? 0.0f : cur);
    if (p->clip)
        u = fminf(fmaxf(u, p->v_min), p->v_max);
    if (p->leak != 0 && u > 0)
        u -= p->leak;
    return u;
}

/* Neuron i fired with potential u: its spike's value; sets the reset
 * potential in *v and starts its refractory period.  With payloads
 * (the original's update_payload): payload <- (u - v_thresh0) - sum,
 * sum <- sum + the previous payload, and the membrane resets to v_reset
 * under reset by subtraction. */
static inline float fire_one(const snn_neuron_params *p, size_t i, float u,
                          float *v)
{
    float value = p->v_thresh;
    if (p->payload) {
        float pay = u - p->v_thresh0 - p->payload_sum[i];
        p->payload_sum[i] += p->payload[i];
        p->payload[i] = pay;
        value += pay;
        *v = p->reset == SNN_RESET_SUBTRACT ? p->v_reset : reset_value(p, u);
    } else {
        *v = reset_value(p, u);
    }
    if (p->refrac_until)
        p->refrac_until[i] = p->step + 1 + p->refrac;
    return value;
}

/* The sign of a binary neuron's spike at potential u (0: none). */
static inline int binary_sign(const snn_neuron_params *p, float u)
{
    if (u > 0)
        return 1;
    return p->binary == SNN_ACT_BINARY_TANH && u < 0 ? -1 : 0;
}

/* Binary neuron i with potential u after integration: its spike value
 * (0: none); sets V after the reset and starts its refractory period. */
static inline float fire_binary(const snn_neuron_params *p, size_t i,
                                float u, float *v)
{
    int sign = binary_sign(p, u);
    if (!sign) {
        *v = u;
        return 0.0f;
    }
    float th = p->v_thresh;
    if (p->reset == SNN_RESET_ZERO)
        *v = p->v_reset;
    else if (p->reset == SNN_RESET_MODULO)
        *v = u - floorf(u / th) * th; /* Python's %: in [0, th) */
    else
        *v = u - (float)sign * th;
    if (p->refrac_until)
        p->refrac_until[i] = p->step + 1 + p->refrac;
    return (float)sign * th;
}

static size_t binary_fire(const snn_neuron_params *p, const float *cur,
                          float *v, float *spk, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        spk[i] = fire_binary(p, i, integrate(p, i, v[i], cur[i]), &v[i]);
        total += spk[i] != 0.0f;
    }
    return total;
}

size_t snn_if_fire(const snn_neuron_params *p, const float *cur, float *v,
                   float *spk, size_t n)
{
    if (snn_act_is_binary(p->binary))
        return binary_fire(p, cur, v, spk, n);
    size_t total = 0;
    const float th = p->v_thresh;
    #pragma omp parallel for reduction(+ : total) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float u = integrate(p, i, v[i], cur[i]);
        if (u >= th) {
            spk[i] = fire_one(p, i, u, &v[i]);
            total++;
        } else {
            spk[i] = 0.0f;
            v[i] = u;
        }
    }
    return total;
}

/* Any option beyond threshold and reset: one neuron at a time. */
static size_t if_events_general(const snn_neuron_params *p, const float *cur,
                                float *v, uint32_t *events, size_t n)
{
    size_t fired_n = 0;
    for (size_t i = 0; i < n; i++) {
        float u = integrate(p, i, v[i], cur[i]);
        if (u >= p->v_thresh) {
            fire_one(p, i, u, &v[i]);
            events[fired_n++] = (uint32_t)i;
        } else {
            v[i] = u;
        }
    }
    return fired_n;
}

static size_t if_events_plain(const snn_neuron_params *p, const float *cur,
                              float *v, uint32_t *events, size_t from,
                              size_t n)
{
    size_t fired = 0;
    const float th = p->v_thresh;
    for (size_t i = from; i < n; i++) {
        float u = v[i] + cur[i];
        if (u >= th) {
            events[fired++] = (uint32_t)i;
            u = reset_value(p, u);
        }
        v[i] = u;
    }
    return fired;
}

/* 16 neurons at a time; the spikes' indices are compress-stored.  Same
 * arithmetic as the plain loop, so the same spikes.  No branch on whether
 * any neuron fired: that is data the CPU cannot predict (an empty mask
 * stores nothing).  Returns how many neurons it did in *done (a multiple
 * of 16). */
__attribute__((target("avx512f"))) static size_t
if_events_avx512(const snn_neuron_params *p, const float *cur, float *v,
                 uint32_t *events, size_t n, size_t *done)
{
    size_t fired = 0, i = 0;
    const int zero_reset = p->reset == SNN_RESET_ZERO;
    const __m512 th = _mm512_set1_ps(p->v_thresh);
    const __m512 to = _mm512_set1_ps(p->v_reset);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                           11, 12, 13, 14, 15);
    for (; i + 16 <= n; i += 16) {
        __m512 u = _mm512_add_ps(_mm512_loadu_ps(v + i), _mm512_loadu_ps(cur + i));
        __mmask16 m = _mm512_cmp_ps_mask(u, th, _CMP_GE_OQ);
        u = zero_reset ? _mm512_mask_mov_ps(u, m, to)
                       : _mm512_mask_sub_ps(u, m, u, th);
        __m512i idx = _mm512_add_epi32(lane, _mm512_set1_epi32((int)i));
        _mm512_mask_compressstoreu_epi32(events + fired, m, idx);
        fired += (size_t)__builtin_popcount(m);
        _mm512_storeu_ps(v + i, u);
    }
    *done = i;
    return fired;
}

size_t snn_if_fire_events(const snn_neuron_params *p, const float *cur,
                          float *v, uint32_t *events, size_t n)
{
    size_t done = 0, fired = 0;
    if (!snn_neuron_plain(p))
        return if_events_general(p, cur, v, events, n);
    /* Reset by modulo needs fmodf per spike: plain loop. */
    if (p->reset != SNN_RESET_MODULO && n <= INT32_MAX &&
        __builtin_cpu_supports("avx512f"))
        fired = if_events_avx512(p, cur, v, events, n, &done);
    return fired + if_events_plain(p, cur, v, events + fired, done, n);
}

size_t snn_softmax_fire(const snn_neuron_params *p, const float *cur,
                        float *v, float *spk, size_t b, size_t n,
                        const snn_rng_key *key)
{
    size_t total = 0;
    snn_neuron_params q = *p;
    q.payload = q.payload_sum = NULL;
    for (size_t j = 0; j < b; j++) {
        float *vj = v + j * n, *sj = spk + j * n;
        const float *cj = cur + j * n;
        uint32_t *until = p->refrac_until;
        q.refrac_until = until ? until + j * n : NULL;
        float top = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            vj[i] = integrate(&q, i, vj[i], cj[i]);
            if (vj[i] > top)
                top = vj[i];
        }
        double z = 0;
        for (size_t i = 0; i < n; i++)
            z += exp((double)(vj[i] - top));
        for (size_t i = 0; i < n; i++) {
            double prob = exp((double)(vj[i] - top)) / z;
            if (snn_rng_uniform(key, j, i) < prob) {
                sj[i] = fire_one(&q, i, vj[i], &vj[i]);
                total++;
            } else {
                sj[i] = 0.0f;
            }
        }
    }
    return total;
}

/* The input position (offset in one channel plane) of the window's
 * largest count, or -1 when the window is all padding. */
static long window_argmax(const snn_window *w, const float *count,
                          size_t h, size_t wd, size_t oy, size_t ox)
{
    long best = -1;
    float top = -1;
    for (int ky = 0; ky < w->kernel[0]; ky++) {
        long y = (long)oy * w->stride[0] - w->pad[0] + ky * w->dilation[0];
        if (y < 0 || y >= (long)h)
            continue;
        for (int kx = 0; kx < w->kernel[1]; kx++) {
            long x = (long)ox * w->stride[1] - w->pad[1] +
                     kx * w->dilation[1];
            if (x < 0 || x >= (long)wd)
                continue;
            long at = y * (long)wd + x;
            if (count[at] > top) {
                top = count[at];
                best = at;
            }
        }
    }
    return best;
}

/* One step of an input's rate estimate. */
static float rate_update(snn_maxpool type, float r, int spiked)
{
    if (type == SNN_MAXPOOL_EXP)
        return 1.005f * r + 0.995f * (float)spiked;
    return r + (float)spiked;
}

void snn_maxgate_step(const snn_layer *pool, const snn_shape *in,
                      snn_maxpool type, const float *spikes, float *count,
                      size_t b, float *out)
{
    size_t c = in->dims[0], h = in->dims[1], wd = in->dims[2];
    size_t oh = pool->shape.dims[1], ow = pool->shape.dims[2];
    size_t in_n = c * h * wd, out_n = c * oh * ow;
    #pragma omp parallel for if (b * in_n > 65536)
    for (size_t j = 0; j < b; j++) {
        for (size_t i = 0; i < in_n; i++)
            count[j * in_n + i] = rate_update(type, count[j * in_n + i],
                                              spikes[j * in_n + i] != 0);
        for (size_t ch = 0; ch < c; ch++) {
            const float *cnt = count + j * in_n + ch * h * wd;
            const float *spk = spikes + j * in_n + ch * h * wd;
            float *o = out + j * out_n + ch * oh * ow;
            for (size_t oy = 0; oy < oh; oy++)
                for (size_t ox = 0; ox < ow; ox++) {
                    long at = window_argmax(&pool->win, cnt, h, wd, oy, ox);
                    o[oy * ow + ox] = at < 0 ? 0.0f : spk[at];
                }
        }
    }
}
