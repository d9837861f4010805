/*
 * pynn.c - writes the spiking net as a PyNN model, as the original
 * toolbox's pyNN and SpiNNaker targets do: one IF_curr_exp population per
 * neuron layer with the [cell] parameters, each layer's connections in
 * text files that FromFileConnector reads (excitatory and inhibitory
 * apart, as current-based PyNN synapses and sPyNNaker want them), biases
 * as i_offset, and run_pynn.py, which picks the backend (nest, brian2,
 * neuron, spiNNaker) and feeds the samples as constant currents (the
 * native semantics), Poisson trains or regular spike trains.
 *
 * PyNN neurons are not the native ones (docs/export.md): charge arrives
 * through exponential synaptic currents, so a weight w (in the membrane's
 * units) becomes w * cm / tau_syn nA; the membrane leaks with tau_m (keep
 * it large); IF_curr_exp resets to v_reset (reset to zero); and every
 * connection has a delay of at least one step, which the script
 * compensates by starting each population's bias when its input arrives.
 * On pyNN.brian2, whose connectors set synapses one by one, the script
 * hands each projection's list to Brian2 at once.
 */
#include "snntb/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "export/export_internal.h"
#include "export/synapses.h"

#define PATH_LEN 4200
/* "<population index>_<layer name>" */
#define LABEL_MAX (SNN_NAME_MAX + 16)

typedef struct pynn_plan {
    int *pop_of;   /* population of each net layer; -1: flatten */
    double delay;  /* ms, at least dt */
} pynn_plan;

static snn_status check_layer(const snn_net *net, int i, const snn_log *log,
                              snn_error *err)
{
    const snn_net_layer *nl = &net->layers[i];
    if (nl->unit == SNN_UNIT_MAXGATE)
        snn_warn(log, "layer '%s': PyNN has no max-pool gating; exported as "
                 "average pooling (the original toolbox's fallback), so "
                 "results will differ from the native simulator",
                 nl->syn.name);
    if (nl->unit == SNN_UNIT_SOFTMAX)
        snn_warn(log, "layer '%s': PyNN has no stochastic softmax neurons; "
                 "exported as IF_curr_exp neurons", nl->syn.name);
    if ((nl->unit == SNN_UNIT_IF || nl->unit == SNN_UNIT_SOFTMAX) &&
        nl->syn.op != SNN_OP_DENSE && nl->syn.op != SNN_OP_CONV2D &&
        nl->syn.op != SNN_OP_AVGPOOL2D)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s': PyNN export of %s neurons is not "
                             "supported", nl->syn.name,
                             snn_op_name(nl->syn.op));
    return SNN_OK;
}

static snn_status plan_populations(const snn_net *net,
                                   const snn_export_opts *o, pynn_plan *p,
                                   const snn_log *log, snn_error *err)
{
    const snn_export_cell *c = &o->cell;
    if (!(o->duration > 0) || !(c->cm > 0) || !(c->tau_m > 0) ||
        !(c->tau_syn_e > 0) || !(c->tau_syn_i > 0) || !(c->tau_refrac >= 0))
        return snn_error_set(err, SNN_E_INVALID,
                             "PyNN export: duration, [cell] cm, tau_m, "
                             "tau_syn_E and tau_syn_I must be positive and "
                             "tau_refrac not negative");
    if (net->reset != SNN_RESET_ZERO)
        snn_warn(log, "PyNN's IF_curr_exp resets to v_reset: the net's "
                 "reset by %s is exported as reset to zero",
                 snn_export_reset_name(net->reset));
    p->delay = c->delay;
    if (!(c->delay >= net->dt)) {
        snn_warn(log, "[cell] delay = %g ms is below dt; PyNN needs at least "
                 "one step: using %g ms", c->delay, (double)net->dt);
        p->delay = net->dt;
    }
    int n_pops = 0;
    for (int i = 0; i < net->n_layers; i++) {
        p->pop_of[i] = net->layers[i].unit == SNN_UNIT_RESHAPE ? -1 : n_pops++;
        snn_status st = check_layer(net, i, log, err);
        if (st != SNN_OK)
            return st;
    }
    if (p->pop_of[net->n_layers - 1] < 0)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s': the net must end in neurons for "
                             "PyNN, not in a flatten",
                             net->layers[net->n_layers - 1].syn.name);
    return SNN_OK;
}

