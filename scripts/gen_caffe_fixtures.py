#!/usr/bin/env python3
"""Writes the Caffe fixtures of tests/test_caffe.c into tests/fixtures/caffe.

No Caffe runs here (it is not packaged for current Python): the nets are
written with protobuf from our proto/caffe.proto, which carries Caffe's own
field numbers, and their outputs on fixed inputs are computed by an
independent implementation, OpenCV's dnn module (cv2.dnn.readNetFromCaffe),
so the reader is checked against software that is not ours.

Needs: protoc (Debian protobuf-compiler), and in the venv numpy, protobuf,
opencv-python-headless<5 (OpenCV 5 dropped the Caffe importer).
Run: .venv/bin/python scripts/gen_caffe_fixtures.py [SHARED_DIR]
Appending nets at the end of main() leaves the earlier fixtures as they
were (one random stream, drawn in order).
With the shared LeNet present it also records OpenCV's predictions on the
shared MNIST test set (lenet_opencv_pred.npy).
"""
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf import text_format

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "caffe")


def net_class():
    with tempfile.TemporaryDirectory() as tmp:
        desc = os.path.join(tmp, "caffe.desc")
        subprocess.run(["protoc", "-I", os.path.join(ROOT, "proto"),
                        "--descriptor_set_out", desc, "caffe.proto"],
                       check=True)
        fds = descriptor_pb2.FileDescriptorSet()
        with open(desc, "rb") as f:
            fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("caffe.NetParameter"))


NetParameter = net_class()
rng = np.random.default_rng(20240613)


def fill(blob, arr, legacy=False):
    arr = np.asarray(arr, dtype=np.float32)
    if legacy:
        dims = [1] * (4 - arr.ndim) + list(arr.shape)
        blob.num, blob.channels, blob.height, blob.width = dims
    else:
        blob.shape.dim.extend(arr.shape)
    blob.data.extend(arr.ravel().tolist())


MIX = """
name: "mix"
layer { name: "data" type: "Input" top: "data"
        input_param { shape { dim: 3 dim: 4 dim: 11 dim: 11 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 6 kernel_size: 3 pad: 1 } }
layer { name: "bn1" type: "BatchNorm" bottom: "conv1" top: "conv1" }
layer { name: "sc1" type: "Scale" bottom: "conv1" top: "conv1"
        scale_param { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
        pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
        convolution_param { num_output: 4 kernel_h: 2 kernel_w: 3 group: 2
                            dilation: 2 stride_h: 1 stride_w: 2 pad_h: 0 pad_w: 1 } }
layer { name: "relu2" type: "ReLU" bottom: "conv2" top: "conv2" }
layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2"
        pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "drop" type: "Dropout" bottom: "pool2" top: "pool2"
        dropout_param { dropout_ratio: 0.3 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1"
        inner_product_param { num_output: 7 } }
layer { name: "relu3" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
        inner_product_param { num_output: 5 } }
layer { name: "prob" type: "Softmax" bottom: "ip2" top: "prob" }
"""

# Global pooling, a Flatten layer, a standalone Scale and a net-level
# input declaration (the pre-InputLayer deploy form).
GLOBAL = """
name: "global"
input: "data"
input_shape { dim: 1 dim: 2 dim: 6 dim: 5 }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
        convolution_param { num_output: 3 kernel_size: 2 bias_term: false } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "gap" type: "Pooling" bottom: "conv" top: "gap"
        pooling_param { pool: AVE global_pooling: true } }
layer { name: "flat" type: "Flatten" bottom: "gap" top: "flat" }
layer { name: "scale" type: "Scale" bottom: "flat" top: "scaled"
        scale_param { bias_term: true } }
layer { name: "ip" type: "InnerProduct" bottom: "scaled" top: "ip"
        inner_product_param { num_output: 4 } }
"""

