/*
 * lava.c - writes the spiking net for Loihi in the HDF5 layout of lava-dl's
 * netx (`lava.lib.dl.netx.hdf5.Network`): `layer/<n>/{type, shape, ...}`
 * with integer `weight` and `bias` and a `neuron` group of Loihi's CUBA
 * parameters (`type`, `iDecay`, `vDecay`, `vThMant`, `refDelay`,
 * `gradedSpike`).  Intel's NxSDK, which the original toolbox targets, is
 * closed; Lava is its open successor, and netx builds a Lava process from
 * this file.
 *
 * The values are those of snn_quantize with 8-bit weights (Loihi's weight
 * mantissa; Loihi's weight exponent is 0) and thresholds below 2^17.  A
 * CUBA neuron with iDecay = 4096 (current kept for one step) and vDecay =
 * 0 (no leak) integrates v += sum(weights of this step's spikes) + bias,
 * fires when v > vThMant and resets to zero: vThMant = 2^shift - 1, so it
 * fires at v >= 2^shift as the native simulator does.  Layer 0 is the
 * input (`type = input`, `shape` only); the first neuron layer receives
 * the sample as graded spikes of round(x * 2^8).  Pooling is written as a
 * depthwise convolution (netx has no pooling block); netx connects layers
 * in file order, so only chains are written, and a flatten must precede a
 * dense layer.  Layouts as lava-dl writes them: shapes (C, H, W), conv
 * weights (out, in / groups, KH, KW), stride / padding / dilation as
 * (y, x), dense weights (out, in) with inputs in channels-first order.
 */
#include "snntb/export.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "export/h5write.h"

typedef struct lava_writer {
    const snn_quant *q;
    const char *path;
    hid_t layers; /* the layer group */
    int next;     /* the next layer/<n> */
} lava_writer;

/* A fixed-length ASCII string of shape (1,), as lava-dl writes `type`. */
static herr_t write_type(hid_t g, const char *text)
{
    char buf[16] = {0};
    snprintf(buf, sizeof buf, "%s", text);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 10);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hsize_t one = 1;
    herr_t r = snn_h5_write_array(g, "type", t, t, 1, &one, buf);
    H5Tclose(t);
    return r;
}

static herr_t write_ints(hid_t g, const char *name, int ndim,
                         const size_t *dims, const int32_t *v)
{
    hsize_t d[4];
    for (int k = 0; k < ndim; k++)
        d[k] = dims[k];
    return snn_h5_write_array(g, name, H5T_STD_I32LE, H5T_NATIVE_INT32, ndim,
                              d, v);
}

static herr_t write_int(hid_t g, const char *name, int32_t v)
{
    return write_ints(g, name, 0, NULL, &v);
}

static herr_t write_pair(hid_t g, const char *name, int y, int x)
{
    int32_t v[2] = {y, x};
    size_t n = 2;
    return write_ints(g, name, 1, &n, v);
}

static herr_t write_shape(hid_t g, const snn_shape *s)
{
    int32_t v[3];
    size_t n = (size_t)s->ndim;
    for (int k = 0; k < s->ndim; k++)
        v[k] = (int32_t)s->dims[k];
    return write_ints(g, "shape", 1, &n, v);
}

/* The integers of a float tensor (they are exact), optionally with dense
 * columns moved to channels-first order. */
static int32_t *to_ints(const snn_net *ints, int i, const snn_tensor *t,
                        int dense)
{
    size_t n = snn_tensor_numel(t);
    int32_t *v = malloc((n ? n : 1) * sizeof *v);
    size_t rows = dense ? t->dims[0] : 1, cols = n / (rows ? rows : 1);
    for (size_t o = 0; v && o < rows; o++)
        for (size_t j = 0; j < cols; j++) {
            size_t q = dense ? snn_export_dense_column(ints, i, j) : j;
            v[o * cols + q] = (int32_t)t->data[o * cols + j];
        }
    return v;
}