/* The population's label: its index and layer name, a file name too. */
static void pop_label(char *dst, size_t n, const snn_net *net, int i, int k)
{
    char name[SNN_NAME_MAX];
    snn_export_safe_name(name, sizeof name, net->layers[i].syn.name);
    snprintf(dst, n, "%02d_%s", k, name);
}

static snn_status write_file(const char *dir, const char *label,
                             const char *suffix, snn_strbuf *b, int ok,
                             snn_error *err)
{
    char name[LABEL_MAX + 32], path[PATH_LEN];
    snprintf(name, sizeof name, "%s%s", label, suffix);
    snn_status st = snn_path_join(path, sizeof path, dir, name, err);
    if (st != SNN_OK) {
        free(b->p);
        memset(b, 0, sizeof *b);
        return st;
    }
    return snn_text_write(b, ok, path, err);
}

/* FromFileConnector's format; weights in nA: a membrane step w becomes
 * the charge w * cm of a current decaying with tau_syn.  Inhibitory
 * weights are negative, as PyNN wants them for current-based synapses. */
static snn_status write_connections(const char *dir, const char *label,
                                    const snn_syn_list *s,
                                    const snn_export_opts *o, double delay,
                                    snn_error *err)
{
    static const char *const suffix[2] = {"_excitatory", "_inhibitory"};
    snn_status st = SNN_OK;
    for (int inh = 0; st == SNN_OK && inh < 2; inh++) {
        double k = o->cell.cm / (inh ? o->cell.tau_syn_i : o->cell.tau_syn_e);
        snn_strbuf b = {0};
        int ok = snn_text_put(&b, "# columns = [\"i\", \"j\", \"weight\", "
                                  "\"delay\"]\n");
        for (size_t e = 0; ok && e < s->n; e++)
            if (inh ? s->w[e] < 0 : s->w[e] > 0)
                ok = snn_text_putf(&b, "%lld %lld %.9g %.9g\n",
                                   (long long)s->pre[e], (long long)s->post[e],
                                   (double)s->w[e] * k, delay);
        st = write_file(dir, label, suffix[inh], &b, ok, err);
    }
    return st;
}

/* i_offset per neuron: a per-step bias b is the current b * cm / dt. */
static snn_status write_biases(const char *dir, const char *label,
                               const snn_net *net, int i,
                               const snn_export_opts *o, snn_error *err)
{
    float *bias = snn_syn_neuron_bias(net, i);
    if (!bias)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate biases");
    size_t n = snn_net_layer_size(net, i);
    snn_strbuf b = {0};
    int ok = snn_text_put(&b, "# i_offset (nA) per neuron\n");
    for (size_t k = 0; ok && k < n; k++)
        ok = snn_text_putf(&b, "%.9g\n",
                           (double)bias[k] * o->cell.cm / (double)net->dt);
    free(bias);
    return write_file(dir, label, "_biases", &b, ok, err);
}

static snn_status write_population(const char *dir, const snn_net *net,
                                   const pynn_plan *p, int i,
                                   const snn_export_opts *o, snn_error *err)
{
    char label[LABEL_MAX];
    pop_label(label, sizeof label, net, i, p->pop_of[i]);
    snn_syn_list s = {0};
    snn_status st = snn_syn_expand(net, i, &s, err);
    if (st == SNN_OK)
        st = write_connections(dir, label, &s, o, p->delay, err);
    snn_syn_free(&s);
    if (st == SNN_OK)
        st = write_biases(dir, label, net, i, o, err);
    return st;
}

