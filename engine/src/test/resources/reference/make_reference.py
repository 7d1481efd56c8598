#!/usr/bin/python3
"""Reference values for the engine's layers, losses and initialisers, computed with PyTorch.

Run from anywhere with Debian's interpreter and python3-torch (1.13):

    /usr/bin/python3 engine/src/test/resources/reference/make_reference.py

It rewrites reference.json next to this script; the Java tests under
engine/src/test/java/io/parallax/engine/reference/ read it.

Every input, parameter, buffer, upstream gradient and target is drawn in float32 and then
widened, so it is exactly representable in the engine's float32; the expected values are
computed by torch in float64 from those same numbers. A mismatch in the Java tests therefore
measures the engine's float32 arithmetic (and its formulas), not the rounding of the inputs.

Layer types and option keys are the engine's (Layers.create / Layer.config()); parameter and
buffer names are torch.nn.Sequential state_dict names ("0.weight", "1.running_mean").
"""

import json
import math
import os

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")


class _StepFunction(torch.autograd.Function):
    """Heaviside step (x >= 0 -> 1); its gradient is defined as zero everywhere, as the engine's."""

    @staticmethod
    def forward(ctx, x):
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return torch.zeros_like(grad)


class BinaryStep(nn.Module):
    def forward(self, x):
        return _StepFunction.apply(x)


def f32(t):
    """Rounds to float32 and widens back to float64, so the engine sees exactly these values."""
    return t.float().double()


def randn(gen, *shape, scale=1.0):
    return f32(torch.randn(*shape, generator=gen, dtype=torch.float64) * scale)


def away_from_zero(x, margin=1e-3):
    """Moves entries closer than `margin` to 0 out to ±margin: ReLU-family derivatives are
    ambiguous at exactly 0, while values just beside it are the interesting ones."""
    sign = torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))
    return f32(torch.where(x.abs() < margin, sign * margin, x))


def tolist(t):
    return t.detach().tolist()


def torch_module(spec):
    """The torch module for one engine layer spec {type, options}."""
    t, o = spec["type"], spec.get("options", {})
    if t == "linear":
        return nn.Linear(o["in_features"], o["out_features"], bias=o.get("bias", True))
    if t == "relu":
        return nn.ReLU()
    if t == "leaky_relu":
        return nn.LeakyReLU(o.get("negative_slope", 0.01))
    if t == "elu":
        return nn.ELU(o.get("alpha", 1.0))
    if t == "sigmoid":
        return nn.Sigmoid()
    if t == "tanh":
        return nn.Tanh()
    if t == "softmax":
        return nn.Softmax(dim=1)
    if t == "swish":
        return nn.SiLU()
    if t == "identity":
        return nn.Identity()
    if t == "binary_step":
        return BinaryStep()
    if t == "dropout":
        return nn.Dropout(o.get("p", 0.5))
    if t == "batch_norm1d":
        return nn.BatchNorm1d(o["num_features"], eps=o.get("eps", 1e-5), momentum=o.get("momentum", 0.1),
                              affine=o.get("affine", True))
    raise ValueError("unknown layer type " + t)


def torch_loss(loss_type, reduction):
    return {
        "cross_entropy": nn.CrossEntropyLoss,
        "bce_with_logits": nn.BCEWithLogitsLoss,
        "bce": nn.BCELoss,
        "mse": nn.MSELoss,
    }[loss_type](reduction=reduction)


