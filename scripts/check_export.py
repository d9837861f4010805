#!/usr/bin/env python3
"""Checks snntb's exports with the real packages.

  check_export.py --nir NET.nir [--brian2 DIR] [--native PREDICTIONS.txt]
                  SAMPLES.npz LABELS.npz [-n N]

1. NET.nir must load with nir.read() and pass its type checking (shapes of
   every edge agree).
2. The NIR graph is simulated here, in numpy, with NIR's semantics and
   what the file's metadata adds (per step: v += r * I, spike when
   v > v_threshold, the reset named in metadata, reset to zero setting
   v_reset; spikes carry 1), and scored on the samples.
3. With --brian2, the exported Brian2 script (a different writer: synapse
   lists instead of tensors) runs the same samples in Brian2; its output
   spike counts must equal the NIR simulation's on at least --agree of the
   samples (default 0.9: both run in float64 but sum in different orders,
   so a neuron exactly at threshold may differ).
4. With --native (snntb's predictions.txt of a run on the same samples at
   the same duration and dt), Brian2's accuracy must be within --tol
   (default 0.02) of snntb's; the NIR simulation's is printed beside it.

Exit status 0 when every check passes; it prints what it compared.
Samples are channels first, (N, C, H, W), as snntb feeds its simulator.
"""
import argparse
import importlib.util
import os
import sys

import numpy as np

from compare_native import compare, read_native


def conv2d(x, w, b, stride, pad, dilation, groups):
    if groups != 1:
        raise SystemExit("check_export: grouped convolutions not simulated")
    x = np.pad(x, ((0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    kh, kw = w.shape[2], w.shape[3]
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    win = np.lib.stride_tricks.sliding_window_view(x, span, axis=(1, 2))
    win = win[:, ::stride[0], ::stride[1], ::dilation[0], ::dilation[1]]
    return np.einsum("chwij,ocij->ohw", win, w) + b[:, None, None]


def avgpool2d(x, kernel, stride, pad):
    if any(pad):
        raise SystemExit("check_export: padded pooling not simulated")
    win = np.lib.stride_tricks.sliding_window_view(x, tuple(kernel), axis=(1, 2))
    return win[:, ::stride[0], ::stride[1]].mean(axis=(3, 4))


def sumpool2d(x, kernel, stride, pad):
    if any(pad):
        raise SystemExit("check_export: padded pooling not simulated")
    win = np.lib.stride_tricks.sliding_window_view(x, tuple(kernel), axis=(1, 2))
    return win[:, ::stride[0], ::stride[1]].sum(axis=(3, 4))


def chain(graph):
    """The nodes from Input to Output (snntb writes a chain)."""
    nxt = dict(graph.edges)
    order, node = [], "input"
    while node in nxt:
        node = nxt[node]
        order.append(node)
    return order[:-1]


class NirSim:
    def __init__(self, graph):
        self.graph = graph
        self.order = chain(graph)

    def apply(self, node, x):
        t = type(node).__name__
        if t == "Affine":
            return node.weight.astype(np.float64) @ x.ravel() + node.bias
        if t == "Conv2d":
            return conv2d(x, node.weight.astype(np.float64), node.bias,
                          node.stride, node.padding, node.dilation, node.groups)
        if t == "AvgPool2d":
            return avgpool2d(x, node.kernel_size, node.stride, node.padding)
        if t == "SumPool2d":
            return sumpool2d(x, node.kernel_size, node.stride, node.padding)
        if t == "Flatten":
            return x.ravel()
        raise SystemExit(f"check_export: node type {t} not simulated")

    def run(self, x, steps):
        v = {k: 0.0 for k in self.order}
        counts = 0
        for _ in range(steps):
            a = x.astype(np.float64)
            for k in self.order:
                node = self.graph.nodes[k]
                if type(node).__name__ != "IF":
                    a = self.apply(node, a)
                    continue
                v[k] = v[k] + node.r * a
                s = v[k] > node.v_threshold
                reset = node.metadata.get("reset", "subtract")
                if reset == "zero":
                    v[k] = np.where(s, node.v_reset, v[k])
                elif reset == "modulo":
                    v[k] = np.where(s, np.mod(v[k], node.v_threshold), v[k])
                else:
                    v[k] = v[k] - s * node.v_threshold
                a = s.astype(np.float64)
            counts = counts + a
        return counts


def predict(counts):
    return int(np.argmax(counts)) if counts.max() > 0 else -1


def load_brian2(folder):
    spec = importlib.util.spec_from_file_location(
        "run_brian2", os.path.join(folder, "run_brian2.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nir", required=True)
    ap.add_argument("--brian2")
    ap.add_argument("samples")
    ap.add_argument("labels")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--duration", type=float, default=None)
    ap.add_argument("--agree", type=float, default=0.9)
    ap.add_argument("--native")
    ap.add_argument("--tol", type=float, default=0.02)
    a = ap.parse_args()
    import nir
    graph = nir.read(a.nir)
    kinds = [type(graph.nodes[k]).__name__ for k in chain(graph)]
    print("nir.read: ok,", len(graph.nodes), "nodes:", " ".join(kinds))
    ifs = [n for n in graph.nodes.values() if type(n).__name__ == "IF"]
    dt = float(ifs[0].metadata["dt"])
    x = np.load(a.samples)["arr_0"][:a.n]
    y = np.argmax(np.load(a.labels)["arr_0"][:a.n], axis=1)
    duration = a.duration
    if duration is None and a.brian2:
        duration = load_brian2(a.brian2).DURATION_MS
    steps = int(round((duration or 100) / dt))
    sim = NirSim(graph)
    nir_counts = [sim.run(s, steps) for s in x]
    nir_pred = np.array([predict(c) for c in nir_counts])
    print(f"NIR (numpy) accuracy: {np.mean(nir_pred == y):.4f} on {len(x)} "
          f"samples, {steps} steps")
    native = read_native(a.native, len(x)) if a.native else None
    if native is not None:
        compare("NIR (numpy)", nir_pred, native, y, a.tol)
    ok = True
    if a.brian2:
        import brian2 as b2
        mod = load_brian2(a.brian2)
        b2.prefs.codegen.target = "numpy"
        b2.defaultclock.dt = mod.DT_MS * b2.ms
        conn = dict(np.load(os.path.join(a.brian2, "connections.npz")))
        net = mod.SpikingNet(conn)
        b2_counts = [net.run(s, steps * mod.DT_MS) for s in x]
        b2_pred = np.array([mod.predict(c) for c in b2_counts])
        same = np.mean([np.array_equal(p, q)
                        for p, q in zip(b2_counts, nir_counts)])
        print(f"Brian2 accuracy: {np.mean(b2_pred == y):.4f}; output spike "
              f"counts equal the NIR simulation's on {same:.4f} of the "
              f"samples, predictions on {np.mean(b2_pred == nir_pred):.4f}")
        ok = same >= a.agree
        if native is not None:
            ok = compare("Brian2", b2_pred, native, y, a.tol) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
