#!/usr/bin/env python3
"""Writes the ONNX fixtures of tests/test_onnx.c into tests/fixtures/onnx.

Small PyTorch models, exported by torch.onnx.export at several opsets with
both exporters (TorchScript, dynamo), each stored with PyTorch's own
outputs on fixed inputs: <model>_x.npy, <model>_y.npy and
<model>_o<opset>[_dynamo].onnx.  Then a few broken or unsupported files
written with the onnx package itself.

Needs torch and onnx in the venv.  Run: .venv/bin/python
scripts/gen_onnx_fixtures.py (add `layers` to write only res_*, the
residual/concat/upsample/transposed-convolution model, or `seq` for seq_*,
the 1-D convolution and pooling model).
"""
import os
import sys
import warnings

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "onnx")
OPSETS = [11, 13, 17]


class Cnn(nn.Module):
    """Conv with padding, BatchNorm, MaxPool with ceil_mode, grouped and
    strided Conv, clamp(min=0) (Clip), AvgPool counting its padding,
    Dropout, Flatten, Linear (Gemm), Softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.pool1 = nn.MaxPool2d(2, ceil_mode=True)
        self.conv2 = nn.Conv2d(6, 8, 3, stride=2, groups=2, dilation=1,
                               padding=(1, 0))
        self.pool2 = nn.AvgPool2d(3, stride=2, padding=1,
                                  count_include_pad=True)
        self.drop = nn.Dropout(0.25)
        self.fc1 = nn.Linear(8 * 2 * 1, 16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        x = self.pool1(torch.relu(self.bn1(self.conv1(x))))
        x = torch.clamp(self.conv2(x), min=0)
        x = self.drop(self.pool2(x))
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        return torch.softmax(self.fc2(x), dim=1)


class Gap(nn.Module):
    """ZeroPad2d in front of a Conv and of an AvgPool (Pad nodes),
    a BatchNorm after a ReLU, global average pooling, view() (Reshape),
    and a Linear without bias (MatMul)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3)
        self.pad = nn.ZeroPad2d((1, 2, 0, 1))
        self.conv2 = nn.Conv2d(4, 6, 2, bias=False)
        self.bn = nn.BatchNorm2d(6)
        self.pool = nn.AvgPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 3, bias=False)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = self.bn(torch.relu(self.conv2(self.pad(x))))
        x = self.pool(nn.functional.pad(x, (1, 1, 1, 1)))
        x = self.gap(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


class Mlp(nn.Module):
    """Vector input, Linear + ReLU + Identity + Linear + Softmax."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 9)
        self.id = nn.Identity()
        self.fc2 = nn.Linear(9, 4)

    def forward(self, x):
        return torch.softmax(self.fc2(self.id(torch.relu(self.fc1(x)))), 1)


MODELS = {"cnn": (Cnn, (3, 3, 9, 9)), "gap": (Gap, (3, 2, 7, 6)),
          "mlp": (Mlp, (3, 12))}


def randomize_bn(model, gen):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.3)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.2)


def export(model, x, path, opset, dynamo):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), path, opset_version=opset,
                          dynamo=dynamo, external_data=False)
    onnx.checker.check_model(onnx.load(path))


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


def write_models():
    gen = torch.Generator().manual_seed(7)
    newest = newest_dynamo = None
    for name, (cls, shape) in MODELS.items():
        torch.manual_seed(11)
        model = cls().eval()
        randomize_bn(model, gen)
        x = torch.rand(shape, generator=gen)
        with torch.no_grad():
            y = model(x)
        np.save(os.path.join(OUT, name + "_x.npy"), x.numpy())
        np.save(os.path.join(OUT, name + "_y.npy"), y.numpy())
        newest = newest or newest_opset(model, x, False)
        newest_dynamo = newest_dynamo or newest_opset(model, x, True)
        for opset in OPSETS + [newest]:
            export(model, x, os.path.join(OUT, f"{name}_o{opset}.onnx"),
                   opset, False)
        export(model, x,
               os.path.join(OUT, f"{name}_o{newest_dynamo}_dynamo.onnx"),
               newest_dynamo, True)
    print("torch", torch.__version__, "onnx", onnx.__version__,
          "opsets", OPSETS + [newest], "dynamo", newest_dynamo)


def tiny(nodes, inits, name, in_shape=(1, 4)):
    """A one-input model made with onnx.helper."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(OUT, name + ".onnx"))


def write_hostile():
    w = numpy_helper.from_array(np.ones((3, 4), np.float32), "w")
    # Typed float_data instead of raw_data, and a Constant node bias.
    typed = helper.make_tensor("w", TensorProto.FLOAT, (4, 3),
                               [0.5 * i for i in range(12)])
    bias = helper.make_node("Constant", [], ["b"], value=helper.make_tensor(
        "bv", TensorProto.FLOAT, (3,), [1.0, -2.0, 0.25]))
    tiny([bias, helper.make_node("MatMul", ["x", "w"], ["m"]),
          helper.make_node("Add", ["m", "b"], ["y"])], [typed], "typed")
    # A weight claiming 2^40 x 2^40 values while storing 12.
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT,
                       dims=(1 << 40, 1 << 40),
                       raw_data=np.ones(12, np.float32).tobytes())
    tiny([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], [huge],
         "huge_dims")
    # Weights that do not fit the input.
    tiny([helper.make_node("Gemm", ["x", "w"], ["y"])], [w], "misfit")
    tiny([helper.make_node("Gemm", ["x", "w"], ["g"], transB=1),
          helper.make_node("Sigmoid", ["g"], ["y"])], [w], "sigmoid")
    tiny([helper.make_node("Gemm", ["x", "w"], ["g"], transB=1),
          helper.make_node("TopK", ["g", "k"], ["y", "i"])],
         [w, numpy_helper.from_array(np.array([2], np.int64), "k")],
         "unknown_op")
    external = onnx.TensorProto()
    external.CopyFrom(w)
    external.ClearField("raw_data")
    external.data_location = TensorProto.EXTERNAL
    entry = external.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    tiny([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], [external],
         "external")
    print("hostile files written")


