"""Loads a safetensors file written by Parallax into PyTorch and prints its outputs.

    /usr/bin/python3 check_torch_load.py MODEL.safetensors INPUT.json

Parses the file by hand (safetensors_io validates the layout strictly), rebuilds the
nn.Sequential from the model description in the metadata ('parallax.model'), loads the
weights with load_state_dict(strict=True) (so every name, shape and dtype must match what
PyTorch expects), and prints to stdout one JSON object: the eval-mode outputs for the input
batch in INPUT.json ({"input": [[...], ...]}) and each BatchNorm's num_batches_tracked.
Any mismatch raises, and the script exits non-zero; it exits with 77 (the "skipped" code of
automake's test harness) when PyTorch cannot be imported, so the caller can skip cleanly.
"""
import json
import sys

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit(77)

import safetensors_io


class BinaryStep(nn.Module):
    """1 where x >= 0, else 0 (no PyTorch module exists for it)."""

    def forward(self, x):
        return (x >= 0).to(x.dtype)


def build(description):
    layers = []
    for spec in description["layers"]:
        kind, c = spec["type"], spec.get("config", {})
        if kind == "linear":
            layers.append(nn.Linear(c["in_features"], c["out_features"], bias=c.get("bias", True)))
        elif kind == "batch_norm1d":
            layers.append(nn.BatchNorm1d(c["num_features"], eps=c.get("eps", 1e-5),
                                         momentum=c.get("momentum", 0.1), affine=c.get("affine", True)))
        elif kind == "dropout":
            layers.append(nn.Dropout(c.get("p", 0.5)))
        elif kind == "leaky_relu":
            layers.append(nn.LeakyReLU(c.get("negative_slope", 0.01)))
        elif kind == "elu":
            layers.append(nn.ELU(c.get("alpha", 1.0)))
        elif kind == "softmax":
            layers.append(nn.Softmax(dim=1))
        elif kind == "binary_step":
            layers.append(BinaryStep())
        else:
            layers.append({"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "swish": nn.SiLU,
                           "identity": nn.Identity}[kind]())
    return nn.Sequential(*layers)


def main(model_path, input_path):
    tensors, metadata = safetensors_io.load(model_path)
    model = build(json.loads(metadata["parallax.model"]))
    expected = model.state_dict()
    for name, t in tensors.items():
        if name in expected and t.dtype != expected[name].dtype:
            raise TypeError(f"tensor '{name}': file has {t.dtype}, PyTorch keeps {expected[name].dtype}")
    model.load_state_dict(tensors, strict=True)
    model.eval()
    with open(input_path) as f:
        inputs = torch.tensor(json.load(f)["input"], dtype=torch.float32)
    with torch.no_grad():
        outputs = model(inputs)
    json.dump({
        "output": [[float(v) for v in row] for row in outputs],
        "num_batches_tracked": {name: int(t) for name, t in model.state_dict().items()
                                if name.endswith("num_batches_tracked")},
        "format": metadata.get("format"),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
