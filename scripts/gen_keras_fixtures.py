"""Writes the Keras fixtures in tests/fixtures/keras with the real Keras.

The parser tests compare snntb's reading of these files, and its ANN output,
against what Keras itself stored and computed, so every file here is written
by Keras (or derived from a Keras file by a small, explicit edit).  Run from
the repository root with the project venv:

    .venv/bin/python scripts/gen_keras_fixtures.py         # the first set
    .venv/bin/python scripts/gen_keras_fixtures.py layers  # DAGs, new layers
    .venv/bin/python scripts/gen_keras_fixtures.py keras3  # .keras, 1-D
    .venv/bin/python scripts/gen_keras_fixtures.py nested  # nested models
    .venv/bin/python scripts/gen_keras_fixtures.py resample  # 1-D edges,
                                                    # spiking resampling

Per model <name>:
  <name>.h5          legacy full-model HDF5 (model.save)
  <name>_pair.json   model.to_json()
  <name>_pair.h5     weights only, legacy layout (layer groups at the root)
  <name>_x.npy       fixed inputs in the model's own layout
  <name>_x_nchw.npy  the same inputs in NCHW (snntb's canonical layout)
  <name>_y.npy       model.predict on those inputs
Plus cnn_{conv,dense}_kernel.npy: two kernels as Keras holds them;
cnn_conv3d.h5: cnn.h5 whose first Conv2D claims to be a Conv3D;
cnn_chunked.h5: cnn.h5 re-encoded the way Keras 2 writes attributes;
branch.h5: a model whose input feeds two layers.
"""
import json
import os
import shutil
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import h5py  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "tests", "fixtures", "keras")
N_SAMPLES = 4


def cnn(fmt):
    """Every layer kind the reader maps, on a small image.

    14x14 input makes the stride-2 "same" convolution pad asymmetrically
    (0 before, 1 after), and the stride-1 average pooling leaves a 2x2 map
    so that the flatten order matters."""
    shape = (14, 14, 2) if fmt == "channels_last" else (2, 14, 14)
    axis = -1 if fmt == "channels_last" else 1
    return keras.Sequential([
        keras.Input(shape, name="image"),
        layers.Conv2D(3, 3, padding="valid", data_format=fmt, name="conv"),
        layers.BatchNormalization(axis=axis, epsilon=1e-3, name="bn"),
        layers.ReLU(name="relu"),
        layers.MaxPooling2D(2, data_format=fmt, name="maxpool"),
        layers.Conv2D(4, 3, strides=2, padding="same", data_format=fmt,
                      activation="relu", name="conv_same"),
        layers.AveragePooling2D(2, strides=1, data_format=fmt,
                                name="avgpool"),
        layers.Dropout(0.5, name="dropout"),
        layers.Flatten(data_format=fmt, name="flatten"),
        layers.Dense(8, activation="relu", name="dense"),
        layers.Dense(3, activation="softmax", name="out"),
    ])


def functional():
    """A linear chain written with the functional API, with dilation, no
    bias, BatchNormalization without scale/center and Activation layers."""
    x_in = keras.Input((9, 9, 1), name="image")
    x = layers.Conv2D(2, 3, dilation_rate=2, use_bias=False,
                      name="conv_dil")(x_in)
    x = layers.BatchNormalization(center=False, scale=False, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4, activation="linear", use_bias=False, name="dense")(x)
    x = layers.Activation("softmax", name="softmax")(x)
    return keras.Model(x_in, x)


def branching():
    """One input feeding two layers: not a linear chain."""
    x_in = keras.Input((4,), name="features")
    a = layers.Dense(3, name="head_a")(x_in)
    b = layers.Dense(2, name="head_b")(x_in)
    return keras.Model(x_in, [a, b])


