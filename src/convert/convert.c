/*
 * convert.c - turns a normalized ANN graph into a spiking net.
 *
 * Weighted and average-pooling layers become integrate-and-fire layers
 * that keep their synaptic op (a transposed convolution's is its scatter
 * of each input spike through the kernel); max-pooling becomes spike
 * gating.  The layers that only move values (Flatten, Reshape,
 * ZeroPadding2D, Cropping2D, nearest UpSampling2D) re-index spikes, with
 * no neurons: a spike is what the ANN value stood for, so the same index
 * map carries it (a Reshape to a vector is a Flatten).  Standalone
 * activations disappear: ReLU is what an IF neuron computes, and softmax
 * marks its input layer as a softmax output.
 *
 * An Add becomes one layer of neurons with a projection per term: the
 * linear layers it absorbs (convert/merge.h) are expanded into weighted
 * projections from their own inputs, with the Add's per-input channel
 * factors (normalization's lambda_j / lambda_add) multiplied into their
 * weights and biases; every other input is an identity projection of
 * its spikes carrying those factors.  A Concatenate re-indexes its
 * inputs' spikes (unit RESHAPE, no neurons): the next layer's weights
 * already carry each source's factors.
 */
#include "snntb/net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"
#include "convert/merge.h"
#include "convert/weights.h"

/* Projections an Add may sum (terms of nested Adds included). */
#define MAX_TERMS 64

/* map[] of a layer folded into Adds: no net layer of its own. */
#define FOLDED (-2)

static void proj_free(snn_net_proj *p, int n)
{
    for (int i = 0; p && i < n; i++)
        snn_tensor_free(&p[i].syn.weight);
    free(p);
}

static void net_layer_free(snn_net_layer *l)
{
    snn_tensor_free(&l->syn.weight);
    snn_tensor_free(&l->syn.bias);
    proj_free(l->proj, l->n_proj);
    l->proj = NULL;
    l->n_proj = 0;
}

const snn_net_layer *snn_net_multi_input(const snn_net *net)
{
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].n_proj > 0)
            return &net->layers[i];
    return NULL;
}

const snn_net_layer *snn_net_resampling(const snn_net *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        if (l->syn.op == SNN_OP_CONV2D_T ||
            (l->unit == SNN_UNIT_RESHAPE && l->n_proj == 0 &&
             l->syn.op != SNN_OP_FLATTEN))
            return l;
    }
    return NULL;
}

void snn_net_free(snn_net *net)
{
    for (int i = 0; i < net->n_layers; i++)
        net_layer_free(&net->layers[i]);
    free(net->layers);
    memset(net, 0, sizeof *net);
}

size_t snn_net_layer_size(const snn_net *net, int i)
{
    return snn_shape_numel(&net->layers[i].syn.shape);
}

/* The ops that move values without computing any: their spikes are
 * re-indexed (a Concatenate's too, from several sources). */
static int reindexes(snn_op op)
{
    return op == SNN_OP_FLATTEN || op == SNN_OP_RESHAPE ||
           op == SNN_OP_PAD || op == SNN_OP_CROP || op == SNN_OP_UPSAMPLE ||
           op == SNN_OP_CONCAT;
}

static snn_unit unit_for(const snn_layer *l)
{
    if (l->op == SNN_OP_MAXPOOL2D)
        return SNN_UNIT_MAXGATE;
    if (reindexes(l->op))
        return SNN_UNIT_RESHAPE;
    return l->act == SNN_ACT_SOFTMAX ? SNN_UNIT_SOFTMAX : SNN_UNIT_IF;
}

static const snn_shape *net_shape(const snn_net *net, int src)
{
    return src < 0 ? &net->input_shape : &net->layers[src].syn.shape;
}

/* Graph layer l without its tensors. */
static void copy_op(snn_layer *dst, const snn_layer *l)
{
    *dst = *l;
    memset(&dst->weight, 0, sizeof dst->weight);
    memset(&dst->bias, 0, sizeof dst->bias);
    memset(&dst->gamma, 0, 4 * sizeof dst->gamma);
}

