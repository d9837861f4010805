/*
 * brian2.c - writes the spiking net as a folder that runs in Brian2:
 * connections.npz (per population its synapses as pre/post/weight lists
 * and its per-neuron bias) and run_brian2.py, a self-contained script that
 * builds one NeuronGroup per layer and one Synapses per connection and
 * simulates samples with the native simulator's semantics: constant input
 * current, per-step bias, threshold v >= v_thresh, the net's reset, and a
 * spike crossing every layer within the step it was emitted (the script
 * schedules each layer's integration, threshold, reset and spike delivery
 * in layer order inside the `thresholds` slot).
 *
 * Flatten layers become index maps in the synapse lists.  Brian2 has no
 * max-pool gating: as the original toolbox does for such targets,
 * max-pooling falls back to average pooling, with a warning.
 */
#include "snntb/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/strbuf.h"
#include "export/export_internal.h"
#include "export/npzwrite.h"
#include "export/synapses.h"

/* The population feeding `input` (-1: the sample). */
static int source_pop(const snn_net *net, const int *pop_of, int input)
{
    int src = snn_syn_source_layer(net, input);
    return src < 0 ? -1 : pop_of[src];
}

static snn_status add_population(snn_npz_out *z, const snn_net *net,
                                 const int *pop_of, int i, snn_error *err)
{
    char key[4][32];
    int k = pop_of[i];
    snprintf(key[0], sizeof key[0], "pre%d", k);
    snprintf(key[1], sizeof key[1], "post%d", k);
    snprintf(key[2], sizeof key[2], "w%d", k);
    snprintf(key[3], sizeof key[3], "bias%d", k);
    snn_syn_list s = {0};
    snn_status st = snn_syn_expand(net, i, &s, err);
    size_t n = snn_net_layer_size(net, i);
    float *bias = st == SNN_OK ? snn_syn_neuron_bias(net, i) : NULL;
    if (st == SNN_OK && !bias)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate biases");
    if (st == SNN_OK)
        st = snn_npz_add(z, key[0], SNN_NPZ_I64, s.n, s.pre, err);
    if (st == SNN_OK)
        st = snn_npz_add(z, key[1], SNN_NPZ_I64, s.n, s.post, err);
    if (st == SNN_OK)
        st = snn_npz_add(z, key[2], SNN_NPZ_F32, s.n, s.w, err);
    if (st == SNN_OK)
        st = snn_npz_add(z, key[3], SNN_NPZ_F32, n, bias, err);
    free(bias);
    snn_syn_free(&s);
    return st;
}

/* Numbers the populations (one per neuron or gate layer; -1 for
 * flattens) and refuses what the script cannot run. */
static snn_status plan_populations(const snn_net *net, int *pop_of,
                                   const snn_log *log, snn_error *err)
{
    int n_pops = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *nl = &net->layers[i];
        pop_of[i] = nl->unit == SNN_UNIT_RESHAPE ? -1 : n_pops++;
        if (nl->unit == SNN_UNIT_MAXGATE)
            snn_warn(log, "layer '%s': Brian2 has no max-pool gating; "
                     "exported as average pooling (the original toolbox's "
                     "fallback), so results will differ from the native "
                     "simulator", nl->syn.name);
        if (nl->unit == SNN_UNIT_IF && nl->syn.op != SNN_OP_DENSE &&
            nl->syn.op != SNN_OP_CONV2D && nl->syn.op != SNN_OP_AVGPOOL2D)
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "layer '%s': Brian2 export of %s neurons is "
                                 "not supported", nl->syn.name,
                                 snn_op_name(nl->syn.op));
        int src = snn_syn_source_layer(net, nl->input);
        if (src >= 0 && net->layers[src].unit == SNN_UNIT_SOFTMAX)
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "layer '%s': the softmax layer '%s' feeding "
                                 "it must be the output layer for Brian2",
                                 nl->syn.name, net->layers[src].syn.name);
    }
    if (pop_of[net->n_layers - 1] < 0)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s': the net must end in neurons for "
                             "Brian2, not in a flatten",
                             net->layers[net->n_layers - 1].syn.name);
    return SNN_OK;
}

static snn_status write_connections(const snn_net *net, const int *pop_of,
                                    const char *path, snn_error *err)
{
    snn_npz_out z;
    snn_status st = snn_npz_create(&z, path, err);
    for (int i = 0; st == SNN_OK && i < net->n_layers; i++)
        if (pop_of[i] >= 0)
            st = add_population(&z, net, pop_of, i, err);
    if (st == SNN_OK)
        return snn_npz_close(&z, err);
    snn_npz_discard(&z);
    return st;
}

