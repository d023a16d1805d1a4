"""Whole-model speed on CPU: training step and inference images/s at each recipe's input size.

Measures, in ONE process so the ratios share the machine's state:

* the machine's matmul peak (a large ``paddle.matmul``, GFLOP/s);
* per model: training-step images/s (forward, loss, backward, the recipe's optimizer step)
  and inference images/s (eval mode, no grad), and the achieved training GFLOP/s:
  ``paddle.flops`` (multiply-adds of standard layers, per image) x 2 (FLOPs) x 3 (forward +
  backward) x images/s, as a share of the matmul peak. ``paddle.flops`` does not see the
  functional ops inside CondConv2D and ACmix, so their share is a lower bound;
* the comparisons the reproductions care about, as ratios: ShuffleNetV2 0.5x under
  ``paddle.jit.to_static`` vs dygraph, NAM overhead vs the fair ResNet50 (fast and notebook
  NAM forms), AlexNet-ACmix fast vs notebook implementation and vs plain AlexNet.

Timing: warm-up steps, then the median of repeats (min and max kept). The machine may be
shared; read ratios, not absolute numbers. Run ``python tools/benchmark.py --only models``.

Paddle and the package are imported inside functions on purpose: ``harness.configure_threads``
must set the thread and MKL variables before Paddle's first import (harness.py).
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
for _p in (str(HERE.parent), str(HERE)):  # the package and the shared harness, from anywhere
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402

# (key, registry name, builder kwargs, input side, benchmark batch (full, quick), optimizer)
# Optimizers are the recipes' (RECIPES.md): the Adam-vs-SGD difference matters for threads.
CASES = [
    ("alexnet_bn", "alexnet_bn", {}, 128, (64, 16), "sgd"),
    ("alexnet_condconv", "alexnet_condconv", {}, 128, (64, 16), "sgd"),
    ("alexnet", "alexnet", {}, 128, (64, 16), "adam"),
    ("alexnet_acmix", "alexnet_acmix", {"acmix_impl": "fast"}, 128, (64, 16), "adam"),
    ("alexnet_acmix[notebook]", "alexnet_acmix", {"acmix_impl": "notebook"}, 128, (64, 16), "adam"),
    ("resnet50 (fair)", "resnet50", {"num_classes": 100}, 32, (16, 4), "momentum"),
    ("resnet50_nam", "resnet50_nam", {"num_classes": 100}, 32, (16, 4), "momentum"),
    ("resnet50_nam[notebook]", "resnet50_nam", {"num_classes": 100, "nam_impl": "notebook"},
     32, (16, 4), "momentum"),
    ("shufflenetv2_x0_5", "shufflenetv2_x0_5", {}, 32, (128, 64), "momentum"),
    ("shufflenetv2_x0_5[to_static]", "shufflenetv2_x0_5", {"to_static": True}, 32, (128, 64),
     "momentum"),
]

# (label, a, b, metric, target): ratio = images/s of a / images/s of b, which is also
# time per step of b / time per step of a (so "NAM time / fair time" 1.08 = 8% overhead).
RATIOS = [
    ("ShuffleNetV2 0.5x train step speed-up: to_static vs dygraph",
     "shufflenetv2_x0_5[to_static]", "shufflenetv2_x0_5", "train", ">= 1.3x (prototype 1.5x)"),
    ("ShuffleNetV2 0.5x inference speed-up: to_static vs dygraph",
     "shufflenetv2_x0_5[to_static]", "shufflenetv2_x0_5", "infer", "-"),
    ("ResNet50-NAM (fast) train step time / fair ResNet50", "resnet50 (fair)", "resnet50_nam",
     "train", "<= 1.10"),
    ("ResNet50-NAM (notebook form) train step time / fair ResNet50", "resnet50 (fair)",
     "resnet50_nam[notebook]", "train", "notebook form ~1.20"),
    ("ResNet50-NAM (fast) inference time / fair ResNet50", "resnet50 (fair)", "resnet50_nam",
     "infer", "<= 1.10"),
    ("AlexNet-ACmix train step speed-up: fast vs notebook impl", "alexnet_acmix",
     "alexnet_acmix[notebook]", "train", ">= 5x"),
    ("AlexNet-ACmix inference speed-up: fast vs notebook impl", "alexnet_acmix",
     "alexnet_acmix[notebook]", "infer", ">= 5x"),
    ("AlexNet-ACmix (fast) train step time / plain AlexNet", "alexnet", "alexnet_acmix", "train",
     "<= 1.3"),
    ("AlexNet-ACmix (fast) inference time / plain AlexNet", "alexnet", "alexnet_acmix", "infer",
     "<= 1.3"),
    ("AlexNet-CondConv train step time / AlexNet-BN", "alexnet_bn", "alexnet_condconv", "train",
     "- (cost of CondConv)"),
]


def _sync(t):
    float(t.reshape([-1])[0])  # forces the result on every backend


def matmul_peak(quick=False):
    """GFLOP/s of a float32 [n, n] @ [n, n] ``paddle.matmul`` (2 n^3 FLOPs)."""
    import paddle  # late everywhere: OMP_NUM_THREADS must be set before the first import
    n = 1024 if quick else 2048
    a, b = paddle.randn([n, n]), paddle.randn([n, n])
    t = harness.time_callable(lambda: _sync(paddle.matmul(a, b)), 1, 3 if quick else 5)
    return {"n": n, "gflops": 2 * n ** 3 / (t["median_ms"] / 1e3) / 1e9}


def _optimizer(name, params):
    import paddle
    if name == "adam":
        return paddle.optimizer.Adam(1e-3, parameters=params, weight_decay=1e-5)
    if name == "momentum":
        return paddle.optimizer.Momentum(0.01, 0.9, parameters=params, weight_decay=5e-4)
    return paddle.optimizer.SGD(0.1, parameters=params, weight_decay=1e-5)


def _prepare(case, quick):
    """Build one case: (meta row, train-step callable, inference callable)."""
    import paddle
    from paddle_repro.models import build_model
    from paddle_repro.models.summary import count_flops  # paddle.flops without its NumPy-2 crash
    key, name, kwargs, side, batches, opt_name = case
    kwargs = dict(kwargs)
    to_static = kwargs.pop("to_static", False)
    batch = batches[1] if quick else batches[0]
    paddle.seed(0)
    model = build_model(name, **kwargs)
    macs, _ = count_flops(model, (3, side, side))  # paddle.flops's rules, per image
    x = paddle.randn([batch, 3, side, side])
    y = paddle.randint(0, int(kwargs.get("num_classes", 10)), [batch])
    opt = _optimizer(opt_name, model.parameters())
    net = paddle.jit.to_static(model) if to_static else model

    def train_step():
        model.train()
        loss = paddle.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        opt.clear_grad()
        _sync(loss)

    def infer():
        model.eval()
        with paddle.no_grad():
            _sync(net(x))

    meta = {"model": key, "input": f"{side}x{side}", "batch": batch, "optimizer": opt_name,
            "gmacs_per_img": macs / 1e9}
    return meta, train_step, infer


def bench_group(cases, quick=False, log=print):
    """Rows for cases timed INTERLEAVED (A, B, C, A, B, C, ...), so a load change on a shared
    machine hits every model of a comparison alike; median per model."""
    warmup, repeats = (1, 3) if quick else (2, 7)
    built, skipped = [], []
    for case in cases:
        try:
            built.append(_prepare(case, quick))
        except Exception as err:  # a model not landed / kwarg missing: say so, keep going
            skipped.append({"model": case[0], "reason": f"{type(err).__name__}: {err}"})
            log(f"skip {case[0]}: {type(err).__name__}: {err}")
    warmup += 2 if any("to_static" in m["model"] for m, _, _ in built) else 0  # tracing
    t_train = harness.time_interleaved({m["model"]: f for m, f, _ in built}, warmup, repeats)
    t_infer = harness.time_interleaved({m["model"]: f for m, _, f in built}, warmup, repeats)
    rows = []
    for meta, _, _ in built:
        tr, b = t_train[meta["model"]], meta["batch"] * 1e3
        row = dict(meta, train_img_s=b / tr["median_ms"],
                   train_spread=[b / tr["max_ms"], b / tr["min_ms"]],
                   infer_img_s=b / t_infer[meta["model"]]["median_ms"],
                   train_timing=tr, infer_timing=t_infer[meta["model"]])
        row["train_gflops"] = 2 * 3 * row["gmacs_per_img"] * row["train_img_s"]
        rows.append(row)
        log(f"{row['model']}: train {row['train_img_s']:.1f} img/s, "
            f"infer {row['infer_img_s']:.1f} img/s")
    return rows, skipped


def run(quick=False, log=print):
    """All rows and ratios. Cases are timed in groups (AlexNets, ResNet50s, ShuffleNets);
    the matmul peak is measured before each group and the best kept (a capability)."""
    out = {"env": harness.environment(), "rows": [], "skipped": [], "peaks": []}
    groups = {}
    for case in CASES:
        groups.setdefault(case[1].split("_")[0], []).append(case)  # alexnet, resnet50, ..
    for cases in groups.values():
        out["peaks"].append(matmul_peak(quick))
        log(f"matmul: {out['peaks'][-1]['gflops']:.1f} GFLOP/s")
        rows, skipped = bench_group(cases, quick, log)
        out["rows"] += rows
        out["skipped"] += skipped
    out["peak"] = max(out["peaks"], key=lambda p: p["gflops"])
    for row in out["rows"]:
        row["peak_share"] = row["train_gflops"] / out["peak"]["gflops"]
    by = {r["model"]: r for r in out["rows"]}
    out["ratios"] = []
    for lab, a, b, m, tgt in RATIOS:
        if a in by and b in by:  # images/s of a / of b = time of b / time of a, per round
            ratio, spread = harness.paired_ratio(by[b][f"{m}_timing"], by[a][f"{m}_timing"])
            out["ratios"].append({"label": lab, "metric": m, "target": tgt, "ratio": ratio,
                                  "spread": list(spread)})
    return out


# Environment settings, each timed in a fresh process: OpenMP and MKL read them once, at
# start-up. (label, variables to set; None removes a variable).
THREAD_SETTINGS = [
    ("OMP_NUM_THREADS=1", {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                           "OMP_WAIT_POLICY": None}),
    ("OMP_NUM_THREADS=2", {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2",
                           "OMP_WAIT_POLICY": None}),
    ("OMP_NUM_THREADS=2, OMP_WAIT_POLICY=PASSIVE", {"OMP_NUM_THREADS": "2",
                                                    "MKL_NUM_THREADS": "2",
                                                    "OMP_WAIT_POLICY": "PASSIVE"}),
]
# MKL's CPU dispatch (paddle_repro/process.py) at the run's thread count.
MKL_SETTINGS = [
    ("MKL stock dispatch", {"MKL_DEBUG_CPU_TYPE": None, "PADDLE_REPRO_MKL_AVX2": "0"}),
    ("MKL AVX2 kernels (MKL_DEBUG_CPU_TYPE=5)", {"MKL_DEBUG_CPU_TYPE": "5"}),
]


def _thread_probe(quick):
    """Child side: a 1024x1024 matmul, forward / backward / optimizer-step times (ms) of
    AlexNet (128x128) under Adam and under SGD, a ResNet50 (CIFAR) training step, and a
    ShuffleNetV2 0.5x train step (many small ops)."""
    import time
    import paddle
    from paddle_repro.models import build_model
    batch, repeats = (8, 4) if quick else (16, 7)
    a = paddle.randn([1024, 1024])
    out = {"matmul 1024x1024 ms": harness.time_callable(
        lambda: _sync(paddle.matmul(a, a)), 1, repeats)["median_ms"]}
    for opt_name in ("adam", "sgd"):
        paddle.seed(0)
        model = build_model("alexnet")
        opt = _optimizer(opt_name, model.parameters())
        x, y = paddle.randn([batch, 3, 128, 128]), paddle.randint(0, 10, [batch])
        phases = {"forward": [], "backward": [], "step": []}
        for r in range(repeats + 2):
            t0 = time.perf_counter()
            loss = paddle.nn.functional.cross_entropy(model(x), y)
            _sync(loss)
            t1 = time.perf_counter()
            loss.backward()
            _sync(model.parameters()[0].grad)
            t2 = time.perf_counter()
            opt.step()
            opt.clear_grad()
            _sync(model.parameters()[0])
            t3 = time.perf_counter()
            if r >= 2:  # warm-up
                for k, v in zip(phases, (t1 - t0, t2 - t1, t3 - t2)):
                    phases[k].append(v * 1e3)
        for k, v in phases.items():
            out[f"AlexNet {opt_name}: {k} ms"] = float(np.median(v))
    cases = {case[0]: case for case in CASES}
    for key, name in (("ResNet50 (CIFAR) train step ms (batch 4)", "resnet50 (fair)"),
                      ("ShuffleNetV2 0.5x train step ms (batch 64)", "shufflenetv2_x0_5")):
        meta, step, _ = _prepare(cases[name], True)
        out[key] = harness.time_callable(step, 2, repeats)["median_ms"]
    return out


def thread_matrix(quick=False, log=print, settings=THREAD_SETTINGS):
    """{setting label: {workload: ms}} over ``settings``, one subprocess each."""
    import os
    import subprocess
    res = {}
    for label, changes in settings:
        env = dict(os.environ)
        for var, value in changes.items():
            if value is None:
                env.pop(var, None)
            else:
                env[var] = value
        cmd = [sys.executable, str(HERE / "bench_models.py"), "--thread-probe"]
        proc = subprocess.run(cmd + (["--quick"] if quick else []), env=env,
                              capture_output=True, text=True, timeout=3600)
        if proc.returncode != 0:
            res[label] = {"error": proc.stderr.strip().splitlines()[-1:]}
        else:
            res[label] = json.loads(proc.stdout.strip().splitlines()[-1])
        log(f"{label}: {res[label]}")
    return res


def thread_markdown(res):
    """Workloads x settings table of ms, with the ratio to the first setting."""
    labels = list(res)
    base = res[labels[0]]
    rows = [k for k in base if k != "error"]
    lines = ["| workload | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for k in rows:
        cells = [f"{res[lab][k]:.1f}" + ("" if lab == labels[0] else
                                          f" ({res[lab][k] / base[k]:.2f}x)")
                 if k in res[lab] else "failed" for lab in labels]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(res):
    """Tables for benchmarks/RESULTS.md."""
    lines = ["| model | input | batch | optimizer | train img/s (min-max) | inference img/s | "
             "GMAC/img (paddle.flops) | train GFLOP/s | share of matmul peak |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lo, hi = r["train_spread"]
        lines.append(f"| {r['model']} | {r['input']} | {r['batch']} | {r['optimizer']} | "
                     f"{r['train_img_s']:.1f} ({lo:.1f}-{hi:.1f}) | {r['infer_img_s']:.1f} | "
                     f"{r['gmacs_per_img']:.3f} | {r['train_gflops']:.1f} | "
                     f"{100 * r['peak_share']:.0f}% |")
    for s in res["skipped"]:
        lines.append(f"| {s['model']} | not measured: {s['reason']} | | | | | | | |")
    peaks = ", ".join(f"{p['gflops']:.1f}" for p in res["peaks"])
    lines += ["", f"Matmul peak in the same run: {res['peak']['gflops']:.1f} GFLOP/s, the best "
              f"of {peaks} (float32 {res['peak']['n']}x{res['peak']['n']} paddle.matmul, "
              f"measured before each group).", "",
              "Ratios: median over rounds of the per-round ratio (each round runs every "
              "model of a group once, back to back), with the min-max over rounds.", "",
              "| comparison | ratio (min-max) | target |", "|---|---|---|"]
    for q in res["ratios"]:
        spread = f" ({q['spread'][0]:.2f}-{q['spread'][1]:.2f})" if "spread" in q else ""
        lines.append(f"| {q['label']} | {q['ratio']:.2f}{spread} | {q['target']} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small batches, fewer repeats")
    harness.add_machine_args(p)
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--threads-matrix", action="store_true",
                   help="only the thread-setting comparison (1 / 2 / 2+PASSIVE)")
    p.add_argument("--mkl-matrix", action="store_true",
                   help="only the MKL dispatch comparison (stock / AVX2), fresh processes")
    p.add_argument("--thread-probe", action="store_true", help=argparse.SUPPRESS)  # child
    args = p.parse_args(argv)
    if args.thread_probe:  # the environment was set by the parent
        print(json.dumps(_thread_probe(args.quick)))
        return
    if args.threads_matrix or args.mkl_matrix:
        harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)  # children inherit it
        settings = THREAD_SETTINGS if args.threads_matrix else MKL_SETTINGS
        print(thread_markdown(thread_matrix(args.quick, settings=settings)))
        return
    harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)
    res = run(args.quick)
    print(harness.format_header(res["env"]))
    print(markdown(res))
    harness.write_json(args.json, res)


if __name__ == "__main__":
    main()