/* The net's next layer, a copy of graph layer l without l's tensors. */
static snn_net_layer *next_layer(snn_net *net, const snn_layer *l)
{
    snn_net_layer *nl = &net->layers[net->n_layers];
    memset(nl, 0, sizeof *nl);
    copy_op(&nl->syn, l);
    return nl;
}

/* Copies the synaptic part of l (weights, window) into a new net layer. */
static snn_status add_net_layer(snn_net *net, const snn_layer *l, int input,
                                const snn_convert_opts *o, snn_error *err)
{
    snn_net_layer *nl = next_layer(net, l);
    nl->unit = unit_for(l);
    nl->input = input;
    nl->in_shape = *net_shape(net, input);
    /* Same values in the same order (src/ann/flatten.c), so that the
     * engines and exporters that know a Flatten take it. */
    if (l->op == SNN_OP_RESHAPE && l->shape.ndim == 1)
        nl->syn.op = SNN_OP_FLATTEN;
    /* The simulator runs the op every step without further checks. */
    snn_status st = snn_op_check(l, &nl->in_shape, err);
    if (st == SNN_OK)
        st = snn_tensor_copy(&nl->syn.weight, &l->weight, err);
    if (st == SNN_OK)
        st = snn_tensor_copy(&nl->syn.bias, &l->bias, err);
    if (st != SNN_OK) {
        net_layer_free(nl);
        return st;
    }
    /* The bias is a current injected every step: dt ms worth of it. */
    for (size_t i = 0; i < snn_tensor_numel(&nl->syn.bias); i++)
        nl->syn.bias.data[i] *= o->dt;
    net->n_layers++;
    return SNN_OK;
}

/* An Add's projections while they are gathered. */
typedef struct terms {
    snn_net_proj p[MAX_TERMS];
    int n;
    float *bias;    /* (C): the terms' biases, summed */
    int has_bias;
    size_t c;       /* the Add's channels */
    const char *add; /* its name, for errors */
} terms;

static snn_status new_term(terms *t, const snn_layer *l, int src,
                           const snn_net *net, snn_error *err)
{
    if (t->n == MAX_TERMS)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s': an Add of more than %d terms",
                             t->add, MAX_TERMS);
    snn_net_proj *p = &t->p[t->n++];
    memset(p, 0, sizeof *p);
    copy_op(&p->syn, l);
    p->syn.act = SNN_ACT_LINEAR;
    p->input = src;
    p->in_shape = *net_shape(net, src);
    return SNN_OK;
}

/* A linear weighted layer the Add absorbs: its op from its own input,
 * each output channel's weights and bias times f[channel]. */
static snn_status weighted_term(terms *t, const snn_layer *l, int src,
                                const float *f, const snn_net *net,
                                snn_error *err)
{
    snn_status st = new_term(t, l, src, net, err);
    snn_net_proj *p = &t->p[t->n - 1];
    if (st == SNN_OK)
        st = snn_tensor_copy(&p->syn.weight, &l->weight, err);
    if (st == SNN_OK)
        st = snn_op_check(&p->syn, &p->in_shape, err);
    if (st != SNN_OK)
        return st;
    size_t out = weights_out_channels(l), in_c = weights_in_channels(l);
    for (size_t o = 0; o < out; o++) {
        for (size_t i = 0; i < in_c; i++) {
            size_t taps;
            float *w = weights_block(&p->syn, o, i, &taps);
            for (size_t k = 0; w && k < taps; k++)
                w[k] *= f[o];
        }
        if (l->bias.data)
            t->bias[o] += f[o] * l->bias.data[o];
    }
    t->has_bias |= l->bias.data != NULL;
    return SNN_OK;
}

