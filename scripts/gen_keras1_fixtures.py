"""Writes Keras 1.x model files into tests/fixtures/keras1, by hand.

No Keras 1 installs today, so the files are written with h5py the way
Keras 1.2.2's models.save_model and Container.save_weights_to_hdf5_group
wrote them: root attributes keras_version ("1.2.2") and model_config (JSON
{"class_name", "config"}; a Sequential's config is the list of its layers,
the first carrying batch_input_shape), and a model_weights group with
layer_names and one group per layer listing its weight_names, datasets
named after the Theano variables ("convolution2d_1_W").  Strings are
fixed-length byte strings, as Keras 1 under Python 2 stored them.

The expected outputs come from an independent numpy forward pass written
here from Keras 1's layer semantics (TensorFlow "same" padding,
BatchNormalization mode 0 with running_std holding the variance, 'th'
kernels (out, in, rows, cols), 'tf' kernels (rows, cols, in, out), Flatten
in storage order).  Run from the repository root:

    .venv/bin/python scripts/gen_keras1_fixtures.py

Per model <name>: <name>.h5, <name>_x.npy (the model's own layout),
<name>_x_nchw.npy, <name>_y.npy.  Also:
  func.h5: a Keras 1 functional Model (inbound_nodes [[[name, 0, 0]]])
  merge.h5 (+ _x, _x_nchw, _y): branches joined by Merge sum and concat
  mergemul.h5: merge.h5 whose sum is a mul
  seq.h5 (+ _x, _x_nchw (N, C, 1, steps), _y): Convolution1D (kernel
      (filter_length, 1, input_dim, nb_filter)), MaxPooling1D, Flatten
  lstm.h5: th.h5 with an LSTM layer inserted (unknown to snntb)
  bnmode2.h5: th.h5 whose BatchNormalization uses mode 2
"""
import json
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "tests", "fixtures", "keras1")
N_SAMPLES = 4
EPS = 1e-3


# ---- numpy forward pass (NCHW) ---------------------------------------------

def same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def pad_input(x, k, s, mode):
    if mode == "valid":
        return x
    top, bottom = same_pads(x.shape[2], k[0], s[0])
    left, right = same_pads(x.shape[3], k[1], s[1])
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))


def windows(x, k, s):
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.empty((n, c, oh, ow, k[0], k[1]), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * s[0]:i * s[0] + k[0],
                                j * s[1]:j * s[1] + k[1]]
    return out


def conv(x, w_oihw, b, s, mode):
    k = w_oihw.shape[2:]
    win = windows(pad_input(x, k, s, mode), k, s)  # n c oh ow kh kw
    return np.einsum("nchwij,ocij->nohw", win, w_oihw) + b[None, :, None, None]


def pool(x, k, s, mode, how):
    win = windows(pad_input(x, k, s, mode), k, s)
    return win.max(axis=(4, 5)) if how == "max" else win.mean(axis=(4, 5))


def batchnorm(x, gamma, beta, mean, var):
    shape = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
    return ((x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + EPS) *
            gamma.reshape(shape) + beta.reshape(shape))


def relu(x):
    return np.maximum(x, 0)


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---- Keras 1 layer configs (what get_config returned in 1.2.2) -------------

def conv_config(name, nb_filter, nb_row, nb_col, border_mode, subsample,
                activation, ordering, first_shape=None):
    cfg = {"name": name, "trainable": True, "nb_filter": nb_filter,
           "nb_row": nb_row, "nb_col": nb_col, "init": "glorot_uniform",
           "activation": activation, "border_mode": border_mode,
           "subsample": list(subsample), "dim_ordering": ordering,
           "W_regularizer": None, "b_regularizer": None,
           "activity_regularizer": None, "W_constraint": None,
           "b_constraint": None, "bias": True}
    if first_shape:
        cfg["batch_input_shape"] = [None] + list(first_shape)
        cfg["input_dtype"] = "float32"
    return {"class_name": "Convolution2D", "config": cfg}


def bn_config(name, axis, mode=0):
    return {"class_name": "BatchNormalization",
            "config": {"name": name, "trainable": True, "epsilon": EPS,
                       "mode": mode, "axis": axis, "gamma_regularizer": None,
                       "beta_regularizer": None, "momentum": 0.99}}


