"""ACmix layer benchmark: notebook unfold formulation vs the fast (matmul) formulation.

    python benchmarks/bench_acmix.py [--quick] [--threads N] [--no-model]

1. Checks first that both impls give the same outputs and gradients (same weights).
2. Times forward (no_grad) and forward+backward of both impls round-robin in this process
   (``harness.time_interleaved``: load from other processes hits both alike), median of
   repeats after warm-up.
3. Peak memory of one forward and one forward+backward per impl, each in a FRESH process
   (``harness.measure_memory``): Paddle's host allocator peak minus what was allocated
   before the call (activations, workspaces, gradients; not parameters or input).
4. Unless --no-model: whole AlexNet-ACmix (fast, notebook) vs plain AlexNet from
   ``paddle_repro.models``, training step (Adam) and inference images/s, interleaved.
Prints markdown tables with the ratios and the thread settings. The machine may be shared:
read the ratios, which are measured in the same run, not the absolute times. A ">=" marks
a memory value that is only a lower bound (Paddle 2.6 cannot reset the allocator peak).
``acmix_rows(quick)`` returns the layer rows (dicts) for ``benchmarks/bench_layers.py``.

Paddle and the package are imported inside functions on purpose: ``harness.configure_threads``
must set the thread and MKL variables before Paddle's first import (harness.py).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (ROOT, HERE):  # run as a script from anywhere
    if _path not in sys.path:
        sys.path.insert(0, _path)

import harness  # noqa: E402  (benchmarks/harness.py; imports no paddle)

# (label, batch, in, out, size): AlexNet's three ACmix layers and the notebook's demo size
SHAPES = [("alexnet conv3", 32, 128, 192, 7), ("alexnet conv4", 32, 192, 192, 7),
          ("alexnet conv5", 32, 192, 128, 7), ("alexnet conv3", 128, 128, 192, 7),
          ("alexnet conv4", 128, 192, 192, 7), ("alexnet conv5", 128, 192, 128, 7),
          ("notebook demo", 1, 16, 64, 56)]
QUICK_SHAPES = [SHAPES[0], SHAPES[1], SHAPES[2], SHAPES[6]]


def make_call(impl, batch, cin, cout, size, backward):
    """Setup for one measurement: returns a zero-argument callable (harness target)."""
    import paddle
    from paddle_repro.layers.acmix import ACmix
    paddle.seed(0)
    layer = ACmix(cin, cout, impl=impl)
    x = paddle.randn([batch, cin, size, size])
    x.stop_gradient = False

    def fwd():
        with paddle.no_grad():
            layer(x)

    def fwd_bwd():
        layer(x).sum().backward()
        layer.clear_gradients()
        x.clear_gradient()

    return fwd_bwd if backward else fwd


def check_equal(shapes):
    """Max relative difference (output, input and parameter grads) notebook vs fast."""
    import numpy as np
    import paddle
    from paddle_repro.layers.acmix import ACmix
    worst = 0.0
    for _, _, cin, cout, size in shapes:
        paddle.seed(0)
        layers = [ACmix(cin, cout, impl="notebook"), ACmix(cin, cout, impl="fast")]
        layers[1].set_state_dict(layers[0].state_dict())
        x, w = paddle.randn([2, cin, size, size]), paddle.randn([2, cout, size, size])
        got = []
        for layer in layers:
            xi = x.detach()
            xi.stop_gradient = False
            out = layer(xi)
            (out * w).sum().backward()
            # conv_p.bias: both gradients are rounding noise (it cancels; see acmix.py)
            got.append([out.numpy(), xi.grad.numpy()] + [
                p.grad.numpy() for n, p in layer.named_parameters() if n != "conv_p.bias"])
        for a, b in zip(got[1], got[0]):
            worst = max(worst, float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)))
    return worst


def acmix_rows(quick, threads=None):
    """One dict per shape: both impls' median times, peak memory and the ratios."""
    rows = []
    for label, batch, cin, cout, size in (QUICK_SHAPES if quick else SHAPES):
        shape = dict(batch=batch, cin=cin, cout=cout, size=size)
        row = {"layer": "ACmix", "case": label,
               "shape": f"({batch},{cin},{size},{size})->{cout}"}
        for key, backward in (("fwd", False), ("fwd_bwd", True)):
            calls = {impl: make_call(impl, backward=backward, **shape)
                     for impl in ("notebook", "fast")}
            times = harness.time_interleaved(calls, warmup=1, repeats=3 if quick else 5)
            for impl in calls:
                row[f"{impl}_{key}_ms"] = times[impl]["median_ms"]
                mem = harness.measure_memory("bench_acmix:make_call",
                                             dict(shape, impl=impl, backward=backward), threads)
                row[f"{impl}_{key}_peak_mb"] = mem.get("alloc_mb", mem["rss_mb"])
                # Paddle 2.6 cannot reset the allocator peak: then it may be a lower bound
                row[f"{impl}_{key}_peak_exact"] = mem.get("alloc_exact", mem["rss_exact"])
            row[f"{key}_speedup"] = row[f"notebook_{key}_ms"] / row[f"fast_{key}_ms"]
            row[f"{key}_memory_ratio"] = (row[f"notebook_{key}_peak_mb"]
                                          / max(row[f"fast_{key}_peak_mb"], 1e-3))
        rows.append(row)
    return rows


