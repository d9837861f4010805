"""Runs the original Python SNN toolbox (snntoolbox, INIsim) on a Keras
model and an .npz dataset, for the speed and accuracy comparison in
bench/results.md.  Needs the git-ignored venv that bench/run.sh creates:

    bench/.venv-snntoolbox/bin/python bench/snntoolbox_reference.py \
        MODEL.h5 DATASET_DIR N [DURATION] [BATCH]

DATASET_DIR holds x_test.npz and y_test.npz as the original toolbox ships
them; the first 1000 test samples become x_norm.npz, as bench_sim
normalizes on them.  Prints the toolbox's own report (accuracies, timing)
and the wall time of the whole run.

The toolbox's INIsim max-pooling (tf.nn.max_pool_with_argmax) runs only on
channels_last data on the CPU, so a channels_first model is rebuilt
channels_last with the same weights first: kernels are stored HWIO either
way, and Keras >= 2.2.3 flattens channels_first maps in channels_last
order, so the Dense weights stay valid as they are.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

CONFIG = """[paths]
path_wd = {wd}
dataset_path = {wd}
filename_ann = model

[tools]
evaluate_ann = True
normalize = True

[normalization]
percentile = 99.9

[simulation]
simulator = INI
duration = {duration}
num_to_test = {n}
batch_size = {batch}
keras_backend = tensorflow

[input]
poisson_input = False

[output]
log_vars = {{}}
plot_vars = {{}}
verbose = 1
"""


def channels_last(src, dst):
    """Writes src rebuilt channels_last to dst; returns whether it had to."""
    import tensorflow as tf
    model = tf.keras.models.load_model(src, compile=False)
    config = model.get_config()
    changed = False
    for layer in config["layers"]:
        cfg = layer["config"]
        if cfg.get("data_format") == "channels_first":
            cfg["data_format"] = "channels_last"
            changed = True
        shape = cfg.get("batch_input_shape")
        if shape is not None and len(shape) == 4:
            cfg["batch_input_shape"] = [shape[0], shape[2], shape[3], shape[1]]
    if not changed:
        shutil.copy(src, dst)
        return False
    clone = tf.keras.Sequential.from_config(config)
    clone.set_weights(model.get_weights())
    # The toolbox re-compiles with the saved loss: save one.
    clone.compile("sgd", "categorical_crossentropy", ["accuracy"])
    clone.save(dst)
    return True


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    model, data, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    duration = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 100
    wd = tempfile.mkdtemp(prefix="snntoolbox_ref_")
    try:
        x = np.load(os.path.join(data, "x_test.npz"))["arr_0"]
        if channels_last(model, os.path.join(wd, "model.h5")):
            x = x.transpose(0, 2, 3, 1)
        y = np.load(os.path.join(data, "y_test.npz"))["arr_0"]
        np.savez_compressed(os.path.join(wd, "x_test.npz"), x[:n])
        np.savez_compressed(os.path.join(wd, "y_test.npz"), y[:n])
        np.savez_compressed(os.path.join(wd, "x_norm.npz"), x[:1000])
        config = os.path.join(wd, "config.ini")
        with open(config, "w") as f:
            f.write(CONFIG.format(wd=wd, n=n, duration=duration, batch=batch))
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        t0 = time.time()
        run = subprocess.run([os.path.join(os.path.dirname(sys.executable),
                                           "snntoolbox"), "-t", config],
                             capture_output=True, text=True, env=env)
        secs = time.time() - t0
        out = run.stdout + run.stderr
        if run.returncode != 0:
            print(out[-4000:])
            sys.exit(f"snntoolbox failed with status {run.returncode}")
        for line in out.splitlines():
            if re.search(r"accuracy|took|[Ss]imulation|[Nn]ormaliz", line) and \
                    "WARNING" not in line:
                print(line)
        print(f"snntoolbox wall seconds (whole run, incl. ANN, normalization): "
              f"{secs:.1f}")
    finally:
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()
