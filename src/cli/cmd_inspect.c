/*
 * cmd_inspect.c - `snntb inspect MODEL [--lib LIB]`: reads a model as the
 * converter would and prints the parsed graph the way Keras's summary()
 * does (layer, type, output shape, parameters, inputs, total), then the
 * names the original toolbox gives the layers it converts
 * (`00Conv2D_6x24x24`), so users can match logs and plots of both.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "snntb/parse.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: snntb inspect [--lib LIB] MODEL\n"
            "\n"
            "Prints the graph snntb reads from MODEL: each layer's name, type,\n"
            "output shape (channels, height, width) and parameter count.\n"
            "\n"
            "options:\n"
            "  -l, --lib LIB  keras, caffe, onnx (or pytorch) or lasagne;\n"
            "                 guessed from MODEL's extension when absent\n"
            "                 (.onnx, .prototxt/.caffemodel, .py, else keras)\n"
            "  -h, --help     this help\n");
}

static const char *guess_lib(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "keras";
    if (!strcmp(dot, ".onnx"))
        return "onnx";
    if (!strcmp(dot, ".prototxt") || !strcmp(dot, ".caffemodel"))
        return "caffe";
    if (!strcmp(dot, ".py"))
        return "lasagne";
    return "keras";
}

/* "(4, 6, 6)" or "4x6x6", by separator. */
static void shape_text(const snn_shape *s, const char *sep, int parens,
                       char *buf, size_t n)
{
    size_t at = (size_t)snprintf(buf, n, "%s", parens ? "(" : "");
    for (int i = 0; i < s->ndim && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%zu", i ? sep : "",
                               s->dims[i]);
    if (parens && at < n)
        snprintf(buf + at, n - at, "%s", s->ndim == 1 ? ",)" : ")");
}

static void print_summary(const snn_graph *g, const char *path)
{
    size_t total = 0;
    char shape[64], rule[96];
    memset(rule, '=', 95);
    rule[95] = '\0';
    printf("Model: %s (%s)\n%s\n", path, g->source, rule);
    printf("%-36s %-18s %10s  %s\n%s\n", "Layer (type)", "Output Shape",
           "Param #", "Connected to", rule);
    for (int i = 0; i < g->n_layers; i++) {
        const snn_layer *l = &g->layers[i];
        char name[2 * SNN_NAME_MAX + 4];
        snprintf(name, sizeof name, "%s (%s)", l->name, l->type);
        shape_text(&l->shape, ", ", 1, shape, sizeof shape);
        size_t params = snn_layer_params(l);
        total += params;
        printf("%-36s %-18s %10zu ", name, shape, params);
        for (int k = 0; k < l->n_inputs; k++)
            printf(" %s%s", g->layers[l->inputs[k]].name,
                   k + 1 < l->n_inputs ? "," : "");
        if (l->act != SNN_ACT_LINEAR && l->op != SNN_OP_ACTIVATION)
            printf("  [%s]", snn_act_name(l->act));
        printf("\n");
    }
    printf("%s\nTotal params: %zu\n", rule, total);
}

/* The original's parser drops the input, merges activations into the
 * layer before them and folds batch normalization, then numbers what is
 * left: index, type, output shape. */
static void print_original_names(const snn_graph *g)
{
    char shape[64];
    int k = 0;
    printf("\nLayer names as the original toolbox gives them:\n");
    for (int i = 0; i < g->n_layers; i++) {
        const snn_layer *l = &g->layers[i];
        if (l->op == SNN_OP_INPUT || l->op == SNN_OP_ACTIVATION ||
            l->op == SNN_OP_BATCHNORM)
            continue;
        shape_text(&l->shape, "x", 0, shape, sizeof shape);
        printf("  %02d%s_%s\n", k++, snn_op_name(l->op), shape);
    }
}

int snn_cmd_inspect(int argc, char **argv)
{
    const char *lib = NULL, *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-l") || !strcmp(argv[i], "--lib")) {
            if (++i == argc) {
                fprintf(stderr, "snntb: error: %s needs a value\n",
                        argv[i - 1]);
                return 2;
            }
            lib = argv[i];
        } else if (argv[i][0] == '-' || model) {
            fprintf(stderr, "snntb: error: unexpected argument %s\n",
                    argv[i]);
            usage(stderr);
            return 2;
        } else {
            model = argv[i];
        }
    }
    if (!model) {
        usage(stderr);
        return 2;
    }
    snn_graph g;
    snn_error err = {0};
    if (snn_model_load(NULL, model, lib ? lib : guess_lib(model), &g,
                       &err) != SNN_OK) {
        fprintf(stderr, "snntb: error: %s\n", err.msg);
        return 1;
    }
    print_summary(&g, model);
    print_original_names(&g);
    snn_graph_free(&g);
    return 0;
}
