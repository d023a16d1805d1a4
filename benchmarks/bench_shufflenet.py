"""ShuffleNetV2 0.5x training levers, each measured against today's default in one process.

    python benchmarks/bench_shufflenet.py [--threads 2] [--repeats 9] [--quick]

Variants (all compute the notebook's numbers; ``tests/test_shufflenet_fast.py``):
``notebook`` (slice split, concat + view/permute/reshape shuffle, dygraph: the baseline),
``fast`` (one split op + stack-shuffle), and each under ``paddle.jit.to_static``. Training
steps (forward, cross-entropy, backward, Momentum step) at batch 128, 32x32, timed
round-robin; ratios are the median of per-round ratios to the baseline, with the min-max.

Paddle and the package are imported inside functions on purpose: ``harness.configure_threads``
must set the thread and MKL variables before Paddle's first import (harness.py).
"""
import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _p in (str(HERE.parent), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402

VARIANTS = [
    ("notebook (dygraph)", {"impl": "notebook"}),
    ("fast (dygraph)", {"impl": "fast"}),
    ("notebook + to_static", {"impl": "notebook", "to_static": True}),
    ("fast + to_static", {"impl": "fast", "to_static": True}),
]


def run(quick=False, repeats=9, log=print):
    import bench_models
    cases = [(label, "shufflenetv2_x0_5", kw, 32, (128, 64), "momentum") for label, kw in VARIANTS]
    built = [bench_models._prepare(c, quick) for c in cases]
    steps = {m["model"]: f for m, f, _ in built}
    t = harness.time_interleaved(steps, 4, 3 if quick else repeats)
    base = VARIANTS[0][0]
    rows = []
    for meta, _, _ in built:
        tm = t[meta["model"]]
        ratio, spread = harness.paired_ratio(t[base], tm)
        rows.append({"variant": meta["model"], "batch": meta["batch"],
                     "img_s": meta["batch"] * 1e3 / tm["median_ms"],
                     "img_s_range": [meta["batch"] * 1e3 / tm["max_ms"],
                                     meta["batch"] * 1e3 / tm["min_ms"]],
                     "speedup": ratio, "spread": list(spread)})
        log(f"{meta['model']}: {rows[-1]['img_s']:.1f} img/s, x{ratio:.2f}")
    return rows


def markdown(rows):
    lines = ["| ShuffleNetV2 0.5x train step | img/s (min-max) | vs notebook dygraph (min-max) |",
             "|---|---|---|"]
    for r in rows:
        lo, hi = r["img_s_range"]
        lines.append(f"| {r['variant']} | {r['img_s']:.0f} ({lo:.0f}-{hi:.0f}) | "
                     f"{r['speedup']:.2f} ({r['spread'][0]:.2f}-{r['spread'][1]:.2f}) |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=9)
    harness.add_machine_args(p)
    p.add_argument("--json")
    args = p.parse_args(argv)
    harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)
    rows = run(args.quick, args.repeats)
    print(harness.format_header(harness.environment()))
    print(markdown(rows))
    harness.write_json(args.json, rows)


if __name__ == "__main__":
    main()