/* Any other input: its spikes, channel c times f[c]. */
static snn_status identity_term(terms *t, const snn_layer *l, int src,
                                const float *f, const snn_net *net,
                                snn_error *err)
{
    const snn_shape *in = net_shape(net, src);
    if (in->ndim != l->shape.ndim ||
        memcmp(in->dims, l->shape.dims, sizeof in->dims) != 0)
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer '%s': input '%s' does not have the "
                             "Add's shape", t->add, l->name);
    snn_status st = new_term(t, l, src, net, err);
    snn_net_proj *p = &t->p[t->n - 1];
    size_t dims[1] = {t->c};
    if (st == SNN_OK) {
        p->syn.op = SNN_OP_ACTIVATION;
        st = snn_tensor_init(&p->syn.weight, 1, dims, err);
    }
    if (st == SNN_OK)
        memcpy(p->syn.weight.data, f, t->c * sizeof *f);
    return st;
}

static snn_status expand_inputs(const snn_graph *g, const snn_layer *l,
                                const float *f, const snn_net *net,
                                const int *map, terms *t, snn_error *err);

/* Graph layer k's part of an Add, its channels scaled by f. */
static snn_status expand(const snn_graph *g, int k, const float *f,
                         const snn_net *net, const int *map, terms *t,
                         snn_error *err)
{
    const snn_layer *l = &g->layers[k];
    if (!merge_folds(g, k))
        return identity_term(t, l, map[k], f, net, err);
    if (l->op != SNN_OP_ADD)
        return weighted_term(t, l, map[l->inputs[0]], f, net, err);
    return expand_inputs(g, l, f, net, map, t, err);
}

/* The terms of Add l's inputs, input j's channels scaled by f times l's
 * factors for input j. */
static snn_status expand_inputs(const snn_graph *g, const snn_layer *l,
                                const float *f, const snn_net *net,
                                const int *map, terms *t, snn_error *err)
{
    float *fj = malloc(t->c * sizeof *fj);
    snn_status st = fj ? SNN_OK
                       : snn_error_set(err, SNN_E_NOMEM, "cannot allocate "
                                       "layer '%s'", t->add);
    for (int j = 0; st == SNN_OK && j < l->n_inputs; j++) {
        for (size_t c = 0; c < t->c; c++)
            fj[c] = f[c] * (l->weight.data ? l->weight.data[j * t->c + c] : 1);
        st = expand(g, l->inputs[j], fj, net, map, t, err);
    }
    free(fj);
    return st;
}

/* Hands the gathered projections to the new net layer nl. */
static snn_status take_terms(snn_net_layer *nl, terms *t, snn_error *err)
{
    nl->proj = calloc((size_t)t->n, sizeof *nl->proj);
    if (!nl->proj)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate layer '%s'",
                             t->add);
    memcpy(nl->proj, t->p, (size_t)t->n * sizeof *nl->proj);
    nl->n_proj = nl->syn.n_inputs = t->n;
    t->n = 0;
    nl->input = nl->proj[0].input;
    nl->in_shape = nl->proj[0].in_shape;
    return SNN_OK;
}

/* A merge layer's last step: on success it takes its terms and joins the
 * net; on failure (st, or taking the terms) it is freed. */
static snn_status commit_terms(snn_net *net, snn_net_layer *nl, terms *t,
                               snn_status st, snn_error *err)
{
    if (st == SNN_OK)
        st = take_terms(nl, t, err);
    if (st == SNN_OK)
        net->n_layers++;
    else
        net_layer_free(nl);
    return st;
}

/* An Add that has neurons: its terms, their summed bias (times dt). */
static snn_status add_sum_layer(const snn_graph *g, int k, snn_net *net,
                                const int *map, const snn_convert_opts *o,
                                snn_error *err)
{
    const snn_layer *l = &g->layers[k];
    terms *t = calloc(1, sizeof *t);
    size_t c = snn_shape_channels(&l->shape);
    float *ones = malloc(c * sizeof *ones);
    snn_status st = SNN_OK;
    if (!t || !ones || !(t->bias = calloc(c, sizeof *t->bias)))
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate layer '%s'",
                           l->name);
    for (size_t i = 0; st == SNN_OK && i < c; i++)
        ones[i] = 1;
    if (st == SNN_OK) {
        t->c = c;
        t->add = l->name;
        st = expand_inputs(g, l, ones, net, map, t, err);
    }
    snn_net_layer *nl = next_layer(net, l);
    nl->unit = l->act == SNN_ACT_SOFTMAX ? SNN_UNIT_SOFTMAX : SNN_UNIT_IF;
    size_t dims[1] = {c};
    if (st == SNN_OK && t->has_bias &&
        (st = snn_tensor_init(&nl->syn.bias, 1, dims, err)) == SNN_OK)
        for (size_t i = 0; i < c; i++)
            nl->syn.bias.data[i] = t->bias[i] * o->dt;
    st = commit_terms(net, nl, t, st, err);
    if (t) {
        for (int i = 0; i < t->n; i++)
            snn_tensor_free(&t->p[i].syn.weight);
        free(t->bias);
    }
    free(t);
    free(ones);
    return st;
}