# Legacy V1 layers (enum types, net-level input_dim), as Caffe wrote
# before 2015; blobs in the old num/channels/height/width form.
V1 = """
name: "v1"
input: "data"
input_dim: 1 input_dim: 1 input_dim: 8 input_dim: 8
layers { name: "conv" type: CONVOLUTION bottom: "data" top: "conv"
         convolution_param { num_output: 3 kernel_size: 3 stride: 2 } }
layers { name: "relu" type: RELU bottom: "conv" top: "conv" }
layers { name: "pool" type: POOLING bottom: "conv" top: "pool"
         pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layers { name: "ip" type: INNER_PRODUCT bottom: "pool" top: "ip"
         inner_product_param { num_output: 3 } }
layers { name: "prob" type: SOFTMAX bottom: "ip" top: "prob" }
"""

# Branches joined by Eltwise SUM (with coefficients, and without) and
# Concat; conv1's output (after an in-place ReLU) feeds four layers.
DAG = """
name: "dag"
layer { name: "data" type: "Input" top: "data"
        input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "conv2a" type: "Convolution" bottom: "conv1" top: "conv2a"
        convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "conv2b" type: "Convolution" bottom: "conv1" top: "conv2b"
        convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "sum" type: "Eltwise" bottom: "conv2a" bottom: "conv2b"
        bottom: "conv1" top: "sum"
        eltwise_param { operation: SUM coeff: 1 coeff: -0.5 coeff: 2 } }
layer { name: "relu2" type: "ReLU" bottom: "sum" top: "sum" }
layer { name: "plain" type: "Eltwise" bottom: "sum" bottom: "conv2b"
        top: "plain" }
layer { name: "cat" type: "Concat" bottom: "plain" bottom: "conv1"
        top: "cat" concat_param { axis: 1 } }
layer { name: "pool" type: "Pooling" bottom: "cat" top: "pool"
        pooling_param { pool: AVE global_pooling: true } }
layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip"
        inner_product_param { num_output: 3 } }
layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
"""

# The same joins in legacy V1 form (concat_dim, enum types).
V1DAG = """
name: "v1dag"
input: "data"
input_dim: 1 input_dim: 2 input_dim: 5 input_dim: 5
layers { name: "a" type: CONVOLUTION bottom: "data" top: "a"
         convolution_param { num_output: 2 kernel_size: 3 } }
layers { name: "b" type: CONVOLUTION bottom: "data" top: "b"
         convolution_param { num_output: 3 kernel_size: 3 } }
layers { name: "cat" type: CONCAT bottom: "a" bottom: "b" top: "cat"
         concat_param { concat_dim: 1 } }
layers { name: "c" type: CONVOLUTION bottom: "cat" top: "c"
         convolution_param { num_output: 5 kernel_size: 1 } }
layers { name: "sum" type: ELTWISE bottom: "c" bottom: "cat" top: "sum"
         eltwise_param { coeff: 0.5 coeff: 1.5 } }
layers { name: "ip" type: INNER_PRODUCT bottom: "sum" top: "ip"
         inner_product_param { num_output: 3 } }
"""


def layer_list(net):
    return net.layers if len(net.layers) else net.layer


def shapes_of(net):
    """Input shape (N, C, H, W) and per-layer weight shapes, by hand."""
    return {
        "mix": {"conv1": [(6, 4, 3, 3), (6,)],
                "bn1": [(6,), (6,), (1,)],
                "sc1": [(6,), (6,)],
                "conv2": [(4, 3, 2, 3), (4,)],
                "ip1": [(7, 4 * 2 * 1), (7,)],
                "ip2": [(5, 7), (5,)]},
        "global": {"conv": [(3, 2, 2, 2)],
                   "scale": [(3,), (3,)],
                   "ip": [(4, 3), (4,)]},
        "v1": {"conv": [(3, 1, 3, 3), (3,)],
               "ip": [(3, 3 * 2 * 2), (3,)]},
        "dag": {"conv1": [(4, 3, 3, 3), (4,)],
                "conv2a": [(4, 4, 3, 3), (4,)],
                "conv2b": [(4, 4, 1, 1), (4,)],
                "ip": [(3, 8), (3,)]},
        "v1dag": {"a": [(2, 2, 3, 3), (2,)],
                  "b": [(3, 2, 3, 3), (3,)],
                  "c": [(5, 5, 1, 1), (5,)],
                  "ip": [(3, 5 * 3 * 3), (3,)]},
    }[net.name]


