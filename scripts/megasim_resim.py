#!/usr/bin/env python3
"""Re-simulates a MegaSim export from its files alone.

  megasim_resim.py DIR...                      output spike counts per DIR
  megasim_resim.py DIR... --native LOG_VARS [--exact | --agree F]
                   [--labels Y.npz]

MegaSim (an event-driven simulator of AER hardware modules) is not
installable here, so this is a small reader of ours: it reads only what
`snntb export --format megasim` wrote into DIR (megasim.sch, the .prm and
.stt files, InputLayer.stim and bias_clk.stim), checks each file against
the layout the original toolbox's writer documents (MegaSim_target_sim.py:
every key in its order, one kernel block per input port, block sizes), and
runs the netlist with the semantics of MegaSim's parameters as that writer
documents them:

- events (t, -1, -1, x, y, polarity) flow through a queue ordered by time;
  events of equal time are handled in the order they were made (sources in
  netlist order, then module outputs as they are produced; delay_to_process
  0, so an output event has its input's time);
- module_conv: an event at (x, y) on input port p adds that port's kernel
  block to the membranes around it: neuron (x + Dx + i, y + Dy + j) gets
  K[i][j].  A block is Nx_kernel lines of Ny_kernel integers (the layout
  np.savetxt gives the original's (Nx, Ny) arrays).  MegaSim's source is
  not public here; the original's writer states that its kernels are
  right after a flip upside down, with Dx = -(k // 2) and the crop and
  shift it writes.  Its K[i][j] is taken to be line j, column k - 1 - i:
  the only reading of the block under which that writer computes the
  ANN's cross-correlation (for odd kernels; the fixture's are 3x3) - an
  assumption, stated in docs/export.md;
- after each input event, every touched neuron is tested: at V >= THplus
  it fires (THplusInfo) and V becomes V - THplus (Reset_to_reminder) or
  MembReset; V <= THminus clamps V there without an event (THminusInfo 0);
  a neuron ignores input for T_Refract time units after it fired;
- a fired neuron (x, y) inside [crop_xmin, crop_xmax] x [crop_ymin,
  crop_ymax] sends ((x + xshift_pre) // x_subsmp + xshift_pos, ...);
- module_flatten: port p's event (x, y) on an Nx_array x Ny_array map
  becomes address p Nx Ny + y Nx + x, passed on at once;
- module_fully_connected: an event of address a on port 0 adds line a of
  the Nx_array_pre x population_size weights; port 1 (the bias clock) adds
  the bias line; neurons fire and reset as above; event (neuron, 0).

With --native, the output counts are compared with snntb's native run of
the same samples (log_vars/*.npz, member spikecounts_n_b_l/<last layer>);
DIR k must hold the export of sample k (`--sample k`).  --exact asks for
equal counts on every sample, --agree F for equal predicted classes (argmax
of the counts, -1 without spikes) on at least a fraction F of them.
"""
import argparse
import glob
import heapq
import os
import sys

import numpy as np

HEADER = ["n_in_ports", "n_out_ports", "delay_to_process", "delay_to_ack",
          "fifo_depth", "n_repeat", "delay_to_repeat"]
NEURON = ["Xmin", "Ymin", "THplus", "THplusInfo", "THminus", "THminusInfo",
          "Reset_to_reminder", "MembReset", "TLplus", "TLminus", "Tmin",
          "T_Refract"]
OUTPUT = ["crop_xmin", "crop_xmax", "crop_ymin", "crop_ymax", "xshift_pre",
          "yshift_pre", "x_subsmp", "y_subsmp", "xshift_pos", "yshift_pos",
          "rectify"]


class FormatError(Exception):
    pass


