"""The PyTorch models of tests/fixtures/snn_accuracy, exported to ONNX.

Run by train_snn_fixtures.py in a process of its own (TensorFlow and
PyTorch do not load into one process): trains the named models, exports
each by torch.onnx.export (the TorchScript or the dynamo exporter) at
its opset, checks that onnx's reference evaluator running the exported
file predicts as torch did, and prints one JSON line per model with its
predictions on the whole test set.
"""
import json
import os
import sys
import warnings

# Spinning OpenMP threads starve each other on shared cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import onnx  # noqa: E402
import torch  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402
from torch import nn  # noqa: E402

from fashion_data import load  # noqa: E402  (sibling modules)
from train_snn_fixtures import N_SUBSET, N_TRAIN, OUT, THREADS  # noqa: E402


class TorchNewest(nn.Module):
    """Conv (stride 2, padding), BatchNorm, ReLU6 (Clip), ZeroPad2d (a Pad
    node merged into the next Conv), grouped Conv, AvgPool, flatten by
    view (Reshape), Dropout, Linear (Gemm), Softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pad = nn.ZeroPad2d(1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, groups=2)
        self.pool = nn.AvgPool2d(2)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(16 * 3 * 3, 10)

    def forward(self, x):
        x = nn.functional.relu6(self.bn1(self.conv1(x)))
        x = torch.relu(self.conv2(self.pad(x)))
        x = self.pool(x)
        x = self.drop(x.view(x.size(0), -1))
        return torch.softmax(self.fc(x), dim=1)


class TorchDynamo(nn.Module):
    """For the dynamo exporter: Conv (stride 2), Relu, Conv (stride 2,
    padding 1), BatchNorm, ReLU6 (Clip), AvgPool, flatten by view, Linear,
    Softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5, stride=2)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(16 * 3 * 3, 10)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = nn.functional.relu6(self.bn2(self.conv2(x)))
        x = self.pool(x)
        return torch.softmax(self.fc(x.view(x.size(0), -1)), dim=1)


class TorchOpset11(nn.Module):
    """Conv, BatchNorm, ReLU, MaxPool, global average pooling
    (AdaptiveAvgPool2d(1)), Flatten, Linear (Gemm), Softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5)
        self.conv2 = nn.Conv2d(8, 24, 3)
        self.bn2 = nn.BatchNorm2d(24)
        self.conv3 = nn.Conv2d(24, 32, 3)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        x = torch.relu(self.conv3(x))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return torch.softmax(self.fc(x), dim=1)


# name: (class, opset (None: the newest), dynamo exporter, epochs, layers,
#        max-pooling)
MODELS = {
    "torch_newest": (TorchNewest, None, False, 3,
                     "Conv (stride 2, padding 1, no bias), BatchNormalization, "
                     "Clip (ReLU6), Pad + Conv (stride 2, groups 2), Relu, "
                     "AveragePool, Reshape, Dropout, Gemm, Softmax", "no"),
    "torch_dynamo": (TorchDynamo, None, True, 3,
                     "Conv (stride 2), Relu, Conv (stride 2, padding 1), "
                     "BatchNormalization, Clip (ReLU6), AveragePool, Reshape, "
                     "Gemm, Softmax", "no"),
    "torch_opset11": (TorchOpset11, 11, False, 3,
                      "Conv, Relu, MaxPool, BatchNormalization, "
                      "GlobalAveragePool, Flatten, Gemm, Softmax", "yes"),
}


def newest_opset(model, x, dynamo):
    """The newest opset this torch's exporter writes."""
    path = os.path.join(OUT, "probe.onnx")
    best = None
    for opset in range(17, onnx.defs.onnx_opset_version() + 1):
        try:
            export(model, x, path, opset, dynamo)
            best = opset
        except Exception:  # noqa: BLE001 - any failure means "not this one"
            break
    if os.path.exists(path):
        os.remove(path)
    return best


def export(model, x, path, opset, dynamo):
    batch = ({"dynamic_shapes": ({0: torch.export.Dim("n")},)} if dynamo
             else {"dynamic_axes": {"x": {0: "n"}, "y": {0: "n"}}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), path, opset_version=opset,
                          dynamo=dynamo, external_data=False,
                          input_names=["x"], output_names=["y"], **batch)
    onnx.checker.check_model(onnx.load(path))


def train(name, data):
    cls, opset, dynamo, epochs, desc, maxpool = MODELS[name]
    torch.manual_seed(1)
    (x_train, y_train), (x_test, _) = data
    nchw = lambda x: torch.from_numpy(x.transpose(0, 3, 1, 2).copy())  # noqa
    xt, yt = nchw(x_train[:N_TRAIN]), torch.from_numpy(y_train[:N_TRAIN])
    model = cls()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(xt)).split(64):
            opt.zero_grad()
            p = model(xt[idx])
            loss = nn.functional.nll_loss(torch.log(p + 1e-12), yt[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(nchw(x_test)).argmax(1).numpy()
    opset = opset or newest_opset(model, nchw(x_test[:1]), dynamo)
    path = os.path.join(OUT, name + ".onnx")
    export(model, nchw(x_test[:1]), path, opset, dynamo)
    # The exported file, run by onnx's reference evaluator, is what snntb
    # reads.
    out = ReferenceEvaluator(path).run(None, {"x": nchw(x_test[:N_SUBSET])
                                              .numpy()})[0]
    assert (out.argmax(1) == pred[:N_SUBSET]).all(), name
    return {"name": name, "file": name + ".onnx", "lib": "pytorch",
            "maxpool": maxpool, "desc": desc,
            "framework": f"PyTorch {torch.__version__.split('+')[0]} "
                         f"{'dynamo' if dynamo else 'TorchScript'} exporter, "
                         f"ONNX opset {opset}", "pred": pred.tolist()}


def main():
    torch.set_num_threads(THREADS)
    data = (load("train"), load("t10k"))
    for name in sys.argv[1:]:
        print(json.dumps(train(name, data)), flush=True)


if __name__ == "__main__":
    main()
