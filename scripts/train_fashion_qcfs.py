"""Trains the Fashion-MNIST demo CNN with QCFS activations (Bu et al. 2022,
"Optimal ANN-SNN conversion for high-accuracy and ultra-low-latency
spiking neural networks") for the low-latency table (bench/lowlat.sh).

QCFS replaces each ReLU by a quantization-clip-floor-shift function with a
trainable bound lambda and L levels:

    h(z) = lambda * clip(floor(z * L / lambda + 1/2) / L, 0, 1)

trained with a straight-through gradient for the floor.  An IF neuron whose
threshold is lambda and whose membrane starts at lambda / 2 computes exactly
this function's expectation over T = L steps, which is why such nets convert
in few steps.  snntb reads standard Keras layers only, so the trained net is
saved with each QCFS replaced by ReLU(max_value=lambda): the clipped ReLU
that snntb converts with lambda as the layer's scale (threshold = clip); the
quantization is what the spiking net itself does.  Run from the repository
root with the project venv:

    .venv/bin/python scripts/train_fashion_qcfs.py

Writes examples/fashion_mnist/fashion_cnn_qcfs.h5 and prints the test
accuracy of the quantized net and of the saved clipped-ReLU net.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402  (the env var must be set before TF loads)
from keras import layers, ops  # noqa: E402

from fashion_data import load  # noqa: E402  (a sibling module)

EPOCHS = 6
LEVELS = 8
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "examples", "fashion_mnist")


class QCFS(layers.Layer):
    """h(z) above, with lambda trainable (initial value 2)."""

    def build(self, input_shape):
        self.lam = self.add_weight(shape=(), initializer=keras.initializers
                                   .Constant(2.0), name="lam")

    def call(self, z):
        q = ops.clip(z / self.lam, 0.0, 1.0)
        rounded = ops.floor(q * LEVELS + 0.5) / LEVELS
        return self.lam * (q + ops.stop_gradient(rounded - q))


def build(act):
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(16, 3), act(0),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, 3), act(1),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(64), act(2),
        layers.Dropout(0.25),
        layers.Dense(10, activation="softmax"),
    ])


def main():
    keras.utils.set_random_seed(1)
    x_train, y_train = load("train")
    x_test, y_test = load("t10k")
    model = build(lambda i: QCFS(name=f"qcfs{i}"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, verbose=2)
    _, acc_q = model.evaluate(x_test, y_test, verbose=0)
    lams = [float(model.get_layer(f"qcfs{i}").lam.numpy()) for i in range(3)]
    clipped = build(lambda i: layers.ReLU(max_value=lams[i]))
    weighted = [l for l in model.layers if l.get_weights() and
                not isinstance(l, QCFS)]
    targets = [l for l in clipped.layers if l.get_weights()]
    for src, dst in zip(weighted, targets):
        dst.set_weights(src.get_weights())
    clipped.compile(loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
    _, acc_c = clipped.evaluate(x_test, y_test, verbose=0)
    clipped.save(os.path.join(OUT, "fashion_cnn_qcfs.h5"),
                 include_optimizer=False)
    print(f"lambdas {lams}")
    print(f"test accuracy: QCFS (L={LEVELS}) {acc_q:.4f}, saved clipped "
          f"ReLU net {acc_c:.4f}")


if __name__ == "__main__":
    main()