class Tokens:
    """The lines of a .prm file, read key by key in the documented order."""

    def __init__(self, path):
        self.path = path
        with open(path) as f:
            self.lines = [ln.split() for ln in f]
        self.lines = [ln for ln in self.lines if ln]
        self.pos = 0

    def fail(self, what):
        raise FormatError(f"{self.path}: line {self.pos + 1}: {what}")

    def word(self, want):
        if self.pos >= len(self.lines) or self.lines[self.pos] != [want]:
            self.fail(f"expected {want!r}")
        self.pos += 1

    def key(self, name):
        ln = self.lines[self.pos] if self.pos < len(self.lines) else []
        if len(ln) != 2 or ln[0] != name:
            self.fail(f"expected '{name} <integer>'")
        self.pos += 1
        return int(ln[1])

    def keys(self, names):
        return {n: self.key(n) for n in names}

    def block(self, rows, cols):
        if self.pos + rows > len(self.lines):
            self.fail(f"a block of {rows} lines is cut short")
        out = np.array([[int(v) for v in ln]
                        for ln in self.lines[self.pos:self.pos + rows]],
                       dtype=np.int64)
        if out.shape != (rows, cols):
            self.fail(f"a block of {rows} x {cols} integers expected")
        self.pos += rows
        return out

    def end(self):
        self.word(".floats")
        if self.pos != len(self.lines):
            self.fail("text after .floats")


def square(tk, nx, ny):
    """The original names extents inconsistently (Nx_kernel counts kernel
    rows, Nx_array is a conv map's width but a flatten port's height), so
    which axis a non-square block or map runs along is not documented."""
    if nx != ny:
        tk.fail(f"{nx} x {ny}: non-square blocks and maps are not simulated "
                "(their orientation is not documented)")


