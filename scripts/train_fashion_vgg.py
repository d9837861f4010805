"""Trains the VGG-style Fashion-MNIST CNN the simulator benchmark uses.

bench/results.md shows how the simulator's cost grows with depth, width and
duration; LeNet alone is too shallow for that.  This network has five 3x3
convolutions in three VGG blocks (16-16, 32-32, 64 channels, 'same'
padding, max-pooling after each block) and two dense layers, trained with
Keras itself and saved in the legacy HDF5 format that snntb reads.  Run
from the repository root with the project venv:

    .venv/bin/python scripts/train_fashion_vgg.py

Writes bench/models/fashion_vgg.h5 and its Keras test accuracy into
bench/models/README.md.
"""
import os


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402  (the env var must be set before TF loads)
from keras import layers  # noqa: E402

from fashion_data import load  # noqa: E402  (a sibling module)

EPOCHS = 5
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "bench", "models")


def conv(filters):
    return layers.Conv2D(filters, 3, padding="same", activation="relu")


def build():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        conv(16), conv(16), layers.MaxPooling2D(2),   # 14x14
        conv(32), conv(32), layers.MaxPooling2D(2),   # 7x7
        conv(64), layers.MaxPooling2D(2),             # 3x3
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.3),
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
    os.makedirs(OUT, exist_ok=True)
    model.save(os.path.join(OUT, "fashion_vgg.h5"), include_optimizer=False)
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(
            "# Benchmark models\n\n"
            "`fashion_vgg.h5`: a VGG-style Fashion-MNIST CNN (Conv 16-16 - pool -"
            " Conv 32-32 - pool - Conv 64 - pool - Dense 128 - Dense 10 softmax;"
            f" 3x3 'same' convolutions, {model.count_params()} parameters)"
            f" trained for {EPOCHS} epochs by `scripts/train_fashion_vgg.py`"
            f" with Keras {keras.__version__}, saved in the legacy HDF5"
            " format.\n\n"
            f"Keras test accuracy (10000 test images): {acc * 100:.2f} %\n")
    print(f"test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
