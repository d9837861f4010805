#!/usr/bin/env python3
"""Runs an snntb Lava export in Lava itself: lava-dl's netx builds the net.

  run_lava_netx.py NET.h5 SAMPLES.npz STEPS OUT.npz [-n N]

`lava.lib.dl.netx.hdf5.Network` reads NET.h5 (`snntb export --format lava`)
as a Lava process, which runs in Lava's bit-accurate Loihi 2 simulation
(Loihi2SimCfg, fixed_pt models) one sample at a time: a RingBuffer source
sends the sample as graded spikes of round(clip(x, -1, 1) * 2^8) for STEPS
steps (24 message bits), then zeros; a RingBuffer sink records the output
spikes.  On Lava every connection delays by one step, so a run lasts
STEPS + layers steps, the time the last input needs to reach the output.
OUT.npz receives `counts` (N, outputs); check_lava_netx.py --lava-timing
computes the same counts from the file without Lava.  SAMPLES.npz holds
arr_0, (N, C, H, W) or (N, D) floats.  Needs lava-dl (Python < 3.11,
docs/deps.md: .venv/lava).
"""
import argparse
import warnings

import numpy as np


def lava_frame(x, shape):
    """A channels-first sample as Lava's graded input, (X, Y, C) or (D,)."""
    q = np.rint(np.clip(x.astype(np.float32), -1, 1) * np.float32(256))
    q = q.transpose([2, 1, 0]) if q.ndim == 3 else q
    if q.shape != shape:
        raise SystemExit(f"run_lava_netx: sample shape {q.shape} (Lava's "
                         f"order) != the net's input {shape}")
    return q


def run_sample(path, x, steps):
    from lava.lib.dl.netx import hdf5
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc import io
    net = hdf5.Network(net_config=path, input_message_bits=24)
    total = steps + len(net.layers)
    data = np.zeros(net.inp.shape + (total,))
    data[..., :steps] = lava_frame(x, net.inp.shape)[..., None]
    source = io.source.RingBuffer(data=data)
    sink = io.sink.RingBuffer(shape=net.out.shape, buffer=total)
    source.s_out.connect(net.inp)
    net.out.connect(sink.a_in)
    try:
        net.run(condition=RunSteps(num_steps=total),
                run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        return sink.data.get().sum(axis=1).astype(np.int64), str(net)
    finally:
        net.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("net")
    ap.add_argument("samples")
    ap.add_argument("steps", type=int)
    ap.add_argument("out")
    ap.add_argument("-n", type=int, default=None)
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    xs = np.load(a.samples)["arr_0"][:a.n]
    counts = []
    for k, x in enumerate(xs):
        c, table = run_sample(a.net, x, a.steps)
        if k == 0:
            print("lava-dl netx.hdf5.Network read", a.net, "as:\n" + table)
        counts.append(c)
    np.savez(a.out, counts=np.array(counts))
    print(f"Lava (Loihi2SimCfg fixed_pt) ran {len(xs)} samples, {a.steps} "
          f"steps of input: {int(np.sum(counts))} output spikes")


if __name__ == "__main__":
    main()
