/*
 * convert.c - turns a normalized ANN graph into a spiking net.
 *
 * Weighted and average-pooling layers become integrate-and-fire layers
 * that keep their synaptic op; max-pooling becomes spike gating, flatten a
 * re-indexing.  Standalone activations disappear: ReLU is what an IF
 * neuron computes, and softmax marks its input layer as a softmax output.
 */
#include "snntb/net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"

static void net_layer_free(snn_net_layer *l)
{
    snn_tensor_free(&l->syn.weight);
    snn_tensor_free(&l->syn.bias);
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

static snn_unit unit_for(const snn_layer *l)
{
    switch (l->op) {
    case SNN_OP_MAXPOOL2D:
        return SNN_UNIT_MAXGATE;
    case SNN_OP_FLATTEN:
        return SNN_UNIT_RESHAPE;
    default:
        return l->act == SNN_ACT_SOFTMAX ? SNN_UNIT_SOFTMAX : SNN_UNIT_IF;
    }
}

/* Copies the synaptic part of l (weights, window) into a new net layer. */
static snn_status add_net_layer(snn_net *net, const snn_layer *l, int input,
                                const snn_convert_opts *o, snn_error *err)
{
    snn_net_layer *nl = &net->layers[net->n_layers];
    memset(nl, 0, sizeof *nl);
    nl->syn = *l;
    memset(&nl->syn.weight, 0, sizeof nl->syn.weight);
    memset(&nl->syn.bias, 0, sizeof nl->syn.bias);
    memset(&nl->syn.gamma, 0, 4 * sizeof nl->syn.gamma);
    nl->unit = unit_for(l);
    nl->input = input;
    nl->in_shape = input < 0 ? net->input_shape : net->layers[input].syn.shape;
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

/* A standalone activation: ReLU/linear vanish into the IF layer before
 * them; softmax turns that layer into the softmax output; a binary
 * activation becomes that layer's firing rule (binary(relu(x)) =
 * binary(x), so it replaces a ReLU there). */
static snn_status absorb_activation(snn_net *net, const snn_layer *l,
                                    int input, snn_error *err)
{
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
                l->op == SNN_OP_CONV2D || l->op == SNN_OP_MAXPOOL2D ||
                l->op == SNN_OP_AVGPOOL2D || l->op == SNN_OP_FLATTEN ||
                l->op == SNN_OP_BATCHNORM || l->op == SNN_OP_ACTIVATION;
    if (!op_ok)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s' (%s): not supported by the spiking "
                             "simulator yet", l->name, snn_op_name(l->op));
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
        case SNN_OP_MAXPOOL2D:
        case SNN_OP_AVGPOOL2D:
        case SNN_OP_FLATTEN:
            st = add_net_layer(net, l, input, o, err);
            map[i] = net->n_layers - 1;
            break;
        case SNN_OP_ADD:
        case SNN_OP_CONCAT:
        case SNN_OP_PAD:
        case SNN_OP_CROP:
        case SNN_OP_UPSAMPLE:
        case SNN_OP_RESHAPE:
        case SNN_OP_CONV2D_T:
            break; /* snn_convert_check refused them */
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
