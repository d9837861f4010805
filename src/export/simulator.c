/*
 * simulator.c - `simulator = nest|brian2|...` in a config.  The original
 * toolbox runs the converted net in that simulator from Python; snntb
 * never needs Python, so a run exports the net for that simulator into
 * its log folder, with the samples it would have tested, and names the
 * one command that runs it there.  For Loihi (lava-dl netx) it also
 * reports what the quantization costs, simulated natively.
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
    {"MegaSim", SNN_EXPORT_MEGASIM, NULL, NULL},
    {"loihi", SNN_EXPORT_LAVA, NULL, NULL},
};

static const target *find_target(const char *simulator)
{
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
        if (strcmp(simulator, targets[i].simulator) == 0)
            return &targets[i];
    return NULL;
}

const char *snn_export_simulators(void)
{
    return "brian2, nest, neuron, spiNNaker, MegaSim and loihi";
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

/* MegaSim: the input events of the first sample, and how to run it. */
static snn_status megasim_note(const snn_net *net, const char *dir,
                               const snn_export_opts *o, const snn_tensor *x,
                               const snn_log *log, snn_error *err)
{
    snn_status st = snn_export_megasim_stim(net, dir, x->data, o->duration, 0,
                                            err);
    if (st == SNN_OK)
        snn_warn(log, "simulator = MegaSim: the net was not simulated here.  "
                 "It is exported to %s with the input events of the first "
                 "sample; run it there with: megasim megasim.sch", dir);
    return st;
}

/* Loihi: what the quantization costs, measured natively, and how to load
 * the file. */
static snn_status loihi_note(const snn_net *net, const char *path,
                             const snn_export_opts *o, const snn_tensor *x,
                             const snn_tensor *y, size_t n,
                             const snn_log *log, snn_error *err)
{
    snn_quant_opts qo;
    snn_quant_eval ev;
    snn_quant_opts_for(SNN_EXPORT_LAVA, 0, &qo);
    int steps = (int)(o->duration / (double)net->dt + 0.5);
    snn_status st = snn_quant_evaluate(net, &qo, x, y, n, steps, NULL, &ev,
                                       NULL, err);
    if (st == SNN_OK)
        snn_warn(log, "simulator = loihi: the net was not run on Loihi "
                 "here.  It is exported for lava-dl to %s (load it with "
                 "lava.lib.dl.netx.hdf5.Network).  Native accuracy on %zu "
                 "samples: float %.4f, with Loihi's neurons %.4f, "
                 "quantized %.4f", path, ev.n, ev.float_top1,
                 ev.float_reset_top1, ev.quant_top1);
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
                             "%s are exported)", simulator,
                             snn_export_simulators());
    char dir[4200], out[4300];
    snn_status st = snn_path_join(dir, sizeof dir, log_dir, simulator, err);
    /* The run's own log folder: replaced like results.json is. */
    snn_export_opts o = *opts;
    o.force = 1;
    int lava = t->format == SNN_EXPORT_LAVA;
    /* Lava's export is one file: net.h5 beside the samples. */
    if (st == SNN_OK && lava)
        st = snn_mkdirs(dir, err);
    if (st == SNN_OK && lava)
        st = snn_path_join(out, sizeof out, dir, "net.h5", err);
    if (st == SNN_OK)
        st = snn_export(net, t->format, lava ? out : dir, &o, log, err);
    if (st == SNN_OK)
        st = write_samples(dir, "x_test.npz", x, n, err);
    if (st == SNN_OK)
        st = write_samples(dir, "y_test.npz", y, n, err);
    if (st != SNN_OK)
        return st;
    if (t->format == SNN_EXPORT_MEGASIM)
        return megasim_note(net, dir, &o, x, log, err);
    if (lava)
        return loihi_note(net, out, &o, x, y, n, log, err);
    char backend[64] = "";
    if (t->backend)
        snprintf(backend, sizeof backend, " --simulator %s", t->backend);
    snn_warn(log, "simulator = %s runs in Python, which snntb does not use: "
             "the net was not simulated here.  It is exported to %s; run it "
             "with:\n  python3 %s/%s %s/x_test.npz --labels %s/y_test.npz%s",
             simulator, dir, dir, t->script, dir, dir, backend);
    return SNN_OK;
}
