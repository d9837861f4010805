"""Trains the small Fashion-MNIST models of tests/fixtures/snn_accuracy.

The parser fixtures (gen_*_fixtures.py) are untrained nets checked against
framework outputs; an accuracy claim about the spiking conversion needs
trained ones.  Each model here is trained for a few seconds by its own
framework (Keras 3 in snn_fixtures_keras.py, PyTorch exported to ONNX in
snn_fixtures_torch.py, each run in a process of its own), and together
they hold every layer the spiking converter takes.  The framework's
accuracy on the first N_SUBSET test images, measured on the file written
(read back by Keras, or run by onnx's reference evaluator), goes to
accuracy.tsv: the truth tests/e2e_snn_accuracy.sh holds snntb's ANN
accuracy to.  README.md lists the models.  Run from the repository root
with the project venv:

    .venv/bin/python scripts/train_snn_fixtures.py            # every model
    .venv/bin/python scripts/train_snn_fixtures.py NAME...    # some

Three models hold layers the spiking converter does not take yet (Add,
Concatenate; padding, cropping, upsampling, transposed convolution,
Reshape); they are trained and listed all the same, and the test checks
that they are refused until it takes them.
"""
import json
import os
import subprocess
import sys

from fashion_data import load  # a sibling module

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "snn_accuracy")
N_SUBSET = 500     # the test images the e2e test simulates
N_TRAIN = 30000    # training images: enough for a few seconds per epoch
THREADS = 2        # the build machine is shared; keep training light

# Every model, in the tables' order, and the script that trains it.
MODELS = {
    "dense": "keras", "conv2d": "keras", "separable": "keras",
    "conv1d": "keras", "padding": "keras", "torch_newest": "torch",
    "torch_dynamo": "torch", "avgpool": "keras",
    "maxpool2d": "keras",
    "maxpool1d": "keras", "torch_opset11": "torch", "residual": "keras",
    "concat": "keras", "resample": "keras",
}


def train(framework, names, y_test):
    """Runs snn_fixtures_<framework>.py on names; their table rows."""
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, f"snn_fixtures_{framework}.py")]
        + names, stdout=subprocess.PIPE, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            pred = r.pop("pred")
            hits = [p == y for p, y in zip(pred, y_test)]
            r["sub"] = 100 * sum(hits[:N_SUBSET]) / N_SUBSET
            r["full"] = 100 * sum(hits) / len(hits)
            size = os.path.getsize(os.path.join(OUT, r["file"]))
            print(f"{r['name']:14s} {r['framework']:32s} first {N_SUBSET}: "
                  f"{r['sub']:6.2f} %  all: {r['full']:6.2f} %  {size} B")
            rows[r["name"]] = r
    missing = [n for n in names if n not in rows]
    if missing:
        sys.exit(f"snn_fixtures_{framework}.py wrote no row for {missing}")
    return rows


COLUMNS = ["name", "file", "lib", "maxpool", "sub", "full", "framework",
           "desc"]


def read_rows():
    """Rows already written, so that training some models keeps the rest."""
    rows = {}
    path = os.path.join(OUT, "accuracy.tsv")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if not line.startswith("#"):
                    r = dict(zip(COLUMNS, line.rstrip("\n").split("\t")))
                    r["sub"], r["full"] = float(r["sub"]), float(r["full"])
                    rows[r["name"]] = r
    return rows


def write_tables(rows):
    names = [n for n in MODELS if n in rows]
    with open(os.path.join(OUT, "accuracy.tsv"), "w") as f:
        f.write(f"# name\tfile\tmodel_lib\tmaxpool\tacc_first_{N_SUBSET}"
                "\tacc_all\tframework\tlayers\n"
                "# accuracies in %, of the framework on the file written\n")
        for n in names:
            r = rows[n]
            f.write(f"{n}\t{r['file']}\t{r['lib']}\t{r['maxpool']}\t"
                    f"{r['sub']:.2f}\t{r['full']:.2f}\t{r['framework']}\t"
                    f"{r['desc']}\n")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(
            "# Trained models for the spiking-accuracy test\n\n"
            "Written by `scripts/train_snn_fixtures.py` (Fashion-MNIST, the "
            f"first {N_TRAIN} training images, a few epochs each); simulated "
            "by `tests/e2e_snn_accuracy.sh` on the first "
            f"{N_SUBSET} test images.  `accuracy.tsv` holds the framework's "
            "own accuracy (the saved file read back by Keras, or the "
            "exported ONNX file run by onnx's reference evaluator).  The "
            "test holds the SNN of a model without max-pooling within 1 point "
            "of the ANN at duration 200, and reports the figure of those "
            "with it; `residual`, `concat` and `resample` hold layers the "
            "spiking converter does not take yet (the test checks that it "
            "refuses them).\n\n"
            f"| model | file | framework | layers | max-pooling | first "
            f"{N_SUBSET} | all 10000 |\n|---|---|---|---|---|---|---|\n")
        for n in names:
            r = rows[n]
            f.write(f"| {n} | `{r['file']}` | {r['framework']} | {r['desc']} "
                    f"| {r['maxpool']} | {r['sub']:.2f} % | {r['full']:.2f} % "
                    "|\n")


def main():
    names = sys.argv[1:] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"unknown model(s) {unknown}; known: {list(MODELS)}")
    os.makedirs(OUT, exist_ok=True)
    y_test = load("t10k")[1].tolist()
    rows = read_rows()
    for framework in ("keras", "torch"):
        mine = [n for n in names if MODELS[n] == framework]
        if mine:
            rows.update(train(framework, mine, y_test))
    write_tables(rows)


if __name__ == "__main__":
    main()
