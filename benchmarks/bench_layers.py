"""Layer benchmarks: our formulations vs the notebooks', same weights, at the recipes' shapes.

    python benchmarks/bench_layers.py [--layers condconv,acmix,nam,shuffle] [--quick]
                                      [--threads N] [--no-memory] [--repeats R] [--json out.json]

For every (layer, shape): builds the notebook formulation and each of ours with the SAME
weights and inputs, checks outputs, input gradients and parameter gradients agree (aborts
on a mismatch: a fast wrong layer is worth nothing), then measures
- forward (eval mode, no grad) and forward+backward (train mode, ``out.sum().backward()``)
  wall time: median [min-max] over repeats after warm-up, variants timed round-robin;
- peak extra memory of one forward / forward+backward, each in a fresh subprocess
  (``harness.measure_memory``: Paddle allocator peak, and peak-RSS delta for fwd+bwd).
Ratios are ``notebook / ours`` (> 1 means ours is faster / smaller), all from one run.

Adding a layer: write ``build(variant, **shape) -> (layer, [inputs])`` in any module under
the repository root or ``benchmarks/`` (weights must depend only on the seed, so every variant
gets the same numbers), and add a ``Suite`` to ``SUITES`` (or call ``add_suite`` from your
own script before ``run``). The first variant is the reference the others are compared to.
Layers whose module is missing are skipped with a message.

Paddle and the package are imported inside functions on purpose: ``harness.configure_threads``
must set the thread and MKL variables before Paddle's first import (harness.py).
"""
import argparse
import importlib
import importlib.util
import json
import os
import sys
from collections import namedtuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402  (no paddle import at module level: threads are set first)

# build: "module:function"; shapes / quick: lists of kwargs dicts for build; label: fn(shape).
Suite = namedtuple("Suite", ["build", "variants", "shapes", "quick", "requires", "label"])


