"""ACmix layer benchmark: notebook unfold formulation vs the fast (matmul) formulation.

    python benchmarks/bench_acmix.py [--quick] [--threads N] [--no-model]

1. Checks first that both impls give the same outputs and gradients (same weights).
2. Per shape and impl, in a FRESH subprocess: peak memory of one forward (no_grad) and of
   one forward+backward, as Paddle's host allocator sees it (peak allocated bytes minus
   those allocated before the call: activations, workspaces and gradients, not the
   parameters or input), then the median time of forward and of forward+backward over
   repeats after a warm-up.
3. Optionally whole AlexNet-ACmix (fast / notebook) vs plain AlexNet, train step and
   inference images/s, from ``paddle_repro.models``.
Prints markdown tables with the ratios and the thread settings. The machine may be shared:
read the ratios (measured in the same run), not the absolute times.
``acmix_rows(quick)`` returns the layer rows for ``benchmarks/bench_layers.py``.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, ROOT)
# (label, batch, in, out, size): AlexNet's three ACmix layers and the notebook's demo size
SHAPES = [("alexnet conv3", 32, 128, 192, 7), ("alexnet conv4", 32, 192, 192, 7),
          ("alexnet conv5", 32, 192, 128, 7), ("alexnet conv3", 128, 128, 192, 7),
          ("alexnet conv4", 128, 192, 192, 7), ("alexnet conv5", 128, 192, 128, 7),
          ("notebook demo", 1, 16, 64, 56)]
QUICK_SHAPES = [SHAPES[0], SHAPES[1], SHAPES[2], SHAPES[6]]


def _thread_env(threads):
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[key] = str(threads)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _worker(spec):
    """Runs in a fresh process: peak memory of fwd and fwd+bwd, then their median times."""
    import time
    import numpy as np
    import paddle
    from paddle_repro.layers.acmix import ACmix
    paddle.seed(0)
    layer = ACmix(spec["cin"], spec["cout"], impl=spec["impl"])
    x = paddle.randn([spec["batch"], spec["cin"], spec["size"], spec["size"]])
    x.stop_gradient = False
    from paddle.base import core  # host allocator statistics (Paddle >= 2.5)

    def fwd():
        with paddle.no_grad():
            layer(x)

    def fwd_bwd():
        layer(x).sum().backward()
        layer.clear_gradients()

    peaks = {}
    for name, fn in (("fwd", fwd), ("fwd_bwd", fwd_bwd)):
        # Paddle 2.6 cannot reset the peak; the order fwd, then fwd+bwd (which keeps more
        # alive than a no_grad forward) still gives each its own peak in a fresh process.
        if hasattr(core, "host_memory_stat_reset_peak_value"):
            core.host_memory_stat_reset_peak_value("Allocated", 0)
        base = core.host_memory_stat_current_value("Allocated", 0)
        fn()
        peaks[name] = (core.host_memory_stat_peak_value("Allocated", 0) - base) / 2**20
    times = {}
    for name, fn in (("fwd", fwd), ("fwd_bwd", fwd_bwd)):
        fn()  # warm-up
        runs = []
        for _ in range(spec["repeats"]):
            t = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t)
        times[name] = float(np.median(runs)) * 1000
    return {"fwd_ms": times["fwd"], "fwd_bwd_ms": times["fwd_bwd"], "fwd_peak_mb": peaks["fwd"],
            "fwd_bwd_peak_mb": peaks["fwd_bwd"]}


def _measure(spec, threads):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)]
    res = subprocess.run(cmd, env=_thread_env(threads), capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"benchmark worker failed for {spec}:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def check_equal(shapes):
    """Max relative differences (output, input grad, parameter grads) notebook vs fast."""
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
            got.append([out.numpy(), xi.grad.numpy()] + [
                p.grad.numpy() for n, p in layer.named_parameters() if n != "conv_p.bias"])
        for a, b in zip(got[1], got[0]):
            worst = max(worst, float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)))
    return worst


def acmix_rows(quick, threads=1):
    """Layer rows: one dict per shape with both impls' times, memory and the ratios."""
    rows = []
    for label, batch, cin, cout, size in (QUICK_SHAPES if quick else SHAPES):
        spec = dict(batch=batch, cin=cin, cout=cout, size=size, repeats=3 if quick else 5)
        nb = _measure(dict(spec, impl="notebook"), threads)
        fast = _measure(dict(spec, impl="fast"), threads)
        rows.append({
            "layer": "ACmix", "case": label, "shape": f"({batch},{cin},{size},{size})->{cout}",
            "threads": threads,
            "notebook_fwd_ms": nb["fwd_ms"], "fast_fwd_ms": fast["fwd_ms"],
            "fwd_speedup": nb["fwd_ms"] / fast["fwd_ms"],
            "notebook_fwd_bwd_ms": nb["fwd_bwd_ms"], "fast_fwd_bwd_ms": fast["fwd_bwd_ms"],
            "fwd_bwd_speedup": nb["fwd_bwd_ms"] / fast["fwd_bwd_ms"],
            "notebook_fwd_peak_mb": nb["fwd_peak_mb"], "fast_fwd_peak_mb": fast["fwd_peak_mb"],
            "fwd_memory_ratio": nb["fwd_peak_mb"] / fast["fwd_peak_mb"],
            "notebook_fwd_bwd_peak_mb": nb["fwd_bwd_peak_mb"],
            "fast_fwd_bwd_peak_mb": fast["fwd_bwd_peak_mb"],
            "fwd_bwd_memory_ratio": nb["fwd_bwd_peak_mb"] / fast["fwd_bwd_peak_mb"],
        })
    return rows


