#!/usr/bin/env python3
"""Compares a target simulator's classes with snntb's own run.

  compare_native.py TARGET.npz NATIVE.txt LABELS.npz [--name NAME]
                    [--tol 0.02] [--agree 0]

TARGET.npz is what an exported run script writes with --out (`predictions`,
one class per sample, -1 without output spikes); NATIVE.txt is the
predictions.txt of `snntb run` on the same samples (the first len(TARGET)
lines are used); LABELS.npz holds one-hot labels (arr_0).  Prints both
accuracies and the per-sample class agreement.  Exit status 0 when the
accuracies differ by at most --tol and the classes agree on at least
--agree of the samples.  check_export.py uses compare() for Brian2.
"""
import argparse
import sys

import numpy as np


def read_native(path, n):
    native = np.array([int(line) for line in open(path)][:n])
    if len(native) != n:
        raise SystemExit(f"compare_native: {path} has {len(native)} "
                         f"predictions for {n} samples")
    return native


def compare(name, pred, native, labels, tol, agree=0.0):
    """Prints the comparison; True when it passes."""
    pred = np.asarray(pred)
    acc, acc_native = np.mean(pred == labels), np.mean(native == labels)
    same = np.mean(pred == native)
    print(f"{name}: accuracy {acc:.4f}, snntb {acc_native:.4f} "
          f"(difference {abs(acc - acc_native):.4f}, allowed {tol:.4f}) on "
          f"{len(pred)} samples; same class as snntb on {same:.4f}")
    return abs(acc - acc_native) <= tol + 1e-9 and same >= agree


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("native")
    ap.add_argument("labels")
    ap.add_argument("--name", default="target")
    ap.add_argument("--tol", type=float, default=0.02)
    ap.add_argument("--agree", type=float, default=0.0)
    a = ap.parse_args()
    pred = np.load(a.target)["predictions"]
    labels = np.argmax(np.load(a.labels)["arr_0"][:len(pred)], axis=1)
    native = read_native(a.native, len(pred))
    return 0 if compare(a.name, pred, native, labels, a.tol, a.agree) else 1


if __name__ == "__main__":
    sys.exit(main())