def model_rates(quick):
    """AlexNet-ACmix (fast, notebook) and plain AlexNet: train-step and inference images/s."""
    import paddle
    from paddle_repro.models import build_model
    batch = 16 if quick else 64
    x, y = paddle.randn([batch, 3, 128, 128]), paddle.randint(0, 10, [batch])
    calls = {}
    for key, name, kw in (("alexnet", "alexnet", {}), ("acmix fast", "alexnet_acmix", {}),
                          ("acmix notebook", "alexnet_acmix", {"acmix_impl": "notebook"})):
        paddle.seed(0)
        model = build_model(name, num_classes=10, **kw)
        opt = paddle.optimizer.Adam(parameters=model.parameters(), weight_decay=1e-5)

        def train(model=model, opt=opt):
            model.train()
            paddle.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            opt.clear_grad()

        def infer(model=model):
            model.eval()
            with paddle.no_grad():
                model(x)

        calls[(key, "train")], calls[(key, "infer")] = train, infer
    times = harness.time_interleaved(calls, warmup=1, repeats=3 if quick else 5)
    return batch, {k: batch / (t["median_ms"] / 1000) for k, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes and repeats")
    harness.add_machine_args(parser)
    parser.add_argument("--no-model", action="store_true", help="skip whole AlexNet-ACmix")
    args = parser.parse_args()
    harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)
    import paddle  # noqa: F401  (after the thread settings)
    print(harness.format_header(harness.environment()))
    worst = check_equal(QUICK_SHAPES if args.quick else SHAPES)
    print(f"\nnotebook vs fast, max relative difference of outputs and gradients: {worst:.1e}")
    if worst > 1e-4:
        sys.exit("the impls disagree: not benchmarking")
    print("\n| case | shape | fwd ms nb / fast | x | fwd+bwd ms nb / fast | x | fwd peak MB "
          "nb / fast | x | fwd+bwd peak MB nb / fast | x |\n" + "|---" * 10 + "|")
    for r in acmix_rows(args.quick, args.threads):
        cells = [r["case"], r["shape"]]
        for key in ("fwd", "fwd_bwd"):
            cells += [f"{r[f'notebook_{key}_ms']:.1f} / {r[f'fast_{key}_ms']:.1f}",
                      f"{r[f'{key}_speedup']:.1f}"]
        for key in ("fwd", "fwd_bwd"):
            nb, fast = (("" if r[f"{i}_{key}_peak_exact"] else ">=")
                        + f"{r[f'{i}_{key}_peak_mb']:.1f}" for i in ("notebook", "fast"))
            cells += [f"{nb} / {fast}", f"{r[f'{key}_memory_ratio']:.1f}"]
        print("| " + " | ".join(cells) + " |", flush=True)
    if not args.no_model:
        batch, rate = model_rates(args.quick)
        print(f"\nWhole model, batch {batch} x 3x128x128, images/s (train = fwd+bwd+Adam step)\n"
              "| model | train | infer |\n|---|---|---|")
        for key in ("alexnet", "acmix fast", "acmix notebook"):
            print(f"| {key} | {rate[(key, 'train')]:.1f} | {rate[(key, 'infer')]:.1f} |")
        for mode in ("train", "infer"):
            fast = rate[("acmix fast", mode)]
            print(f"{mode}: fast / notebook = {fast / rate[('acmix notebook', mode)]:.1f}x, "
                  f"plain AlexNet / fast = {rate[('alexnet', mode)] / fast:.2f}x")


if __name__ == "__main__":
    main()