def _reference(name):
    """A module from tests/reference (the notebooks' code), loaded by path."""
    key = "_reference_" + name
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            key, os.path.join(ROOT, "tests", "reference", name + ".py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules[key] = mod
    return sys.modules[key]


def _randn(shape, seed=1):
    import paddle
    paddle.seed(seed)
    return paddle.randn(shape)


# ----------------------------------------------------------------------------- CondConv
def _per_sample_loop_class():
    """001's formulation (Python loop, one conv per sample) on 000's parameters.

    Subclasses the notebook layer so parameter names match; the kernel mix is 001's
    ``sum(r[:, None, None, None, None] * W, 0)``, the routing and routed bias are 000's.
    """
    import paddle
    import paddle.nn.functional as F
    nb = _reference("notebook_condconv")

    class PerSampleLoopCondConv2D(nb.CondConv2D):
        def forward(self, x):
            res = []
            for i in range(x.shape[0]):
                xi = x[i:i + 1]
                r = self.routing(xi)[0]  # [E]
                kernel = paddle.sum(r.reshape([-1, 1, 1, 1, 1]) * self.weight, 0)
                bias = None if self.bias is None else paddle.sum(r.reshape([-1, 1]) * self.bias, 0)
                res.append(F.conv2d(xi, kernel, bias, self.stride, self.padding, self.dilation,
                                    self.groups))
            return paddle.concat(res, axis=0)
    return PerSampleLoopCondConv2D


def build_condconv(variant, batch, cin, cout, size, experts=2):
    """AlexNet's CondConv2D (3x3, pad 1, bias, 2 experts). Variants: notebook | ours impls | loop."""
    import paddle
    from paddle_repro.layers.condconv import CondConv2D
    nb = _reference("notebook_condconv")
    args = (cin, cout, 3)
    kw = dict(stride=1, padding=1, num_experts=experts)
    paddle.seed(0)
    ref = nb.CondConv2D(*args, **kw)
    if variant == "notebook":
        layer = ref
    elif variant == "loop":
        layer = _per_sample_loop_class()(*args, **kw)
        layer.set_state_dict(ref.state_dict())
    else:
        layer = CondConv2D(*args, impl=variant, **kw)
        layer.set_state_dict(ref.state_dict())
    return layer, [_randn([batch, cin, size, size])]


# ----------------------------------------------------------------------------- NAM
def build_nam(variant, batch, channels, size):
    """NAM channel attention after a ResNet50 bottleneck. Variants: notebook (Att) | fast."""
    import paddle
    from paddle_repro.layers.nam import NAM
    paddle.seed(0)
    ref = _reference("notebook_resnet_nam").Att(channels)
    if variant == "notebook":
        layer = ref
    else:
        layer = NAM(channels, impl=variant)
        layer.set_state_dict({k.replace("Channel_Att.bn2.", "bn_channel."): v
                              for k, v in ref.state_dict().items()})
    # Non-trivial BN scales, else |gamma|/sum|gamma| is uniform and hides mistakes.
    paddle.seed(2)
    gamma = paddle.rand([channels]) + 0.5
    for bn in (ref.Channel_Att.bn2, getattr(layer, "bn_channel", None)):
        if bn is not None:
            bn.weight.set_value(gamma)
    return layer, [_randn([batch, channels, size, size])]


# ----------------------------------------------------------------------------- ShuffleNetV2
def build_shuffle(variant, batch, cin, cout, size):
    """A ShuffleNetV2 0.5x unit: down unit when cin != cout, else basic unit."""
    import paddle
    from paddle_repro.layers.shuffle import ShuffleBasicUnit, ShuffleDownUnit
    ref_mod = _reference("notebook_shufflenet")
    paddle.seed(0)
    if cin == cout:
        ref, ours = ref_mod.BasicBlock(cin), ShuffleBasicUnit(cin)
    else:
        ref, ours = ref_mod.DownBlock(cin, cout), ShuffleDownUnit(cin, cout)
    ours.set_state_dict(ref.state_dict())
    return (ref if variant == "notebook" else ours), [_randn([batch, cin, size, size])]


# ----------------------------------------------------------------------------- ACmix
def build_acmix(variant, batch, cin, cout, size):
    """ACmix(cin, cout) as in AlexNet-ACmix. Variants: notebook (transcription) | fast."""
    import paddle
    from paddle_repro.layers.acmix import ACmix
    paddle.seed(0)
    ref = _reference("notebook_acmix").ACmix(cin, cout)
    if variant == "notebook":
        layer = ref
    else:
        layer = ACmix(cin, cout, impl=variant)
        layer.set_state_dict(ref.state_dict())
    return layer, [_randn([batch, cin, size, size])]


def _conv_label(s):
    return f"({s['batch']},{s['cin']},{s['size']},{s['size']})->{s['cout']}"


_ALEX = [dict(cin=128, cout=192, size=7), dict(cin=192, cout=192, size=7),
         dict(cin=192, cout=128, size=7)]
# ResNet50 (CIFAR stem) bottleneck outputs; the notebook's batch was 256, we use 128 (RAM).
_R50 = [dict(channels=256, size=32), dict(channels=512, size=16), dict(channels=1024, size=8),
        dict(channels=2048, size=4)]
# ShuffleNetV2 0.5x at 32x32: (down, basic) per stage.
_SHUF = [dict(cin=24, cout=48, size=32), dict(cin=48, cout=48, size=16),
         dict(cin=48, cout=96, size=16), dict(cin=96, cout=96, size=8),
         dict(cin=96, cout=192, size=8), dict(cin=192, cout=192, size=4)]

SUITES = {
    "condconv": Suite(
        build="bench_layers:build_condconv",
        variants=["notebook", "auto", "bmm", "per_expert", "loop"],  # auto = grouped
        shapes=[dict(s, batch=b) for b in (64, 512) for s in _ALEX],
        quick=[dict(_ALEX[0], batch=64), dict(_ALEX[0], batch=512)],
        requires="paddle_repro.layers.condconv", label=_conv_label),
    "acmix": Suite(
        build="bench_layers:build_acmix", variants=["notebook", "fast"],
        shapes=[dict(s, batch=b) for b in (32, 128) for s in _ALEX]
        + [dict(batch=1, cin=16, cout=64, size=56)],
        quick=[dict(_ALEX[0], batch=32), dict(batch=1, cin=16, cout=64, size=56)],
        requires="paddle_repro.layers.acmix", label=_conv_label),
    "nam": Suite(
        build="bench_layers:build_nam", variants=["notebook", "fast"],
        shapes=[dict(s, batch=128) for s in _R50], quick=[dict(s, batch=16) for s in _R50[:2]],
        requires="paddle_repro.layers.nam",
        label=lambda s: f"({s['batch']},{s['channels']},{s['size']},{s['size']})"),
    "shuffle": Suite(
        build="bench_layers:build_shuffle", variants=["notebook", "ours"],
        shapes=[dict(s, batch=128) for s in _SHUF], quick=[dict(s, batch=16) for s in _SHUF[:2]],
        requires="paddle_repro.layers.shuffle", label=_conv_label),
}


def add_suite(name, suite):
    """Registers another layer's suite (``suite.build`` must be importable in a subprocess)."""
    if not isinstance(suite, Suite):
        raise TypeError("add_suite expects a bench_layers.Suite")
    SUITES[name] = suite


def _resolve(target):
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def make_run(build, variant, shape, mode):
    """Setup for one measurement; returns the zero-argument callable (used by the memory child)."""
    import paddle
    layer, inputs = _resolve(build)(variant, **shape)
    if mode == "fwd":
        layer.eval()

        def run():
            with paddle.no_grad():
                layer(*inputs)
        return run
    layer.train()
    for x in inputs:
        x.stop_gradient = False

    def run():
        layer(*inputs).sum().backward()
        layer.clear_gradients()
        for x in inputs:
            x.clear_gradient()
    return run


def _max_rel_err(a, b):
    import numpy as np
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-6))