def layer_case(name, specs, x, seed, training, dy=None, loss=None):
    """Runs torch.nn.Sequential(specs) forward and backward in float64.

    Parameters and running statistics are random (float32-exact) rather than torch's defaults,
    so a layer that ignored them would be caught. The upstream gradient is either the given
    random `dy` or, when `loss` = {type, reduction, targets} is given, that loss's gradient.
    """
    gen = torch.Generator().manual_seed(10_000 + seed)
    model = nn.Sequential(*[torch_module(s) for s in specs]).double()
    params, buffers, tracked = {}, {}, {}
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith("weight") and isinstance(model[int(pname.split(".")[0])], nn.BatchNorm1d):
                p.copy_(f32(1.0 + 0.5 * torch.rand(p.shape, generator=gen, dtype=torch.float64)))
            else:
                p.copy_(randn(gen, *p.shape, scale=0.5))
            params[pname] = tolist(p)
        for bname, b in model.named_buffers():
            if bname.endswith("running_mean"):
                b.copy_(randn(gen, *b.shape, scale=0.3))
            elif bname.endswith("running_var"):
                b.copy_(f32(0.5 + torch.rand(b.shape, generator=gen, dtype=torch.float64)))
            elif bname.endswith("num_batches_tracked"):
                b.fill_(3)
                tracked[bname.split(".")[0]] = int(b)
                continue
            buffers[bname] = tolist(b)
    model.train(training)

    xin = x.clone().requires_grad_(True)
    y = model(xin)
    case = {
        "name": name,
        "seed": seed,
        "training": training,
        "layers": specs,
        "input": tolist(x),
        "parameters": params,
        "buffers": buffers,
        "num_batches_tracked": tracked,
    }
    if loss is not None:
        fn = torch_loss(loss["type"], loss["reduction"])
        target = loss["targets"]
        value = fn(y, torch.tensor(target) if loss["type"] == "cross_entropy" else torch.tensor(target,
                                                                                           dtype=torch.float64))
        value.backward()
        case["loss"] = loss
    else:
        case["dy"] = tolist(dy)
        if y.requires_grad:
            y.backward(dy)
    expected = {
        "output": tolist(y),
        "dx": tolist(xin.grad if xin.grad is not None else torch.zeros_like(x)),
        "gradients": {pname: tolist(p.grad if p.grad is not None else torch.zeros_like(p))
                      for pname, p in model.named_parameters()},
        "buffers": {bname: tolist(b) for bname, b in model.named_buffers()
                    if not bname.endswith("num_batches_tracked")},
        "num_batches_tracked": {bname.split(".")[0]: int(b) for bname, b in model.named_buffers()
                                if bname.endswith("num_batches_tracked")},
    }
    if loss is not None:
        expected["loss"] = value.item()
    case["expected"] = expected
    return case