def main():
    os.makedirs(OUT, exist_ok=True)
    write_models()
    write_hostile()


class Res(nn.Module):
    """A residual Add of two computed tensors, ReLU6 (Clip 0..6), Concat
    of a branch and its shortcut, nearest Upsample (Resize), a strided
    ConvTranspose with padding and output_padding, global pooling."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.convt = nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1,
                                        output_padding=1)
        self.fc = nn.Linear(3, 4)

    def forward(self, x):
        a = torch.relu(self.conv1(x))
        s = nn.functional.relu6(a + self.conv2(a))
        u = self.up(torch.cat([s, a], 1))
        t = torch.relu(self.convt(u))
        return self.fc(t.mean((2, 3)))


def write_layers():
    """Only the issue-3 models: `gen_onnx_fixtures.py layers`."""
    global MODELS
    MODELS = {"res": (Res, (3, 2, 5, 5))}
    write_models()


class Seq(nn.Module):
    """1-D layers: Conv1d (padded; strided and dilated), BatchNorm1d,
    MaxPool1d, AvgPool1d, Flatten, Linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm1d(4)
        self.pool1 = nn.MaxPool1d(2)
        self.conv2 = nn.Conv1d(4, 6, 3, stride=2, dilation=2, padding=2)
        self.pool2 = nn.AvgPool1d(2, stride=1)
        self.fc = nn.Linear(6 * 3, 3)

    def forward(self, x):
        x = self.pool1(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool2(torch.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


def write_seq():
    """Only the 1-D model seq_*: `gen_onnx_fixtures.py seq`."""
    global MODELS
    MODELS = {"seq": (Seq, (3, 3, 16))}
    write_models()


if __name__ == "__main__" and sys.argv[1:] == ["layers"]:
    write_layers()
elif __name__ == "__main__" and sys.argv[1:] == ["seq"]:
    write_seq()
elif __name__ == "__main__":
    main()