def check_same(build, variants, shape, tol=1e-4):
    """Outputs and all gradients of every variant vs the first, same weights and inputs.

    A tensor fails when its error relative to its own largest entry exceeds ``tol`` AND its
    absolute error exceeds ``0.1 * tol`` times the largest entry of all compared tensors.
    Returns the worst max |diff| over all tensors / that largest entry; raises SystemExit
    on a failure.
    """
    import numpy as np
    results = {}
    for variant in variants:
        layer, inputs = _resolve(build)(variant, **shape)
        layer.train()
        for x in inputs:
            x.stop_gradient = False
        out = layer(*inputs)
        up = _randn(out.shape, seed=5)
        (out * up).sum().backward()
        results[variant] = dict(out=out.numpy(), **{f"grad input {i}": x.grad.numpy()
                                                   for i, x in enumerate(inputs)},
                                # by position: a port may rename parameters (NAM)
                                **{f"grad param {i} {p.shape}": p.grad.numpy()
                                   for i, p in enumerate(layer.parameters())
                                   if p.grad is not None})
    ref = results[variants[0]]
    # Gradients that are 0 in exact arithmetic (ACmix's conv_p.bias, a bias before BN) carry
    # only rounding noise, so an absolute floor relative to the largest tensor is allowed.
    scale = max(float(np.abs(v).max()) for v in ref.values())
    floor = 0.1 * tol * scale
    worst = 0.0
    for variant in variants[1:]:
        got = results[variant]
        if sorted(got) != sorted(ref):
            raise SystemExit(f"MISMATCH {build} {variant} {shape}: tensors differ: "
                             f"{sorted(set(got) ^ set(ref))}")
        for key in ref:
            err = _max_rel_err(got[key], ref[key])
            abs_err = float(np.abs(got[key] - ref[key]).max())
            if err > tol and abs_err > floor:
                raise SystemExit(f"MISMATCH {build} {variant} {shape}: {key} rel err {err:.2e}, "
                                 f"abs err {abs_err:.2e} > floor {floor:.2e}")
            worst = max(worst, abs_err / scale)
    return worst