def weights_for(name, lname, shape, k):
    if lname.startswith("bn") and k == 1:
        return rng.uniform(0.5, 2.0, shape)  # variance (times the factor)
    if lname.startswith("bn") and k == 2:
        return np.array([2.0])  # Caffe's moving-average scale factor
    return rng.normal(0, 0.5, shape)


def write_net(text, stem, n_in):
    net = NetParameter()
    text_format.Parse(text, net)
    legacy = len(net.layers) > 0
    trained = NetParameter()
    trained.CopyFrom(net)
    for layer in layer_list(trained):
        for k, shape in enumerate(shapes_of(net).get(layer.name, [])):
            fill(layer.blobs.add(), weights_for(net.name, layer.name,
                                                shape, k), legacy)
    proto_path = os.path.join(OUT, stem + ".prototxt")
    model_path = os.path.join(OUT, stem + ".caffemodel")
    with open(proto_path, "w") as f:
        f.write(text.lstrip())
    with open(model_path, "wb") as f:
        f.write(trained.SerializeToString())
    shape = (list(net.input_shape[0].dim) if len(net.input_shape)
             else list(net.input_dim) if len(net.input_dim)
             else list(net.layer[0].input_param.shape[0].dim))
    x = rng.uniform(0, 1, [n_in] + shape[1:]).astype(np.float32)
    cv = cv2.dnn.readNetFromCaffe(proto_path, model_path)
    cv.setInput(x)
    y = cv.forward().reshape(n_in, -1).astype(np.float32)
    np.save(os.path.join(OUT, stem + "_x.npy"), x)
    np.save(os.path.join(OUT, stem + "_y.npy"), y)
    print(stem, x.shape, "->", y.shape)


def transposed_copy(stem, out_stem):
    """The net with ip1 stored as Caffe's transpose: true (in, out) blob:
    the same function, so its outputs are the original's.  (OpenCV ignores
    transpose, so it cannot be the judge of this one.)"""
    with open(os.path.join(OUT, stem + ".prototxt")) as f:
        text = f.read()
    text = text.replace("num_output: 7 }", "num_output: 7 transpose: true }")
    net = NetParameter()
    with open(os.path.join(OUT, stem + ".caffemodel"), "rb") as f:
        net.ParseFromString(f.read())
    for layer in net.layer:
        if layer.name == "ip1":
            blob = layer.blobs[0]
            w = np.array(blob.data, dtype=np.float32).reshape(blob.shape.dim)
            del blob.shape.dim[:]
            del blob.data[:]
            fill(blob, w.T)
    with open(os.path.join(OUT, out_stem + ".prototxt"), "w") as f:
        f.write(text)
    with open(os.path.join(OUT, out_stem + ".caffemodel"), "wb") as f:
        f.write(net.SerializeToString())
    print(out_stem, "= transposed", stem)


def shared_lenet(shared):
    base = os.path.join(shared, "models", "lenet5", "caffe", "96.13")
    data = os.path.join(shared, "data", "mnist")
    if not os.path.exists(base + ".caffemodel"):
        print("no shared LeNet; skipping its predictions")
        return
    x = np.load(os.path.join(data, "x_test.npz"))["arr_0"].astype(np.float32)
    y = np.load(os.path.join(data, "y_test.npz"))["arr_0"].argmax(1)
    cv = cv2.dnn.readNetFromCaffe(base + ".prototxt", base + ".caffemodel")
    pred = []
    for i in range(0, len(x), 500):
        cv.setInput(x[i:i + 500])
        pred.append(cv.forward().argmax(1))
    pred = np.concatenate(pred).astype(np.uint8)
    np.save(os.path.join(OUT, "lenet_opencv_pred.npy"), pred)
    print("shared LeNet, OpenCV", cv2.__version__, ": top-1",
          int((pred == y).sum()), "of", len(y))


def main():
    os.makedirs(OUT, exist_ok=True)
    write_net(MIX, "mix", 3)
    transposed_copy("mix", "mix_t")
    write_net(GLOBAL, "global", 2)
    write_net(V1, "v1", 2)
    write_net(DAG, "dag", 2)
    write_net(V1DAG, "v1dag", 2)
    shared_lenet(sys.argv[1] if len(sys.argv) > 1
                 else os.path.join(ROOT, "..", "shared"))


if __name__ == "__main__":
    main()
