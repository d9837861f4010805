"""The reference figure for bench/run.sh: Keras's own inference speed.

Loads the same .h5 and the same first N test samples that bench_sim uses
and times model.predict (batch 100, one warm-up, best of 3), so that our
ANN throughput can be read as a ratio against the framework the model was
trained in, measured on the same machine in the same run.

    python bench/keras_reference.py MODEL.h5 DATASET_DIR idx|npz N

Prints "keras samples/s: <value>" (the line run.sh reads) and the top-1
accuracy on those samples; exits 3 when Keras cannot load the model.
"""
import gzip
import os
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402  (the env var must be set before TF loads)

BATCH = 100
REPEATS = 3


def read_idx(path, offset):
    """IDX files are a big-endian header followed by uint8 values."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def idx_path(directory, base):
    plain = os.path.join(directory, base)
    return plain if os.path.exists(plain) else plain + ".gz"


def load_dataset(directory, fmt, n):
    if fmt == "idx":
        x = read_idx(idx_path(directory, "t10k-images-idx3-ubyte"), 16)
        y = read_idx(idx_path(directory, "t10k-labels-idx1-ubyte"), 8)
        x = x.reshape(len(y), -1).astype(np.float32) / 255.0
    else:
        x = np.load(os.path.join(directory, "x_test.npz"))["arr_0"]
        y = np.load(os.path.join(directory, "y_test.npz"))["arr_0"].argmax(1)
    return x[:n].astype(np.float32), y[:n]


def best_predict_seconds(model, x):
    model.predict(x, batch_size=BATCH, verbose=0)
    best = None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = model.predict(x, batch_size=BATCH, verbose=0)
        secs = time.perf_counter() - t0
        best = secs if best is None else min(best, secs)
    return best, out


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    path, directory, fmt, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras's loaders raise many types; report any
        print(f"reference skipped: Keras {keras.__version__} cannot load "
              f"{path}: {type(e).__name__}: {e}")
        sys.exit(3)
    x, y = load_dataset(directory, fmt, n)
    x = x.reshape((len(x),) + tuple(model.input_shape[1:]))
    secs, out = best_predict_seconds(model, x)
    top1 = float(np.mean(out.argmax(1) == y))
    print(f"keras {keras.__version__}: {len(x)} samples in {secs:.4f} s, "
          f"top-1 {100 * top1:.2f}%")
    print(f"keras samples/s: {len(x) / secs:.1f}")


if __name__ == "__main__":
    main()