def single_layer_cases():
    cases = []
    shapes = [(4, 3), (5, 7), (4, 6)]

    def each_seed(prefix, spec_for, training=False, transform=lambda x: x, scale=1.0):
        for seed, (batch, features) in enumerate(shapes):
            gen = torch.Generator().manual_seed(seed)
            x = transform(randn(gen, batch, features, scale=scale))
            spec = spec_for(features)
            out_features = spec_for(features).get("options", {}).get("out_features", features)
            dy = randn(gen, batch, out_features)
            cases.append(layer_case(f"{prefix} seed {seed} [{batch}x{features}]", [spec], x, seed, training, dy))

    each_seed("linear", lambda f: {"type": "linear", "options": {"in_features": f, "out_features": f + 2}})
    each_seed("linear no bias", lambda f: {"type": "linear",
                                           "options": {"in_features": f, "out_features": 5, "bias": False}})
    each_seed("relu", lambda f: {"type": "relu"}, transform=away_from_zero)
    each_seed("leaky_relu default", lambda f: {"type": "leaky_relu"}, transform=away_from_zero)
    each_seed("leaky_relu 0.2", lambda f: {"type": "leaky_relu", "options": {"negative_slope": 0.2}},
              transform=away_from_zero)
    each_seed("elu default", lambda f: {"type": "elu"}, transform=away_from_zero, scale=2.0)
    each_seed("elu alpha 0.5", lambda f: {"type": "elu", "options": {"alpha": 0.5}}, transform=away_from_zero,
              scale=2.0)
    each_seed("sigmoid", lambda f: {"type": "sigmoid"}, scale=3.0)
    each_seed("tanh", lambda f: {"type": "tanh"}, scale=1.5)
    each_seed("softmax", lambda f: {"type": "softmax"}, scale=2.0)
    each_seed("swish", lambda f: {"type": "swish"}, scale=2.0)
    each_seed("identity", lambda f: {"type": "identity"})
    each_seed("dropout eval", lambda f: {"type": "dropout", "options": {"p": 0.5}})
    each_seed("dropout p=0 train", lambda f: {"type": "dropout", "options": {"p": 0.0}}, training=True)
    each_seed("batch_norm1d train", lambda f: {"type": "batch_norm1d", "options": {"num_features": f}},
              training=True, scale=2.0)
    each_seed("batch_norm1d train no affine",
              lambda f: {"type": "batch_norm1d", "options": {"num_features": f, "affine": False}},
              training=True, scale=2.0)
    each_seed("batch_norm1d train eps 1e-3 momentum 0.3",
              lambda f: {"type": "batch_norm1d", "options": {"num_features": f, "eps": 1e-3, "momentum": 0.3}},
              training=True, scale=2.0)
    each_seed("batch_norm1d eval", lambda f: {"type": "batch_norm1d", "options": {"num_features": f}},
              scale=2.0)
    each_seed("batch_norm1d eval no affine",
              lambda f: {"type": "batch_norm1d", "options": {"num_features": f, "affine": False}}, scale=2.0)

    # the step's value at exactly 0 is part of its definition (x >= 0 -> 1), so 0 is included
    for seed, (batch, features) in enumerate(shapes):
        gen = torch.Generator().manual_seed(seed)
        x = randn(gen, batch, features)
        x[0, 0] = 0.0
        dy = randn(gen, batch, features)
        cases.append(layer_case(f"binary_step seed {seed} [{batch}x{features}]", [{"type": "binary_step"}],
                                x, seed, False, dy))

    # edge values: saturating sigmoid/tanh, a softmax row with large logits (needs the max shift),
    # and one exact 0, where torch's derivatives are: ReLU 0, LeakyReLU negative_slope, ELU alpha,
    # SiLU 1/2 (the engine follows torch at that point too)
    gen = torch.Generator().manual_seed(99)
    edge = f32(torch.tensor([[-12.0, -4.0, -0.5, 0.25, 4.0, 12.0],
                             [60.0, 59.0, 58.5, -60.0, 0.0, 1.0],
                             [-1e-3, 1e-3, -2e-3, 3e-3, -0.75, 0.6]], dtype=torch.float64))
    for spec, label in [({"type": "sigmoid"}, "sigmoid"), ({"type": "tanh"}, "tanh"),
                        ({"type": "softmax"}, "softmax"), ({"type": "swish"}, "swish"), ({"type": "elu"}, "elu"),
                        ({"type": "leaky_relu"}, "leaky_relu"), ({"type": "relu"}, "relu")]:
        dy = randn(gen, 3, 6)
        cases.append(layer_case(f"{label} edge values [3x6]", [spec], edge, 99, False, dy))
    return cases


def multi_layer_cases():
    cases = []
    gen = torch.Generator().manual_seed(7)
    x = randn(gen, 5, 6)
    specs = [
        {"type": "linear", "options": {"in_features": 6, "out_features": 7}},
        {"type": "batch_norm1d", "options": {"num_features": 7}},
        {"type": "elu"},
        {"type": "linear", "options": {"in_features": 7, "out_features": 4}},
        {"type": "softmax"},
    ]
    dy = randn(gen, 5, 4)
    cases.append(layer_case("mlp linear-bn-elu-linear-softmax train", specs, x, 7, True, dy))
    cases.append(layer_case("mlp linear-bn-elu-linear-softmax eval", specs, x, 7, False, dy))

    gen = torch.Generator().manual_seed(8)
    x = randn(gen, 4, 5)
    specs = [
        {"type": "linear", "options": {"in_features": 5, "out_features": 6}},
        {"type": "leaky_relu", "options": {"negative_slope": 0.2}},
        {"type": "dropout", "options": {"p": 0.0}},
        {"type": "linear", "options": {"in_features": 6, "out_features": 6, "bias": False}},
        {"type": "tanh"},
        {"type": "linear", "options": {"in_features": 6, "out_features": 3}},
    ]
    cases.append(layer_case("mlp with cross_entropy loss train", specs, x, 8, True,
                            loss={"type": "cross_entropy", "reduction": "mean", "targets": [2, 0, 1, 2]}))
    gen = torch.Generator().manual_seed(9)
    x = randn(gen, 4, 3)
    specs = [
        {"type": "linear", "options": {"in_features": 3, "out_features": 5}},
        {"type": "swish"},
        {"type": "batch_norm1d", "options": {"num_features": 5, "affine": False}},
        {"type": "linear", "options": {"in_features": 5, "out_features": 2}},
        {"type": "sigmoid"},
    ]
    targets = tolist(f32(torch.rand(4, 2, generator=gen, dtype=torch.float64)))
    cases.append(layer_case("mlp with bce loss train", specs, x, 9, True,
                            loss={"type": "bce", "reduction": "mean", "targets": targets}))
    return cases


