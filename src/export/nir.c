/*
 * nir.c - writes the spiking net as NIR, the neuromorphic intermediate
 * representation: the HDF5 layout `nir.write` produces (`version`,
 * `node/{type, nodes/<name>/..., edges}`), so that `nir.read` and the
 * importers built on it (snnTorch, Norse, Sinabs, Lava, ...) load it.
 *
 * Each neuron layer becomes its synaptic node (Affine, Conv2d, SumPool2d)
 * followed by an IF node; flatten becomes Flatten.  NIR spikes carry 1,
 * so weights of spike-fed layers are multiplied by v_thresh.  Average
 * pooling is written as SumPool2d, which the importers map (Norse, Sinabs
 * and nirtorch do; AvgPool2d only snnTorch and nirtorch): its IF node
 * integrates the sum, so its potential, threshold and v_reset are the
 * native ones times cells / spike value (exact for 2x2 pools).  NIR's IF
 * fires when v > v_threshold, ours when v >= v_thresh: v_threshold is the
 * float just below the threshold, which makes the two tests equal on
 * float32 potentials.  NIR's IF resets to v_reset; the net's reset mode
 * and dt are recorded in each IF node's metadata (`reset`, `dt`,
 * `bias_per_step`): biases are per time step (already multiplied by dt),
 * so an importer stepping at dt matches.  NIR has no max pooling: as the
 * original toolbox does for targets without it, max-pooling falls back to
 * average pooling (SumPool2d and IF neurons, like the Brian2 export), with
 * a warning.
 *
 * The file is built in memory (HDF5 core driver) and written atomically
 * (h5write.c).
 */
#include "snntb/export.h"

#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "export/h5write.h"

/* The NIR release whose layout this writer follows. */
#define NIR_VERSION "1.0.8"
#define NODE_NAME_MAX (SNN_NAME_MAX + 16) /* "layer_" + name + "_if" */

typedef char node_name[NODE_NAME_MAX];

typedef struct nir_writer {
    const snn_net *net;
    const snn_log *log;
    snn_error *err;
    hid_t nodes;          /* the node/nodes group */
    node_name *tails;     /* per net layer: the node that outputs it */
    const char **edges;   /* pairs of node names, 2 * n_edges */
    node_name *names;     /* every node written, for the uniqueness check */
    size_t n_edges, n_names;
} nir_writer;

static snn_status h5_fail(nir_writer *w, const char *what, const char *node)
{
    return snn_error_set(w->err, SNN_E_IO, "NIR: cannot write %s of node '%s'",
                         what, node);
}

static herr_t write_str(hid_t loc, const char *name, const char *text)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    herr_t r = ds < 0 ? -1 : H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                      &text);
    if (ds >= 0)
        H5Dclose(ds);
    H5Sclose(space);
    H5Tclose(type);
    return r;
}

static herr_t write_i64(hid_t loc, const char *name, int ndim, size_t n,
                        const int64_t *v)
{
    hsize_t d = n;
    return snn_h5_write_array(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, ndim, &d,
                       v);
}

static herr_t write_f32(hid_t loc, const char *name, int ndim,
                        const size_t *dims, const float *v)
{
    hsize_t d[4];
    for (int k = 0; k < ndim; k++)
        d[k] = dims[k];
    return snn_h5_write_array(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, ndim, d,
                       v);
}

static herr_t write_shape(hid_t loc, const char *name, const snn_shape *s)
{
    int64_t v[3];
    for (int k = 0; k < s->ndim; k++)
        v[k] = (int64_t)s->dims[k];
    return write_i64(loc, name, 1, (size_t)s->ndim, v);
}