/* The part of the script that depends on the net; the rest is fixed. */
static int script_constants(snn_strbuf *b, const snn_net *net,
                            const int *pop_of, double duration)
{
    int ok = snn_text_putf(b, "V_THRESH = %.9g\nDT_MS = %.9g\nDURATION_MS = %.9g\n"
                        "RESET = \"%s\"\n", (double)net->v_thresh,
                     (double)net->dt, duration,
                     snn_export_reset_name(net->reset));
    ok = ok && snn_text_put(b, "# per population: layer name, neurons, source "
                      "population (-1: the sample), softmax output\n"
                      "POPULATIONS = [\n");
    for (int i = 0; ok && i < net->n_layers; i++) {
        if (pop_of[i] < 0)
            continue;
        char name[SNN_NAME_MAX];
        snn_export_safe_name(name, sizeof name, net->layers[i].syn.name);
        ok = snn_text_putf(b, "    (\"%s\", %zu, %d, %s),\n", name,
                     snn_net_layer_size(net, i),
                     source_pop(net, pop_of, net->layers[i].input),
                     net->layers[i].unit == SNN_UNIT_SOFTMAX ? "True"
                                                             : "False");
    }
    return ok && snn_text_put(b, "]\n");
}

static const char script_head[] =
    "#!/usr/bin/env python3\n"
    "\"\"\"A spiking net converted by snntb, run in Brian2.\n"
    "\n"
    "usage: python run_brian2.py SAMPLES.npz [--labels LABELS.npz] [-n N]\n"
    "                            [--duration MS] [--out COUNTS.npz]\n"
    "\n"
    "SAMPLES.npz holds arr_0: samples shaped (N, C, H, W) or (N, features),\n"
    "channels first, scaled as for the native simulator.  LABELS.npz holds\n"
    "arr_0: one-hot labels.  Each sample is a constant input current; a\n"
    "spike carries v_thresh; each layer integrates, fires (v >= v_thresh)\n"
    "and resets in layer order within a time step, as snntb's simulator\n"
    "does.  The predicted class is the output neuron with most spikes.\n"
    "\"\"\"\n"
    "import argparse\n"
    "import os\n"
    "\n"
    "import brian2 as b2\n"
    "import numpy as np\n"
    "\n";