static int script_constants(snn_strbuf *b, const snn_net *net,
                            const pynn_plan *p, const snn_export_opts *o)
{
    const snn_export_cell *c = &o->cell;
    int ok = snn_text_putf(b, "DT_MS = %.9g\nDURATION_MS = %.9g\n"
                              "DELAY_MS = %.9g\nINPUT_SIZE = %zu\n",
                           (double)net->dt, o->duration, p->delay,
                           snn_shape_numel(&net->input_shape));
    ok = ok && snn_text_put(b, "# v_thresh is lowered by 1 ppm: charges that "
                               "sum exactly to the threshold (average\n# "
                               "pooling) fall short of it by the integrator's "
                               "rounding and would not fire.\n");
    ok = ok && snn_text_putf(b, "CELL = dict(cm=%.9g, tau_m=%.9g, "
                                "tau_syn_E=%.9g, tau_syn_I=%.9g,\n"
                                "            tau_refrac=%.9g, v_rest=0.0, "
                                "v_reset=0.0, v_thresh=%.9g * (1 - 1e-6))\n",
                             c->cm, c->tau_m, c->tau_syn_e, c->tau_syn_i,
                             c->tau_refrac, (double)net->v_thresh);
    ok = ok && snn_text_put(b, "# per population: label (its files' prefix), "
                               "neurons, source population (-1: the "
                               "sample)\nPOPULATIONS = [\n");
    for (int i = 0; ok && i < net->n_layers; i++) {
        if (p->pop_of[i] < 0)
            continue;
        char label[LABEL_MAX];
        pop_label(label, sizeof label, net, i, p->pop_of[i]);
        int src = snn_syn_source_layer(net, net->layers[i].input);
        ok = snn_text_putf(b, "    (\"%s\", %zu, %d),\n", label,
                           snn_net_layer_size(net, i),
                           src < 0 ? -1 : p->pop_of[src]);
    }
    return ok && snn_text_put(b, "]\n");
}

static const char script_head[] =
    "#!/usr/bin/env python3\n"
    "\"\"\"A spiking net converted by snntb, run with PyNN.\n"
    "\n"
    "usage: python run_pynn.py SAMPLES.npz [--labels LABELS.npz] [-n N]\n"
    "           [--simulator nest|brian2|neuron|spiNNaker]\n"
    "           [--input current|poisson|array] [--duration MS] [--out F]\n"
    "\n"
    "SAMPLES.npz holds arr_0: samples (N, C, H, W) or (N, features), channels\n"
    "first, scaled as for snntb's simulator.  One IF_curr_exp population per\n"
    "layer; connections from the FromFileConnector files beside this script\n"
    "(<label>_excitatory, <label>_inhibitory; weights in nA), biases as\n"
    "i_offset (<label>_biases).  Input 'current' gives the first layer the\n"
    "sample's constant current (snntb's semantics); 'poisson' and 'array'\n"
    "drive it with spike trains of x spikes per time step (Poisson, or\n"
    "regular as an integrate-and-fire input neuron would emit them).\n"
    "The predicted class is the output neuron with most spikes.\n"
    "\"\"\"\n"
    "import argparse\n"
    "import os\n"
    "from importlib import import_module\n"
    "\n"
    "import numpy as np\n"
    "\n";