def model_rows(quick):
    """AlexNet-ACmix (fast, notebook) vs plain AlexNet: train-step and inference images/s."""
    import time
    import numpy as np
    import paddle
    from paddle_repro.models import build_model
    batch = 16 if quick else 64
    x = paddle.randn([batch, 3, 128, 128])
    y = paddle.randint(0, 10, [batch])
    rows = {}
    for key, name, kw in (("alexnet", "alexnet", {}), ("acmix fast", "alexnet_acmix", {}),
                          ("acmix notebook", "alexnet_acmix", {"acmix_impl": "notebook"})):
        paddle.seed(0)
        model = build_model(name, num_classes=10, **kw)
        opt = paddle.optimizer.Adam(parameters=model.parameters(), weight_decay=1e-5)

        def train():
            model.train()
            paddle.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            opt.clear_grad()

        def infer():
            model.eval()
            with paddle.no_grad():
                model(x)

        rate = {}
        for mode, fn in (("train", train), ("infer", infer)):
            runs = []
            for i in range(4 if quick else 6):
                t = time.perf_counter()
                fn()
                runs.append(time.perf_counter() - t)
            rate[mode] = batch / float(np.median(runs[1:]))
        rows[key] = rate
    return batch, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes and repeats")
    parser.add_argument("--threads", type=int, default=1, help="OMP/MKL threads (default 1)")
    parser.add_argument("--no-model", action="store_true", help="skip whole AlexNet-ACmix")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return
    if os.environ.get("OMP_NUM_THREADS") != str(args.threads):  # must be set before paddle loads
        env = _thread_env(args.threads)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    import paddle
    shapes = QUICK_SHAPES if args.quick else SHAPES
    worst = check_equal(shapes)
    print(f"paddle {paddle.__version__}; OMP_NUM_THREADS=MKL_NUM_THREADS={args.threads}; "
          f"notebook vs fast max relative difference (outputs, grads, batch 2): {worst:.1e}")
    if worst > 1e-4:
        sys.exit("outputs differ: not benchmarking")
    print("\n| case | shape | fwd ms nb / fast | x | fwd+bwd ms nb / fast | x "
          "| fwd peak MB nb / fast | x | fwd+bwd peak MB nb / fast | x |\n"
          "|---|---|---|---|---|---|---|---|---|---|")
    for r in acmix_rows(args.quick, args.threads):
        print(f"| {r['case']} | {r['shape']} | {r['notebook_fwd_ms']:.1f} / {r['fast_fwd_ms']:.1f}"
              f" | {r['fwd_speedup']:.1f} | {r['notebook_fwd_bwd_ms']:.1f} / "
              f"{r['fast_fwd_bwd_ms']:.1f} | {r['fwd_bwd_speedup']:.1f} | "
              f"{r['notebook_fwd_peak_mb']:.1f} / {r['fast_fwd_peak_mb']:.1f} | "
              f"{r['fwd_memory_ratio']:.1f} | {r['notebook_fwd_bwd_peak_mb']:.1f} / "
              f"{r['fast_fwd_bwd_peak_mb']:.1f} | {r['fwd_bwd_memory_ratio']:.1f} |",
              flush=True)
    if not args.no_model:
        batch, rows = model_rows(args.quick)
        print(f"\nWhole model, batch {batch}, 3x128x128, Adam step (images/s):\n"
              "| model | train | infer |\n|---|---|---|")
        for key, rate in rows.items():
            print(f"| {key} | {rate['train']:.1f} | {rate['infer']:.1f} |")
        for mode in ("train", "infer"):
            print(f"{mode}: fast / notebook = "
                  f"{rows['acmix fast'][mode] / rows['acmix notebook'][mode]:.1f}x; "
                  f"plain / fast = {rows['alexnet'][mode] / rows['acmix fast'][mode]:.2f}x")


if __name__ == "__main__":
    main()
