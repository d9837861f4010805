"""Trains the small Fashion-MNIST CNN shipped in examples/fashion_mnist.

It exists so that the example config has a real, framework-written model to
convert: the network is trained with Keras itself and saved in the legacy
HDF5 format that snntb's Keras reader understands.  Run from the repository
root with the project venv:

    .venv/bin/python scripts/train_fashion_demo.py

Writes examples/fashion_mnist/fashion_cnn.h5 and the test accuracy into
examples/fashion_mnist/README.md.
"""
import os


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402  (the env var must be set before TF loads)
from keras import layers  # noqa: E402

from fashion_data import load  # noqa: E402  (a sibling module)

EPOCHS = 6
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "examples", "fashion_mnist")


def build():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(16, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.25),
        layers.Dense(10, activation="softmax"),
    ])


def main():
    keras.utils.set_random_seed(1)
    x_train, y_train = load("train")
    x_test, y_test = load("t10k")
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, verbose=2)
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    model.save(os.path.join(OUT, "fashion_cnn.h5"), include_optimizer=False)
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(
            "# Fashion-MNIST example\n\n"
            "`fashion_cnn.h5` is a small CNN (Conv2D 16 - MaxPool - Conv2D 32 -"
            f" MaxPool - Dense 64 - Dense 10 softmax) trained for {EPOCHS} epochs by"
            f" `scripts/train_fashion_demo.py` with Keras {keras.__version__},"
            " saved in the legacy HDF5 format.\n\n"
            f"Keras test accuracy (10000 test images): {acc * 100:.2f} %\n\n"
            "Run the conversion with `snntb examples/fashion_mnist/config.ini`.\n")
    print(f"test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
