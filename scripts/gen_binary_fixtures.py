"""Writes tests/fixtures/keras/binary*.h5: a model with the original
toolbox's binary activations, saved by Keras with custom activation
functions named binary_sigmoid and binary_tanh (registered as custom
objects, as the original's get_custom_activations_dict does to load them).

Run from the repository root: .venv/bin/python scripts/gen_binary_fixtures.py

The functions are BinaryNet's (Courbariaux et al. 2016) as the original's
snntoolbox/utils/utils.py defines them: binary_sigmoid(x) =
round(clip(0.5 x + 0.5, 0, 1)) and binary_tanh(x) = 2 binary_sigmoid(x) - 1
(its round_through only changes the gradient).

  binary.h5       input 6 -> Dense 5 binary_sigmoid -> Dense 4 ->
                  Activation binary_tanh -> Dense 3 softmax; Keras 3 records
                  each function as {"class_name": "function", "config":
                  "<name>", ...}
  binary_k2.h5    the same file with those records replaced by the plain
                  names, as Keras 2 wrote a function's __name__
  binary_x.npy, binary_x_nchw.npy  inputs (N(0, 1), so both signs occur),
  binary_y.npy    Keras' outputs on them
"""
import json
import os
import shutil

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import h5py  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "tests", "fixtures", "keras")


def binary_sigmoid(x):
    return keras.ops.round(keras.ops.clip(0.5 * x + 0.5, 0.0, 1.0))


def binary_tanh(x):
    return 2.0 * binary_sigmoid(x) - 1.0


def model():
    return keras.Sequential([
        keras.Input((6,)),
        layers.Dense(5, activation=binary_sigmoid, name="bs"),
        layers.Dense(4, name="lin"),
        layers.Activation(binary_tanh, name="bt"),
        layers.Dense(3, activation="softmax", name="out"),
    ])


def plain_names(cfg):
    """Keras 3's function records -> the names Keras 2 wrote."""
    if isinstance(cfg, dict):
        if cfg.get("class_name") == "function":
            return cfg["config"]
        return {k: plain_names(v) for k, v in cfg.items()}
    if isinstance(cfg, list):
        return [plain_names(v) for v in cfg]
    return cfg


def main():
    keras.utils.get_custom_objects().update(
        {"binary_sigmoid": binary_sigmoid, "binary_tanh": binary_tanh})
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    m = model()
    x = rng.normal(0, 1, (16, 6)).astype(np.float32)
    y = m.predict(x, verbose=0)
    base = os.path.join(OUT, "binary")
    m.save(base + ".h5", include_optimizer=False)
    shutil.copy(base + ".h5", base + "_k2.h5")
    with h5py.File(base + "_k2.h5", "r+") as f:
        cfg = json.loads(f.attrs["model_config"])
        f.attrs["model_config"] = json.dumps(plain_names(cfg))
    np.save(base + "_x.npy", x)
    np.save(base + "_x_nchw.npy", x)
    np.save(base + "_y.npy", y)
    acts = [np.asarray(binary_sigmoid(x @ m.layers[0].get_weights()[0] +
                                      m.layers[0].get_weights()[1]))]
    print("binary.h5: first layer's activations take the values",
          np.unique(acts[0]))


if __name__ == "__main__":
    main()
