"""Makes the PyTorch side of the safetensors interop test (run from this folder):

    /usr/bin/python3 make_torch_safetensors.py

Builds nn.Sequential(Linear(6, 5), BatchNorm1d(5), ReLU(), Linear(5, 3)) with a fixed seed,
trains it a few SGD steps in training mode (so the weights, BatchNorm's affine parameters, its
running statistics and num_batches_tracked all move away from their initial values), and
writes
  torch_model.safetensors          its state_dict, by hand in the safetensors format (no
                                   model description: PyTorch files hold weights only)
  torch_model_outputs.json         a fixed input batch, the eval-mode outputs for it, and
                                   num_batches_tracked
TorchInteropTest loads the file into the same architecture built in Java and compares.
"""
import json
import os

import torch
from torch import nn

import safetensors_io

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    torch.manual_seed(1234)
    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(7):
        x = torch.randn(16, 6) * 2.0 + 0.5
        y = torch.randn(16, 3)
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()

    model.eval()
    inputs = torch.randn(4, 6) * 2.0 + 0.5
    with torch.no_grad():
        outputs = model(inputs)

    safetensors_io.save(model.state_dict(), os.path.join(HERE, "torch_model.safetensors"), {"format": "pt"})
    with open(os.path.join(HERE, "torch_model_outputs.json"), "w") as f:
        json.dump({
            "torch_version": torch.__version__,
            "architecture": "Sequential(Linear(6, 5), BatchNorm1d(5), ReLU(), Linear(5, 3))",
            "num_batches_tracked": int(model[1].num_batches_tracked),
            # repr of a float32 widened to double: parses back to the same float32
            "input": [[float(v) for v in row] for row in inputs],
            "output": [[float(v) for v in row] for row in outputs],
        }, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
