"""The Keras models of tests/fixtures/snn_accuracy (see train_snn_fixtures.py).

Run by train_snn_fixtures.py in a process of its own (TensorFlow and
PyTorch do not load into one process): trains the named models, saves
each as its suffix says (.h5 legacy HDF5, .keras archive) and prints one
JSON line per model with its predictions on the whole test set.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402  (the env var must be set before TF loads)
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from fashion_data import load  # noqa: E402  (sibling modules)
from train_snn_fixtures import N_SUBSET, N_TRAIN, OUT, THREADS  # noqa: E402


def k_dense():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.AveragePooling2D(2),
        layers.Flatten(),
        layers.Dense(48, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])


def k_conv2d():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        layers.Conv2D(16, 3, dilation_rate=2, padding="valid",
                      use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.Conv2D(16, 3, padding="same", groups=4, activation="relu"),
        layers.AveragePooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])


def k_separable():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(8, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2),
        layers.ReLU(6.0),
        layers.SeparableConv2D(24, 3),
        layers.ReLU(max_value=4.0),
        layers.AveragePooling2D(2),
        layers.Conv2D(32, 3, activation="relu6"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10, activation="softmax"),
    ])


def k_conv1d():
    return keras.Sequential([
        keras.Input((784, 1)),
        layers.Conv1D(8, 9, strides=4, activation="relu"),
        layers.AveragePooling1D(2),
        layers.Conv1D(16, 5, strides=2, activation="relu"),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def k_padding():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.ZeroPadding2D(1),
        layers.Conv2D(8, 3, strides=2, activation="relu"),
        layers.ZeroPadding2D(((1, 0), (0, 1))),
        layers.Conv2D(16, 3, strides=2, activation="relu"),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def k_avgpool():
    """Only what every export target expresses (docs/export.md): valid
    convolutions without stride, dilation or groups, average pooling by
    the pool size, a dense output."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(8, 5, activation="relu"),
        layers.AveragePooling2D(2),
        layers.Conv2D(16, 5, activation="relu"),
        layers.AveragePooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def k_maxpool2d():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def k_maxpool1d():
    return keras.Sequential([
        keras.Input((784, 1)),
        layers.Conv1D(8, 9, strides=4, activation="relu"),
        layers.MaxPooling1D(2),
        layers.Conv1D(16, 5, strides=2, activation="relu"),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def k_residual():
    x_in = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x_in)
    y = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    y = layers.Conv2D(8, 3, padding="same")(y)
    x = layers.Activation("relu")(layers.Add()([x, y]))
    x = layers.AveragePooling2D(2)(x)
    x = layers.Flatten()(x)
    return keras.Model(x_in, layers.Dense(10, activation="softmax")(x))


def k_concat():
    x_in = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, strides=2, activation="relu")(x_in)
    a = layers.Conv2D(8, 1, activation="relu")(x)
    b = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = layers.Concatenate()([a, b])
    x = layers.AveragePooling2D(2)(x)
    x = layers.Flatten()(x)
    return keras.Model(x_in, layers.Dense(10, activation="softmax")(x))


def k_resample():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.ZeroPadding2D(2),
        layers.Conv2D(8, 3, strides=2, activation="relu"),
        layers.Cropping2D(((1, 0), (0, 1))),
        layers.Conv2DTranspose(8, 3, strides=2, activation="relu"),
        layers.AveragePooling2D(4),
        layers.UpSampling2D(2),
        layers.Conv2D(8, 3, strides=2, activation="relu"),
        layers.Reshape((-1,)),
        layers.Dense(10, activation="softmax"),
    ])


# name: (builder, file suffix, epochs, layers, max-pooling)
MODELS = {
    "dense": (k_dense, ".h5", 3,
              "AveragePooling2D, Flatten, Dense, Dropout, softmax", "no"),
    "conv2d": (k_conv2d, ".h5", 3,
               "Conv2D (stride 2 same, dilation 2 valid without bias, "
               "groups 4), BatchNormalization before ReLU, Activation, "
               "AveragePooling2D, Flatten, Dropout, Dense, softmax", "no"),
    "separable": (k_separable, ".keras", 3,
                  "Conv2D, BatchNormalization after ReLU, DepthwiseConv2D "
                  "(stride 2, multiplier 2), ReLU6 layer, SeparableConv2D, "
                  "ReLU(max_value=4), AveragePooling2D, relu6 activation, "
                  "GlobalAveragePooling2D, Dense, softmax", "no"),
    "conv1d": (k_conv1d, ".keras", 3,
               "Conv1D (stride 4, stride 2) on the 784-pixel sequence, "
               "AveragePooling1D, Flatten, Dense, softmax", "no"),
    "padding": (k_padding, ".h5", 3,
                "ZeroPadding2D (symmetric; asymmetric) before Conv2D "
                "(stride 2, valid), Flatten, Dense, softmax", "no"),
    "avgpool": (k_avgpool, ".h5", 8,
                "Conv2D (5x5 valid), AveragePooling2D, Conv2D (5x5 valid), "
                "AveragePooling2D, Flatten, Dense, softmax", "no"),
    "maxpool2d": (k_maxpool2d, ".h5", 3,
                  "Conv2D, MaxPooling2D, Flatten, Dense, softmax", "yes"),
    "maxpool1d": (k_maxpool1d, ".keras", 3,
                  "Conv1D on the 784-pixel sequence, MaxPooling1D, Flatten, "
                  "Dense, softmax", "yes"),
    "residual": (k_residual, ".keras", 2,
                 "Conv2D, Add (residual), Activation, AveragePooling2D, "
                 "Flatten, Dense, softmax", "no"),
    "concat": (k_concat, ".h5", 2,
               "Conv2D (1x1 and 3x3 branches), Concatenate, "
               "AveragePooling2D, Flatten, Dense, softmax", "no"),
    "resample": (k_resample, ".keras", 2,
                 "ZeroPadding2D, Conv2D, Cropping2D, Conv2DTranspose, "
                 "AveragePooling2D, UpSampling2D, Reshape, Dense, softmax",
                 "no"),
}


def keras_view(model, x):
    """Images as the model's input takes them (1-D: the pixel sequence)."""
    return x.reshape((len(x),) + tuple(model.input_shape[1:]))


def train(name, data):
    build, suffix, epochs, desc, maxpool = MODELS[name]
    keras.utils.set_random_seed(1)
    (x_train, y_train), (x_test, _) = data
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(keras_view(model, x_train[:N_TRAIN]), y_train[:N_TRAIN],
              epochs=epochs, batch_size=64, verbose=0)
    pred = model.predict(keras_view(model, x_test), verbose=0).argmax(1)
    path = os.path.join(OUT, name + suffix)
    # A fresh, uncompiled copy: the file would also hold Adam's state.
    bare = build()
    bare.set_weights(model.get_weights())
    bare.save(path)
    # The saved file, read back by Keras, is what snntb reads.
    again = keras.models.load_model(path, compile=False)
    pred_file = again.predict(keras_view(model, x_test[:N_SUBSET]),
                              verbose=0).argmax(1)
    assert (pred_file == pred[:N_SUBSET]).all(), name
    return {"name": name, "file": name + suffix, "lib": "keras",
            "maxpool": maxpool, "desc": desc,
            "framework": f"Keras {keras.__version__}", "pred": pred.tolist()}


def main():
    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    data = (load("train"), load("t10k"))
    for name in sys.argv[1:]:
        print(json.dumps(train(name, data)), flush=True)


if __name__ == "__main__":
    main()