def bench_suite(name, suite, quick, repeats, threads, memory):
    """Rows (dicts) for one suite; skips with a message when its layer is missing."""
    try:
        importlib.import_module(suite.requires)
    except ImportError as err:
        print(f"[skip] {name}: {suite.requires} not importable ({err})", flush=True)
        return []
    rows = []
    for shape in (suite.quick if quick else suite.shapes):
        label = suite.label(shape)
        worst = check_same(suite.build, suite.variants, shape)
        print(f"[ok] {name} {label}: all variants agree "
              f"(max |diff| / max |ref| = {worst:.1e})", flush=True)
        # fewer repeats where one call takes seconds (per-sample loop at batch 512)
        reps = repeats if shape.get("batch", 1) < 256 else max(3, repeats // 2)
        times = {}
        for mode in ("fwd", "fwd_bwd"):
            fns = {v: make_run(suite.build, v, shape, mode) for v in suite.variants}
            times[mode] = harness.time_interleaved(fns, warmup=1, repeats=reps)
            del fns
        for variant in suite.variants:
            row = {"layer": name, "shape": label, "variant": variant, "max_rel_err": worst}
            for mode in ("fwd", "fwd_bwd"):
                row[f"{mode}_ms"] = times[mode][variant]
                if memory:
                    row[f"{mode}_mem"] = harness.measure_memory(
                        "bench_layers:make_run",
                        dict(build=suite.build, variant=variant, shape=shape, mode=mode), threads)
            rows.append(row)
            print(f"  measured {name} {label} {variant}", flush=True)
        _add_ratios(rows[-len(suite.variants):])
    return rows


def _mem_mb(mem):
    return mem.get("alloc_mb", mem.get("rss_mb"))


def _add_ratios(rows):
    ref = rows[0]
    for row in rows:
        for mode in ("fwd", "fwd_bwd"):
            row[f"{mode}_speedup"] = ref[f"{mode}_ms"]["median_ms"] / row[f"{mode}_ms"]["median_ms"]
            if f"{mode}_mem" in row:
                row[f"{mode}_mem_ratio"] = _mem_mb(ref[f"{mode}_mem"]) / max(_mem_mb(row[f"{mode}_mem"]), 0.01)


def _fmt(v):
    return "-" if v is None else f"{v:.1f}"


def markdown(rows):
    """One markdown table for all rows."""
    head = ("| layer | shape | variant | fwd ms median [min-max] | fwd x nb | fwd+bwd ms median "
            "[min-max] | fwd+bwd x nb | fwd MB | fwd+bwd MB | fwd+bwd RSS MB | mem nb/ours |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]

    def t(d):
        return f"{d['median_ms']:.2f} [{d['min_ms']:.2f}-{d['max_ms']:.2f}]"

    def m(row, mode):
        mem = row.get(f"{mode}_mem")
        if not mem:
            return "-"
        val = _mem_mb(mem)
        exact = mem.get("alloc_exact", mem.get("rss_exact", True))
        return f"{val:.1f}" + ("" if exact else " (>=)")
    for r in rows:
        rss = r.get("fwd_bwd_mem", {}).get("rss_mb")
        lines.append(
            f"| {r['layer']} | {r['shape']} | {r['variant']} | {t(r['fwd_ms'])} | "
            f"{r['fwd_speedup']:.2f} | {t(r['fwd_bwd_ms'])} | {r['fwd_bwd_speedup']:.2f} | "
            f"{m(r, 'fwd')} | {m(r, 'fwd_bwd')} | {'-' if rss is None else f'{rss:.1f}'} | "
            f"{_fmt(r.get('fwd_bwd_mem_ratio'))} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--layers", default="condconv,acmix,nam,shuffle",
                   help="comma-separated: " + ", ".join(SUITES))
    p.add_argument("--quick", action="store_true", help="fewer shapes and repeats")
    harness.add_machine_args(p)
    p.add_argument("--repeats", type=int, default=None, help="timed repeats (default 10, quick 3)")
    p.add_argument("--no-memory", action="store_true", help="skip the subprocess memory runs")
    p.add_argument("--json", default=None, help="also write env + rows to this JSON file")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.layers.split(",") if n.strip()]
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        p.error(f"unknown layer(s) {', '.join(unknown)}; valid: {', '.join(SUITES)}")
    harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)
    env = harness.environment()
    print("# Layer benchmarks\n" + harness.format_header(env) + "\n", flush=True)
    repeats = args.repeats or (3 if args.quick else 10)
    rows = []
    for name in names:
        rows += bench_suite(name, SUITES[name], args.quick, repeats, args.threads,
                            not args.no_memory)
    if rows:
        print("\n" + markdown(rows))
        print("\nx nb = notebook median time / this variant's (>1: faster). mem nb/ours = notebook "
              "fwd+bwd peak / this variant's (>1: less memory). MB = Paddle allocator peak; "
              "(>=) = lower bound (see harness.py).")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"env": env, "rows": rows}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
