#!/usr/bin/env python3
"""Runs an snntb NIR export in a real NIR importer (Norse) and compares its
classes with snntb's own run.

  check_nir_import.py NET.nir SAMPLES.npz PREDICTIONS.txt --duration MS
                      [--labels LABELS.npz] [-n N] [--agree 0.98]

NET.nir is read by nir.read() and turned into a PyTorch module by
norse.torch.from_nir(); nothing of the graph is rewritten here.  Each
sample (channels first, as snntb feeds its simulator) is fed as a constant
input current for duration / dt steps (dt from the IF nodes' metadata),
one call of the module per step, and the output spikes are counted.  The
predicted class is the argmax of the counts, -1 without output spikes, as
in snntb.  PREDICTIONS.txt is snntb's predictions.txt of a run on the same
samples (one class per line).  Norse's IF neuron resets to v_reset, so the
native run must reset to zero for the two to be the same net.

Exit status 0 when at least --agree of the samples get snntb's class.
"""
import argparse
import sys
import warnings

import numpy as np


def if_metadata(graph):
    ifs = [n for n in graph.nodes.values() if type(n).__name__ == "IF"]
    if not ifs:
        raise SystemExit("check_nir_import: the graph has no IF node")
    return ifs[0].metadata


def run_sample(module, x, steps, torch):
    state, counts = None, 0
    with torch.no_grad():
        for _ in range(steps):
            out, state = module(x, state)
            counts = counts + out
    counts = counts.reshape(-1).numpy()
    return int(np.argmax(counts)) if counts.max() > 0 else -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nir_file")
    ap.add_argument("samples")
    ap.add_argument("predictions")
    ap.add_argument("--duration", type=float, required=True, help="ms")
    ap.add_argument("--labels")
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--agree", type=float, default=0.98)
    a = ap.parse_args()
    # torch.jit.script and nirtorch.load announce their deprecation.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import nir
    import norse.torch
    import torch
    torch.set_num_threads(1)
    graph = nir.read(a.nir_file)
    meta = if_metadata(graph)
    if meta.get("reset", "subtract") != "zero":
        print(f"note: the net resets by {meta.get('reset')}; Norse's IF "
              "resets to v_reset, so classes may differ")
    dt = float(meta["dt"])
    steps = int(round(a.duration / dt))
    module = norse.torch.from_nir(graph, dt=dt * 1e-3)
    x = torch.from_numpy(np.load(a.samples)["arr_0"][:a.n]).float()
    native = np.array([int(line) for line in open(a.predictions)][:a.n])
    if len(native) != len(x):
        raise SystemExit(f"check_nir_import: {a.predictions} has "
                         f"{len(native)} predictions for {len(x)} samples")
    pred = np.array([run_sample(module, s[None], steps, torch) for s in x])
    same = float(np.mean(pred == native))
    print(f"Norse ({norse.__version__}) ran {a.nir_file}: {len(x)} samples, "
          f"{steps} steps of {dt} ms; classes equal to snntb's on "
          f"{same:.4f} of the samples ({int(np.sum(pred == -1))} without "
          f"output spikes in Norse, {int(np.sum(native == -1))} in snntb)")
    if a.labels:
        y = np.argmax(np.load(a.labels)["arr_0"][:a.n], axis=1)
        print(f"accuracy: Norse {np.mean(pred == y):.4f}, "
              f"snntb {np.mean(native == y):.4f}")
    return 0 if same >= a.agree else 1


if __name__ == "__main__":
    sys.exit(main())
