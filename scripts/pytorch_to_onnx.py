#!/usr/bin/env python3
"""Exports a PyTorch model, kept the way the original toolbox expects it (a
.py file defining the model class + a .pth/.pkl state dict), to the .onnx
file snntb reads.  Runs with the user's own torch; snntb itself never needs
Python.

    python scripts/pytorch_to_onnx.py MODEL.py WEIGHTS.pth \\
        --input-shape 1,1,28,28 [--class Net] [--out MODEL.onnx] [--opset N]

With path_wd/<filename_ann>.py and .pth, write path_wd/<filename_ann>.onnx
and keep `model_lib = pytorch` in the config.  --class defaults to the one
torch.nn.Module subclass the script defines; the weights may also be a
whole pickled module.  The model is exported in eval mode (Dropout off,
BatchNorm on its running statistics) with a fixed batch of 1.
"""
import argparse
import importlib.util
import inspect
import os
import sys

import torch


def load_class(script, name):
    spec = importlib.util.spec_from_file_location("user_model", script)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    spec.loader.exec_module(module)
    if name:
        return getattr(module, name)
    found = [c for _, c in inspect.getmembers(module, inspect.isclass)
             if issubclass(c, torch.nn.Module) and
             c.__module__ == module.__name__]
    if len(found) != 1:
        sys.exit(f"{script}: defines {len(found)} torch.nn.Module classes "
                 f"({', '.join(c.__name__ for c in found)}); name one with "
                 "--class")
    return found[0]


def load_model(script, weights, name):
    # weights_only=False: the original's files may pickle a whole module.
    state = torch.load(weights, map_location="cpu", weights_only=False)
    if isinstance(state, torch.nn.Module):
        return state
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    model = load_class(script, name)()
    model.load_state_dict(state)
    return model


def export(model, shape, out, opset):
    x = torch.zeros(shape)
    kwargs = {"opset_version": opset} if opset else {}
    try:
        torch.onnx.export(model, (x,), out, dynamo=False, **kwargs)
    except TypeError:  # a torch too old to know dynamo=
        torch.onnx.export(model, (x,), out, **kwargs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("script", help="the .py that defines the model class")
    ap.add_argument("weights", help="the state dict (.pth, .pkl, .pt)")
    ap.add_argument("--input-shape", required=True,
                    help="N,C,H,W or N,F, e.g. 1,1,28,28")
    ap.add_argument("--class", dest="cls", help="the model class's name")
    ap.add_argument("--out", help="default: WEIGHTS with .onnx")
    ap.add_argument("--opset", type=int, help="default: torch's default")
    args = ap.parse_args()
    shape = [int(d) for d in args.input_shape.split(",")]
    out = args.out or os.path.splitext(args.weights)[0] + ".onnx"
    model = load_model(args.script, args.weights, args.cls).eval()
    with torch.no_grad():
        export(model, shape, out, args.opset)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