def pool_config(cls, name, size, strides, border_mode, ordering):
    return {"class_name": cls,
            "config": {"name": name, "trainable": True,
                       "pool_size": list(size), "border_mode": border_mode,
                       "strides": list(strides), "dim_ordering": ordering}}


def dense_config(name, output_dim, activation, input_dim=None,
                 first_shape=None):
    cfg = {"name": name, "trainable": True, "output_dim": output_dim,
           "init": "glorot_uniform", "activation": activation,
           "W_regularizer": None, "b_regularizer": None,
           "activity_regularizer": None, "W_constraint": None,
           "b_constraint": None, "bias": True, "input_dim": input_dim}
    if first_shape:
        cfg["batch_input_shape"] = [None] + list(first_shape)
        cfg["input_dtype"] = "float32"
    return {"class_name": "Dense", "config": cfg}


def simple(cls, name, **extra):
    return {"class_name": cls,
            "config": dict({"name": name, "trainable": True}, **extra)}


# ---- writing ---------------------------------------------------------------

def fixed(strings):
    return np.array([s.encode() for s in strings])


def write_model(path, class_name, config, weights):
    """weights: [(layer name, [(weight name, array)])] in layer order."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = np.bytes_(b"1.2.2")
        f.attrs["model_config"] = np.bytes_(json.dumps(
            {"class_name": class_name, "config": config}).encode())
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = fixed([n for n, _ in weights])
        for layer, ws in weights:
            lg = g.create_group(layer)
            lg.attrs["weight_names"] = (fixed([n for n, _ in ws]) if ws
                                        else np.array([], "f8"))
            for name, value in ws:
                lg.create_dataset(name, data=value.astype(np.float32))


def rand(rng, *shape, scale=0.4):
    return rng.normal(0, scale, shape).astype(np.float32)


def cnn(ordering, rng):
    """Conv (valid) + BN + ReLU + MaxPool + Conv (same, stride 2) + AvgPool
    (stride 1) + Flatten + Dropout + Dense + Dense softmax; 'th' or 'tf'."""
    th = ordering == "th"
    shape = (2, 14, 14) if th else (14, 14, 2)
    axis = 1 if th else -1
    w1, b1 = rand(rng, 4, 2, 3, 3), rand(rng, 4)          # OIHW
    gamma, beta = rng.uniform(0.5, 1.5, 4).astype("f4"), rand(rng, 4)
    mean, var = rand(rng, 4), rng.uniform(0.5, 1.5, 4).astype("f4")
    w2, b2 = rand(rng, 3, 4, 3, 3), rand(rng, 3)
    w3, b3 = rand(rng, 12, 5), rand(rng, 5)               # (in, out)
    w4, b4 = rand(rng, 5, 3), rand(rng, 3)

    def stored(w):
        return w if th else w.transpose(2, 3, 1, 0)      # 'tf': HWIO
    config = [
        conv_config("convolution2d_1", 4, 3, 3, "valid", (1, 1), "linear",
                    ordering, shape),
        bn_config("batchnormalization_1", axis),
        simple("Activation", "activation_1", activation="relu"),
        pool_config("MaxPooling2D", "maxpooling2d_1", (2, 2), (2, 2),
                    "valid", ordering),
        conv_config("convolution2d_2", 3, 3, 3, "same", (2, 2), "relu",
                    ordering),
        pool_config("AveragePooling2D", "averagepooling2d_1", (2, 2), (1, 1),
                    "valid", ordering),
        simple("Flatten", "flatten_1"),
        simple("Dropout", "dropout_1", p=0.5),
        dense_config("dense_1", 5, "relu", 12),
        dense_config("dense_2", 3, "softmax", 5),
    ]
    weights = [
        ("convolution2d_1", [("convolution2d_1_W", stored(w1)),
                             ("convolution2d_1_b", b1)]),
        ("batchnormalization_1", [
            ("batchnormalization_1_gamma", gamma),
            ("batchnormalization_1_beta", beta),
            ("batchnormalization_1_running_mean", mean),
            ("batchnormalization_1_running_std", var)]),
        ("activation_1", []),
        ("maxpooling2d_1", []),
        ("convolution2d_2", [("convolution2d_2_W", stored(w2)),
                             ("convolution2d_2_b", b2)]),
        ("averagepooling2d_1", []),
        ("flatten_1", []),
        ("dropout_1", []),
        ("dense_1", [("dense_1_W", w3), ("dense_1_b", b3)]),
        ("dense_2", [("dense_2_W", w4), ("dense_2_b", b4)]),
    ]

    def forward(x_nchw):
        x = conv(x_nchw, w1, b1, (1, 1), "valid")
        x = relu(batchnorm(x, gamma, beta, mean, var))
        x = pool(x, (2, 2), (2, 2), "valid", "max")
        x = relu(conv(x, w2, b2, (2, 2), "same"))
        x = pool(x, (2, 2), (1, 1), "valid", "avg")
        flat = x if th else x.transpose(0, 2, 3, 1)       # storage order
        x = relu(flat.reshape(len(x), -1) @ w3 + b3)
        return softmax(x @ w4 + b4)
    return shape, config, weights, forward


def functional(rng):
    """Keras 1 Model: Input -> Dense relu -> Dense softmax."""
    w1, b1 = rand(rng, 6, 4), rand(rng, 4)
    w2, b2 = rand(rng, 4, 3), rand(rng, 3)

    def node(src):
        return [[[src, 0, 0]]]
    layers = [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 6], "input_dtype": "float32",
                    "sparse": False, "name": "input_1"}},
        dict(dense_config("dense_1", 4, "relu", 6), name="dense_1",
             inbound_nodes=node("input_1")),
        dict(dense_config("dense_2", 3, "softmax", 4), name="dense_2",
             inbound_nodes=node("dense_1")),
    ]
    config = {"name": "model_1", "layers": layers,
              "input_layers": [["input_1", 0, 0]],
              "output_layers": [["dense_2", 0, 0]]}
    weights = [("input_1", []),
               ("dense_1", [("dense_1_W", w1), ("dense_1_b", b1)]),
               ("dense_2", [("dense_2_W", w2), ("dense_2_b", b2)])]

    def forward(x):
        return softmax(relu(x @ w1 + b1) @ w2 + b2)
    return (6,), config, weights, forward


def merge_config(name, mode):
    return {"class_name": "Merge",
            "config": {"name": name, "mode": mode, "mode_type": "raw",
                       "concat_axis": -1, "dot_axes": -1,
                       "output_shape": None, "output_shape_type": "raw",
                       "output_mask": None, "output_mask_type": "raw",
                       "arguments": {}}}


def merging(rng, mode="sum"):
    """Keras 1 Model: two Dense branches, Merge sum, Merge concat of the
    sum and one branch, Dense softmax."""
    w1, b1 = rand(rng, 6, 4), rand(rng, 4)
    w2, b2 = rand(rng, 6, 4), rand(rng, 4)
    w3, b3 = rand(rng, 8, 3), rand(rng, 3)

    def node(*srcs):
        return [[[src, 0, 0] for src in srcs]]
    layers = [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 6], "input_dtype": "float32",
                    "sparse": False, "name": "input_1"}},
        dict(dense_config("dense_1", 4, "relu", 6), name="dense_1",
             inbound_nodes=node("input_1")),
        dict(dense_config("dense_2", 4, "relu", 6), name="dense_2",
             inbound_nodes=node("input_1")),
        dict(merge_config("merge_1", mode), name="merge_1",
             inbound_nodes=node("dense_1", "dense_2")),
        dict(merge_config("merge_2", "concat"), name="merge_2",
             inbound_nodes=node("merge_1", "dense_1")),
        dict(dense_config("dense_3", 3, "softmax", 8), name="dense_3",
             inbound_nodes=node("merge_2")),
    ]
    config = {"name": "model_1", "layers": layers,
              "input_layers": [["input_1", 0, 0]],
              "output_layers": [["dense_3", 0, 0]]}
    weights = [("input_1", []),
               ("dense_1", [("dense_1_W", w1), ("dense_1_b", b1)]),
               ("dense_2", [("dense_2_W", w2), ("dense_2_b", b2)]),
               ("merge_1", []), ("merge_2", []),
               ("dense_3", [("dense_3_W", w3), ("dense_3_b", b3)])]

    def forward(x):
        a, b = relu(x @ w1 + b1), relu(x @ w2 + b2)
        return softmax(np.concatenate([a + b, a], axis=1) @ w3 + b3)
    return (6,), config, weights, forward


def sequence(rng):
    """Convolution1D same + MaxPooling1D + Convolution1D strided + Flatten +
    Dense softmax, on 12 steps of 2 channels ((steps, channels), as the
    TensorFlow backend held sequences)."""
    w1, b1 = rand(rng, 4, 2, 1, 3), rand(rng, 4)     # (out, in, 1, k)
    w2, b2 = rand(rng, 3, 4, 1, 3), rand(rng, 3)
    w3, b3 = rand(rng, 6, 3), rand(rng, 3)

    def stored(w):
        return w.transpose(3, 2, 1, 0)                # (k, 1, in, out)

    def conv1d_config(name, nb_filter, length, border_mode, subsample,
                      first_shape=None):
        cfg = {"name": name, "trainable": True, "nb_filter": nb_filter,
               "filter_length": length, "init": "uniform",
               "activation": "relu", "border_mode": border_mode,
               "subsample_length": subsample, "W_regularizer": None,
               "b_regularizer": None, "activity_regularizer": None,
               "W_constraint": None, "b_constraint": None, "bias": True,
               "input_dim": None, "input_length": None}
        if first_shape:
            cfg["batch_input_shape"] = [None] + list(first_shape)
            cfg["input_dtype"] = "float32"
        return {"class_name": "Convolution1D", "config": cfg}
    config = [
        conv1d_config("convolution1d_1", 4, 3, "same", 1, (12, 2)),
        simple("MaxPooling1D", "maxpooling1d_1", stride=2, pool_length=2,
               border_mode="valid"),
        conv1d_config("convolution1d_2", 3, 3, "valid", 2),
        simple("Flatten", "flatten_1"),
        dense_config("dense_1", 3, "softmax", 6),
    ]
    weights = [
        ("convolution1d_1", [("convolution1d_1_W", stored(w1)),
                             ("convolution1d_1_b", b1)]),
        ("maxpooling1d_1", []),
        ("convolution1d_2", [("convolution1d_2_W", stored(w2)),
                             ("convolution1d_2_b", b2)]),
        ("flatten_1", []),
        ("dense_1", [("dense_1_W", w3), ("dense_1_b", b3)]),
    ]

    def forward(x_nchw):                              # (N, C, 1, steps)
        x = relu(conv(x_nchw, w1, b1, (1, 1), "same"))
        x = pool(x, (1, 2), (1, 2), "valid", "max")
        x = relu(conv(x, w2, b2, (1, 2), "valid"))
        flat = x.transpose(0, 2, 3, 1)                # (steps, channels)
        return softmax(flat.reshape(len(x), -1) @ w3 + b3)
    return (12, 2), config, weights, forward


def save(name, model, rng, th):
    shape, config, weights, forward = model
    class_name = "Model" if isinstance(config, dict) else "Sequential"
    x = rng.uniform(0, 1, (N_SAMPLES,) + shape).astype(np.float32)
    if th or x.ndim == 2:
        x_nchw = x
    elif x.ndim == 3:                                 # (N, steps, C)
        x_nchw = x.transpose(0, 2, 1)[:, :, None, :]
    else:
        x_nchw = x.transpose(0, 3, 1, 2)
    y = forward(x_nchw.astype(np.float64)).astype(np.float32)
    base = os.path.join(OUT, name)
    write_model(base + ".h5", class_name, config, weights)
    np.save(base + "_x.npy", x)
    np.save(base + "_x_nchw.npy", np.ascontiguousarray(x_nchw))
    np.save(base + "_y.npy", y)
    return config, weights


def main():
    rng = np.random.default_rng(11)
    os.makedirs(OUT, exist_ok=True)
    config, weights = save("th", cnn("th", rng), rng, True)
    save("tf", cnn("tf", rng), rng, False)
    save("func", functional(rng), rng, False)

    lstm = [dict(layer) for layer in config]
    lstm.insert(7, simple("LSTM", "lstm_1", output_dim=4))
    write_model(os.path.join(OUT, "lstm.h5"), "Sequential", lstm,
                weights[:7] + [("lstm_1", [])] + weights[7:])
    bn2 = json.loads(json.dumps(config))
    bn2[1]["config"]["mode"] = 2
    write_model(os.path.join(OUT, "bnmode2.h5"), "Sequential", bn2, weights)

    save("merge", merging(rng), rng, False)
    _, config, weights, _ = merging(rng, "mul")
    write_model(os.path.join(OUT, "mergemul.h5"), "Model", config, weights)
    save("seq", sequence(rng), rng, False)


if __name__ == "__main__":
    main()
