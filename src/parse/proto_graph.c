/*
 * proto_graph.c - graph building shared by the Caffe and ONNX readers (see
 * proto_graph.h): adding layers with immediate shape inference, folding
 * activations, and copying weight arrays into tensors with a size check.
 */
#include "parse/proto_graph.h"

#include <string.h>

void snn_pg_release(snn_layer *l)
{
    snn_tensor *ts[] = {&l->weight, &l->bias, &l->gamma,
                        &l->beta,   &l->mean, &l->var};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        snn_tensor_free(ts[i]);
}

snn_status snn_pg_add(snn_graph *g, snn_layer *l, int *index,
                      snn_error *err)
{
    int at = -1;
    snn_status st = snn_graph_add(g, l, &at, err);
    if (st != SNN_OK) {
        snn_pg_release(l);
        return st;
    }
    /* The graph owns the tensors now. */
    memset(l, 0, sizeof *l);
    if (index)
        *index = at;
    /* Re-inferring the earlier layers is idempotent and cheap next to
     * reading their weights; it keeps one shape-inference code path. */
    return snn_graph_infer_shapes(g, err);
}

static int takes_activation(const snn_layer *l)
{
    return (l->op == SNN_OP_DENSE || l->op == SNN_OP_CONV2D ||
            l->op == SNN_OP_BATCHNORM) &&
           l->act == SNN_ACT_LINEAR;
}

snn_status snn_pg_activation(snn_graph *g, int src, int may_fuse,
                             snn_activation act, const char *name,
                             const char *type, int *index, snn_error *err)
{
    if (may_fuse && takes_activation(&g->layers[src])) {
        g->layers[src].act = act;
        *index = src;
        return SNN_OK;
    }
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_ACTIVATION, name, type);
    l.act = act;
    l.inputs[0] = src;
    l.n_inputs = 1;
    return snn_pg_add(g, &l, index, err);
}

snn_status snn_pg_tensor(snn_tensor *t, int ndim, const size_t *dims,
                         const float *fsrc, const double *dsrc, size_t n,
                         const char *what, snn_error *err)
{
    /* Checked against the values actually stored before allocating, so a
     * hostile shape cannot ask for more memory than the file holds. */
    size_t want = 1;
    int fits = 1;
    for (int i = 0; i < ndim; i++)
        fits = fits && snn_size_mul(want, dims[i], &want);
    if (!fits || want != n) {
        char buf[64];
        return snn_error_set(err, SNN_E_SHAPE,
                             "%s: %zu values stored for shape %s", what, n,
                             snn_shape_str(ndim, dims, buf, sizeof buf));
    }
    snn_status st = snn_tensor_init(t, ndim, dims, err);
    if (st != SNN_OK)
        return snn_error_prefix(err, "%s: ", what);
    for (size_t i = 0; i < n; i++)
        t->data[i] = fsrc ? fsrc[i] : (float)dsrc[i];
    return SNN_OK;
}
