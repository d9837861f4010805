/*
 * model.c - finds and reads the model named by the original toolbox's
 * config triple (path_wd, filename_ann, model_lib).
 *
 * For Keras the original loads <filename_ann>.json + <filename_ann>.h5 when
 * the .json exists and <filename_ann>.h5 as a full model otherwise; we try
 * the same, in the same order (a .h5 next to a .json holds only weights),
 * then the Keras 3 archive <filename_ann>.keras, and then filename_ann
 * itself when it already carries an extension.
 */
#include "snntb/parse.h"

#include "lasagne.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PATH_CAP 4096

static void join(char *buf, const char *dir, const char *file,
                 const char *ext)
{
    if (!dir || !dir[0] || file[0] == '/')
        snprintf(buf, PATH_CAP, "%s%s", file, ext);
    else
        snprintf(buf, PATH_CAP, "%s/%s%s", dir, file, ext);
}

static int has_extension(const char *file)
{
    const char *base = strrchr(file, '/');
    const char *dot = strrchr(base ? base + 1 : file, '.');
    return dot && dot[1] != '\0';
}

static snn_status load_keras(const char *path_wd, const char *filename_ann,
                             snn_graph *g, snn_error *err)
{
    static const char *const exts[] = {".json", ".h5", ".keras", ""};
    char tried[4][PATH_CAP];
    size_t n = has_extension(filename_ann) ? 4 : 3;
    for (size_t i = 0; i < n; i++) {
        join(tried[i], path_wd, filename_ann, exts[i]);
        if (access(tried[i], F_OK) == 0)
            return snn_parse_keras(tried[i], g, err);
    }
    snn_graph_init(g);
    return snn_error_set(err, SNN_E_IO,
                         "no Keras model '%s' found: tried %s, %s, %s%s%s",
                         filename_ann, tried[0], tried[1], tried[2],
                         n > 3 ? ", " : "", n > 3 ? tried[3] : "");
}

/* Caffe: <stem>.prototxt + <stem>.caffemodel, as the original names them;
 * a filename_ann that already ends in either extension gives the stem. */
static snn_status load_caffe(const char *path_wd, const char *filename_ann,
                             snn_graph *g, snn_error *err)
{
    char stem[PATH_CAP], proto[PATH_CAP], weights[PATH_CAP];
    join(stem, path_wd, filename_ann, "");
    char *dot = strrchr(stem, '.');
    if (dot && (strcmp(dot, ".prototxt") == 0 ||
                strcmp(dot, ".caffemodel") == 0))
        *dot = '\0';
    snprintf(proto, sizeof proto, "%.4000s.prototxt", stem);
    snprintf(weights, sizeof weights, "%.4000s.caffemodel", stem);
    if (access(proto, F_OK) != 0 || access(weights, F_OK) != 0) {
        snn_graph_init(g);
        return snn_error_set(err, SNN_E_IO,
                             "no Caffe model '%s' found: need both %s and %s",
                             filename_ann, proto, weights);
    }
    return snn_parse_caffe(proto, weights, g, err);
}

/* PyTorch: the original imports <stem>.py and loads <stem>.pth; we read
 * the ONNX file scripts/pytorch_to_onnx.py makes from them. */
static snn_status load_onnx(const char *path_wd, const char *filename_ann,
                            snn_graph *g, snn_error *err)
{
    char path[PATH_CAP], pth[PATH_CAP];
    join(path, path_wd, filename_ann, has_extension(filename_ann) ? ""
                                                                  : ".onnx");
    if (access(path, F_OK) == 0)
        return snn_parse_onnx(path, g, err);
    join(pth, path_wd, filename_ann, ".pth");
    snn_graph_init(g);
    if (access(pth, F_OK) == 0)
        return snn_error_set(err, SNN_E_IO,
                             "no ONNX model %s: snntb reads PyTorch models "
                             "as ONNX; export %s first with "
                             "scripts/pytorch_to_onnx.py", path, pth);
    return snn_error_set(err, SNN_E_IO, "no ONNX model '%s' found: tried %s",
                         filename_ann, path);
}

/* Lasagne: the original imports <stem>.py, calls its build_network() and
 * loads the parameters from <stem>.h5; we read the script instead. */
static snn_status load_lasagne(const char *path_wd, const char *filename_ann,
                               snn_graph *g, snn_error *err)
{
    char stem[PATH_CAP], script[PATH_CAP], params[PATH_CAP];
    join(stem, path_wd, filename_ann, "");
    char *dot = strrchr(stem, '.');
    if (dot && (strcmp(dot, ".py") == 0 || strcmp(dot, ".h5") == 0))
        *dot = '\0';
    snprintf(script, sizeof script, "%.4000s.py", stem);
    snprintf(params, sizeof params, "%.4000s.h5", stem);
    if (access(script, F_OK) != 0 || access(params, F_OK) != 0) {
        snn_graph_init(g);
        return snn_error_set(err, SNN_E_IO,
                             "no Lasagne model '%s' found: need both %s and "
                             "%s", filename_ann, script, params);
    }
    return snn_parse_lasagne(script, params, g, err);
}

snn_status snn_model_load(const char *path_wd, const char *filename_ann,
                          const char *model_lib, snn_graph *g, snn_error *err)
{
    snn_graph_init(g);
    if (!filename_ann || !filename_ann[0])
        return snn_error_set(err, SNN_E_INVALID,
                             "filename_ann is not set: it names the model "
                             "file to convert");
    if (!model_lib || strcmp(model_lib, "keras") == 0)
        return load_keras(path_wd, filename_ann, g, err);
    if (strcmp(model_lib, "caffe") == 0)
        return load_caffe(path_wd, filename_ann, g, err);
    if (strcmp(model_lib, "pytorch") == 0 || strcmp(model_lib, "onnx") == 0)
        return load_onnx(path_wd, filename_ann, g, err);
    if (strcmp(model_lib, "lasagne") == 0)
        return load_lasagne(path_wd, filename_ann, g, err);
    return snn_error_set(err, SNN_E_UNSUPPORTED,
                         "model_lib '%s' is not supported yet", model_lib);
}
