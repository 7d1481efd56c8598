"""Loads the model part of a Parallax training checkpoint into PyTorch with strict=False.

    /usr/bin/python3 check_torch_checkpoint.py CHECKPOINT.safetensors INPUT.json

A checkpoint is a model file plus the optimizer's flat state tensors ('optimizer.*') and
checkpoint metadata. This script rebuilds the nn.Sequential from 'parallax.model' (as
check_torch_load.py does), calls load_state_dict(strict=False), and prints one JSON object:
the missing and unexpected keys PyTorch reports, the eval-mode outputs for the input batch in
INPUT.json, and the checkpoint's position metadata. Exits with 77 when PyTorch cannot be
imported, so the caller can skip.
"""
import json
import sys

try:
    import torch
except ImportError:
    sys.exit(77)

import check_torch_load
import safetensors_io


def main(path, input_path):
    tensors, metadata = safetensors_io.load(path)
    model = check_torch_load.build(json.loads(metadata["parallax.model"]))
    expected = model.state_dict()
    for name, t in tensors.items():
        if name in expected and t.dtype != expected[name].dtype:
            raise TypeError(f"tensor '{name}': file has {t.dtype}, PyTorch keeps {expected[name].dtype}")
    result = model.load_state_dict(tensors, strict=False)
    model.eval()
    with open(input_path) as f:
        inputs = torch.tensor(json.load(f)["input"], dtype=torch.float32)
    with torch.no_grad():
        outputs = model(inputs)
    json.dump({
        "missing": sorted(result.missing_keys),
        "unexpected": sorted(result.unexpected_keys),
        "output": [[float(v) for v in row] for row in outputs],
        "position": json.loads(metadata["parallax.checkpoint"]),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
