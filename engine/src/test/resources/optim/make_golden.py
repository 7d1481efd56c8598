#!/usr/bin/python3
"""Golden optimizer traces for io.parallax.engine.optim (run: /usr/bin/python3 make_golden.py).

For every case: 20 float32 parameters, 10 steps on a fixed sequence of pseudo-random float32
gradient vectors (written into the JSON, so the Java test needs no RNG), and the parameters
after each step. torch.optim (1.13, CPU, float32, the default single-tensor code path) is the
reference for everything PyTorch has (NAdam with 1.13's bias-correction slip fixed, see
documented_nadam); FTRL comes from a float32 numpy transcription of Keras'
Ftrl.update_step (keras.optimizers.Ftrl), which is what tf.keras computes.

float32 on purpose: our optimizers compute in float32 in PyTorch's operation order, so the
traces agree to a few ulps (PyTorch's vectorised kernels fuse some multiply-adds, our Java loops
do not). A float64 reference would instead measure float32 rounding, which grows over 10 steps.

Output: golden.json beside this script.
"""
import json
import os

import numpy as np
import torch

N = 20
STEPS = 10
rng = np.random.default_rng(20261121)
PARAMS0 = rng.uniform(-1.0, 1.0, N).astype(np.float32)
# gradients of mixed scale, so adaptive methods see different per-element magnitudes
GRADS = (rng.standard_normal((STEPS, N)) * rng.uniform(0.05, 2.0, N)).astype(np.float32)
GRADS[3, 7] = 0.0  # an exact zero gradient
GRADS[:, 11] = 0.0  # an element that never gets a gradient

