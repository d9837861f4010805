"""Fashion-MNIST as Debian's dataset-fashion-mnist package installs it.

Shared by the training scripts (train_fashion_demo.py, train_fashion_vgg.py)
so both read the same files the same way snntb does: IDX, pixels / 255,
channels last.
"""
import gzip
import os

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(name, offset):
    """IDX files are a big-endian header followed by uint8 values."""
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load(split):
    """(x, y) of 'train' or 't10k': x (N, 28, 28, 1) float32 in [0, 1]."""
    x = read_idx(f"{split}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1)
    y = read_idx(f"{split}-labels-idx1-ubyte.gz", 8)
    return x.astype(np.float32) / 255.0, y.astype(np.int64)