static const char script_body[] =
    "HERE = os.path.dirname(os.path.abspath(__file__))\n"
    "\n"
    "\n"
    "def connection_file(label, kind):\n"
    "    \"\"\"Path and (pre, post, weight, delay) rows of one file.\"\"\"\n"
    "    path = os.path.join(HERE, f\"{label}_{kind}\")\n"
    "    rows = np.loadtxt(path, ndmin=2)\n"
    "    return path, rows.reshape(-1, 4)\n"
    "\n"
    "\n"
    "def brian2_connector(sim, rows):\n"
    "    \"\"\"pyNN.brian2's connectors add synapses one post-synaptic neuron\n"
    "    at a time and set each one's weight and delay one by one (the\n"
    "    shared LeNet did not build in 10 minutes); this one hands Brian2 the\n"
    "    whole list at once, in the units and with the delay rounding\n"
    "    pyNN.brian2 uses.\"\"\"\n"
    "    from brian2 import ms, nA\n"
    "\n"
    "    class BulkConnector(sim.FromListConnector):\n"
    "        def connect(self, projection):\n"
    "            syn = projection._brian2_synapses[0][0]\n"
    "            syn.connect(i=rows[:, 0].astype(np.int64),\n"
    "                        j=rows[:, 1].astype(np.int64))\n"
    "            syn.weight = rows[:, 2] * nA\n"
    "            dt = projection._simulator.state.dt\n"
    "            syn.delay = np.round(rows[:, 3] / dt) * dt * ms\n"
    "            projection._n_connections += len(rows)\n"
    "\n"
    "    return BulkConnector(rows, column_names=[\"weight\", \"delay\"])\n"
    "\n"
    "\n"
    "def neuron_charge_factor(tau):\n"
    "    \"\"\"NEURON's fixed step integrates a synaptic current at its value at\n"
    "    the start of each step, so a jump w of a current decaying with tau\n"
    "    delivers w dt / (1 - exp(-dt / tau)) instead of w tau (measured:\n"
    "    100x at dt = 1 ms, tau = 0.01 ms): weights are scaled to deliver\n"
    "    w tau.\"\"\"\n"
    "    return tau * (1 - np.exp(-DT_MS / tau)) / DT_MS\n"
    "\n"
    "\n"
    "def latencies(input_mode):\n"
    "    \"\"\"When each population's input first moves its membranes, in ms: per\n"
    "    projection from the sample (the constant current has none) the delay\n"
    "    plus one step, as a spike's current jumps after the step's membrane\n"
    "    update, which integrates it one step later (pyNN.brian2).\"\"\"\n"
    "    hop = round(DELAY_MS / DT_MS) * DT_MS + DT_MS\n"
    "    lat = []\n"
    "    for _, _, src in POPULATIONS:\n"
    "        lat.append(lat[src] + hop if src >= 0 else\n"
    "                   0.0 if input_mode == \"current\" else hop)\n"
    "    return lat\n"
    "\n"
    "\n"
    "class SpikingNet:\n"
    "    def __init__(self, sim, backend, input_mode, neurons_per_core):\n"
    "        self.sim, self.input_mode = sim, input_mode\n"
    "        # NEURON stamps a spike at the end of the step in which its neuron\n"
    "        # crossed the threshold, Brian2 at the step's start (measured; the\n"
    "        # spike arrives at the same step in both): NEURON runs one step\n"
    "        # longer to record the same spikes.\n"
    "        self.stamp_lag = DT_MS if backend == \"neuron\" else 0.0\n"
    "        if backend == \"spiNNaker\":\n"
    "            sim.set_number_of_neurons_per_core(sim.IF_curr_exp,\n"
    "                                               neurons_per_core)\n"
    "        self.source = None\n"
    "        if input_mode != \"current\":\n"
    "            cell = (sim.SpikeSourcePoisson() if input_mode == \"poisson\"\n"
    "                    else sim.SpikeSourceArray())\n"
    "            self.source = sim.Population(INPUT_SIZE, cell, label=\"input\")\n"
    "        self.pops, self.bias, self.first = [], [], None\n"
    "        for label, n, src in POPULATIONS:\n"
    "            pop = sim.Population(n, sim.IF_curr_exp(**CELL), label=label)\n"
    "            pop.initialize(v=0.0)\n"
    "            self.bias.append(np.loadtxt(os.path.join(HERE, label + \"_biases\")\n"
    "                                        ).reshape(-1))\n"
    "            pop.set(i_offset=self.bias[-1])\n"
    "            pre = self.pops[src] if src >= 0 else self.source\n"
    "            if src < 0:\n"
    "                self.first = self._input_weights(label, n)\n"
    "            if pre is not None:\n"
    "                self._project(pre, pop, label, backend)\n"
    "            self.pops.append(pop)\n"
    "        self.pops[-1].record(\"spikes\")\n"
    "        self.latency = latencies(input_mode)\n"
    "\n"
    "    def _project(self, pre, post, label, backend):\n"
    "        sim = self.sim\n"
    "        for kind in (\"excitatory\", \"inhibitory\"):\n"
    "            path, rows = connection_file(label, kind)\n"
    "            if len(rows) == 0:\n"
    "                continue\n"
    "            if backend == \"spiNNaker\":\n"
    "                # sPyNNaker takes magnitudes; the receptor gives the sign.\n"
    "                rows = rows.copy()\n"
    "                rows[:, 2] = np.abs(rows[:, 2])\n"
    "                conn = sim.FromListConnector(rows.tolist(),\n"
    "                                             column_names=[\"weight\", \"delay\"])\n"
    "            elif backend == \"brian2\":\n"
    "                conn = brian2_connector(sim, rows)\n"
    "            elif backend == \"neuron\":\n"
    "                rows = rows.copy()\n"
    "                tau = CELL[\"tau_syn_E\" if kind == \"excitatory\" else \"tau_syn_I\"]\n"
    "                rows[:, 2] *= neuron_charge_factor(tau)\n"
    "                conn = sim.FromListConnector(rows.tolist(),\n"
    "                                             column_names=[\"weight\", \"delay\"])\n"
    "            else:\n"
    "                conn = sim.FromFileConnector(path)\n"
    "            sim.Projection(pre, post, conn, receptor_type=kind,\n"
    "                           label=f\"{label}_{kind}\")\n"
    "\n"
    "    def _input_weights(self, label, n):\n"
    "        \"\"\"The first layer's synapses as (pre, post, membrane step per\n"
    "        unit of input and time step), for the constant-current input.\"\"\"\n"
    "        parts = []\n"
    "        for kind, tau in ((\"excitatory\", CELL[\"tau_syn_E\"]),\n"
    "                          (\"inhibitory\", CELL[\"tau_syn_I\"])):\n"
    "            _, rows = connection_file(label, kind)\n"
    "            parts.append((rows[:, 0].astype(np.int64),\n"
    "                          rows[:, 1].astype(np.int64),\n"
    "                          rows[:, 2] * tau / CELL[\"cm\"]))\n"
    "        return n, parts\n"
    "\n"
    "    def _offsets(self, x, duration):\n"
    "        \"\"\"Each population's i_offset: its bias, plus the sample's constant\n"
    "        current for the first one with input 'current'.  Other inputs set\n"
    "        the spike source.\"\"\"\n"
    "        offsets = list(self.bias)\n"
    "        if self.input_mode == \"current\":\n"
    "            first = [k for k, p in enumerate(POPULATIONS) if p[2] < 0][0]\n"
    "            n, parts = self.first\n"
    "            step = sum(np.bincount(post, weights=w * x[pre], minlength=n)\n"
    "                       for pre, post, w in parts)\n"
    "            offsets[first] = self.bias[first] + step * CELL[\"cm\"] / DT_MS\n"
    "        elif self.input_mode == \"poisson\":\n"
    "            self.source.set(rate=np.clip(x, 0, None) * 1000.0 / DT_MS)\n"
    "        else:\n"
    "            steps = int(round(duration / DT_MS))\n"
    "            grid = np.arange(steps + 1)\n"
    "            trains = []\n"
    "            for xi in np.clip(x, 0, 1):\n"
    "                fired = np.nonzero(np.diff(np.floor(grid * xi)))[0] + 1\n"
    "                trains.append(self.sim.Sequence(fired * DT_MS))\n"
    "            self.source.set(spike_times=trains)\n"
    "        return offsets\n"
    "\n"
    "    def run(self, x, duration, compensate=True):\n"
    "        \"\"\"Spike counts of the output population for one sample.  PyNN\n"
    "        delays every projection, where snntb's spikes cross the net within\n"
    "        a step; with compensate, each population's bias starts when its\n"
    "        input arrives and the run lasts duration plus the output's latency,\n"
    "        so that every population integrates duration ms of input as in\n"
    "        snntb.  Otherwise all start at 0 and the run lasts duration.\"\"\"\n"
    "        self.sim.reset()\n"
    "        for pop in self.pops:\n"
    "            pop.initialize(v=0.0)\n"
    "            pop.set(i_offset=0.0)\n"
    "        offsets = self._offsets(np.asarray(x, dtype=np.float64).ravel(),\n"
    "                                duration)\n"
    "        start = self.latency if compensate else [0.0] * len(self.pops)\n"
    "        t = 0.0\n"
    "        for s in sorted(set(start)):\n"
    "            if s > t:\n"
    "                self.sim.run(s - t)\n"
    "                t = s\n"
    "            for k, pop in enumerate(self.pops):\n"
    "                if start[k] == s:\n"
    "                    pop.set(i_offset=offsets[k])\n"
    "        end = duration + max(start) + self.stamp_lag\n"
    "        self.sim.run(end - t)\n"
    "        seg = self.pops[-1].get_data(\"spikes\", clear=True).segments[-1]\n"
    "        counts = np.zeros(POPULATIONS[-1][1])\n"
    "        for st in seg.spiketrains:\n"
    "            counts[int(st.annotations[\"source_index\"])] = np.sum(\n"
    "                st.magnitude < end - DT_MS / 2)\n"
    "        return counts\n"
    "\n"
    "\n"
    SNN_PY_PREDICT_MAIN_ARGS
    "    ap.add_argument(\"--simulator\", default=\"nest\",\n"
    "                    choices=[\"nest\", \"brian2\", \"neuron\", \"spiNNaker\"])\n"
    "    ap.add_argument(\"--input\", default=\"current\",\n"
    "                    choices=[\"current\", \"poisson\", \"array\"])\n"
    "    ap.add_argument(\"--duration\", type=float, default=DURATION_MS)\n"
    "    ap.add_argument(\"--neurons-per-core\", type=int, default=64,\n"
    "                    help=\"SpiNNaker: IF_curr_exp neurons per core\")\n"
    "    ap.add_argument(\"--no-latency-compensation\", action=\"store_true\",\n"
    "                    help=\"start every bias at 0 and run for --duration only\")\n"
    "    ap.add_argument(\"--out\", help=\"write spike counts and predictions\")\n"
    "    a = ap.parse_args()\n"
    "    sim = import_module(f\"pyNN.{a.simulator}\")\n"
    "    sim.setup(timestep=DT_MS, min_delay=DT_MS)\n"
    SNN_PY_LOAD_SAMPLES
    "    net = SpikingNet(sim, a.simulator, a.input, a.neurons_per_core)\n"
    "    counts = np.array([net.run(x[j], a.duration,\n"
    "                               not a.no_latency_compensation)\n"
    "                       for j in range(n)])\n"
    "    sim.end()\n"
    SNN_PY_REPORT_RESULTS;

