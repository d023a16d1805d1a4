"""The speed targets of issue 6, checked against one benchmark run's results.

``check(results)`` turns what ``tools/benchmark.py`` measured (``{"layers": rows, "models":
..., "pipeline": ...}``) into one row per target: what was measured, the threshold, and
whether it is met. Nothing here times anything; a target whose inputs were not measured
in this run (a part left out, ``--quick`` without memory) says so instead of guessing.

"Never slower" (CondConv ``auto`` vs the notebook) is met when auto's median is at most
the notebook's, or inside the notebook's own min-max spread of the same run: two runs of
identical ops differ by that much on a shared machine.
"""
import re

import harness  # stdlib only at import time; the same ratio logic as the benchmarks

LAYER_SHAPE = re.compile(r"\((\d+),(\d+),(\d+),(\d+)\)")


def _shape(label):
    """'(64,128,7,7)->192' -> (64, 128, 7, 7)."""
    return tuple(int(v) for v in LAYER_SHAPE.match(label).groups())


def _rows(results, layer, variant, shape_ok=lambda s: True):
    return [r for r in results.get("layers") or [] if r["layer"] == layer
            and r["variant"] == variant and shape_ok(_shape(r["shape"]))]


def _min_over(rows, keys):
    vals = [(r[k], r["shape"], k) for r in rows for k in keys if r.get(k) is not None]
    return min(vals) if vals else None


def _fmt_where(val):
    value, shape, key = val
    mode = {"fwd_speedup": "fwd", "fwd_bwd_speedup": "fwd+bwd", "fwd_bwd_mem_ratio": "fwd+bwd",
            "loop_fwd": "fwd", "loop_fwd_bwd": "fwd+bwd"}.get(key, key)
    return f"{value:.2f}x (worst: {shape} {mode})"


def _row(target, threshold, measured, met):
    return {"target": target, "threshold": threshold, "measured": measured,
            "met": "yes" if met is True else "NO" if met is False else met}


def _acmix(results):
    alexnet = lambda s: s[0] in range(32, 129) and s[2:] == (7, 7)  # noqa: E731
    demo = lambda s: s == (1, 16, 56, 56)  # noqa: E731
    out = []
    speed = _min_over(_rows(results, "acmix", "fast", alexnet), ["fwd_bwd_speedup"])
    out.append(_row("ACmix fwd+bwd vs notebook, AlexNet shapes (batch 32-128, 7x7)", ">= 10x",
                    _fmt_where(speed) if speed else "not measured",
                    speed[0] >= 10 if speed else "not measured"))
    mem = _min_over(_rows(results, "acmix", "fast", alexnet), ["fwd_bwd_mem_ratio"])
    out.append(_row("ACmix peak memory (fwd+bwd) vs notebook, AlexNet shapes", ">= 5x less",
                    _fmt_where(mem) if mem else "not measured (memory runs skipped)",
                    mem[0] >= 5 if mem else "not measured"))
    small = _min_over(_rows(results, "acmix", "fast", demo), ["fwd_speedup", "fwd_bwd_speedup"])
    out.append(_row("ACmix fwd and fwd+bwd vs notebook at (1,16,56,56)", ">= 5x",
                    _fmt_where(small) if small else "not measured",
                    small[0] >= 5 if small else "not measured"))
    errs = [r["max_rel_err"] for r in _rows(results, "acmix", "fast")]
    out.append(_row("ACmix outputs and gradients vs notebook (max |diff| / max |ref|)", "<= 1e-5",
                    f"{max(errs):.1e}" if errs else "not measured",
                    max(errs) <= 1e-5 if errs else "not measured"))
    return out


