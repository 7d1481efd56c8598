#!/usr/bin/python3
"""PyTorch's side of the training-step benchmark (bench/run-step-bench.sh).

One step of the 784-256-128-10 ReLU MLP (PyTorch default init): zero_grad, forward,
cross-entropy on the logits (mean), backward. No optimizer, the same work as the engine's step.
1 thread (torch.set_num_threads(1); OMP/OpenBLAS threads 1 are set by the caller and here),
input uniform in [0, 1), labels uniform. Warm-up, then several repetitions of about --rep-ms
each; writes seconds per step for every repetition as JSON (to --out, or stdout).

Run with /usr/bin/python3 (Debian's python3-torch 1.13).
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402  (after the thread variables, which torch reads at import)
from torch import nn  # noqa: E402


def build(batch, widths, seed=0):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(widths) - 1):
        if i > 0:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(widths[i], widths[i + 1]))
    model = nn.Sequential(*layers)
    x = torch.rand(batch, widths[0])
    y = torch.randint(0, widths[-1], (batch,))
    return model, x, y


def time_steps(step, calls):
    t0 = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - t0) / calls


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", default="32,128,512")
    p.add_argument("--warmup-ms", type=float, default=2000)
    p.add_argument("--rep-ms", type=float, default=200)
    p.add_argument("--reps", type=int, default=11)
    p.add_argument("--out")
    a = p.parse_args()
    torch.set_num_threads(1)
    widths = [784, 256, 128, 10]
    loss_fn = nn.CrossEntropyLoss()
    results = []
    for batch in [int(b) for b in a.batches.split(",")]:
        model, x, y = build(batch, widths)

        def step():
            model.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss

        start = time.perf_counter()
        calls = 0
        while (time.perf_counter() - start) * 1e3 < a.warmup_ms or calls < 3:
            step()
            calls += 1
        per_call = time_steps(step, 5)
        calls_per_rep = max(1, round(a.rep_ms / 1e3 / per_call))
        times = [time_steps(step, calls_per_rep) for _ in range(a.reps)]
        s = sorted(times)
        print(f"torch batch {batch}: median {s[len(s) // 2] * 1e3:.3f} ms, best {s[0] * 1e3:.3f} ms "
              f"({calls_per_rep} steps per repetition)", file=sys.stderr)
        results.append({"batch": batch, "seconds_per_step": times})
    doc = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}
    text = json.dumps(doc, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