/* Opens a new node group, after checking that its name is new. */
static hid_t begin_node(nir_writer *w, const char *name, const char *type)
{
    for (size_t k = 0; k < w->n_names; k++)
        if (strcmp(w->names[k], name) == 0) {
            snn_error_set(w->err, SNN_E_INVALID,
                          "NIR: two nodes would be named '%s': rename a "
                          "layer", name);
            return -1;
        }
    snprintf(w->names[w->n_names++], NODE_NAME_MAX, "%s", name);
    hid_t g = H5Gcreate2(w->nodes, name, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    if (g < 0) {
        h5_fail(w, "the group", name);
        return -1;
    }
    if (write_str(g, "type", type) < 0) {
        H5Gclose(g);
        h5_fail(w, "the type", name);
        return -1;
    }
    return g;
}

static snn_status end_node(nir_writer *w, hid_t g, herr_t r, const char *name)
{
    H5Gclose(g);
    return r < 0 ? h5_fail(w, "the parameters", name) : SNN_OK;
}

/* Edges point into w->names, which lives as long as the writer. */
static void add_edge(nir_writer *w, const char *from, const char *to)
{
    w->edges[2 * w->n_edges] = from;
    w->edges[2 * w->n_edges + 1] = to;
    w->n_edges++;
}

static const char *last_name(const nir_writer *w)
{
    return w->names[w->n_names - 1];
}

static const char *tail_of(const nir_writer *w, int layer)
{
    return layer < 0 ? "input" : w->tails[layer];
}

static void layer_node_name(char *dst, const snn_layer *l, const char *suffix)
{
    char base[SNN_NAME_MAX];
    snn_export_safe_name(base, sizeof base, l->name);
    if (!base[0] || !strcmp(base, "input") || !strcmp(base, "output"))
        snprintf(dst, NODE_NAME_MAX, "layer_%s%s", base, suffix);
    else
        snprintf(dst, NODE_NAME_MAX, "%s%s", base, suffix);
}

/* The weights in the target's conventions: scaled for spikes of value 1,
 * dense columns in channels-first order. */
static float *target_weights(const nir_writer *w, int i)
{
    const snn_layer *l = &w->net->layers[i].syn;
    size_t n = snn_tensor_numel(&l->weight);
    float *out = malloc((n ? n : 1) * sizeof *out);
    if (!out)
        return NULL;
    float scale = snn_export_weight_scale(w->net, i);
    if (l->op != SNN_OP_DENSE) {
        for (size_t k = 0; k < n; k++)
            out[k] = l->weight.data[k] * scale;
        return out;
    }
    size_t rows = l->weight.dims[0], cols = l->weight.dims[1];
    for (size_t o = 0; o < rows; o++)
        for (size_t j = 0; j < cols; j++)
            out[o * cols + snn_export_dense_column(w->net, i, j)] =
                l->weight.data[o * cols + j] * scale;
    return out;
}

/* Bias of layer i, zeros when it has none (NIR's nodes require one). */
static float *target_bias(const snn_layer *l, size_t n_out)
{
    float *b = calloc(n_out ? n_out : 1, sizeof *b);
    if (b && snn_tensor_numel(&l->bias) == n_out)
        memcpy(b, l->bias.data, n_out * sizeof *b);
    return b;
}

static herr_t write_window(hid_t g, const snn_window *win, int pool)
{
    int64_t stride[2] = {win->stride[0], win->stride[1]};
    int64_t pad[2] = {win->pad[0], win->pad[1]};
    int64_t kernel[2] = {win->kernel[0], win->kernel[1]};
    herr_t r = write_i64(g, "stride", 1, 2, stride);
    if (r >= 0)
        r = write_i64(g, "padding", 1, 2, pad);
    if (r >= 0 && pool)
        r = write_i64(g, "kernel_size", 1, 2, kernel);
    return r;
}

/* Average pooling, or max pooling falling back to it: a SumPool2d. */
static int is_pool(const snn_layer *l)
{
    return l->op == SNN_OP_AVGPOOL2D || l->op == SNN_OP_MAXPOOL2D;
}

/* NIR pads symmetrically and rounds output sizes down. */
static snn_status check_window(nir_writer *w, const snn_net_layer *l)
{
    const snn_window *win = &l->syn.win;
    if (win->pad[0] != win->pad[2] || win->pad[1] != win->pad[3])
        return snn_error_set(w->err, SNN_E_UNSUPPORTED,
                             "layer '%s': NIR pads symmetrically, this layer "
                             "pads top/left/bottom/right %d/%d/%d/%d",
                             l->syn.name, win->pad[0], win->pad[1],
                             win->pad[2], win->pad[3]);
    for (int a = 0; a < 2; a++) {
        long span = (long)l->in_shape.dims[1 + a] + 2L * win->pad[a] -
                    (long)win->dilation[a] * (win->kernel[a] - 1) - 1;
        if (span < 0 ||
            (size_t)(span / win->stride[a] + 1) != l->syn.shape.dims[1 + a])
            return snn_error_set(w->err, SNN_E_UNSUPPORTED,
                                 "layer '%s': its output size rounds up "
                                 "(ceil mode), which NIR cannot express",
                                 l->syn.name);
    }
    if (is_pool(&l->syn) && (win->pad[0] || win->pad[1]))
        return snn_error_set(w->err, SNN_E_UNSUPPORTED,
                             "layer '%s': padded average pooling (padding "
                             "left out of the mean) has no NIR equivalent",
                             l->syn.name);
    return SNN_OK;
}

static snn_status write_affine(nir_writer *w, int i, hid_t g)
{
    const snn_layer *l = &w->net->layers[i].syn;
    float *wt = target_weights(w, i);
    float *b = target_bias(l, l->weight.dims[0]);
    herr_t r = -1;
    if (wt && b) {
        r = write_f32(g, "weight", l->weight.ndim, l->weight.dims, wt);
        if (r >= 0)
            r = write_f32(g, "bias", 1, l->weight.dims, b);
    }
    free(wt);
    free(b);
    if (!wt || !b)
        return snn_error_set(w->err, SNN_E_NOMEM,
                             "layer '%s': cannot allocate its weights",
                             l->name);
    return r < 0 ? h5_fail(w, "the weights", last_name(w)) : SNN_OK;
}

static snn_status write_conv_attrs(nir_writer *w, int i, hid_t g)
{
    const snn_net_layer *nl = &w->net->layers[i];
    int64_t in_hw[2] = {(int64_t)nl->in_shape.dims[1],
                        (int64_t)nl->in_shape.dims[2]};
    int64_t dil[2] = {nl->syn.win.dilation[0], nl->syn.win.dilation[1]};
    int64_t groups = nl->syn.groups;
    herr_t r = write_window(g, &nl->syn.win, 0);
    if (r >= 0)
        r = write_i64(g, "dilation", 1, 2, dil);
    if (r >= 0)
        r = write_i64(g, "groups", 0, 1, &groups);
    if (r >= 0)
        r = write_i64(g, "input_shape", 1, 2, in_hw);
    return r < 0 ? h5_fail(w, "the window", last_name(w)) : SNN_OK;
}

/* The synaptic node of a neuron layer; the IF node follows. */
static snn_status write_synapse(nir_writer *w, int i, const char *name)
{
    const snn_net_layer *nl = &w->net->layers[i];
    int conv = nl->syn.op == SNN_OP_CONV2D;
    int pool = is_pool(&nl->syn);
    if (!conv && !pool && nl->syn.op != SNN_OP_DENSE)
        return snn_error_set(w->err, SNN_E_UNSUPPORTED,
                             "layer '%s': NIR export of %s neurons is not "
                             "supported", nl->syn.name,
                             snn_op_name(nl->syn.op));
    snn_status st = conv || pool ? check_window(w, nl) : SNN_OK;
    if (st != SNN_OK)
        return st;
    hid_t g = begin_node(w, name, conv ? "Conv2d" : pool ? "SumPool2d"
                                                         : "Affine");
    if (g < 0)
        return w->err->status;
    if (pool)
        return end_node(w, g, write_window(g, &nl->syn.win, 1), name);
    st = write_affine(w, i, g);
    if (st == SNN_OK && conv)
        st = write_conv_attrs(w, i, g);
    H5Gclose(g);
    return st;
}

static herr_t write_metadata(const nir_writer *w, hid_t g)
{
    hid_t m = H5Gcreate2(g, "metadata", H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    if (m < 0)
        return -1;
    double dt = w->net->dt;
    int64_t per_step = 1;
    herr_t r = write_str(m, "reset", snn_export_reset_name(w->net->reset));
    if (r >= 0)
        r = snn_h5_write_array(m, "dt", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                        &dt);
    if (r >= 0)
        r = write_i64(m, "bias_per_step", 0, 1, &per_step);
    H5Gclose(m);
    return r;
}

/* What the IF node's potential is in native units: 1, except after a
 * pool, whose node sums spikes of value 1 where the native neuron adds
 * their mean, each carrying the spike value. */
static float potential_scale(const nir_writer *w, int i)
{
    const snn_layer *l = &w->net->layers[i].syn;
    if (!is_pool(l))
        return 1.0f;
    return (float)(l->win.kernel[0] * l->win.kernel[1]) /
           snn_export_weight_scale(w->net, i);
}

/* Per-neuron IF parameters: r = 1, v_threshold just below the scaled
 * threshold (NIR fires on v > v_threshold), v_reset where reset to zero
 * sets V (0 for the other resets, which do not use it). */
static snn_status write_if(nir_writer *w, int i, const char *name)
{
    const snn_net *net = w->net;
    const snn_net_layer *nl = &net->layers[i];
    size_t n = snn_shape_numel(&nl->syn.shape);
    float *buf = malloc(3 * (n ? n : 1) * sizeof *buf);
    if (!buf)
        return snn_error_set(w->err, SNN_E_NOMEM,
                             "layer '%s': cannot allocate its neurons",
                             nl->syn.name);
    float scale = potential_scale(w, i);
    float th_val = nextafterf(net->v_thresh * scale, -INFINITY);
    float reset_val = net->reset == SNN_RESET_ZERO ? net->cell.v_reset * scale
                                                   : 0.0f;
    float *r = buf, *th = buf + n, *reset = buf + 2 * n;
    for (size_t k = 0; k < n; k++) {
        r[k] = 1.0f;
        th[k] = th_val;
        reset[k] = reset_val;
    }
    hid_t g = begin_node(w, name, "IF");
    if (g < 0) {
        free(buf);
        return w->err->status;
    }
    const snn_shape *s = &nl->syn.shape;
    herr_t hr = write_f32(g, "r", s->ndim, s->dims, r);
    if (hr >= 0)
        hr = write_f32(g, "v_threshold", s->ndim, s->dims, th);
    if (hr >= 0)
        hr = write_f32(g, "v_reset", s->ndim, s->dims, reset);
    if (hr >= 0)
        hr = write_metadata(w, g);
    free(buf);
    return end_node(w, g, hr, name);
}

static snn_status write_neuron_layer(nir_writer *w, int i)
{
    const snn_layer *l = &w->net->layers[i].syn;
    if (w->net->layers[i].unit == SNN_UNIT_MAXGATE)
        snn_warn(w->log, "layer '%s': NIR has no max pooling; exported as "
                 "average pooling (the original toolbox's fallback), so "
                 "results will differ from the native simulator", l->name);
    if (w->net->layers[i].unit == SNN_UNIT_SOFTMAX)
        snn_warn(w->log, "layer '%s': NIR has no stochastic softmax output; "
                 "exported as integrate-and-fire neurons (set "
                 "softmax_to_relu = True to convert it that way too)",
                 l->name);
    node_name syn, neu;
    layer_node_name(syn, l, "");
    layer_node_name(neu, l, "_if");
    snn_status st = write_synapse(w, i, syn);
    if (st != SNN_OK)
        return st;
    const char *syn_stored = last_name(w);
    add_edge(w, tail_of(w, w->net->layers[i].input), syn_stored);
    st = write_if(w, i, neu);
    if (st == SNN_OK)
        add_edge(w, syn_stored, last_name(w));
    return st;
}

/* Flattens channels-first; a (H, W, C) order is moved into the weights of
 * the dense layer that follows (snn_export_dense_column). */
static snn_status write_flatten(nir_writer *w, int i)
{
    const snn_net_layer *nl = &w->net->layers[i];
    node_name name;
    layer_node_name(name, &nl->syn, "");
    hid_t g = begin_node(w, name, "Flatten");
    if (g < 0)
        return w->err->status;
    add_edge(w, tail_of(w, nl->input), last_name(w));
    int64_t start = 0, end = -1;
    herr_t r = write_shape(g, "input_type", &nl->in_shape);
    if (r >= 0)
        r = write_i64(g, "start_dim", 0, 1, &start);
    if (r >= 0)
        r = write_i64(g, "end_dim", 0, 1, &end);
    return end_node(w, g, r, name);
}

/* A flatten in (H, W, C) order can only be moved into dense weights. */
static snn_status check_flatten_users(const snn_net *net, snn_error *err)
{
    for (int i = 0; i < net->n_layers; i++) {
        int src = net->layers[i].input;
        if (src < 0 || net->layers[src].unit != SNN_UNIT_RESHAPE ||
            !net->layers[src].syn.flatten_hwc)
            continue;
        if (net->layers[i].syn.op != SNN_OP_DENSE)
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "layer '%s': NIR flattens channels first; "
                                 "the (H, W, C) flatten before it can only "
                                 "be folded into a Dense layer",
                                 net->layers[i].syn.name);
    }
    int last = net->n_layers - 1;
    if (net->layers[last].unit == SNN_UNIT_RESHAPE &&
        net->layers[last].syn.flatten_hwc)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s': an (H, W, C) flatten cannot end a "
                             "NIR graph", net->layers[last].syn.name);
    return SNN_OK;
}

