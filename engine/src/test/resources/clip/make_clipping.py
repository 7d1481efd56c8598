#!/usr/bin/python3
"""Reference gradient clipping from torch.nn.utils (PyTorch 1.13).
Run: /usr/bin/python3 make_clipping.py > clipping.json"""
import json

import torch

torch.manual_seed(3)
g = (torch.randn(37) * 2).float()
cases = []
for kind, arg in [("norm", 1.0), ("norm", 100.0), ("value", 0.5)]:
    p = torch.nn.Parameter(torch.zeros(37))
    p.grad = g.clone()
    if kind == "norm":
        norm = float(torch.nn.utils.clip_grad_norm_([p], max_norm=arg))
    else:
        torch.nn.utils.clip_grad_value_([p], clip_value=arg)
        norm = None
    cases.append({"kind": kind, "arg": arg, "grad": g.tolist(), "clipped": p.grad.tolist(), "norm": norm})
print(json.dumps(cases))