def randomize_batchnorm(model, rng):
    """Fresh BatchNormalization layers are the identity; give them values so
    that a reader mixing up gamma/beta/mean/variance fails the test."""
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("f4")
                               if "variance" in v.path or "gamma" in v.path
                               else rng.normal(0, 0.3, w.shape).astype("f4")
                               for w, v in zip(layer.get_weights(),
                                               layer.weights)])


def save(model, name, fmt, rng):
    randomize_batchnorm(model, rng)
    shape = (N_SAMPLES,) + tuple(model.input_shape[1:])
    x = rng.uniform(0, 1, shape).astype(np.float32)
    y = model.predict(x, verbose=0)
    x_nchw = x.transpose(0, 3, 1, 2) if fmt == "channels_last" else x
    base = os.path.join(OUT, name)
    model.save(base + ".h5", include_optimizer=False)
    save_pair(model, base)
    np.save(base + "_x.npy", x)
    np.save(base + "_x_nchw.npy", np.ascontiguousarray(x_nchw))
    np.save(base + "_y.npy", y)
    return base


def save_pair(model, base):
    """<base>_pair.json (model.to_json()) and <base>_pair.h5, the weights
    alone in the legacy layout."""
    with open(base + "_pair.json", "w") as f:
        f.write(model.to_json())
    with h5py.File(base + "_pair.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def save_kernels(model, base):
    """Keras' own view of the kernels (HWIO, (in, out)), to check the
    relayout element by element."""
    for name in ("conv", "dense"):
        np.save(f"{base}_{name}_kernel.npy", model.get_layer(name).kernel)


def make_conv3d_copy():
    """An unsupported layer type, in an otherwise valid file."""
    dst = os.path.join(OUT, "cnn_conv3d.h5")
    shutil.copy(os.path.join(OUT, "cnn.h5"), dst)
    with h5py.File(dst, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        first_conv = [l for l in config["config"]["layers"]
                      if l["class_name"] == "Conv2D"][0]
        first_conv["class_name"] = "Conv3D"
        f.attrs["model_config"] = json.dumps(config)


def fixed_length_strings(values):
    """numpy bytes arrays become HDF5 fixed-length, null-padded strings: the
    longest one fills its slot with no terminating NUL."""
    return np.array([v.encode() for v in values])


def make_chunked_copy():
    """cnn.h5 with the string encoding Keras 2 wrote: fixed-length strings
    throughout, and the dense layer's weight_names split into the chunks
    weight_names0 and weight_names1 that Keras writes for long lists."""
    dst = os.path.join(OUT, "cnn_chunked.h5")
    shutil.copy(os.path.join(OUT, "cnn.h5"), dst)
    with h5py.File(dst, "r+") as f:
        for key in ("model_config", "keras_version"):
            f.attrs[key] = np.bytes_(f.attrs[key].encode())
        for name, group in f["model_weights"].items():
            names = [n for n in group.attrs["weight_names"]]
            del group.attrs["weight_names"]
            if name == "dense":
                group.attrs["weight_names0"] = fixed_length_strings(names[:1])
                group.attrs["weight_names1"] = fixed_length_strings(names[1:])
            elif names:
                group.attrs["weight_names"] = fixed_length_strings(names)
            else:
                group.attrs["weight_names"] = np.array([], "f8")


def main():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    os.makedirs(OUT, exist_ok=True)
    model = cnn("channels_last")
    save_kernels(model, save(model, "cnn", "channels_last", rng))
    save(cnn("channels_first"), "cnn_cf", "channels_first", rng)
    save(functional(), "func", "channels_last", rng)
    branching().save(os.path.join(OUT, "branch.h5"))
    make_conv3d_copy()
    make_chunked_copy()


if __name__ == "__main__" and not sys.argv[1:]:
    main()


# ---- layers beyond the linear chain (issue 3) ------------------------------
#
# Written by `gen_keras_fixtures.py layers`, which touches only these files:
#   dag.h5 (+ _pair.json/_pair.h5, _x, _x_nchw, _y): a Functional DAG with
#       branches, a tensor feeding several layers, a 3-input Add, Concatenate,
#       DepthwiseConv2D, SeparableConv2D, ReLU(max_value), relu6,
#       ZeroPadding2D, Cropping2D, UpSampling2D, GlobalAveragePooling2D
#   dag_k2.json: dag_pair.json with inbound_nodes in the Keras 2 format
#   shapes.h5 (+ _x, _x_nchw, _y): Reshape, Conv2DTranspose (valid, same)
#   dag_badadd.h5: dag.h5 whose Concatenate claims to be an Add (shapes
#       disagree)
#   sigmoid.h5: a hidden sigmoid, which IF neurons cannot represent

def dag():
    x_in = keras.Input((6, 6, 2), name="image")
    c1 = layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(x_in)
    a = layers.Conv2D(4, 3, padding="same", name="c2a")(c1)
    b = layers.DepthwiseConv2D(3, padding="same", name="dw")(c1)
    s = layers.Add(name="add")([a, b, c1])
    r = layers.ReLU(max_value=6.0, name="relu6")(s)
    p = layers.ZeroPadding2D(((1, 0), (0, 1)), name="pad")(r)
    sep = layers.SeparableConv2D(3, 3, depth_multiplier=2, activation="relu6",
                                 name="sep")(p)
    cr = layers.Cropping2D(((1, 0), (0, 1)), name="crop")(r)
    cat = layers.Concatenate(name="cat")([sep, cr])
    up = layers.UpSampling2D((2, 1), name="up")(cat)
    gap = layers.GlobalAveragePooling2D(name="gap")(up)
    out = layers.Dense(3, activation="softmax", name="out")(gap)
    return keras.Model(x_in, out)


def shapes():
    return keras.Sequential([
        keras.Input((12,), name="vec"),
        layers.Dense(12, activation="relu", name="dense"),
        layers.Reshape((2, 2, 3), name="reshape"),
        layers.Conv2DTranspose(2, 3, strides=2, name="up_valid"),
        layers.Conv2DTranspose(3, 2, strides=2, padding="same",
                               activation="relu", name="up_same"),
        layers.Flatten(name="flatten"),
        layers.Dense(3, name="out"),
    ])


def sigmoid_model():
    return keras.Sequential([
        keras.Input((4,), name="vec"),
        layers.Dense(3, activation="sigmoid", name="hidden"),
        layers.Dense(2, activation="softmax", name="out"),
    ])


def randomize(model, rng):
    """Non-zero biases and kernels of moderate size, so that a dropped bias
    or a transposed kernel changes the output."""
    for layer in model.layers:
        ws = layer.get_weights()
        if ws:
            layer.set_weights([rng.normal(0, 0.4, w.shape).astype("f4")
                               for w in ws])


def keras2_nodes(node):
    """One Keras 3 inbound node as Keras 2 wrote it: a list of
    [layer, node_index, tensor_index, kwargs]."""
    found = []

    def walk(v):
        if isinstance(v, dict) and "keras_history" in v.get("config", {}):
            found.append(list(v["config"]["keras_history"]) + [{}])
        elif isinstance(v, dict):
            for e in v.values():
                walk(e)
        elif isinstance(v, list):
            for e in v:
                walk(e)
    walk(node["args"])
    return found


def make_keras2_json(base):
    with open(base + "_pair.json") as f:
        model = json.load(f)
    for layer in model["config"]["layers"]:
        layer["inbound_nodes"] = [keras2_nodes(n)
                                  for n in layer["inbound_nodes"]]
    model["keras_version"] = "2.4.0"
    with open(base + "_k2.json", "w") as f:
        json.dump(model, f)
    shutil.copy(base + "_pair.h5", base + "_k2.h5")


def make_badadd_copy():
    dst = os.path.join(OUT, "dag_badadd.h5")
    shutil.copy(os.path.join(OUT, "dag.h5"), dst)
    with h5py.File(dst, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Concatenate":
                layer["class_name"] = "Add"
        f.attrs["model_config"] = json.dumps(config)


def main_layers():
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    model = dag()
    randomize(model, rng)
    make_keras2_json(save(model, "dag", "channels_last", rng))
    model = shapes()
    randomize(model, rng)
    save(model, "shapes", "flat", rng)
    for suffix in ("_pair.json", "_pair.h5"):
        os.remove(os.path.join(OUT, "shapes" + suffix))
    make_badadd_copy()
    sigmoid_model().save(os.path.join(OUT, "sigmoid.h5"))


if __name__ == "__main__" and sys.argv[1:] == ["layers"]:
    main_layers()


# ---- Keras 3 native .keras archives and 1-D layers (issue 3) ---------------
#
# Written by `gen_keras_fixtures.py keras3`, which touches only these files:
#   cnn3.keras, dag3.keras: the cnn and dag models above saved as .keras (a
#       zip of config.json, metadata.json and model.weights.h5 whose layer
#       variables sit under layers/<class_name_snake_case>[_N]/vars/<i>)
#   seq1d.keras/.h5: Conv1D (same, causal with dilation, strided),
#       MaxPooling1D, AveragePooling1D, Flatten of a sequence
#   gap1d.keras: Conv1D then GlobalAveragePooling1D
#   <name>_x.npy (N, steps, channels) and <name>_x_nchw.npy (N, C, 1, steps)
#   bad_noweights.keras: cnn3.keras without model.weights.h5
#   bad_shape.keras: cnn3.keras whose Dense claims 9 units (kernel has 8)
#   bad_names.keras: cnn3.keras whose two Dense layers' weight groups are
#       swapped (each vars group names the other layer)
#   bad_unknown.keras: cnn3.keras whose first Conv2D claims to be a Conv3D
# (`gen_keras_fixtures.py keras3-bad` rewrites only the bad_* files.)

def seq1d():
    return keras.Sequential([
        keras.Input((16, 3), name="signal"),
        layers.Conv1D(4, 3, padding="same", activation="relu", name="c_same"),
        layers.MaxPooling1D(2, name="maxpool"),
        layers.Conv1D(5, 3, padding="causal", dilation_rate=2,
                      activation="relu", name="c_causal"),
        layers.Conv1D(4, 2, strides=2, name="c_stride"),
        layers.AveragePooling1D(2, strides=1, name="avgpool"),
        layers.Flatten(name="flatten"),
        layers.Dense(3, activation="softmax", name="out"),
    ])


def gap1d():
    return keras.Sequential([
        keras.Input((12, 2), name="signal"),
        layers.Conv1D(6, 3, strides=2, padding="same", activation="relu",
                      name="conv"),
        layers.AveragePooling1D(3, strides=1, padding="same", name="avg"),
        layers.GlobalAveragePooling1D(name="gap"),
        layers.Dense(2, name="out"),
    ])


def save_keras(model, name, rng, legacy_h5=False, n=N_SAMPLES):
    """<name>.keras with n fixed inputs and Keras' outputs on them."""
    shape = (n,) + tuple(model.input_shape[1:])
    x = rng.uniform(0, 1, shape).astype(np.float32)
    y = model.predict(x, verbose=0)
    if x.ndim == 4:
        x_nchw = x.transpose(0, 3, 1, 2)
    elif x.ndim == 3:
        x_nchw = x.transpose(0, 2, 1)[:, :, None, :]
    else:
        x_nchw = x
    base = os.path.join(OUT, name)
    model.save(base + ".keras")
    if legacy_h5:
        model.save(base + ".h5")
    np.save(base + "_x.npy", x)
    np.save(base + "_x_nchw.npy", np.ascontiguousarray(x_nchw))
    np.save(base + "_y.npy", y)
    return base


def rewrite_keras(src, dst, edit):
    """Copies the archive src to dst, member by member, through edit(name,
    bytes) -> bytes or None (dropped)."""
    import zipfile
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)


def swap_dense_vars(data):
    """model.weights.h5 with the vars of dense and dense_1 exchanged."""
    import io
    buf = io.BytesIO(data)
    with h5py.File(buf, "r+") as f:
        f.move("layers/dense", "layers/tmp")
        f.move("layers/dense_1", "layers/dense")
        f.move("layers/tmp", "layers/dense_1")
    return buf.getvalue()


def main_keras3():
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    model = cnn("channels_last")
    randomize(model, rng)
    randomize_batchnorm(model, rng)
    save_keras(model, "cnn3", rng)
    model = dag()
    randomize(model, rng)
    save_keras(model, "dag3", rng)
    model = seq1d()
    randomize(model, rng)
    save_keras(model, "seq1d", rng, legacy_h5=True)
    model = gap1d()
    randomize(model, rng)
    save_keras(model, "gap1d", rng)
    main_keras3_bad()


def main_keras3_bad():
    good = os.path.join(OUT, "cnn3.keras")
    rewrite_keras(good, os.path.join(OUT, "bad_noweights.keras"),
                  lambda n, d: None if n == "model.weights.h5" else d)
    rewrite_keras(good, os.path.join(OUT, "bad_shape.keras"),
                  lambda n, d: d.replace(b'"units": 8', b'"units": 9')
                  if n == "config.json" else d)
    rewrite_keras(good, os.path.join(OUT, "bad_names.keras"),
                  lambda n, d: swap_dense_vars(d)
                  if n == "model.weights.h5" else d)
    rewrite_keras(good, os.path.join(OUT, "bad_unknown.keras"),
                  lambda n, d: d.replace(b'"Conv2D"', b'"Conv3D"', 1)
                  if n == "config.json" else d)


if __name__ == "__main__" and sys.argv[1:] == ["keras3"]:
    main_keras3()
elif __name__ == "__main__" and sys.argv[1:] == ["keras3-bad"]:
    main_keras3_bad()


# ---- models nested in models ------------------------------------------------
#
# Written by `gen_keras_fixtures.py nested`, which touches only these files:
#   nested.keras/.h5 (+ _x, _x_nchw, _y): a Functional model using a
#       Sequential (Conv2D, BatchNormalization, ReLU, Flatten, Dense) as a
#       layer; legacy HDF5 keeps all of its weights in one group, the
#       BatchNormalization's moving statistics after every trainable weight
#   nested_seq.keras/.h5: a Sequential using a Functional block as a layer

def nested():
    inner = keras.Sequential([
        keras.Input((6, 6, 4)),
        layers.Conv2D(3, 3, name="ic"),
        layers.BatchNormalization(name="ibn"),
        layers.ReLU(name="irelu"),
        layers.Flatten(name="iflat"),
        layers.Dense(5, activation="relu", name="idense"),
    ], name="inner")
    x_in = keras.Input((6, 6, 2), name="image")
    a = layers.Conv2D(4, 3, padding="same", activation="relu",
                      name="conv")(x_in)
    out = layers.Dense(3, activation="softmax", name="out")(inner(a))
    return keras.Model(x_in, out)


def nested_seq():
    b_in = keras.Input((8,), name="block_in")
    b = layers.Dense(6, activation="relu", name="block_dense")(b_in)
    block = keras.Model(b_in, b, name="block")
    return keras.Sequential([keras.Input((8,), name="vec"), block,
                             layers.Dense(2, name="out")])


def randomize_nested(model, rng):
    """randomize and randomize_batchnorm, inside nested models too."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            randomize_nested(layer, rng)
        elif layer.get_weights():
            layer.set_weights([rng.normal(0, 0.4, w.shape).astype("f4")
                               for w in layer.get_weights()])
    randomize_batchnorm(model, rng)


def main_nested():
    keras.utils.set_random_seed(9)
    rng = np.random.default_rng(9)
    for name, make in (("nested", nested), ("nested_seq", nested_seq)):
        model = make()
        randomize_nested(model, rng)
        save_keras(model, name, rng, legacy_h5=True)


if __name__ == "__main__" and sys.argv[1:] == ["nested"]:
    main_nested()


# ---- Keras 3 architecture + weights pair -----------------------------------
#
# Written by `gen_keras_fixtures.py pair3` from the committed cnn3.keras:
#   cnn3_pair.json (model.to_json()) + cnn3_pair.weights.h5
#       (model.save_weights: the .keras archive's weights layout)

def main_pair3():
    model = keras.saving.load_model(os.path.join(OUT, "cnn3.keras"))
    base = os.path.join(OUT, "cnn3_pair")
    with open(base + ".json", "w") as f:
        f.write(model.to_json())
    model.save_weights(base + ".weights.h5")


if __name__ == "__main__" and sys.argv[1:] == ["pair3"]:
    main_pair3()


# ---- layers that resample, for the spiking converter (issue 3) -------------
#
# Written by `gen_keras_fixtures.py resample`, which touches only these files
# (each <name>.keras and <name>.h5 with _x, _x_nchw and _y as above;
# seq_resample also as _pair.json + _pair.h5):
#   seq_resample: Conv1D, Cropping1D, UpSampling1D, ZeroPadding1D before an
#       AveragePooling1D (kept) and before a Conv1D (merged), Flatten, Dense
#   img_resample: Conv2D, Cropping2D, Conv2DTranspose (relu; and a linear
#       one added to an UpSampling2D), Add, ReLU, ZeroPadding2D before an
#       AveragePooling2D, Reshape to a vector, Dense
# Fixed inputs are uniform in [0, 1), 16 of them, so that the spiking test
# has samples enough to compare rates.

def seq_resample():
    return keras.Sequential([
        keras.Input((16, 2), name="signal"),
        layers.Conv1D(4, 3, padding="same", activation="relu", name="conv"),
        layers.Cropping1D((1, 2), name="crop"),
        layers.UpSampling1D(2, name="up"),
        layers.ZeroPadding1D((2, 1), name="pad_pool"),
        layers.AveragePooling1D(2, name="avg"),
        layers.ZeroPadding1D(1, name="pad_conv"),
        layers.Conv1D(3, 3, activation="relu", name="conv2"),
        layers.Flatten(name="flatten"),
        layers.Dense(3, activation="softmax", name="out"),
    ])


def img_resample():
    x_in = keras.Input((8, 8, 2), name="image")
    c1 = layers.Conv2D(4, 3, padding="same", activation="relu",
                       name="conv")(x_in)
    cr = layers.Cropping2D(((1, 0), (0, 1)), name="crop")(c1)
    t1 = layers.Conv2DTranspose(3, 3, strides=2, activation="relu",
                                name="convt")(cr)
    p1 = layers.AveragePooling2D(3, name="avg")(t1)
    t2 = layers.Conv2DTranspose(3, 2, strides=2, name="convt_lin")(p1)
    up = layers.UpSampling2D(2, name="up")(p1)
    s = layers.Add(name="add")([t2, up])
    r = layers.ReLU(name="relu")(s)
    zp = layers.ZeroPadding2D(((1, 0), (0, 1)), name="pad")(r)
    ap = layers.AveragePooling2D(2, name="avg2")(zp)
    rs = layers.Reshape((-1,), name="reshape")(ap)
    out = layers.Dense(3, activation="softmax", name="out")(rs)
    return keras.Model(x_in, out)


def main_resample():
    keras.utils.set_random_seed(11)
    rng = np.random.default_rng(11)
    model = seq_resample()
    randomize(model, rng)
    save_pair(model, save_keras(model, "seq_resample", rng, legacy_h5=True,
                                n=16))
    model = img_resample()
    randomize(model, rng)
    save_keras(model, "img_resample", rng, legacy_h5=True, n=16)


if __name__ == "__main__" and sys.argv[1:] == ["resample"]:
    main_resample()