/* A Concatenate: its inputs' spikes side by side, no neurons. */
static snn_status add_concat_layer(const snn_graph *g, int k, snn_net *net,
                                   const int *map, snn_error *err)
{
    const snn_layer *l = &g->layers[k];
    terms *t = calloc(1, sizeof *t);
    const snn_shape *ins[SNN_MAX_INPUTS];
    snn_status st = t ? SNN_OK
                      : snn_error_set(err, SNN_E_NOMEM,
                                      "cannot allocate layer '%s'", l->name);
    for (int j = 0; st == SNN_OK && j < l->n_inputs; j++) {
        if (map[l->inputs[j]] < 0)
            st = snn_error_set(err, SNN_E_UNSUPPORTED,
                               "layer '%s': a Concatenate of the model's "
                               "input is not supported by the spiking "
                               "simulator", l->name);
        if (st == SNN_OK) {
            t->add = l->name;
            st = new_term(t, &g->layers[l->inputs[j]], map[l->inputs[j]],
                          net, err);
        }
        if (st == SNN_OK) {
            t->p[j].syn.op = SNN_OP_ACTIVATION;
            ins[j] = &t->p[j].in_shape;
        }
    }
    if (st == SNN_OK)
        st = snn_merge_check(l, ins, err);
    snn_net_layer *nl = next_layer(net, l);
    nl->unit = SNN_UNIT_RESHAPE;
    st = commit_terms(net, nl, t, st, err);
    free(t);
    return st;
}

/* A standalone activation: ReLU/linear vanish into the IF layer before
 * them (also through re-indexings: IF outputs are never negative, so a
 * ReLU of their re-indexed spikes changes nothing); softmax turns that
 * layer into the softmax output; a binary activation becomes that
 * layer's firing rule (binary(relu(x)) = binary(x), so it replaces a ReLU
 * there). */
static snn_status absorb_activation(snn_net *net, const snn_layer *l,
                                    int input, snn_error *err)
{
    int relu = l->act == SNN_ACT_RELU || l->act == SNN_ACT_LINEAR;
    while (relu && input >= 0 && net->layers[input].unit == SNN_UNIT_RESHAPE)
        input = net->layers[input].n_proj ? -1 : net->layers[input].input;
    if (input < 0 || (net->layers[input].unit != SNN_UNIT_IF &&
                      net->layers[input].unit != SNN_UNIT_SOFTMAX))
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s': a %s activation must follow a "
                             "Dense, Conv2D or pooling layer", l->name,
                             snn_act_name(l->act));
    if (l->act == SNN_ACT_SOFTMAX)
        net->layers[input].unit = SNN_UNIT_SOFTMAX;
    if (snn_act_is_binary(l->act))
        net->layers[input].syn.act = l->act;
    return SNN_OK;
}

/* Average pooling whose divisor counts padding (Caffe; ONNX
 * count_include_pad) differs from the in-image average only where a
 * window overlaps the padding; the simulator averages in-image cells. */
static snn_status check_avgpool(const snn_layer *l, snn_error *err)
{
    const int *p = l->win.pad;
    if (l->op == SNN_OP_AVGPOOL2D && l->win.count_pad &&
        (p[0] || p[1] || p[2] || p[3]))
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s' (%s): average pooling that counts "
                             "its padding is not supported by the spiking "
                             "simulator yet", l->name, l->type);
    return SNN_OK;
}

