/*
 * onnx_tensor.c - constant tensors and node attributes of an ONNX model.
 *
 * A TensorProto stores its values either in raw_data (little-endian
 * bytes) or in the typed repeated field of its data type; both are
 * checked against the product of the dims before anything is allocated.
 * Tensors in external files are refused: the reader reads one file.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parse/onnx_internal.h"
#include "parse/proto_graph.h"

static snn_status tensor_numel(const onnx_ctx *c, const Onnx__TensorProto *t,
                               size_t *n, snn_error *err)
{
    const char *name = t->name ? t->name : "";
    if (t->has_data_location &&
        t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "tensor '%s' is stored in an external file; "
                              "save the model with its weights inside",
                              name);
    if (t->n_dims > SNN_MAX_DIMS)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "tensor '%s' has rank %zu", name, t->n_dims);
    *n = 1;
    for (size_t k = 0; k < t->n_dims; k++)
        if (t->dims[k] < 0 || !snn_size_mul(*n, (size_t)t->dims[k], n))
            return snn_onnx_error(c, err, SNN_E_FORMAT,
                                  "tensor '%s' has an invalid dimension",
                                  name);
    return SNN_OK;
}

/* Checks that the tensor stores n values of width bytes (raw) or typed
 * values, returning how many are stored. */
static snn_status stored(const onnx_ctx *c, const Onnx__TensorProto *t,
                         size_t n, size_t width, size_t typed,
                         snn_error *err)
{
    int ok = t->has_raw_data
                 ? n <= SIZE_MAX / width && t->raw_data.len == n * width
                 : typed == n;
    if (!ok)
        return snn_onnx_error(c, err, SNN_E_FORMAT,
                              "tensor '%s' stores %zu %s for %zu values",
                              t->name ? t->name : "",
                              t->has_raw_data ? t->raw_data.len : typed,
                              t->has_raw_data ? "bytes" : "values", n);
    return SNN_OK;
}

static uint64_t le_bytes(const uint8_t *p, size_t width)
{
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static float half_to_float(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float s = h & 0x8000 ? -1.0f : 1.0f;
    if (e == 0)
        return s * ldexpf((float)m, -24);
    if (e == 31)
        return m ? NAN : s * INFINITY;
    return s * ldexpf((float)(m | 0x400), e - 25);
}

/* Value i of a float-typed tensor. */
static float float_at(const Onnx__TensorProto *t, size_t i)
{
    if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
        if (!t->has_raw_data)
            return t->float_data[i];
        uint32_t b = (uint32_t)le_bytes(t->raw_data.data + 4 * i, 4);
        float f;
        memcpy(&f, &b, sizeof f);
        return f;
    }
    if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE) {
        if (!t->has_raw_data)
            return (float)t->double_data[i];
        uint64_t b = le_bytes(t->raw_data.data + 8 * i, 8);
        double d;
        memcpy(&d, &b, sizeof d);
        return (float)d;
    }
    /* FLOAT16: raw, or the bits in int32_data. */
    return half_to_float(t->has_raw_data
                             ? (uint16_t)le_bytes(t->raw_data.data + 2 * i, 2)
                             : (uint16_t)t->int32_data[i]);
}

snn_status snn_onnx_floats(const onnx_ctx *c, const Onnx__TensorProto *t,
                           snn_tensor *out, snn_error *err)
{
    size_t n = 0, width = 0, typed = 0;
    snn_status st = tensor_numel(c, t, &n, err);
    if (st != SNN_OK)
        return st;
    switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        width = 4, typed = t->n_float_data;
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
        width = 8, typed = t->n_double_data;
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
        width = 2, typed = t->n_int32_data;
        break;
    default:
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "tensor '%s' has data type %d; expected a "
                              "float type", t->name ? t->name : "",
                              (int)t->data_type);
    }
    st = stored(c, t, n, width, typed, err);
    size_t dims[SNN_MAX_DIMS];
    for (size_t k = 0; k < t->n_dims; k++)
        dims[k] = (size_t)t->dims[k];
    if (st == SNN_OK)
        st = snn_tensor_init(out, (int)t->n_dims, dims, err);
    for (size_t i = 0; st == SNN_OK && i < n; i++)
        out->data[i] = float_at(t, i);
    return st;
}

snn_status snn_onnx_ints(const onnx_ctx *c, const Onnx__TensorProto *t,
                         int64_t **vals, size_t *n, snn_error *err)
{
    *vals = NULL;
    snn_status st = tensor_numel(c, t, n, err);
    if (st != SNN_OK)
        return st;
    int is64 = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    if (!is64 && t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "tensor '%s' has data type %d; expected "
                              "integers", t->name ? t->name : "",
                              (int)t->data_type);
    st = stored(c, t, *n, is64 ? 8 : 4,
                is64 ? t->n_int64_data : t->n_int32_data, err);
    if (st != SNN_OK)
        return st;
    *vals = malloc((*n ? *n : 1) * sizeof **vals);
    if (!*vals)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate %zu ints",
                             *n);
    for (size_t i = 0; i < *n; i++) {
        if (t->has_raw_data)
            (*vals)[i] = is64 ? (int64_t)le_bytes(t->raw_data.data + 8 * i, 8)
                              : (int32_t)(uint32_t)le_bytes(
                                    t->raw_data.data + 4 * i, 4);
        else
            (*vals)[i] = is64 ? t->int64_data[i] : t->int32_data[i];
    }
    return SNN_OK;
}

/* ---- attributes --------------------------------------------------------- */

const Onnx__AttributeProto *snn_onnx_attr(const onnx_ctx *c,
                                          const char *name)
{
    for (size_t i = 0; i < c->node->n_attribute; i++)
        if (c->node->attribute[i]->name &&
            strcmp(c->node->attribute[i]->name, name) == 0)
            return c->node->attribute[i];
    return NULL;
}

int64_t snn_onnx_attr_int(const onnx_ctx *c, const char *name, int64_t dflt)
{
    const Onnx__AttributeProto *a = snn_onnx_attr(c, name);
    return a && a->has_i ? a->i : dflt;
}

float snn_onnx_attr_float(const onnx_ctx *c, const char *name, float dflt)
{
    const Onnx__AttributeProto *a = snn_onnx_attr(c, name);
    return a && a->has_f ? a->f : dflt;
}

int snn_onnx_attr_is(const onnx_ctx *c, const char *name, const char *s,
                     int dflt)
{
    const Onnx__AttributeProto *a = snn_onnx_attr(c, name);
    if (!a || !a->has_s)
        return dflt;
    size_t n = strlen(s);
    return a->s.len == n && memcmp(a->s.data, s, n) == 0;
}

snn_status snn_onnx_attr_ints(const onnx_ctx *c, const char *name, size_t n,
                              int64_t *out, int *found, snn_error *err)
{
    const Onnx__AttributeProto *a = snn_onnx_attr(c, name);
    *found = a != NULL;
    if (!a)
        return SNN_OK;
    if (a->n_ints != n)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "attribute %s has %zu values; expected %zu",
                              name, a->n_ints, n);
    memcpy(out, a->ints, n * sizeof *out);
    return SNN_OK;
}
