/*
 * record.c - the optional per-step and per-neuron recording of a
 * simulation (see record.h).  Both engines report each spike and
 * potential through these functions in canonical order, so they record
 * identically.
 */
#include "sim/record.h"

#include <string.h>

#include "snntb/ann.h"

static int is_neuron_layer(const snn_net_layer *l)
{
    return l->unit == SNN_UNIT_IF || l->unit == SNN_UNIT_SOFTMAX;
}

static void zero(void *p, size_t a, size_t b, size_t size)
{
    if (p)
        memset(p, 0, a * b * size);
}

snn_status sim_record_start(const snn_sim_record *rec, const snn_net *net,
                            int steps, snn_error *err)
{
    size_t t = (size_t)steps;
    for (int i = 0; rec->vmem0 && i < net->n_layers; i++)
        if (rec->vmem0[i] && !is_neuron_layer(&net->layers[i]))
            return snn_error_set(err, SNN_E_INVALID,
                                 "record: layer %d (%s) has no membrane "
                                 "potential to record", i,
                                 net->layers[i].syn.name);
    zero(rec->top1_at_step, t, 1, sizeof *rec->top1_at_step);
    zero(rec->topk_at_step, t, 1, sizeof *rec->topk_at_step);
    zero(rec->synops_at_step, t, 1, sizeof *rec->synops_at_step);
    for (int i = 0; i < net->n_layers; i++) {
        size_t n = snn_net_layer_size(net, i);
        if (rec->spike_counts)
            zero(rec->spike_counts[i], rec->record_samples, n, sizeof(float));
        if (rec->raster0)
            zero(rec->raster0[i], t, n, 1);
        if (rec->vmem0)
            zero(rec->vmem0[i], t, n, sizeof(float));
    }
    return SNN_OK;
}

static float *counts_row(const rec_sample *r, int i)
{
    const snn_sim_record *rec = r->rec;
    if (!rec->spike_counts || !rec->spike_counts[i] ||
        r->row >= rec->record_samples)
        return NULL;
    return rec->spike_counts[i] + r->row * snn_net_layer_size(r->net, i);
}

int sim_record_neurons(const rec_sample *r, int i)
{
    const snn_sim_record *rec = r->rec;
    if (counts_row(r, i))
        return 1;
    return r->row == 0 && ((rec->raster0 && rec->raster0[i]) ||
                           (rec->vmem0 && rec->vmem0[i]));
}

void sim_record_spike(const rec_sample *r, int i, int t, size_t canon)
{
    float *row = counts_row(r, i);
    if (row)
        row[canon] += 1;
    if (r->row == 0 && r->rec->raster0 && r->rec->raster0[i])
        r->rec->raster0[i][(size_t)t * snn_net_layer_size(r->net, i) + canon] = 1;
}

void sim_record_vmem(const rec_sample *r, int i, int t, size_t canon, float v)
{
    if (r->row == 0 && r->rec->vmem0 && r->rec->vmem0[i])
        r->rec->vmem0[i][(size_t)t * snn_net_layer_size(r->net, i) + canon] = v;
}

void sim_record_hits(const rec_sample *r, int t, const float *out_count)
{
    if (!r->top1 && !r->topk)
        return;
    size_t n_out = snn_net_layer_size(r->net, r->net->n_layers - 1);
    int topk;
    int pred = sim_classify(out_count, n_out, r->label, r->top_k, &topk);
    if (r->top1)
        r->top1[t] += pred >= 0 && pred == r->label;
    if (r->topk)
        r->topk[t] += (size_t)topk;
}

void sim_record_rest(const rec_sample *r, int t, int steps,
                     const float *out_count)
{
    for (; t < steps; t++)
        sim_record_hits(r, t, out_count);
}

int sim_label(const float *onehot, size_t n)
{
    int label = 0;
    for (size_t c = 1; c < n; c++)
        if (onehot[c] > onehot[label])
            label = (int)c;
    return label;
}

int sim_classify(const float *counts, size_t n, int label, int top_k,
                 int *topk)
{
    int best = -1;
    float top = 0;
    for (size_t c = 0; c < n; c++)
        if (counts[c] > top) {
            top = counts[c];
            best = (int)c;
        }
    *topk = best >= 0 && counts[label] > 0 &&
            snn_in_top_k(counts, (int)n, label, top_k);
    return best;
}