/* Ops and activations the graph holds but the simulator has no spiking
 * counterpart for yet. */
static snn_status check_simulable(const snn_layer *l, snn_error *err)
{
    int op_ok = l->op == SNN_OP_INPUT || l->op == SNN_OP_DENSE ||
                l->op == SNN_OP_CONV2D || l->op == SNN_OP_CONV2D_T ||
                l->op == SNN_OP_MAXPOOL2D || l->op == SNN_OP_AVGPOOL2D ||
                l->op == SNN_OP_BATCHNORM || l->op == SNN_OP_ACTIVATION ||
                l->op == SNN_OP_ADD || reindexes(l->op);
    if (!op_ok)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s' (%s): not supported by the spiking "
                             "simulator yet", l->name, snn_op_name(l->op));
    if (reindexes(l->op) && l->act != SNN_ACT_LINEAR &&
        l->act != SNN_ACT_RELU)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s' (%s): a %s activation on a %s "
                             "cannot be converted (it re-indexes spikes and "
                             "has no neurons)", l->name, l->type,
                             snn_act_name(l->act), snn_op_name(l->op));
    return SNN_OK;
}

/* A clipped ReLU is what an IF neuron computes when the clip is its
 * threshold: at most one spike of v_thresh per step.  Normalization makes
 * the clip 1 (its scale factor is the clip). */
static snn_status check_clip(const snn_layer *l, float v_thresh,
                             snn_error *err)
{
    if (l->act != SNN_ACT_CLIP ||
        fabsf(l->clip_max - v_thresh) <= 1e-5f * v_thresh)
        return SNN_OK;
    return snn_error_set(err, SNN_E_UNSUPPORTED,
                         "layer '%s' (%s): a clipped ReLU converts only when "
                         "its bound (%g) equals v_thresh (%g): turn on "
                         "[tools] normalize, which scales the bound to 1, "
                         "and keep [cell] v_thresh = 1", l->name, l->type,
                         (double)l->clip_max, (double)v_thresh);
}

snn_status snn_convert_check(const snn_graph *g, snn_error *err)
{
    for (int i = 0; i < g->n_layers; i++) {
        const snn_layer *l = &g->layers[i];
        snn_status st = check_simulable(l, err);
        if (st == SNN_OK)
            st = check_avgpool(l, err);
        if (st == SNN_OK && l->op == SNN_OP_INPUT && i != 0)
            st = snn_error_set(err, SNN_E_UNSUPPORTED,
                               "layer '%s': only one input layer is "
                               "supported", l->name);
        if (st != SNN_OK)
            return st;
    }
    return SNN_OK;
}

snn_status snn_net_set_cell(snn_net *net, const snn_cell *c, snn_error *err)
{
    if (!(c->tau_refrac >= 0))
        return snn_error_set(err, SNN_E_INVALID,
                             "config [cell] tau_refrac = %g: must be >= 0",
                             (double)c->tau_refrac);
    if (!isfinite(c->v_reset))
        return snn_error_set(err, SNN_E_INVALID,
                             "config [cell] v_reset must be a finite number");
    if (c->v_clip && !(c->v_min <= c->v_max))
        return snn_error_set(err, SNN_E_INVALID,
                             "config [cell] v_clip: v_clip_min = %g is above "
                             "v_clip_max = %g", (double)c->v_min,
                             (double)c->v_max);
    if (c->bias_relaxation && !(c->duration > 0))
        return snn_error_set(err, SNN_E_INVALID,
                             "config [cell] bias_relaxation needs a positive "
                             "[simulation] duration");
    for (int i = 0; c->payloads && i < net->n_layers; i++)
        if (snn_act_is_binary(net->layers[i].syn.act))
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "config [cell] payloads: layer '%s' has a "
                                 "binary activation (%s), whose spikes carry "
                                 "no payload", net->layers[i].syn.name,
                                 snn_act_name(net->layers[i].syn.act));
    net->cell = *c;
    return SNN_OK;
}