def loss_case(name, loss_type, reduction, x, targets):
    xin = x.clone().requires_grad_(True)
    t = torch.tensor(targets) if loss_type == "cross_entropy" else torch.tensor(targets, dtype=torch.float64)
    value = torch_loss(loss_type, reduction)(xin, t)
    value.backward()
    return {"name": name, "type": loss_type, "reduction": reduction, "input": tolist(x), "targets": targets,
            "expected": {"loss": value.item(), "grad": tolist(xin.grad)}}


def loss_cases():
    cases = []
    for seed, (batch, classes) in enumerate([(4, 3), (5, 7), (5, 4)]):
        gen = torch.Generator().manual_seed(100 + seed)
        logits = randn(gen, batch, classes, scale=2.0)
        labels = torch.randint(0, classes, (batch,), generator=gen).tolist()
        for reduction in ("mean", "sum"):
            cases.append(loss_case(f"cross_entropy {reduction} seed {seed} [{batch}x{classes}]", "cross_entropy",
                                   reduction, logits, labels))
    # logits far apart: a naive exp would overflow in float32
    big = f32(torch.tensor([[100.0, -100.0, 0.0], [-50.0, 80.0, 79.5]], dtype=torch.float64))
    cases.append(loss_case("cross_entropy mean large logits", "cross_entropy", "mean", big, [1, 2]))

    for seed, (batch, outs) in enumerate([(4, 1), (5, 3)]):
        gen = torch.Generator().manual_seed(200 + seed)
        logits = randn(gen, batch, outs, scale=3.0)
        hard = (torch.rand(batch, outs, generator=gen) < 0.5).double()
        soft = f32(torch.rand(batch, outs, generator=gen, dtype=torch.float64))
        for reduction in ("mean", "sum"):
            cases.append(loss_case(f"bce_with_logits {reduction} hard targets seed {seed}", "bce_with_logits",
                                   reduction, logits, tolist(hard)))
        cases.append(loss_case(f"bce_with_logits mean soft targets seed {seed}", "bce_with_logits", "mean",
                               logits, tolist(soft)))
    big = f32(torch.tensor([[40.0, -40.0], [-35.0, 30.0], [0.5, -0.25]], dtype=torch.float64))
    cases.append(loss_case("bce_with_logits mean large logits", "bce_with_logits", "mean", big,
                           [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]))

    for seed, (batch, outs) in enumerate([(4, 1), (5, 3)]):
        gen = torch.Generator().manual_seed(300 + seed)
        probs = f32(torch.rand(batch, outs, generator=gen, dtype=torch.float64) * 0.98 + 0.01)
        hard = (torch.rand(batch, outs, generator=gen) < 0.5).double()
        soft = f32(torch.rand(batch, outs, generator=gen, dtype=torch.float64))
        for reduction in ("mean", "sum"):
            cases.append(loss_case(f"bce {reduction} hard targets seed {seed}", "bce", reduction, probs,
                                   tolist(hard)))
        cases.append(loss_case(f"bce mean soft targets seed {seed}", "bce", "mean", probs, tolist(soft)))
    # near and at 0/1: torch clamps each log at -100 and divides the gradient by max(p(1-p), 1e-12)
    edge = f32(torch.tensor([[1e-7, 1.0 - 2 ** -24, 1e-4, 0.9999],
                             [0.0, 1.0, 0.0, 1.0],
                             [1e-30, 0.5, 0.999, 2e-3]], dtype=torch.float64))
    targets = tolist(f32(torch.tensor([[1.0, 0.0, 1.0, 0.0],
                                       [0.0, 1.0, 1.0, 0.0],
                                       [0.0, 1.0, 0.3, 0.7]], dtype=torch.float64)))
    for reduction in ("mean", "sum"):
        cases.append(loss_case(f"bce {reduction} probabilities near and at 0 and 1", "bce", reduction, edge,
                               targets))

    for seed, (batch, outs) in enumerate([(4, 1), (5, 3)]):
        gen = torch.Generator().manual_seed(400 + seed)
        y = randn(gen, batch, outs, scale=2.0)
        t = tolist(randn(gen, batch, outs, scale=2.0))
        for reduction in ("mean", "sum"):
            cases.append(loss_case(f"mse {reduction} seed {seed} [{batch}x{outs}]", "mse", reduction, y, t))
    return cases


