/*
 * input.c - Poisson input frames (see input.h).  The rule is the
 * original's get_poisson_frame_batch, with the peak taken per sample
 * (the original takes it over the batch, which would make a sample's
 * spikes depend on its batch) and draws from snn_rng_uniform.
 */
#include "sim/input.h"

#include <math.h>

#include "sim/neuron.h"

int sim_input_poisson(const snn_sim_opts *o)
{
    return o->input_rate > 0;
}

float sim_input_peak(const float *x, size_t n)
{
    float peak = n ? x[0] : 0.0f;
    for (size_t k = 1; k < n; k++)
        if (x[k] > peak)
            peak = x[k];
    return peak;
}

int sim_input_empty(const float *x, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (x[k] != 0)
            return 0;
    return 1;
}

size_t sim_input_frame(const snn_sim_opts *o, double dt, const float *x,
                       size_t n, float peak, uint64_t sample, int t,
                       long *fired, float *out)
{
    size_t spikes = 0;
    int draw = peak > 0 && (o->poisson_events < 0 || *fired < o->poisson_events);
    double scale = 1000.0 / (o->input_rate * dt) * peak;
    snn_rng_key key = {o->seed, sample, (uint64_t)t, SIM_INPUT_RNG_LAYER};
    uint64_t prefix = snn_rng_prefix(&key, 0);
    for (size_t k = 0; k < n; k++) {
        int spike = draw && snn_rng_draw(prefix, k) * scale <= fabs(x[k]);
        out[k] = spike ? (x[k] < 0 ? -peak : x[k] > 0 ? peak : 0.0f) : 0.0f;
        spikes += spike && x[k] != 0;
    }
    *fired += (long)spikes;
    return spikes;
}

int sim_keep_v(const snn_sim_opts *o, size_t row)
{
    return o->reset_every > 1 && row > 0 && (row - 1) % (size_t)o->reset_every != 0;
}