const char *snn_net_sim_only_option(const snn_net *net)
{
    const snn_cell *c = &net->cell;
    if (c->tau_refrac > 0)
        return "[cell] tau_refrac";
    if (c->v_reset != 0 && net->reset == SNN_RESET_ZERO)
        return "[cell] v_reset";
    if (c->leak)
        return "[cell] leak";
    if (c->v_clip)
        return "[cell] v_clip";
    if (c->payloads)
        return "[cell] payloads";
    if (c->bias_relaxation)
        return "[cell] bias_relaxation";
    if (c->online_normalization)
        return "[normalization] online_normalization";
    for (int i = 0; i < net->n_layers; i++) {
        if (net->layers[i].clamp_until > 0)
            return "[paths] filename_clamp_indices";
        if (snn_act_is_binary(net->layers[i].syn.act))
            return "binary_sigmoid / binary_tanh (a layer's activation)";
        if (net->layers[i].unit == SNN_UNIT_MAXGATE &&
            c->maxpool == SNN_MAXPOOL_EXP)
            return "[conversion] maxpool_type = exp_max";
    }
    return NULL;
}

static snn_status convert_layers(const snn_graph *g, const snn_convert_opts *o,
                                 snn_net *net, int *map, snn_error *err)
{
    for (int i = 0; i < g->n_layers; i++) {
        const snn_layer *l = &g->layers[i];
        int input = l->n_inputs ? map[l->inputs[0]] : -1;
        int folded = merge_folds(g, i);
        snn_status st = check_clip(l, o->v_thresh, err);
        if (st != SNN_OK)
            return st;
        switch (l->op) {
        case SNN_OP_INPUT:
            net->input_shape = l->shape;
            map[i] = -1;
            continue;
        case SNN_OP_BATCHNORM:
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer '%s': batch normalization must be "
                                 "folded before conversion", l->name);
        case SNN_OP_ACTIVATION:
            st = absorb_activation(net, l, input, err);
            map[i] = input;
            break;
        case SNN_OP_DENSE:
        case SNN_OP_CONV2D:
        case SNN_OP_CONV2D_T:
        case SNN_OP_MAXPOOL2D:
        case SNN_OP_AVGPOOL2D:
        case SNN_OP_FLATTEN:
        case SNN_OP_PAD:
        case SNN_OP_CROP:
        case SNN_OP_UPSAMPLE:
        case SNN_OP_RESHAPE:
            if (!folded)
                st = add_net_layer(net, l, input, o, err);
            map[i] = folded ? FOLDED : net->n_layers - 1;
            break;
        case SNN_OP_ADD:
            if (!folded)
                st = add_sum_layer(g, i, net, map, o, err);
            map[i] = folded ? FOLDED : net->n_layers - 1;
            break;
        case SNN_OP_CONCAT:
            st = add_concat_layer(g, i, net, map, err);
            map[i] = net->n_layers - 1;
            break;
        }
        if (st != SNN_OK)
            return st;
    }
    return SNN_OK;
}

snn_status snn_convert(const snn_graph *g, const snn_convert_opts *opts,
                       snn_net *net, snn_error *err)
{
    memset(net, 0, sizeof *net);
    if (g->n_layers < 2)
        return snn_error_set(err, SNN_E_INVALID, "the model has no layers");
    if (!(opts->v_thresh > 0) || !(opts->dt > 0))
        return snn_error_set(err, SNN_E_INVALID,
                             "v_thresh and dt must be positive");

    snn_status checked = snn_convert_check(g, err);
    if (checked != SNN_OK)
        return checked;
    net->layers = calloc((size_t)g->n_layers, sizeof *net->layers);
    int *map = calloc((size_t)g->n_layers, sizeof *map);
    if (!net->layers || !map) {
        free(map);
        free(net->layers);
        net->layers = NULL;
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate the net");
    }
    net->reset = opts->reset;
    net->v_thresh = opts->v_thresh;
    net->dt = opts->dt;
    snn_status st = convert_layers(g, opts, net, map, err);
    free(map);
    if (st == SNN_OK && net->n_layers == 0)
        st = snn_error_set(err, SNN_E_INVALID, "the model has no layers");
    if (st != SNN_OK)
        snn_net_free(net);
    return st;
}