# (name, torch class, kwargs); optional groups: list of (length, lr_scale, weight_decay_on, frozen)
TORCH_CASES = [
    ("sgd", "SGD", dict(lr=0.1)),
    ("sgd_momentum", "SGD", dict(lr=0.05, momentum=0.9)),
    ("sgd_momentum_dampening", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("sgd_nesterov", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("sgd_weight_decay", "SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1)),
    ("adam", "Adam", dict(lr=0.01)),
    ("adam_defaults", "Adam", dict()),
    ("adam_amsgrad", "Adam", dict(lr=0.01, amsgrad=True)),
    ("adam_weight_decay", "Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adamw", "AdamW", dict(lr=0.01)),
    ("adamw_amsgrad", "AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("adagrad", "Adagrad", dict(lr=0.1)),
    ("adagrad_options", "Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.1,
                                        eps=1e-8)),
    ("adadelta", "Adadelta", dict()),
    ("adadelta_weight_decay", "Adadelta", dict(lr=0.5, rho=0.5, eps=1e-5, weight_decay=0.1)),
    ("rmsprop", "RMSprop", dict(lr=0.01)),
    ("rmsprop_momentum", "RMSprop", dict(lr=0.01, momentum=0.9)),
    ("rmsprop_centered", "RMSprop", dict(lr=0.01, centered=True)),
    ("rmsprop_centered_momentum_weight_decay", "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, momentum=0.5,
                                                              centered=True, weight_decay=0.1)),
    ("adamax", "Adamax", dict()),
    ("adamax_weight_decay", "Adamax", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    ("nadam", "NAdam", dict()),
    ("nadam_weight_decay", "NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    # parameter groups: a "body" at a tenth of the rate, a "bias" without decay, a frozen tail
    ("sgd_groups", "SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.1),
     [(8, 0.1, True, False), (6, 1.0, False, False), (6, 1.0, True, True)]),
    ("adam_groups", "Adam", dict(lr=0.01, weight_decay=0.1),
     [(8, 0.1, True, False), (6, 1.0, False, False), (6, 1.0, True, True)]),
    ("adamw_groups", "AdamW", dict(lr=0.01, weight_decay=0.1),
     [(6, 1.0, True, True), (8, 0.5, False, False), (6, 2.0, True, False)]),
]

FTRL_CASES = [
    ("ftrl", dict(learning_rate=0.1)),
    ("ftrl_l1_sparse", dict(learning_rate=0.1, l1_regularization_strength=1.0)),
    ("ftrl_l2_shrinkage_beta", dict(learning_rate=0.1, l1_regularization_strength=0.2, l2_regularization_strength=0.5,
                                    l2_shrinkage_regularization_strength=0.1, beta=0.5)),
    ("ftrl_power", dict(learning_rate=0.1, learning_rate_power=-0.7, initial_accumulator_value=0.5)),
]


def documented_nadam():
    """torch 1.13's single-tensor NAdam computes the second bias correction as
    mu_product * mu * mu_next, counting mu twice; its own foreach path, PyTorch's documentation
    and PyTorch >= 2.0 (pytorch/pytorch#92699) use mu_product * mu_next, taken as a Python float.
    The reference is that documented formula: 1.13's function with that one line fixed, so every
    other operation stays torch's own."""
    import inspect
    import textwrap
    from torch.optim import nadam
    src = textwrap.dedent(inspect.getsource(nadam._single_tensor_nadam))
    fixed = (src.replace("mu_product_next = mu_product * mu * mu_next", "mu_product_next = mu_product.item() * mu_next")
             .replace("(1. - mu_product_next.item())", "(1. - mu_product_next)"))
    assert fixed != src and "mu_product * mu * mu_next" not in fixed, "torch's NAdam source changed; revisit"
    exec(compile(fixed, nadam.__file__, "exec"), nadam.__dict__)


def torch_trace(cls, kwargs, groups):
    if groups is None:
        groups = [(N, 1.0, True, False)]
    tensors, param_groups, offset = [], [], 0
    for length, scale, decay, frozen in groups:
        t = torch.tensor(PARAMS0[offset:offset + length], dtype=torch.float32, requires_grad=True)
        tensors.append((t, offset, length))
        if not frozen:
            g = {"params": [t]}
            if "lr" in kwargs:  # otherwise the class default (only ungrouped cases omit lr)
                g["lr"] = kwargs["lr"] * scale
            if not decay:
                g["weight_decay"] = 0.0
            param_groups.append(g)
        offset += length
    opt = getattr(torch.optim, cls)(param_groups, **kwargs)
    trace = []
    for s in range(STEPS):
        for t, off, length in tensors:
            t.grad = torch.tensor(GRADS[s, off:off + length], dtype=torch.float32)
        opt.step()
        trace.append(np.concatenate([t.detach().numpy() for t, _, _ in tensors]).astype(np.float32))
    return trace


def ftrl_trace(kw):
    """Keras' Ftrl.update_step in float32, operation for operation."""
    f = np.float32
    lr = f(kw.get("learning_rate", 0.001))
    power = kw.get("learning_rate_power", -0.5)
    l1 = f(kw.get("l1_regularization_strength", 0.0))
    l2 = f(kw.get("l2_regularization_strength", 0.0))
    shrink = f(2 * kw.get("l2_shrinkage_regularization_strength", 0.0))
    beta = f(kw.get("beta", 0.0))
    w = PARAMS0.copy()
    accum = np.full(N, kw.get("initial_accumulator_value", 0.1), dtype=np.float32)
    linear = np.zeros(N, dtype=np.float32)
    l2_reg = l2 + beta / (f(2.0) * lr)
    trace = []
    for s in range(STEPS):
        g = GRADS[s]
        grad_to_use = g + shrink * w
        new_accum = accum + np.square(g)
        linear = linear + (grad_to_use - (np.power(new_accum, f(-power)) - np.power(accum, f(-power))) / lr * w)
        quadratic = np.power(new_accum, f(-power)) / lr + f(2) * l2_reg
        w = ((np.clip(linear, -l1, l1) - linear) / quadratic).astype(np.float32)
        accum = new_accum
        trace.append(w.copy())
    return trace


def floats(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32)]


def main():
    torch.set_num_threads(1)
    if torch.__version__.startswith("1."):
        documented_nadam()
    cases = []
    for case in TORCH_CASES:
        name, cls, kwargs = case[:3]
        groups = case[3] if len(case) > 3 else None
        entry = {"name": name, "optimizer": cls, "hyper": kwargs,
                 "trace": [floats(p) for p in torch_trace(cls, kwargs, groups)]}
        if groups is not None:
            entry["groups"] = [{"length": n, "lr_scale": sc, "weight_decay": d, "frozen": fr}
                               for n, sc, d, fr in groups]
        cases.append(entry)
    for name, kw in FTRL_CASES:
        trace = ftrl_trace(kw)
        if name == "ftrl_l1_sparse":
            zeros = int(np.sum(trace[-1] == 0))
            assert 0 < zeros < N, "the l1 case should zero some but not all weights, got %d zeros" % zeros
        cases.append({"name": name, "optimizer": "Ftrl", "hyper": kw, "trace": [floats(p) for p in trace]})
    out = {
        "generator": "make_golden.py, torch %s, numpy %s, float32" % (torch.__version__, np.__version__),
        "params0": floats(PARAMS0),
        "grads": [floats(g) for g in GRADS],
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print("wrote %d cases to %s" % (len(cases), path))


if __name__ == "__main__":
    main()
