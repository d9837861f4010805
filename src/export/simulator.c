/*
 * simulator.c - `simulator = nest|brian2|...` in a config.  The original
 * toolbox runs the converted net in that simulator from Python; snntb
 * never needs Python, so a run exports the net for that simulator into
 * its log folder, with the samples it would have tested, and names the
 * one command that runs it there.
 */
#include "snntb/export.h"

#include <stdio.h>
#include <string.h>

#include "core/fsutil.h"
#include "export/npzwrite.h"

typedef struct target {
    const char *simulator;   /* as the config names it */
    snn_export_format format;
    const char *script, *backend; /* backend: run_pynn.py --simulator */
} target;

static const target targets[] = {
    {"brian2", SNN_EXPORT_BRIAN2, "run_brian2.py", NULL},
    {"nest", SNN_EXPORT_PYNN, "run_pynn.py", "nest"},
    {"neuron", SNN_EXPORT_PYNN, "run_pynn.py", "neuron"},
    {"Neuron", SNN_EXPORT_PYNN, "run_pynn.py", "neuron"},
    {"spiNNaker", SNN_EXPORT_PYNN, "run_pynn.py", "spiNNaker"},
};

static const target *find_target(const char *simulator)
{
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
        if (strcmp(simulator, targets[i].simulator) == 0)
            return &targets[i];
    return NULL;
}

int snn_export_simulator_known(const char *simulator)
{
    return find_target(simulator) != NULL;
}

/* The first n samples (and labels) as x_test.npz / y_test.npz in dir. */
static snn_status write_samples(const char *dir, const char *name,
                                const snn_tensor *t, size_t n, snn_error *err)
{
    char path[4200];
    snn_status st = snn_path_join(path, sizeof path, dir, name, err);
    if (st != SNN_OK)
        return st;
    size_t dims[SNN_MAX_DIMS];
    memcpy(dims, t->dims, sizeof dims);
    dims[0] = n < t->dims[0] ? n : t->dims[0];
    snn_npz_out z;
    st = snn_npz_create(&z, path, err);
    if (st == SNN_OK)
        st = snn_npz_add_shaped(&z, "arr_0", SNN_NPZ_F32, t->ndim, dims,
                                t->data, err);
    if (st == SNN_OK)
        return snn_npz_close(&z, err);
    snn_npz_discard(&z);
    return st;
}

snn_status snn_export_for_simulator(const snn_net *net, const char *simulator,
                                    const snn_export_opts *opts,
                                    const char *log_dir, const snn_tensor *x,
                                    const snn_tensor *y, size_t n,
                                    const snn_log *log, snn_error *err)
{
    const target *t = find_target(simulator);
    if (!t)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "config [simulation] simulator = %s: snntb "
                             "cannot export to it yet (INI simulates here; "
                             "brian2, nest, neuron and spiNNaker are "
                             "exported)", simulator);
    char dir[4200];
    snn_status st = snn_path_join(dir, sizeof dir, log_dir, simulator, err);
    /* The run's own log folder: replaced like results.json is. */
    snn_export_opts o = *opts;
    o.force = 1;
    if (st == SNN_OK)
        st = snn_export(net, t->format, dir, &o, log, err);
    if (st == SNN_OK)
        st = write_samples(dir, "x_test.npz", x, n, err);
    if (st == SNN_OK)
        st = write_samples(dir, "y_test.npz", y, n, err);
    if (st != SNN_OK)
        return st;
    char backend[64] = "";
    if (t->backend)
        snprintf(backend, sizeof backend, " --simulator %s", t->backend);
    snn_warn(log, "simulator = %s runs in Python, which snntb does not use: "
             "the net was not simulated here.  It is exported to %s; run it "
             "with:\n  python3 %s/%s %s/x_test.npz --labels %s/y_test.npz%s",
             simulator, dir, dir, t->script, dir, dir, backend);
    return SNN_OK;
}
