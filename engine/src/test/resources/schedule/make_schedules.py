#!/usr/bin/python3
"""Reference learning-rate traces from torch.optim.lr_scheduler (PyTorch 1.13, Debian's
python3-torch). Run from this folder: /usr/bin/python3 make_schedules.py > schedules.json

Each case records the learning rate in force at t = 0..99 (read before each scheduler.step()).
Schedules PyTorch has no class for (inverse-time, inverse square root) come from LambdaLR with
the documented formula, so the Java side is still checked against an independent evaluation.
"""
import json
import math
import warnings

import torch

warnings.filterwarnings("ignore")
STEPS = 100
LR = 0.1


def trace(make):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=LR)
    sched = make(opt)
    out = []
    for _ in range(STEPS):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


S = torch.optim.lr_scheduler
cases = {
    "constant": ({"type": "constant", "lr": LR}, trace(lambda o: S.ConstantLR(o, factor=1.0, total_iters=0))),
    "exponential": ({"type": "exponential", "lr": LR, "gamma": 0.95}, trace(lambda o: S.ExponentialLR(o, 0.95))),
    "step": ({"type": "step", "lr": LR, "step_size": 7, "gamma": 0.5}, trace(lambda o: S.StepLR(o, 7, 0.5))),
    "cosine_100": ({"type": "cosine", "lr": LR, "t_max": 100, "eta_min": 0.001},
                   trace(lambda o: S.CosineAnnealingLR(o, T_max=100, eta_min=0.001))),
    "cosine_30": ({"type": "cosine", "lr": LR, "t_max": 30, "eta_min": 0.0},
                  trace(lambda o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.0))),
    "inverse_time": ({"type": "inverse_time", "lr": LR, "decay": 0.05},
                     trace(lambda o: S.LambdaLR(o, lambda t: 1 / (1 + 0.05 * t)))),
    "inverse_sqrt": ({"type": "inverse_sqrt", "lr": LR, "k": 3.0},
                     trace(lambda o: S.LambdaLR(o, lambda t: min(1.0, 3.0 / math.sqrt(t)) if t > 0 else 1.0))),
    "warmup_constant": ({"type": "warmup", "lr": LR, "warmup": 10, "start_factor": 0.1, "inner": "constant"},
                        trace(lambda o: S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=10))),
    "warmup_exponential": ({"type": "warmup", "lr": LR, "warmup": 5, "start_factor": 0.25, "inner": "exponential",
                            "gamma": 0.9},
                           trace(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=5),
                                                              S.ExponentialLR(o, 0.9)], milestones=[5]))),
}
print(json.dumps({k: {"spec": v[0], "lr": v[1]} for k, v in cases.items()}, indent=1))
