#!/usr/bin/env python3
"""Writes the .npy/.npz/IDX fixtures for tests/test_npy.c, test_idx.c and
test_dataset.c into tests/fixtures/npy/.

Array values follow simple formulas of the C-order flat index i, which the
C tests recompute independently:
  float:    i * 0.5 - 3
  signed:   (i * 37 - 100) * SCALE[itemsize]
  unsigned: (i * 50 + 3) * SCALE[itemsize]
  bool:     i % 3 == 0
SCALE puts significant bits into the high bytes, so a byte-order mistake
changes the value.  Run with /work/main/.venv/bin/python.
"""
import gzip
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "npy")
SCALE = {1: 1, 2: 256, 4: 1 << 20, 8: 1 << 40}


def values(dtype, shape):
    dt = np.dtype(dtype)
    i = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    if dt.kind == "f":
        v = i * 0.5 - 3
    elif dt.kind == "i":
        v = (i * 37 - 100) * SCALE[dt.itemsize]
    elif dt.kind == "u":
        v = (i * 50 + 3) * SCALE[dt.itemsize]
    else:
        v = i % 3 == 0
    return v.astype(dt)


def path(*parts):
    p = os.path.join(OUT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def write_version(name, arr, version):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, arr, version=version)


def dtype_files():
    for code in ["f4", "f8", "i2", "i4", "i8", "u2", "u4", "u8"]:
        for order, tag in (("<", "le"), (">", "be")):
            np.save(path(f"{code}_{tag}.npy"), values(order + code, (2, 3)))
    for code in ["u1", "i1", "b1"]:
        np.save(path(f"{code}.npy"), values("|" + code, (2, 3)))


def layout_files():
    for major in (1, 2, 3):
        write_version(f"v{major}.npy", values("<f4", (2, 3)), (major, 0))
    np.save(path("fortran_f8.npy"), np.asfortranarray(values("<f8", (2, 3, 4))))
    np.save(path("fortran_i2_be.npy"), np.asfortranarray(values(">i2", (3, 2))))
    np.save(path("scalar.npy"), np.array(7.25, dtype="<f8"))
    np.save(path("vector.npy"), values("<f4", (5,)))
    np.save(path("empty.npy"), np.zeros((0, 3), dtype="<f4"))


def bad_files():
    data = open(path("f4_le.npy"), "rb").read()
    open(path("truncated.npy"), "wb").write(data[:-3])
    np.save(path("object.npy"), np.array([1, "a", None], dtype=object),
            allow_pickle=True)
    np.save(path("structured.npy"),
            np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]))
    np.save(path("unicode.npy"), np.array(["ab", "c"]))


def npz_files():
    arrays = (values("<f4", (2, 3)), values(">i2", (3, 2)))
    np.savez(path("stored.npz"), *arrays, weights=values("<f8", (4,)))
    np.savez_compressed(path("deflated.npz"), *arrays,
                        weights=values("<f8", (4,)))


def one_hot(labels, classes):
    return np.eye(classes, dtype=np.float32)[labels]


def dataset_files():
    x = values("<f4", (4, 1, 2, 2))
    np.savez_compressed(path("dataset_npz", "x_test.npz"), x)
    np.savez_compressed(path("dataset_npz", "y_test.npz"),
                        one_hot([2, 0, 1, 2], 3))
    np.savez_compressed(path("dataset_count", "x_test.npz"), x)
    np.savez_compressed(path("dataset_count", "y_test.npz"),
                        one_hot([2, 0, 1], 3))
    np.savez_compressed(path("dataset_soft", "x_test.npz"), x)
    y = one_hot([2, 0, 1, 2], 3)
    y[1] = [0.5, 0.5, 0]
    np.savez_compressed(path("dataset_soft", "y_test.npz"), y)


def idx_bytes(type_code, dims, payload):
    head = bytes([0, 0, type_code, len(dims)])
    return head + struct.pack(">%dI" % len(dims), *dims) + payload


def write_gz(name, data):
    # mtime=0 keeps the output byte-identical from run to run.
    with gzip.GzipFile(path("dataset_idx", name), "wb", mtime=0) as f:
        f.write(data)


def idx_files():
    # Three 2x3 images with pixel (i * 37) % 256, labels 9, 0, 3.
    pixels = bytes((i * 37) % 256 for i in range(3 * 2 * 3))
    write_gz("t10k-images-idx3-ubyte.gz", idx_bytes(0x08, (3, 2, 3), pixels))
    write_gz("t10k-labels-idx1-ubyte.gz", idx_bytes(0x08, (3,), bytes([9, 0, 3])))


def main():
    dtype_files()
    layout_files()
    bad_files()
    npz_files()
    dataset_files()
    idx_files()


if __name__ == "__main__":
    main()
