/*
 * keras1.c - Keras 1.x layer configs, rewritten into the Keras 2 form the
 * converters in keras_layers.c read, so that each layer kind is converted
 * in one place (which also knows the Keras 1 class names, kept for
 * messages).
 *
 * Keras 1 named things differently (Convolution2D with nb_filter, nb_row,
 * nb_col, subsample, border_mode; Dense output_dim; dim_ordering 'th' or
 * 'tf' for data_format; bias for use_bias) but stored the same weights in
 * the same order, with one exception the converters handle themselves:
 * a 'th' convolution kernel is (out, in, rows, cols), a Convolution1D
 * kernel (length, 1, in, out).  BatchNormalization
 * had modes; only mode 0 (running statistics at inference, which Keras 1
 * kept in running_mean and running_std, the latter holding the variance)
 * is a fixed function of the input.  Functional models joined branches
 * with Merge, whose modes "sum" and "concat" (along concat_axis) are
 * Keras 2's Add and Concatenate; the layer is renamed to those.
 */
#include "keras_internal.h"

#include <string.h>

/* A config key Keras 1 wrote and the Keras 2 key with its meaning. */
static const struct {
    const char *from, *to;
} RENAMED[] = {
    {"border_mode", "padding"},  {"subsample", "strides"},
    {"bias", "use_bias"},        {"output_dim", "units"},
    {"nb_filter", "filters"},    {"atrous_rate", "dilation_rate"},
    {"filter_length", "kernel_size"}, {"subsample_length", "strides"},
    {"pool_length", "pool_size"},     {"stride", "strides"},
};

static void rename_key(json_t *cfg, const char *from, const char *to)
{
    json_t *v = json_object_get(cfg, from);
    if (!v || json_object_get(cfg, to))
        return;
    json_object_set(cfg, to, v);
    json_object_del(cfg, from);
}

/* dim_ordering 'th' / 'tf' into data_format. */
static snn_status translate_ordering(const keras_ctx *c, const char *name,
                                     json_t *cfg, snn_error *err)
{
    json_t *v = json_object_get(cfg, "dim_ordering");
    const char *s = json_string_value(v);
    if (!v)
        return SNN_OK;
    if (!s || (strcmp(s, "th") && strcmp(s, "tf")))
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: layer '%s': dim_ordering '%s' is not "
                             "supported ('th' and 'tf' are)", c->path, name,
                             s ? s : "<not a string>");
    json_object_set_new(cfg, "data_format",
                        json_string(strcmp(s, "th") == 0 ? "channels_first"
                                                         : "channels_last"));
    json_object_del(cfg, "dim_ordering");
    return SNN_OK;
}

/* nb_row and nb_col into kernel_size. */
static void translate_kernel(json_t *cfg)
{
    json_t *rows = json_object_get(cfg, "nb_row");
    json_t *cols = json_object_get(cfg, "nb_col");
    if (!rows || !cols || json_object_get(cfg, "kernel_size"))
        return;
    json_object_set_new(cfg, "kernel_size", json_pack("[O, O]", rows, cols));
    json_object_del(cfg, "nb_row");
    json_object_del(cfg, "nb_col");
}

static snn_status check_batchnorm(const keras_ctx *c, const char *name,
                                  json_t *cfg, snn_error *err)
{
    json_t *mode = json_object_get(cfg, "mode");
    if (!mode || (json_is_integer(mode) && json_integer_value(mode) == 0))
        return SNN_OK;
    return snn_error_set(err, SNN_E_UNSUPPORTED,
                         "%s: layer '%s' of type 'BatchNormalization': mode "
                         "%lld normalizes with the statistics of each batch "
                         "or sample, not a fixed function of the input "
                         "(only mode 0 is supported)", c->path, name,
                         (long long)json_integer_value(mode));
}

static snn_status translate_merge(const keras_ctx *c, const char *name,
                                  json_t *layer, json_t *cfg, snn_error *err)
{
    const char *mode = json_string_value(json_object_get(cfg, "mode"));
    const char *type = json_string_value(json_object_get(cfg, "mode_type"));
    int sum = mode && strcmp(mode, "sum") == 0;
    int concat = mode && strcmp(mode, "concat") == 0;
    if ((type && strcmp(type, "raw") != 0) || (!sum && !concat))
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: layer '%s' of type 'Merge': mode '%s' is "
                             "not supported (sum and concat are)", c->path,
                             name, mode && (!type || !strcmp(type, "raw"))
                                       ? mode
                                       : "<a Python function>");
    if (concat)
        rename_key(cfg, "concat_axis", "axis");
    json_object_set_new(layer, "class_name",
                        json_string(sum ? "Add" : "Concatenate"));
    return SNN_OK;
}

snn_status snn_keras1_translate(const keras_ctx *c, json_t *layer,
                                snn_error *err)
{
    json_t *cfg = json_object_get(layer, "config");
    const char *cls = json_string_value(json_object_get(layer, "class_name"));
    const char *name = json_string_value(json_object_get(cfg, "name"));
    if (!json_is_object(cfg) || !cls)
        return SNN_OK; /* the topology walk reports it */
    name = name ? name : "?";
    for (size_t i = 0; i < sizeof RENAMED / sizeof RENAMED[0]; i++)
        rename_key(cfg, RENAMED[i].from, RENAMED[i].to);
    translate_kernel(cfg);
    snn_status st = translate_ordering(c, name, cfg, err);
    if (st == SNN_OK && strcmp(cls, "BatchNormalization") == 0)
        st = check_batchnorm(c, name, cfg, err);
    if (st == SNN_OK && strcmp(cls, "Merge") == 0)
        st = translate_merge(c, name, layer, cfg, err);
    return st;
}