class Neurons:
    """Integrate-and-fire membranes of one module, with MegaSim's reset,
    negative clamp and refractory period."""

    def __init__(self, p, shape):
        if p["TLplus"] or p["TLminus"] or p["Tmin"]:
            raise FormatError("leak (TLplus, TLminus) and Tmin are not "
                              "simulated by this reader")
        self.p = p
        self.v = np.zeros(shape, np.int64)
        self.last = np.full(shape, np.iinfo(np.int64).min // 2, np.int64)

    def add(self, t, idx, w):
        """Adds w at idx (flat indices) at time t; returns the fired ones."""
        p = self.p
        live = t >= self.last.flat[idx] + p["T_Refract"]
        idx, w = idx[live], w[live]
        v = self.v.reshape(-1)
        v[idx] += w
        fired = idx[v[idx] >= p["THplus"]]
        if p["Reset_to_reminder"]:
            v[fired] -= p["THplus"]
        else:
            v[fired] = p["MembReset"]
        low = idx[v[idx] <= p["THminus"]]
        v[low] = p["THminus"]
        self.last.flat[fired] = t
        return fired if p["THplusInfo"] else fired[:0]


class Conv:
    def __init__(self, path, n_inputs):
        tk = Tokens(path)
        tk.word(".integers")
        self.h = tk.keys(HEADER)
        a = tk.keys(["Nx_array", "Ny_array"])
        self.nx, self.ny = a["Nx_array"], a["Ny_array"]
        square(tk, self.nx, self.ny)
        p = tk.keys(NEURON)
        if self.h["n_in_ports"] != n_inputs:
            tk.fail(f"n_in_ports {self.h['n_in_ports']}, but the netlist "
                    f"gives {n_inputs} inputs")
        self.kernels = []
        for _ in range(n_inputs):
            k = tk.keys(["Nx_kernel", "Ny_kernel", "Dx", "Dy"])
            square(tk, k["Nx_kernel"], k["Ny_kernel"])
            b = tk.block(k["Nx_kernel"], k["Ny_kernel"])
            # K[i][j] = line j, column k - 1 - i (see the module's help).
            kij = b[:, ::-1].T
            ii, jj = np.nonzero(np.ones_like(kij))
            self.kernels.append((ii + k["Dx"], jj + k["Dy"], kij[ii, jj]))
        self.o = tk.keys(OUTPUT)
        tk.end()
        self.neurons = Neurons(p, (self.ny, self.nx))

    def event(self, t, port, x, y):
        dx, dy, w = self.kernels[port]
        xs, ys = x + dx, y + dy
        ok = (xs >= 0) & (xs < self.nx) & (ys >= 0) & (ys < self.ny)
        idx = ys[ok] * self.nx + xs[ok]
        out = []
        for n in self.neurons.add(t, idx, w[ok]):
            fy, fx = divmod(int(n), self.nx)
            o = self.o
            if not (o["crop_xmin"] <= fx <= o["crop_xmax"] and
                    o["crop_ymin"] <= fy <= o["crop_ymax"]):
                continue
            out.append(((fx + o["xshift_pre"]) // o["x_subsmp"] +
                        o["xshift_pos"],
                        (fy + o["yshift_pre"]) // o["y_subsmp"] +
                        o["yshift_pos"]))
        return out


class Flatten:
    def __init__(self, path, n_inputs):
        tk = Tokens(path)
        tk.word(".integers")
        h = tk.keys(HEADER)
        if h["n_in_ports"] != n_inputs:
            tk.fail(f"n_in_ports {h['n_in_ports']}, but the netlist gives "
                    f"{n_inputs} inputs")
        self.maps = [tk.keys(["Nx_array", "Ny_array"])
                     for _ in range(n_inputs)]
        for m in self.maps:
            square(tk, m["Nx_array"], m["Ny_array"])
        tk.end()
        self.offset = np.cumsum([0] + [m["Nx_array"] * m["Ny_array"]
                                       for m in self.maps])

    def event(self, t, port, x, y):
        return [(int(self.offset[port]) + y * self.maps[port]["Nx_array"] +
                 x, 0)]


class Dense:
    def __init__(self, path, n_inputs):
        tk = Tokens(path)
        tk.word(".integers")
        h = tk.keys(HEADER)
        n = tk.key("population_size")
        tk.key("Ny_array")
        p = tk.keys(NEURON)
        if h["n_in_ports"] != n_inputs:
            tk.fail(f"n_in_ports {h['n_in_ports']}, but the netlist gives "
                    f"{n_inputs} inputs")
        self.rows = []
        for _ in range(n_inputs):
            pre = tk.key("Nx_array_pre")
            tk.key("Ny_array_pre")
            self.rows.append(tk.block(pre, n))
        self.o = tk.keys(OUTPUT)
        tk.end()
        self.n = n
        self.neurons = Neurons(p, (n,))
        self.all = np.arange(n)

    def event(self, t, port, x, y):
        w = self.rows[port]
        if x >= len(w):
            raise FormatError(f"address {x} beyond the {len(w)} rows of a "
                              "fully connected module")
        return [(int(n), 0) for n in self.neurons.add(t, self.all, w[x])]


MODULES = {"module_conv": Conv, "module_flatten": Flatten,
           "module_fully_connected": Dense}


def nodes(text, where):
    if not (text.startswith("{") and text.endswith("}")):
        raise FormatError(f"{where}: expected {{node,...}}, got {text!r}")
    return text[1:-1].split(",")


def read_stim(path):
    try:
        ev = np.loadtxt(path, dtype=np.int64, ndmin=2)
    except OSError as e:
        raise FormatError(f"{path}: {e}")
    if ev.size and (ev.shape[1] != 6 or np.any(ev[:, 1:3] != -1)):
        raise FormatError(f"{path}: events are 't -1 -1 x y polarity'")
    return ev.reshape(-1, 6)


def read_stt(path):
    tk = Tokens(path)
    tk.word(".integers")
    if tk.key("time_busy_initial") != 0:
        tk.fail("time_busy_initial must be 0")
    tk.end()


def read_netlist(d):
    path = os.path.join(d, "megasim.sch")
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    if not lines or lines[0] != ".netlist":
        raise FormatError(f"{path}: must start with .netlist")
    try:
        opt = lines.index(".options")
    except ValueError:
        raise FormatError(f"{path}: no .options section")
    tmax = None
    for ln in lines[opt + 1:]:
        if ln.startswith("Tmax="):
            tmax = int(ln[5:])
    if tmax is None:
        raise FormatError(f"{path}: no Tmax in .options")
    sources, modules = [], []
    for ln in lines[1:opt]:
        parts = ln.split()
        if parts[0] == "source" and len(parts) == 3:
            sources.append((nodes(parts[1], path)[0],
                            os.path.join(d, parts[2])))
        elif parts[0] in MODULES and len(parts) == 4:
            ins, sep, out = parts[1].partition("}{")
            if not sep:
                raise FormatError(f"{path}: {ln!r}: {{inputs}}{{output}}")
            read_stt(os.path.join(d, parts[3]))
            ins = nodes(ins + "}", path)
            modules.append((MODULES[parts[0]](os.path.join(d, parts[2]),
                                              len(ins)),
                            ins, nodes("{" + out, path)[0]))
        else:
            raise FormatError(f"{path}: line not understood: {ln!r}")
    return sources, modules, tmax


def simulate(d):
    """Output events of the last module of DIR's netlist, as (t, x)."""
    sources, modules, tmax = read_netlist(d)
    readers = {}
    for k, (mod, ins, _) in enumerate(modules):
        for p, n in enumerate(ins):
            readers.setdefault(n, []).append((k, p))
    queue, seq = [], 0
    for label, path in sources:
        for ev in read_stim(path):
            queue.append((int(ev[0]), seq, label, int(ev[3]), int(ev[4])))
            seq += 1
    heapq.heapify(queue)
    last = modules[-1][2]
    out = []
    while queue:
        t, _, node, x, y = heapq.heappop(queue)
        if t >= tmax:
            break
        if node == last:
            out.append((t, x))
        for k, p in readers.get(node, []):
            mod, _, name = modules[k]
            for ox, oy in mod.event(t, p, x, y):
                heapq.heappush(queue, (t, seq, name, ox, oy))
                seq += 1
    return out, modules[-1][0].n


def counts(d):
    events, n = simulate(d)
    c = np.zeros(n, np.int64)
    for _, x in events:
        c[x] += 1
    return c


def native_counts(log_vars):
    files = sorted(glob.glob(os.path.join(log_vars, "[0-9]*.npz")),
                   key=lambda p: int(os.path.basename(p)[:-4]))
    if not files:
        raise SystemExit(f"megasim_resim: no batches in {log_vars}")
    out = []
    for f in files:
        z = np.load(f)
        names = sorted(k for k in z.files
                       if k.startswith("spikecounts_n_b_l/"))
        out.append(z[names[-1]].reshape(len(z[names[-1]]), -1))
    return np.concatenate(out)


def predicted(c):
    return int(np.argmax(c)) if c.max() > 0 else -1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--native")
    ap.add_argument("--exact", action="store_true")
    ap.add_argument("--agree", type=float)
    ap.add_argument("--labels", help="y_test.npz: print both accuracies")
    a = ap.parse_args()
    try:
        ours = [counts(d) for d in a.dirs]
    except (FormatError, OSError, ValueError) as e:
        raise SystemExit(f"megasim_resim: {e}")
    for d, c in zip(a.dirs, ours):
        print(f"{d}: output spike counts {c.tolist()}")
    if not a.native:
        return 0
    nat = native_counts(a.native)
    if len(nat) < len(ours):
        raise SystemExit(f"megasim_resim: the native run has {len(nat)} "
                         f"samples, {len(ours)} exports given")
    same_counts = same_class = 0
    for k, c in enumerate(ours):
        n = nat[k].astype(np.int64)
        same_counts += np.array_equal(n, c)
        same_class += predicted(n) == predicted(c)
        if not np.array_equal(n, c):
            print(f"sample {k}: native {n.tolist()}, MegaSim files "
                  f"{c.tolist()}")
    m = len(ours)
    if a.labels:
        y = np.load(a.labels)["arr_0"][:m].argmax(1)
        for name, c in (("native", nat[:m]), ("MegaSim files", ours)):
            acc = np.mean([predicted(ck) == yk for ck, yk in zip(c, y)])
            print(f"{name} accuracy {acc:.3f}")
    print(f"equal output counts on {same_counts}/{m} samples, equal "
          f"classes on {same_class}/{m}")
    if a.exact and same_counts != m:
        print("FAIL: counts differ")
        return 1
    if a.agree is not None and same_class < a.agree * m:
        print(f"FAIL: class agreement {same_class / m:.3f} < {a.agree}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