static herr_t write_neuron(hid_t layer, int shift)
{
    hid_t g = H5Gcreate2(layer, "neuron", H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    if (g < 0)
        return -1;
    herr_t r = write_type(g, "CUBA");
    if (r >= 0)
        r = write_int(g, "iDecay", 4096);
    if (r >= 0)
        r = write_int(g, "vDecay", 0);
    if (r >= 0)
        r = write_int(g, "vThMant", (int32_t)((1L << shift) - 1));
    if (r >= 0)
        r = write_int(g, "refDelay", 1);
    if (r >= 0)
        r = write_int(g, "gradedSpike", 0);
    H5Gclose(g);
    return r;
}

static herr_t write_conv_attrs(hid_t g, const snn_net_layer *nl)
{
    const snn_window *w = &nl->syn.win;
    herr_t r = write_int(g, "inChannels", (int32_t)nl->in_shape.dims[0]);
    if (r >= 0)
        r = write_int(g, "outChannels", (int32_t)nl->syn.shape.dims[0]);
    if (r >= 0)
        r = write_pair(g, "kernelSize", w->kernel[0], w->kernel[1]);
    if (r >= 0)
        r = write_pair(g, "stride", w->stride[0], w->stride[1]);
    if (r >= 0)
        r = write_pair(g, "padding", w->pad[0], w->pad[1]);
    if (r >= 0)
        r = write_pair(g, "dilation", w->dilation[0], w->dilation[1]);
    if (r >= 0)
        r = write_int(g, "groups", nl->syn.groups);
    return r;
}

static hid_t begin_layer(lava_writer *w, const char *type)
{
    char name[16];
    snprintf(name, sizeof name, "%d", w->next++);
    hid_t g = H5Gcreate2(w->layers, name, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    if (g >= 0 && write_type(g, type) < 0) {
        H5Gclose(g);
        return -1;
    }
    return g;
}

static snn_status write_neuron_layer(lava_writer *w, int i, snn_error *err)
{
    const snn_net *ints = &w->q->ints;
    const snn_net_layer *nl = &ints->layers[i];
    int dense = nl->syn.op == SNN_OP_DENSE;
    int32_t *wt = to_ints(ints, i, &nl->syn.weight, dense);
    int32_t *b = to_ints(ints, i, &nl->syn.bias, 0);
    if (!wt || !b) {
        free(wt);
        free(b);
        return snn_error_set(err, SNN_E_NOMEM, "layer '%s': cannot allocate "
                             "its weights", nl->syn.name);
    }
    hid_t g = begin_layer(w, dense ? "dense" : "conv");
    herr_t r = g < 0 ? -1 : write_shape(g, &nl->syn.shape);
    if (r >= 0)
        r = write_ints(g, "weight", nl->syn.weight.ndim, nl->syn.weight.dims,
                       wt);
    if (r >= 0 && nl->syn.bias.ndim)
        r = write_ints(g, "bias", 1, nl->syn.bias.dims, b);
    if (r >= 0 && !dense)
        r = write_conv_attrs(g, nl);
    if (r >= 0)
        r = write_neuron(g, w->q->shift[i]);
    if (g >= 0)
        H5Gclose(g);
    free(wt);
    free(b);
    return r < 0 ? snn_error_set(err, SNN_E_IO, "%s: cannot write layer "
                                 "'%s'", w->path, nl->syn.name)
                 : SNN_OK;
}

static snn_status write_plain_layer(lava_writer *w, const char *type,
                                    const snn_shape *shape, snn_error *err)
{
    hid_t g = begin_layer(w, type);
    herr_t r = g < 0 ? -1 : write_shape(g, shape);
    if (g >= 0)
        H5Gclose(g);
    return r < 0 ? snn_error_set(err, SNN_E_IO, "%s: cannot write the %s "
                                 "layer", w->path, type)
                 : SNN_OK;
}

/* netx connects the layers in file order: a chain, flattens before dense
 * layers only, the first layer a neuron layer. */
static snn_status check_chain(const snn_net *net, snn_error *err)
{
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *nl = &net->layers[i];
        if (nl->input != i - 1)
            return snn_error_set(err, SNN_E_UNSUPPORTED, "layer '%s': the "
                                 "Lava export needs a chain of layers (netx "
                                 "connects them in order)", nl->syn.name);
        int flat = nl->unit == SNN_UNIT_RESHAPE;
        if (flat && (i == 0 || i + 1 == net->n_layers ||
                     net->layers[i + 1].syn.op != SNN_OP_DENSE))
            return snn_error_set(err, SNN_E_UNSUPPORTED, "layer '%s': netx "
                                 "reads a flatten only between a neuron "
                                 "layer and a dense layer", nl->syn.name);
    }
    return SNN_OK;
}

static snn_status fill_file(hid_t file, void *user, snn_error *err)
{
    lava_writer *w = user;
    const snn_net *ints = &w->q->ints;
    w->layers = H5Gcreate2(file, "layer", H5P_DEFAULT, H5P_DEFAULT,
                           H5P_DEFAULT);
    if (w->layers < 0)
        return snn_error_set(err, SNN_E_IO, "%s: cannot create the layer "
                             "group", w->path);
    snn_status st = write_plain_layer(w, "input", &ints->input_shape, err);
    for (int i = 0; st == SNN_OK && i < ints->n_layers; i++)
        st = ints->layers[i].unit == SNN_UNIT_RESHAPE
                 ? write_plain_layer(w, "flatten", &ints->layers[i].syn.shape,
                                     err)
                 : write_neuron_layer(w, i, err);
    H5Gclose(w->layers);
    return st;
}

snn_status snn_export_lava(const snn_net *net, const char *path,
                           const snn_log *log, snn_error *err)
{
    snn_status st = check_chain(net, err);
    if (st != SNN_OK)
        return st;
    snn_quant_opts qo;
    snn_quant q;
    snn_quant_opts_for(SNN_EXPORT_LAVA, 0, &qo);
    st = snn_quantize(net, &qo, log, &q, err);
    if (st != SNN_OK)
        return st;
    lava_writer w = {&q, path, -1, 0};
    st = snn_h5_write_file(path, fill_file, &w, err);
    snn_quant_free(&q);
    return st;
}
