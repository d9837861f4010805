"""Reads a lava-dl netx HDF5 file as netx does and runs it as Loihi would.

lava-dl needs Python < 3.11 and about 5 GB (torch with CUDA), so this
script stands in for `lava.lib.dl.netx.hdf5.Network` where it is absent
(scripts/run_lava_netx.py runs the file in Lava itself): it reads the file
with netx's own rules (NetDict: `type` is an ASCII string array, `weight`
and `bias` are cast to int; shapes are reversed to Lava's (X, Y, C); conv
weights are flipped spatially and transposed to Lava's (out, X, Y, in),
then convolved as lava.proc.conv.utils.conv does through torch; a flatten
before a dense layer is Lava's out.transpose([2, 1, 0]).flatten()), checks
the layout every layer needs, and simulates the integer CUBA neurons:
u = a_in (iDecay 4096), v += u + bias (vDecay 0), spike when v > vThMant,
v = 0 after a spike.  The first neuron layer gets graded input spikes of
round(clip(x, -1, 1) * 2^8) every step.  Spikes cross the whole net within
a step, as in snntb's native quantized net; with --lava-timing each
connection delays by one step as on Lava (the input held for STEPS steps,
then STEPS + layers steps run), which gives Lava's counts exactly.

usage: check_lava_netx.py NET.h5 SAMPLES.npz STEPS OUT.npz [--lava-timing]
SAMPLES.npz holds arr_0, (N, C, H, W) or (N, D) float samples; OUT.npz
receives `counts`, (N, outputs) output spike counts.
"""
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

NEURON_KEYS = ("type", "iDecay", "vDecay", "vThMant", "refDelay",
               "gradedSpike")


def text(g, key):
    v = g[key]
    v = v[0] if len(v.shape) > 0 else v[()]
    return v.decode("ascii")


def need(cond, what):
    if not cond:
        sys.exit(f"layout: {what}")


def read_neuron(g, name):
    need("neuron" in g, f"{name} has no neuron group")
    n = g["neuron"]
    for k in NEURON_KEYS:
        need(k in n, f"{name}/neuron has no {k}")
    need(text(n, "type") == "CUBA", f"{name}/neuron type is not CUBA")
    need(int(n["iDecay"][()]) == 4096 and int(n["vDecay"][()]) == 0,
         f"{name}: not an integrate-and-fire neuron")
    return int(n["vThMant"][()])


def conv_layer(g, name):
    for k in ("shape", "weight", "stride", "padding", "dilation", "groups"):
        need(k in g, f"{name} has no {k}")
    shape = tuple(g["shape"][()][::-1])  # WHC
    w = g["weight"][()].astype(int)[:, :, ::-1, ::-1]
    w = w.reshape(w.shape[:4]).transpose((0, 3, 2, 1))  # netx: (out, X, Y, in)
    # lava.proc.conv.utils.conv: torch correlation with the flip undone.
    kernel = torch.tensor(w[:, ::-1, ::-1].transpose([0, 3, 2, 1]).copy(),
                          dtype=torch.float64)
    stride = g["stride"][()][::-1]
    pad = g["padding"][()][::-1]
    dil = g["dilation"][()][::-1]
    groups = int(g["groups"][()])

    def apply(x):  # x: (N, X, Y, C) ints, N samples side by side
        t = torch.tensor(x.transpose([0, 3, 2, 1]), dtype=torch.float64)
        y = F.conv2d(t, kernel, stride=stride[::-1].tolist(),
                     padding=pad[::-1].tolist(),
                     dilation=dil[::-1].tolist(), groups=groups)
        return y.numpy().transpose([0, 3, 2, 1]).round().astype(np.int64)

    bias = g["bias"][()].astype(int) if "bias" in g else 0
    return shape, apply, bias, read_neuron(g, name)


def dense_layer(g, name, flatten):
    for k in ("shape", "weight"):
        need(k in g, f"{name} has no {k}")
    n = int(np.prod(g["shape"][()]))
    w = g["weight"][()].astype(int)
    if w.ndim == 1:
        w = w.reshape(n, -1)
    need(w.shape[0] == n, f"{name}: weight rows {w.shape[0]} != shape {n}")

    def apply(x):  # x: (N, ...)
        if flatten:
            x = x.transpose([0, 3, 2, 1]).reshape(len(x), -1)
        return x.astype(np.int64) @ w.astype(np.int64).T

    bias = g["bias"][()].astype(int) if "bias" in g else 0
    return (n,), apply, bias, read_neuron(g, name)


def read_net(path):
    f = h5py.File(path, "r")
    need("layer" in f, "no layer group")
    layers = f["layer"]
    need(text(layers["0"], "type") == "input", "layer/0 is not the input")
    in_shape = tuple(layers["0"]["shape"][()][::-1])
    net, flatten = [], False
    for i in range(1, len(layers)):
        name = f"layer/{i}"
        g = layers[str(i)]
        kind = text(g, "type")
        if kind == "flatten":
            flatten = True
        elif kind == "conv":
            net.append(conv_layer(g, name))
        elif kind == "dense":
            net.append(dense_layer(g, name, flatten))
            flatten = False
        else:
            sys.exit(f"layout: {name} has type {kind}, which netx cannot read")
    return in_shape, net


def run(in_shape, net, samples, steps, lava_timing=False):
    """Output spike counts.  lava_timing: as Lava runs the file, every
    connection (the input's too) delays by one step, and the run lasts
    steps + layers with the input held for the first steps."""
    x = np.clip(samples.astype(np.float32), -1, 1) * np.float32(256)
    x = np.rint(x).astype(np.int64)
    x = x.transpose([0, 3, 2, 1]) if x.ndim == 4 else x  # NCHW -> NWHC
    need(x.shape[1:] == in_shape,
         f"sample shape {x.shape[1:]} != input {in_shape}")
    v = [np.zeros((len(x),) + s, dtype=np.int64) for s, _, _, _ in net]
    total = steps + len(net) if lava_timing else steps
    # Each stage's output in the previous step (input, layers): nothing
    # has arrived before the first step.
    last = [np.zeros_like(x)] + [np.zeros_like(u) for u in v]
    counts = 0
    for t in range(total):
        now = [x if t < steps else np.zeros_like(x)]
        for k, (shape, apply, bias, vth) in enumerate(net):
            a = (last if lava_timing else now)[k]
            v[k] = v[k] + apply(a) + bias
            s = (v[k] > vth).astype(np.int64)
            v[k][s > 0] = 0
            now.append(s)
        last = now
        counts = counts + now[-1]
    return counts.reshape(len(x), -1)


def main():
    args = [a for a in sys.argv[1:] if a != "--lava-timing"]
    if len(args) != 4:
        sys.exit(__doc__.strip().splitlines()[-4])
    in_shape, net = read_net(args[0])
    xs = np.load(args[1])["arr_0"]
    steps = int(args[2])
    lava_timing = "--lava-timing" in sys.argv
    torch.set_num_threads(1)
    counts = np.concatenate([run(in_shape, net, xs[j:j + 100], steps,
                                 lava_timing)
                             for j in range(0, len(xs), 100)])
    np.savez(args[3], counts=counts)
    print(f"{len(xs)} samples, {len(net)} neuron layers: "
          f"{int(counts.sum())} output spikes")


if __name__ == "__main__":
    main()