static const char script_body[] =
    "\n"
    "RESET_CODE = {\n"
    "    \"subtract\": \"v -= v_thresh\",\n"
    "    \"zero\": \"v = 0\",\n"
    "    \"modulo\": \"v = v - v_thresh * floor(v / v_thresh)\",\n"
    "}\n"
    "\n"
    "\n"
    "def reset_values(v):\n"
    "    if RESET == \"zero\":\n"
    "        return np.zeros_like(v)\n"
    "    if RESET == \"modulo\":\n"
    "        return v - V_THRESH * np.floor(v / V_THRESH)\n"
    "    return v - V_THRESH\n"
    "\n"
    "\n"
    "class SpikingNet:\n"
    "    \"\"\"One NeuronGroup per population; layer k integrates at order\n"
    "    4k, fires at 4k+1, resets at 4k+2 and delivers its spikes at 4k+3,\n"
    "    so a spike crosses the whole net within its time step.\"\"\"\n"
    "\n"
    "    def __init__(self, conn, seed=0x5EED):\n"
    "        self.conn = conn\n"
    "        self.groups = []\n"
    "        self.rng = np.random.default_rng(seed)\n"
    "        self.softmax_counts = None\n"
    "        objects = []\n"
    "        ns = {\"v_thresh\": V_THRESH}\n"
    "        for k, (name, n, src, softmax) in enumerate(POPULATIONS):\n"
    "            g = b2.NeuronGroup(\n"
    "                n, \"v : 1\\nI : 1\\ncount : 1\",\n"
    "                threshold=None if softmax else \"v >= v_thresh\",\n"
    "                reset=None if softmax else RESET_CODE[RESET] + \"\\ncount += 1\",\n"
    "                namespace=ns, name=f\"pop{k}_{name}\")\n"
    "            objects.append(g)\n"
    "            objects.append(g.run_regularly(\"v += I\", when=\"thresholds\",\n"
    "                                           order=4 * k))\n"
    "            if softmax:\n"
    "                objects.append(self._softmax_op(g, k))\n"
    "            else:\n"
    "                g.thresholder[\"spike\"].when = \"thresholds\"\n"
    "                g.thresholder[\"spike\"].order = 4 * k + 1\n"
    "                g.resetter[\"spike\"].when = \"thresholds\"\n"
    "                g.resetter[\"spike\"].order = 4 * k + 2\n"
    "            if src >= 0:\n"
    "                s = b2.Synapses(self.groups[src], g, \"w : 1\",\n"
    "                                on_pre=\"v_post += w\", name=f\"syn{k}\")\n"
    "                s.connect(i=conn[f\"pre{k}\"], j=conn[f\"post{k}\"])\n"
    "                s.w = conn[f\"w{k}\"]\n"
    "                s.pre.when = \"thresholds\"\n"
    "                s.pre.order = 4 * src + 3\n"
    "                objects.append(s)\n"
    "            self.groups.append(g)\n"
    "        self.net = b2.Network(objects)\n"
    "\n"
    "    def _softmax_op(self, g, k):\n"
    "        \"\"\"The output fires each neuron with probability softmax(v).\"\"\"\n"
    "        def fire():\n"
    "            v = np.asarray(g.v[:])\n"
    "            p = np.exp(v - v.max())\n"
    "            spikes = self.rng.random(v.size) < p / p.sum()\n"
    "            self.softmax_counts[spikes] += 1\n"
    "            v[spikes] = reset_values(v[spikes])\n"
    "            g.v[:] = v\n"
    "        return b2.NetworkOperation(fire, when=\"thresholds\", order=4 * k + 1)\n"
    "\n"
    "    def run(self, x, duration_ms):\n"
    "        \"\"\"Spike counts of the output population for one sample.\"\"\"\n"
    "        x = np.asarray(x, dtype=np.float64).ravel()\n"
    "        for k, (_, n, src, _) in enumerate(POPULATIONS):\n"
    "            g = self.groups[k]\n"
    "            current = self.conn[f\"bias{k}\"].astype(np.float64)\n"
    "            if src < 0:\n"
    "                pre, post = self.conn[f\"pre{k}\"], self.conn[f\"post{k}\"]\n"
    "                current = current + np.bincount(\n"
    "                    post, weights=self.conn[f\"w{k}\"] * x[pre], minlength=n)\n"
    "            g.I = current\n"
    "            g.v = 0\n"
    "            g.count = 0\n"
    "        self.softmax_counts = np.zeros(POPULATIONS[-1][1])\n"
    "        steps = int(round(duration_ms / DT_MS))\n"
    "        self.net.run(steps * DT_MS * b2.ms)\n"
    "        if POPULATIONS[-1][3]:\n"
    "            return self.softmax_counts.copy()\n"
    "        # A copy: Brian2 hands out views of state it will overwrite.\n"
    "        return np.array(self.groups[-1].count[:], dtype=np.float64)\n"
    "\n"
    "\n"
    SNN_PY_PREDICT_MAIN_ARGS
    "    ap.add_argument(\"--duration\", type=float, default=DURATION_MS)\n"
    "    ap.add_argument(\"--out\", help=\"write spike counts and predictions\")\n"
    "    ap.add_argument(\"--target\", default=\"numpy\",\n"
    "                    help=\"Brian2 code generation target (numpy, cython)\")\n"
    "    a = ap.parse_args()\n"
    "    b2.prefs.codegen.target = a.target\n"
    "    b2.defaultclock.dt = DT_MS * b2.ms\n"
    "    here = os.path.dirname(os.path.abspath(__file__))\n"
    "    conn = dict(np.load(os.path.join(here, \"connections.npz\")))\n"
    SNN_PY_LOAD_SAMPLES
    "    net = SpikingNet(conn)\n"
    "    counts = np.array([net.run(x[j], a.duration) for j in range(n)])\n"
    SNN_PY_REPORT_RESULTS;

static snn_status write_script(const snn_net *net, const int *pop_of,
                               double duration, const char *path,
                               snn_error *err)
{
    snn_strbuf b = {0};
    int ok = snn_text_put(&b, script_head) &&
             script_constants(&b, net, pop_of, duration) &&
             snn_text_put(&b, script_body);
    return snn_text_write(&b, ok, path, err);
}

snn_status snn_export_brian2(const snn_net *net, const char *dir,
                             const snn_export_opts *opts, const snn_log *log,
                             snn_error *err)
{
    if (!(opts->duration > 0))
        return snn_error_set(err, SNN_E_INVALID,
                             "Brian2 export: the duration must be positive");
    int *pop_of = calloc((size_t)net->n_layers, sizeof *pop_of);
    if (!pop_of)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate the plan");
    char path[4200];
    snn_status st = plan_populations(net, pop_of, log, err);
    if (st == SNN_OK)
        st = snn_mkdirs(dir, err);
    if (st == SNN_OK)
        st = snn_path_join(path, sizeof path, dir, "connections.npz", err);
    if (st == SNN_OK)
        st = write_connections(net, pop_of, path, err);
    if (st == SNN_OK)
        st = snn_path_join(path, sizeof path, dir, "run_brian2.py", err);
    if (st == SNN_OK)
        st = write_script(net, pop_of, opts->duration, path, err);
    free(pop_of);
    return st;
}