def _condconv(results):
    out = []
    autos = _rows(results, "condconv", "auto")
    nbs = {r["shape"]: r for r in _rows(results, "condconv", "notebook")}
    loops = {r["shape"]: r for r in _rows(results, "condconv", "loop")}
    compared, failed = [], []
    for r in autos:
        for mode in ("fwd", "fwd_bwd"):
            ours, ref = r[f"{mode}_ms"], nbs[r["shape"]][f"{mode}_ms"]
            ratio = (ref["median_ms"] / ours["median_ms"], r["shape"], f"{mode}_speedup")
            compared.append(ratio)
            if not (ratio[0] >= 1 or ours["median_ms"] <= ref["max_ms"]):
                failed.append(ratio)
    # Shown: the worst comparison that fails, else the worst one (which passed by the spread).
    shown = min(failed or compared) if compared else None
    out.append(_row("CondConv auto never slower than the notebook's grouped conv",
                    ">= 1.0x, or inside the notebook's min-max",
                    _fmt_where(shown) if shown else "not measured",
                    not failed if shown else "not measured"))
    vs_loop = [(loops[r["shape"]][f"{m}_ms"]["median_ms"] / r[f"{m}_ms"]["median_ms"],
                r["shape"], f"loop_{m}") for r in autos if r["shape"] in loops
               for m in ("fwd", "fwd_bwd")]
    low = min(vs_loop) if vs_loop else None
    out.append(_row("CondConv auto vs a per-sample loop (fwd and fwd+bwd)", ">= 4x",
                    _fmt_where(low) if low else "not measured",
                    low[0] >= 4 if low else "not measured"))
    mem = _min_over(_rows(results, "condconv", "per_expert"), ["fwd_bwd_mem_ratio"])
    out.append(_row("CondConv low-memory mode (per_expert) peak memory vs notebook",
                    ">= 5x less", _fmt_where(mem) if mem else "not measured (memory runs skipped)",
                    mem[0] >= 5 if mem else "not measured"))
    return out


MODEL_TARGETS = [  # (target, faster model, slower model, metric, threshold, higher is better)
    ("AlexNet-ACmix training step vs notebook formulation", "alexnet_acmix",
     "alexnet_acmix[notebook]", "train", 5.0, True),
    ("AlexNet-ACmix inference vs notebook formulation", "alexnet_acmix",
     "alexnet_acmix[notebook]", "infer", 5.0, True),
    ("AlexNet-ACmix training step time / plain AlexNet", "alexnet", "alexnet_acmix", "train",
     1.3, False),
    ("AlexNet-ACmix inference time / plain AlexNet", "alexnet", "alexnet_acmix", "infer", 1.3,
     False),
    ("ResNet50-NAM training step time / fair ResNet50", "resnet50 (fair)", "resnet50_nam",
     "train", 1.10, False),
    ("ResNet50-NAM inference time / fair ResNet50", "resnet50 (fair)", "resnet50_nam",
     "infer", 1.10, False),
    ("ShuffleNetV2 0.5x training step, to_static vs dygraph", "shufflenetv2_x0_5[to_static]",
     "shufflenetv2_x0_5", "train", 1.3, True),
]


def _model_ratio(a, b, metric):
    """Images/s of row a / row b: the median of per-round ratios (time of b / time of a)
    when the rows keep their rounds (``{metric}_timing.samples_ms``), else the ratio of the
    medians (older results)."""
    ta, tb = a.get(f"{metric}_timing") or {}, b.get(f"{metric}_timing") or {}
    if "samples_ms" in ta and "samples_ms" in tb:
        return harness.paired_ratio(tb, ta)[0]
    return a[f"{metric}_img_s"] / b[f"{metric}_img_s"]


def _models(results):
    by = {r["model"]: r for r in (results.get("models") or {}).get("rows", [])}
    out = []
    for target, a, b, metric, thr, higher in MODEL_TARGETS:
        threshold = f">= {thr}x" if higher else f"<= {thr:.2f}"
        if a not in by or b not in by:
            out.append(_row(target, threshold, "not measured", "not measured"))
            continue
        ratio = _model_ratio(by[a], by[b], metric)
        out.append(_row(target, threshold, f"{ratio:.2f}" + ("x" if higher else ""),
                        ratio >= thr if higher else ratio <= thr))
    return out


def _pipeline(results):
    rows = [r for r in (results.get("pipeline") or {}).get("rows", [])]
    return [_row(f"Batched input pipeline vs paddle.vision + DataLoader, {r['recipe']} recipe "
                 f"({r['workers_timed'] or 'in-process'})", ">= 3x (median of rounds)",
                 f"{r['speedup']:.2f}x" + (f" ({r['speedup_min']:.2f}-{r['speedup_max']:.2f})"
                                           if "speedup_min" in r else ""),
                 r["speedup"] >= 3) for r in rows]


def check(results):
    """All target rows, in the issue's order."""
    models = _models(results)
    return _acmix(results) + models[:4] + _condconv(results) + models[4:] + _pipeline(results)


def markdown(rows):
    lines = ["| target (issue 6) | threshold | measured | met |", "|---|---|---|---|"]
    lines += [f"| {r['target']} | {r['threshold']} | {r['measured']} | {r['met']} |" for r in rows]
    return "\n".join(lines)