def stats(t):
    t = t.double().flatten()
    return {"n": t.numel(), "min": t.min().item(), "max": t.max().item(), "mean": t.mean().item(),
            "std": t.std(unbiased=False).item()}


def init_reference():
    """PyTorch's own draws for the shapes the tests check: empirical min/max/mean/std.

    nn.Linear's reset_parameters: weight kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
    bias U(-1/sqrt(in), 1/sqrt(in)).
    """
    torch.manual_seed(2024)
    linear = []
    for fan_in, fan_out in [(784, 256), (256, 128), (128, 10)]:
        layer = nn.Linear(fan_in, fan_out)
        for tensor_name, t in (("weight", layer.weight), ("bias", layer.bias)):
            entry = {"in_features": fan_in, "out_features": fan_out, "tensor": tensor_name,
                     "bound": 1.0 / math.sqrt(fan_in)}
            entry["torch"] = stats(t.detach())
            linear.append(entry)

    schemes = []
    fan_in, fan_out = 256, 128
    cases = [
        ("xavier_uniform", 0.0, lambda w: nn.init.xavier_uniform_(w),
         math.sqrt(2.0 / (fan_in + fan_out))),
        ("xavier_normal", 0.0, lambda w: nn.init.xavier_normal_(w), math.sqrt(2.0 / (fan_in + fan_out))),
        ("kaiming_uniform", 0.0, lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
         math.sqrt(2.0) / math.sqrt(fan_in)),
        ("kaiming_normal", 0.0, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
         math.sqrt(2.0) / math.sqrt(fan_in)),
        ("kaiming_uniform", 0.2, lambda w: nn.init.kaiming_uniform_(w, a=0.2, nonlinearity="leaky_relu"),
         math.sqrt(2.0 / (1 + 0.2 ** 2)) / math.sqrt(fan_in)),
        ("kaiming_normal", 0.2, lambda w: nn.init.kaiming_normal_(w, a=0.2, nonlinearity="leaky_relu"),
         math.sqrt(2.0 / (1 + 0.2 ** 2)) / math.sqrt(fan_in)),
    ]
    for scheme, slope, init, std in cases:
        w = torch.empty(fan_out, fan_in)
        init(w)
        schemes.append({"scheme": scheme, "negative_slope": slope, "in_features": fan_in,
                        "out_features": fan_out, "std": std, "torch": stats(w)})
    return {"linear_default": linear, "schemes": schemes}


def main():
    torch.set_default_dtype(torch.float64)
    doc = {
        "generated_by": "make_reference.py",
        "torch_version": torch.__version__,
        "note": "inputs/parameters/dy/targets are float32-exact; expected values computed in float64",
        "layer_cases": single_layer_cases() + multi_layer_cases(),
        "loss_cases": loss_cases(),
        "init": init_reference(),
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(doc['layer_cases'])} layer cases, {len(doc['loss_cases'])} loss cases, "
          f"{os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
