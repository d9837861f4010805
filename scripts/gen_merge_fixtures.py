#!/usr/bin/env python3
"""Writes tests/fixtures/merge: residual and concatenating models that the
spiking conversion supports end to end (tests/test_merge.c), each stored
with its framework's own outputs on fixed inputs.

  res_keras.h5 (+ _x.npy NHWC, _x_nchw.npy, _y.npy): Keras 3, Conv ->
      [Conv -> BatchNormalization] + shortcut -> Add -> ReLU, a relu Conv
      branch, Concatenate, AveragePooling2D, Flatten, two relu Dense
      layers added (Add of activated tensors), Dense softmax.
  res_o13.onnx, res_o17.onnx (+ res_onnx_x.npy NCHW, res_onnx_y.npy):
      the same pattern in PyTorch (BatchNorm2d, a + b, torch.cat), exported
      by torch.onnx.export (TorchScript) at opsets 13 and 17.
  res_lasagne.py + res_lasagne.h5 (+ _x.npy, _y.npy): a Lasagne
      build_network() script with ElemwiseSumLayer (coeffs) and ConcatLayer
      and its parameters in get_all_param_values order; Lasagne is not
      installed, so _y is an independent numpy forward pass (convolution
      with flipped filters, Lasagne's default).

Run from the repository root: .venv/bin/python scripts/gen_merge_fixtures.py
"""
import os
import warnings

import h5py
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import torch  # noqa: E402
from keras import layers  # noqa: E402
from torch import nn  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "tests", "fixtures", "merge")
N = 32


def keras_model():
    x_in = keras.Input((8, 8, 1), name="image")
    a = layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(x_in)
    r = layers.Conv2D(4, 3, padding="same", name="c2")(a)
    r = layers.BatchNormalization(name="bn")(r)
    s = layers.Add(name="add")([r, a])
    s = layers.Activation("relu", name="relu")(s)
    b = layers.Conv2D(3, 3, padding="same", activation="relu", name="c3")(a)
    cat = layers.Concatenate(name="cat")([s, b])
    p = layers.AveragePooling2D(2, name="pool")(cat)
    f = layers.Flatten(name="flat")(p)
    d1 = layers.Dense(12, activation="relu", name="d1")(f)
    d2 = layers.Dense(12, activation="relu", name="d2")(d1)
    v = layers.Add(name="vadd")([d1, d2])
    out = layers.Dense(4, activation="softmax", name="out")(v)
    return keras.Model(x_in, out)