static snn_status write_script(const char *dir, const snn_net *net,
                               const pynn_plan *p, const snn_export_opts *o,
                               snn_error *err)
{
    char path[PATH_LEN];
    snn_status st = snn_path_join(path, sizeof path, dir, "run_pynn.py", err);
    if (st != SNN_OK)
        return st;
    snn_strbuf b = {0};
    int ok = snn_text_put(&b, script_head) &&
             script_constants(&b, net, p, o) && snn_text_put(&b, script_body);
    return snn_text_write(&b, ok, path, err);
}

snn_status snn_export_pynn(const snn_net *net, const char *dir,
                           const snn_export_opts *opts, const snn_log *log,
                           snn_error *err)
{
    pynn_plan p = {calloc((size_t)net->n_layers, sizeof(int)), 0};
    if (!p.pop_of)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate the plan");
    snn_status st = plan_populations(net, opts, &p, log, err);
    if (st == SNN_OK)
        st = snn_mkdirs(dir, err);
    for (int i = 0; st == SNN_OK && i < net->n_layers; i++)
        if (p.pop_of[i] >= 0)
            st = write_population(dir, net, &p, i, opts, err);
    if (st == SNN_OK)
        st = write_script(dir, net, &p, opts, err);
    free(p.pop_of);
    return st;
}
