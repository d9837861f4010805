"""Writes tests/fixtures/megasim: two small Keras CNNs and a binary data set
on which e2e_megasim_resim.sh compares scripts/megasim_resim.py (a
re-simulation of the exported MegaSim files) with snntb's native run.

Run from the repository root: .venv/bin/python scripts/gen_megasim_fixtures.py

Data: 10x10 binary images (pixels 0 or 1, so that MegaSim's input events,
one per pixel of value 1 and step, are exactly the native constant input)
of three classes: a horizontal, a vertical or a diagonal stroke, with three
noise pixels.  Stored channels first, (N, 1, 10, 10), one-hot labels.

  pos.h5   conv 3x3 valid (4) -> conv 3x3 valid (4) -> flatten -> dense 3,
           trained with non-negative weights and biases whose sum per
           neuron is at most 1.  A neuron then receives at most its
           threshold per step, so MegaSim's event-by-event threshold test
           and snntb's per-step test give the same spikes (see
           docs/export.md); the export must match the native run exactly.
  pool.h5  conv 3x3 valid (4) -> average pooling 2 -> conv 3x3 valid (6)
           -> max pooling 2 -> flatten -> dense 3, trained freely: the
           export falls back to average pooling and MegaSim's pooling is
           per cell, so only the predicted classes are compared.
  x_test.npz, y_test.npz (40 samples), x_norm.npz (40 other samples)
"""
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
from keras import layers  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "tests", "fixtures", "megasim")
SIZE = 10


def stroke(rng, cls):
    img = np.zeros((SIZE, SIZE), np.float32)
    n = rng.integers(5, 9)
    r, c = rng.integers(0, SIZE - n + 1, 2)
    for k in range(n):
        if cls == 0:
            img[r + n // 2, c + k] = 1
        elif cls == 1:
            img[r + k, c + n // 2] = 1
        else:
            img[r + k, c + k] = 1
    for _ in range(3):
        img[tuple(rng.integers(0, SIZE, 2))] = 1
    return img


def dataset(rng, n):
    y = rng.integers(0, 3, n)
    x = np.stack([stroke(rng, c) for c in y])[:, None]
    return x, np.eye(3, dtype=np.float32)[y]


class SumAtMost(keras.constraints.Constraint):
    """Non-negative weights whose sum over each output unit is at most
    `limit` (the last axis indexes the output units)."""

    def __init__(self, limit):
        self.limit = limit

    def __call__(self, w):
        w = keras.ops.relu(w)
        axes = tuple(range(len(w.shape) - 1))
        total = keras.ops.sum(w, axis=axes, keepdims=True)
        return w / keras.ops.maximum(1.0, total / self.limit)


def bias_limit(w):
    return keras.ops.clip(w, 0.0, 0.1)


def pos_model(constrained):
    k = dict(kernel_constraint=SumAtMost(0.9), bias_constraint=bias_limit) \
        if constrained else {}
    return keras.Sequential([
        keras.Input((SIZE, SIZE, 1)),
        layers.Conv2D(4, 3, activation="relu", name="c1", **k),
        layers.Conv2D(4, 3, activation="relu", name="c2", **k),
        layers.Flatten(name="flat"),
        layers.Dense(3, activation="softmax", name="out", **k),
    ])


def pool_model():
    return keras.Sequential([
        keras.Input((SIZE, SIZE, 1)),
        layers.Conv2D(4, 3, activation="relu", name="c1"),
        layers.AveragePooling2D(2, name="avg"),
        layers.Conv2D(6, 3, activation="relu", name="c2"),
        layers.MaxPooling2D(2, name="max"),
        layers.Flatten(name="flat"),
        layers.Dense(3, activation="softmax", name="out"),
    ])


def train(model, x, y, epochs):
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x.transpose(0, 2, 3, 1), y, epochs=epochs, batch_size=32,
              verbose=0)
    return model


def main():
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    os.makedirs(OUT, exist_ok=True)
    x_train, y_train = dataset(rng, 1500)
    x_test, y_test = dataset(rng, 40)
    x_norm, _ = dataset(rng, 40)
    trained = train(pos_model(True), x_train, y_train, 30)
    pos = pos_model(False)
    pos.set_weights(trained.get_weights())
    pool = train(pool_model(), x_train, y_train, 20)
    for name, m in (("pos", pos), ("pool", pool)):
        m.save(os.path.join(OUT, name + ".h5"), include_optimizer=False)
        p = m.predict(x_test.transpose(0, 2, 3, 1), verbose=0)
        acc = np.mean(p.argmax(1) == y_test.argmax(1))
        print(f"{name}.h5: Keras accuracy on x_test {acc:.3f}")
    np.savez_compressed(os.path.join(OUT, "x_test.npz"), x_test)
    np.savez_compressed(os.path.join(OUT, "y_test.npz"), y_test)
    np.savez_compressed(os.path.join(OUT, "x_norm.npz"), x_norm)


if __name__ == "__main__":
    main()