def keras_fixture(rng):
    keras.utils.set_random_seed(3)
    model = keras_model()
    bn = model.get_layer("bn")
    bn.set_weights([rng.uniform(0.5, 1.5, 4).astype("f4"),
                    rng.normal(0.1, 0.2, 4).astype("f4"),
                    rng.normal(0, 0.2, 4).astype("f4"),
                    rng.uniform(0.5, 1.5, 4).astype("f4")])
    x = rng.uniform(0, 1, (N, 8, 8, 1)).astype(np.float32)
    y = model.predict(x, verbose=0)
    base = os.path.join(OUT, "res_keras")
    model.save(base + ".h5")
    np.save(base + "_x.npy", x)
    np.save(base + "_x_nchw.npy", np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    np.save(base + "_y.npy", y)


class Res(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.c3 = nn.Conv2d(4, 3, 3, padding=1)
        self.pool = nn.AvgPool2d(2)
        self.d1 = nn.Linear(7 * 4 * 4, 12)
        self.d2 = nn.Linear(12, 12)
        self.out = nn.Linear(12, 4)

    def forward(self, x):
        a = torch.relu(self.c1(x))
        s = torch.relu(self.bn(self.c2(a)) + a)
        cat = torch.cat([s, torch.relu(self.c3(a))], 1)
        f = torch.flatten(self.pool(cat), 1)
        d1 = torch.relu(self.d1(f))
        return self.out(d1 + torch.relu(self.d2(d1)))


def onnx_fixture(rng):
    torch.manual_seed(5)
    model = Res().eval()
    with torch.no_grad():
        model.bn.running_mean.copy_(torch.randn(4) * 0.2)
        model.bn.running_var.copy_(torch.rand(4) + 0.5)
        model.bn.weight.copy_(torch.rand(4) + 0.5)
        model.bn.bias.copy_(torch.randn(4) * 0.2 + 0.1)
    x = torch.from_numpy(rng.uniform(0, 1, (N, 1, 8, 8)).astype(np.float32))
    with torch.no_grad():
        y = model(x).numpy()
    for opset in (13, 17):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (x[:1],), os.path.join(
                OUT, "res_o%d.onnx" % opset), opset_version=opset,
                dynamo=False, input_names=["x"], output_names=["y"],
                dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
    np.save(os.path.join(OUT, "res_onnx_x.npy"), x.numpy())
    np.save(os.path.join(OUT, "res_onnx_y.npy"), y)


LASAGNE_SCRIPT = """import lasagne
from lasagne.layers import (InputLayer, Conv2DLayer, ElemwiseSumLayer,
                            NonlinearityLayer, ConcatLayer, Pool2DLayer,
                            DenseLayer)
from lasagne.nonlinearities import rectify, softmax


def build_network():
    net = InputLayer((None, 1, 8, 8))
    a = Conv2DLayer(net, 4, 3, pad='same')
    r = Conv2DLayer(a, 4, 3, pad='same', nonlinearity=None)
    s = ElemwiseSumLayer([r, a], coeffs=[1, 0.5])
    s = NonlinearityLayer(s, rectify)
    c = Conv2DLayer(a, 3, 3, pad='same')
    cat = ConcatLayer([s, c])
    p = Pool2DLayer(cat, 2, mode='average_exc_pad')
    d = DenseLayer(p, 12)
    return DenseLayer(d, 4, nonlinearity=softmax)
"""


def lasagne_conv(x, w, b):
    """Lasagne's Conv2DLayer, pad='same', flip_filters=True: a true
    convolution, i.e. cross-correlation with the kernel turned by 180
    degrees."""
    n, _, h, wd = x.shape
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (k // 2, k // 2), (k // 2, k // 2)))
    wf = w[:, :, ::-1, ::-1]
    y = np.zeros((n, w.shape[0], h, wd))
    for i in range(h):
        for j in range(wd):
            y[:, :, i, j] = np.einsum("ncij,ocij->no",
                                      xp[:, :, i:i + k, j:j + k], wf)
    return y + b[None, :, None, None]


def lasagne_fixture(rng):
    shapes = [(4, 1, 3, 3), (4,), (4, 4, 3, 3), (4,), (3, 4, 3, 3), (3,),
              (7 * 4 * 4, 12), (12,), (12, 4), (4,)]
    p = [rng.normal(0, 0.4, sh).astype(np.float32) for sh in shapes]
    p[1] += 0.1
    x = rng.uniform(0, 1, (N, 1, 8, 8)).astype(np.float32)
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    a = relu(lasagne_conv(x, p[0], p[1]))
    s = relu(lasagne_conv(a, p[2], p[3]) + 0.5 * a)
    c = relu(lasagne_conv(a, p[4], p[5]))
    cat = np.concatenate([s, c], 1)
    pool = cat.reshape(N, 7, 4, 2, 4, 2).mean((3, 5))
    d = relu(pool.reshape(N, -1) @ p[6] + p[7])
    z = d @ p[8] + p[9]
    y = np.exp(z - z.max(1, keepdims=True))
    y /= y.sum(1, keepdims=True)
    base = os.path.join(OUT, "res_lasagne")
    with open(base + ".py", "w") as f:
        f.write(LASAGNE_SCRIPT)
    with h5py.File(base + ".h5", "w") as f:
        for i, v in enumerate(p):
            f.create_dataset("param_%02d" % i, data=v)
    np.save(base + "_x.npy", x)
    np.save(base + "_y.npy", y.astype(np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(11)
    keras_fixture(rng)
    onnx_fixture(rng)
    lasagne_fixture(rng)


if __name__ == "__main__":
    main()
