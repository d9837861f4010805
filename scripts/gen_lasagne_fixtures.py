#!/usr/bin/env python3
"""Lasagne fixtures and the reference figure of the shared Lasagne LeNet.

Lasagne and Theano no longer install on a current Python, so this is an
independent numpy implementation of Lasagne's inference semantics, written
from Lasagne's documentation and source (not from our C reader):

  * Conv2DLayer convolves with flipped filters unless flip_filters=False;
    pad 'valid' = 0, 'full' = filter - 1, 'same' = filter // 2, or ints;
  * DenseLayer flattens its input in (C, H, W) order and stores W as
    (in, out);
  * BatchNormLayer computes (x - mean) * (gamma * inv_std) + beta;
  * Pool2DLayer: stride defaults to pool_size, ignore_border=False keeps
    the partial windows at the far edge (as Theano does);
  * parameters come in get_all_param_values order (per layer W, b;
    BatchNorm beta, gamma, mean, inv_std) and the .h5 holds them as
    param_00, param_01, ... which the original toolbox reads in sorted
    order.

Each network is written twice: as the Lasagne script users bring (the
fixture's .py) and, by hand, as the list of layer specs below that this
forward pass runs.  Outputs on fixed inputs go to tests/fixtures/lasagne.

Run from the repository root:  .venv/bin/python scripts/gen_lasagne_fixtures.py
With ../shared present it also prints the shared LeNet's accuracy and
writes its outputs on the first test samples.
"""
import os
import sys

import h5py
import numpy as np

OUT = os.path.join("tests", "fixtures", "lasagne")
SHARED = os.path.join("..", "shared")


# ---- Lasagne's layers in numpy -----------------------------------------

def relu(x):
    return np.maximum(x, 0)


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACT = {"rectify": relu, "softmax": softmax, "linear": lambda x: x,
       "identity": lambda x: x}


def pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv_pad(pad, k):
    if pad == "valid":
        return (0, 0)
    if pad == "full":
        return (k[0] - 1, k[1] - 1)
    if pad == "same":
        return (k[0] // 2, k[1] // 2)
    return pair(pad)


def conv2d(x, w, b, stride, pad, flip):
    if flip:
        w = w[:, :, ::-1, ::-1]
    ph, pw = pad
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    sh, sw = stride
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    y = np.zeros((n, o, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + sh * (oh - 1) + 1:sh,
                      j:j + sw * (ow - 1) + 1:sw]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    if b is not None:
        y += b[None, :, None, None]
    return y


def pool_len(n, k, s, p, ignore_border):
    if ignore_border:
        return (n + 2 * p - k) // s + 1
    if s >= k:
        return (n + s - 1) // s
    return max(0, (n - k + s - 1) // s) + 1


def pool2d(x, size, stride, pad, ignore_border, mode):
    """Theano's Pool.perform: windows clipped to the image; max and
    average_exc_pad skip the padding, average_inc_pad counts it."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = size, stride, pad
    oh = pool_len(h, kh, sh, ph, ignore_border)
    ow = pool_len(w, kw, sw, pw, ignore_border)
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + w] = x
    y = np.zeros((n, c, oh, ow))
    for r in range(oh):
        for q in range(ow):
            r0, r1 = r * sh, min(r * sh + kh, h + 2 * ph)
            c0, c1 = q * sw, min(q * sw + kw, w + 2 * pw)
            if mode != "average_inc_pad":
                r0, r1 = max(r0, ph), min(r1, h + ph)
                c0, c1 = max(c0, pw), min(c1, w + pw)
            win = xp[:, :, r0:r1, c0:c1]
            y[:, :, r, q] = (win.max(axis=(2, 3)) if mode == "max"
                             else win.mean(axis=(2, 3)))
    return y


def batchnorm(x, beta, gamma, mean, inv_std):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return ((x - mean.reshape(shape)) * (gamma * inv_std).reshape(shape)
            + beta.reshape(shape))


def forward(spec, params, x):
    """Runs the hand-written layer list; params are consumed in order."""
    it = iter(params)
    for kind, a in spec:
        if kind == "conv":
            w = next(it)
            b = next(it) if a.get("bias", True) else None
            k = pair(a["filter_size"])
            x = conv2d(x, w, b, pair(a.get("stride", 1)),
                       conv_pad(a.get("pad", 0), k), a.get("flip", True))
            x = ACT[a.get("nonlinearity", "rectify")](x)
        elif kind == "dense":
            x = x.reshape(len(x), -1)
            w = next(it)
            x = x @ w
            if a.get("bias", True):
                x = x + next(it)
            x = ACT[a.get("nonlinearity", "rectify")](x)
        elif kind == "bn":
            beta, gamma, mean, inv_std = (next(it) for _ in range(4))
            x = batchnorm(x, beta, gamma, mean, inv_std)
        elif kind == "nonlin":
            x = ACT[a](x)
        elif kind == "pool":
            size = pair(a["pool_size"])
            x = pool2d(x, size, pair(a.get("stride", size)),
                       pair(a.get("pad", 0)), a.get("ignore_border", True),
                       a.get("mode", "max"))
        elif kind == "flatten":
            x = x.reshape(len(x), -1)
        else:
            raise ValueError(kind)
    assert next(it, None) is None, "unused parameters"
    return x


# ---- the shared LeNet (../shared/models/lenet5/lasagne/99.02.py) ---------

LENET = [
    ("conv", dict(num_filters=16, filter_size=5, stride=2)),
    ("bn", {}), ("nonlin", "rectify"),
    ("conv", dict(num_filters=32, filter_size=3, stride=1)),
    ("bn", {}), ("nonlin", "rectify"),
    ("pool", dict(pool_size=2)),
    ("dense", dict(num_units=800)),
    ("bn", {}), ("nonlin", "rectify"),
    ("dense", dict(num_units=10, nonlinearity="softmax")),
]


def load_params(path):
    with h5py.File(path, "r") as f:
        return [np.array(f[k], dtype=np.float64) for k in sorted(f.keys())]


def shared_lenet():
    model = os.path.join(SHARED, "models", "lenet5", "lasagne", "99.02.h5")
    data = os.path.join(SHARED, "data", "mnist")
    if not os.path.exists(model):
        print("no ../shared: shared LeNet figure skipped")
        return
    params = load_params(model)
    x = np.load(os.path.join(data, "x_test.npz"))["arr_0"].astype(np.float64)
    y = np.load(os.path.join(data, "y_test.npz"))["arr_0"].argmax(axis=1)
    out = np.concatenate([forward(LENET, params, x[i:i + 500])
                          for i in range(0, len(x), 500)])
    correct = int((out.argmax(axis=1) == y).sum())
    print("shared Lasagne LeNet: %d / %d correct = %.2f %%"
          % (correct, len(x), 100.0 * correct / len(x)))
    np.save(os.path.join(OUT, "lenet_shared_out16.npy"),
            out[:16].astype(np.float32))
    np.save(os.path.join(OUT, "lenet_shared_pred.npy"),
            out.argmax(axis=1).astype(np.uint8))
    with open(os.path.join(OUT, "lenet_shared_correct.txt"), "w") as f:
        f.write("%d %d\n" % (correct, len(x)))


# ---- small fixtures: every layer and option the reader handles ----------

# (name, input shape, script body, spec).  BatchNorms draw inv_std > 0
# and beta/mean so that after-ReLU BatchNorms have both signs of shift.
FIXTURES = [
    ("convs", (2, 9, 9), """\
import lasagne
from lasagne.layers import *
from lasagne.nonlinearities import rectify, softmax, linear, identity


def build_network(input_var=None):
    \"\"\"Convolutions in every padding, flipped or not.\"\"\"
    net = InputLayer(shape=(None, 2, 9, 9), input_var=input_var)
    net = Conv2DLayer(net, 4, (3, 3), pad='same')
    net = Conv2DLayer(net, num_filters=3, filter_size=(3, 2), stride=(2, 1),
                      pad='full', nonlinearity=identity, flip_filters=False)
    net = BatchNormLayer(net)           # before the activation: folds back
    net = NonlinearityLayer(net, nonlinearity=rectify)
    net = Conv2DLayer(net, 5, 2, pad=1, b=None)
    net = lasagne.layers.Pool2DLayer(net, 2, stride=1, mode='average_exc_pad')
    net = Conv2DLayer(net, 4, 3, pad='valid', nonlinearity=linear)
    net = FlattenLayer(net)
    net = DropoutLayer(net, p=0.5)
    net = DenseLayer(net, 6, nonlinearity=softmax)
    return {'model': net}
""", [
        ("conv", dict(num_filters=4, filter_size=3, pad="same")),
        ("conv", dict(num_filters=3, filter_size=(3, 2), stride=(2, 1),
                      pad="full", nonlinearity="identity", flip=False)),
        ("bn", {}), ("nonlin", "rectify"),
        ("conv", dict(num_filters=5, filter_size=2, pad=1, bias=False)),
        ("pool", dict(pool_size=2, stride=1, mode="average_exc_pad")),
        ("conv", dict(num_filters=4, filter_size=3, nonlinearity="linear")),
        ("flatten", {}),
        ("dense", dict(num_units=6, nonlinearity="softmax")),
    ]),
    ("bnafter", (1, 8, 8), """\
# BatchNorm after the activation, as the shared LeNet has it, at the input,
# and a batch_norm() wrapper; max pooling that keeps the border.
import lasagne.layers as L
from lasagne.nonlinearities import rectify, softmax


def build_network():
    net = L.InputLayer((None, 1, 8, 8))
    net = L.BatchNormLayer(net)   # at the input: folds into the next conv
    net = L.Conv2DLayer(net, 4, 3)
    net = L.BatchNormLayer(net)
    net = L.NonlinearityLayer(net, rectify)
    net = L.MaxPool2DLayer(net, pool_size=(2, 2), stride=2,
                           ignore_border=False)
    net = L.batch_norm(L.Conv2DLayer(net, 3, (2, 2)))
    net = L.DenseLayer(net, 7)
    net = L.BatchNormLayer(net)
    net = L.NonlinearityLayer(net, rectify)
    net = L.DenseLayer(net, num_units=5, nonlinearity=softmax)
    return {'model': net}
""", [
        ("bn", {}),
        ("conv", dict(num_filters=4, filter_size=3)),
        ("bn", {}), ("nonlin", "rectify"),
        ("pool", dict(pool_size=2, stride=2, ignore_border=False)),
        # batch_norm(): the conv loses its bias and nonlinearity, which move
        # after a BatchNormLayer
        ("conv", dict(num_filters=3, filter_size=2, bias=False,
                      nonlinearity="identity")),
        ("bn", {}), ("nonlin", "rectify"),
        ("dense", dict(num_units=7)),
        ("bn", {}), ("nonlin", "rectify"),
        ("dense", dict(num_units=5, nonlinearity="softmax")),
    ]),
    ("negscale", (1, 5, 5), """\
# A BatchNorm between two ReLUs whose second channel has a negative gamma:
# Lasagne runs it, but it cannot become integrate-and-fire neurons.
from lasagne.layers import (InputLayer, Conv2DLayer, BatchNormLayer,
                            NonlinearityLayer, DenseLayer)
from lasagne.nonlinearities import rectify, softmax


def build_network():
    net = InputLayer((None, 1, 5, 5))
    net = Conv2DLayer(net, 2, 3)
    net = BatchNormLayer(net)
    net = NonlinearityLayer(net, rectify)
    net = DenseLayer(net, 3, nonlinearity=softmax)
    return net
""", [
        ("conv", dict(num_filters=2, filter_size=3)),
        ("bn", {}), ("nonlin", "rectify"),
        ("dense", dict(num_units=3, nonlinearity="softmax")),
    ]),
    ("padfold", (1, 5, 5), """\
# A BatchNorm at the input before a zero-padded convolution: exact in
# Lasagne, but folding it into the convolution would shift the padding.
from lasagne.layers import InputLayer, BatchNormLayer, Conv2DLayer, DenseLayer
from lasagne.nonlinearities import softmax


def build_network():
    net = InputLayer((None, 1, 5, 5))
    net = BatchNormLayer(net)
    net = Conv2DLayer(net, 2, 3, pad=1)
    net = DenseLayer(net, 3, nonlinearity=softmax)
    return net
""", [
        ("bn", {}),
        ("conv", dict(num_filters=2, filter_size=3, pad=1)),
        ("dense", dict(num_units=3, nonlinearity="softmax")),
    ]),
]

# Parameters changed after drawing: (fixture, param index, item, value).
TWEAKS = [
    ("negscale", 3, 1, -0.8),  # gamma of channel 1
]


def param_shapes(spec, in_shape, rng):
    """Random parameters of the right shapes, found by running zeros."""
    params = []
    x = np.zeros((1,) + in_shape)
    for kind, a in spec:
        if kind == "conv":
            k = pair(a["filter_size"])
            params.append(rng.normal(0, 0.5, (a["num_filters"], x.shape[1])
                                     + k))
            if a.get("bias", True):
                params.append(rng.normal(0, 0.3, a["num_filters"]))
        elif kind == "dense":
            params.append(rng.normal(0, 0.3, (x[0].size, a["num_units"])))
            if a.get("bias", True):
                params.append(rng.normal(0, 0.3, a["num_units"]))
        elif kind == "bn":
            c = x.shape[1]
            params += [rng.normal(0, 0.5, c), rng.uniform(0.5, 1.5, c),
                       rng.normal(0, 0.5, c), rng.uniform(0.5, 2.0, c)]
        x = forward([(kind, a)], params[len(params) - count(kind, a):], x)
    return [p.astype(np.float32) for p in params]


def count(kind, a):
    if kind in ("conv", "dense"):
        return 1 + int(a.get("bias", True))
    return 4 if kind == "bn" else 0


def save_params(path, params):
    with h5py.File(path, "w") as f:
        for i, p in enumerate(params):
            f.create_dataset("param_%02d" % i, data=p)


def write_fixture(name, in_shape, script, spec, rng):
    params = param_shapes(spec, in_shape, rng)
    for fixture, index, item, value in TWEAKS:
        if fixture == name:
            params[index][item] = value
    with open(os.path.join(OUT, name + ".py"), "w") as f:
        f.write(script)
    save_params(os.path.join(OUT, name + ".h5"), params)
    x = rng.uniform(0, 1, (4,) + in_shape).astype(np.float32)
    y = forward(spec, [p.astype(np.float64) for p in params],
                x.astype(np.float64))
    np.save(os.path.join(OUT, name + "_x.npy"), x)
    np.save(os.path.join(OUT, name + "_y.npy"), y.astype(np.float32))
    print("%s: %d params, output %s" % (name, len(params), y.shape))
    if name == "negscale":
        # the same network with an inv_std of 0, which no variance gives
        params[5][0] = 0.0
        save_params(os.path.join(OUT, "negscale_badinv.h5"), params)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(3)
    for name, in_shape, script, spec in FIXTURES:
        write_fixture(name, in_shape, script, spec, rng)
    shared_lenet()
    return 0


if __name__ == "__main__":
    sys.exit(main())