static snn_status write_io(nir_writer *w)
{
    const snn_net *net = w->net;
    hid_t g = begin_node(w, "input", "Input");
    if (g < 0)
        return w->err->status;
    snn_status st = end_node(w, g, write_shape(g, "shape", &net->input_shape),
                             "input");
    if (st != SNN_OK)
        return st;
    for (int i = 0; st == SNN_OK && i < net->n_layers; i++) {
        switch (net->layers[i].unit) {
        case SNN_UNIT_IF:
        case SNN_UNIT_SOFTMAX:
        case SNN_UNIT_MAXGATE:
            st = write_neuron_layer(w, i);
            break;
        case SNN_UNIT_RESHAPE:
            st = write_flatten(w, i);
            break;
        }
        if (st == SNN_OK)
            snprintf(w->tails[i], NODE_NAME_MAX, "%s", last_name(w));
    }
    if (st != SNN_OK)
        return st;
    const char *last = w->tails[net->n_layers - 1];
    g = begin_node(w, "output", "Output");
    if (g < 0)
        return w->err->status;
    add_edge(w, last, last_name(w));
    return end_node(w, g,
                    write_shape(g, "shape",
                                &net->layers[net->n_layers - 1].syn.shape),
                    "output");
}

static herr_t write_edges(hid_t node, const nir_writer *w)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hsize_t dims[2] = {w->n_edges, 2};
    herr_t r = snn_h5_write_array(node, "edges", type, type, 2, dims, w->edges);
    H5Tclose(type);
    return r;
}

static snn_status write_graph(hid_t file, nir_writer *w)
{
    if (write_str(file, "version", NIR_VERSION) < 0)
        return h5_fail(w, "the version", "/");
    hid_t node = H5Gcreate2(file, "node", H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT);
    if (node < 0)
        return h5_fail(w, "the group", "node");
    snn_status st = SNN_OK;
    if (write_str(node, "type", "NIRGraph") < 0)
        st = h5_fail(w, "the type", "node");
    w->nodes = st == SNN_OK ? H5Gcreate2(node, "nodes", H5P_DEFAULT,
                                         H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (st == SNN_OK && w->nodes < 0)
        st = h5_fail(w, "the group", "node/nodes");
    if (st == SNN_OK)
        st = write_io(w);
    if (w->nodes >= 0)
        H5Gclose(w->nodes);
    if (st == SNN_OK && write_edges(node, w) < 0)
        st = h5_fail(w, "the edges", "node");
    H5Gclose(node);
    return st;
}

static snn_status fill_file(hid_t file, void *user, snn_error *err)
{
    (void)err; /* the writer reports into its own err */
    return write_graph(file, user);
}

static snn_status alloc_writer(nir_writer *w, const snn_net *net,
                               snn_error *err)
{
    /* Per layer at most two nodes and two edges, plus input and output. */
    size_t n = 2 * (size_t)net->n_layers + 2;
    w->tails = calloc((size_t)net->n_layers, sizeof *w->tails);
    w->names = calloc(n, sizeof *w->names);
    w->edges = calloc(2 * n, sizeof *w->edges);
    if (w->tails && w->names && w->edges)
        return SNN_OK;
    return snn_error_set(err, SNN_E_NOMEM, "cannot allocate the NIR graph");
}

snn_status snn_export_nir(const snn_net *net, const char *path,
                          const snn_log *log, snn_error *err)
{
    snn_error local = {0};
    if (!err)
        err = &local;
    snn_status st = check_flatten_users(net, err);
    if (st != SNN_OK)
        return st;
    nir_writer w = {net, log, err, -1, NULL, NULL, NULL, 0, 0};
    st = alloc_writer(&w, net, err);
    if (st == SNN_OK)
        st = snn_h5_write_file(path, fill_file, &w, err);
    free(w.tails);
    free(w.names);
    free(w.edges);
    return st;
}
