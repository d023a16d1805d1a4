"""Speed against PyTorch: the same networks, batch, input size and threads, each in a fresh process.

    python tools/benchmark.py --peers [--threads 2] [--rounds 3] [--quick]
    python benchmarks/bench_peers.py [--threads 2] [--rounds 3] [--quick] [--json out.json]

For each network (notebook 004's ShuffleNetV2 0.5x, notebooks 000/002's AlexNet and
AlexNet-BN at 128x128, ResNet50 with the CIFAR stem) and each framework, one child process
builds the network, checks nothing but itself, and times a training step (forward,
cross-entropy, backward, SGD-momentum step) and inference (eval mode, no grad) on random
inputs after warm-up steps. Rounds alternate the frameworks (paddle, torch, torch, paddle,
...) so the machine's drift cancels in each round's ratio; a ratio is the median of the
per-round ratios (min-max beside it). Both sides run with the same thread count; ours with
the tools' settings (MKL's AVX2 kernels on AMD, kept freed memory).

torch is an optional, benchmark-only dependency (``pip install torch``); without it the
script says so and exits 0. Parameter counts are compared first: a mismatch is an error,
since it would mean two different networks.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402

# name -> (our registry kwargs, input [C, H, W], classes, batch)
NETWORKS = {
    "shufflenetv2_x0_5": ({"init": "torch_default"}, [3, 32, 32], 10, 128),
    "alexnet": ({}, [3, 128, 128], 10, 64),
    "alexnet_bn": ({}, [3, 128, 128], 10, 64),
    "resnet50": ({}, [3, 32, 32], 100, 32),
}


def _time(fn, warmup, steps):
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps


def _child_paddle(name, batch, warmup, steps):
    import numpy as np
    import paddle
    from paddle_repro.models import build_model, count_params
    kwargs, shape, classes, _ = NETWORKS[name]
    paddle.seed(0)
    model = build_model(name, num_classes=classes, **kwargs)
    opt = paddle.optimizer.Momentum(0.01, momentum=0.9, parameters=model.parameters())
    x = paddle.to_tensor(np.random.RandomState(0).randn(batch, *shape).astype("float32"))
    y = paddle.to_tensor(np.random.RandomState(1).randint(0, classes, batch).astype("int64"))
    loss_fn = paddle.nn.CrossEntropyLoss()

    def train_step():
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.clear_grad()
        float(loss)

    def infer():
        with paddle.no_grad():
            model(x).numpy()

    model.train()
    t_train = _time(train_step, warmup, steps)
    model.eval()
    t_infer = _time(infer, warmup, steps)
    return {"train_img_s": batch / t_train, "infer_img_s": batch / t_infer,
            "trainable_params": int(count_params(model)[1])}


def _child_torch(name, batch, warmup, steps, threads):
    import torch
    from peer_nets_torch import PEERS
    torch.set_num_threads(threads)
    _, shape, classes, _ = NETWORKS[name]
    torch.manual_seed(0)
    model = PEERS[name]()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, *shape)
    y = torch.randint(0, classes, (batch,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def train_step():
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        float(loss)

    def infer():
        with torch.no_grad():
            model(x).numpy()

    model.train()
    t_train = _time(train_step, warmup, steps)
    model.eval()
    t_infer = _time(infer, warmup, steps)
    return {"train_img_s": batch / t_train, "infer_img_s": batch / t_infer,
            "trainable_params": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
            "torch": torch.__version__}


def _run_child(framework, name, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", framework, name,
           "--threads", str(args.threads), "--warmup", str(args.warmup), "--steps", str(args.steps)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"{framework} {name} child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def torch_available():
    try:
        out = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, timeout=120)
        return out.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run(args):
    """All rounds; returns {name: {paddle: [runs], torch: [runs], ratios}}."""
    names = [n.strip() for n in args.networks.split(",") if n.strip()]
    results = {n: {"paddle": [], "torch": []} for n in names}
    for r in range(args.rounds):
        for name in names:
            order = ("paddle", "torch") if r % 2 == 0 else ("torch", "paddle")
            for fw in order:
                results[name][fw].append(_run_child(fw, name, args))
                print(f"  round {r + 1} {name:<18s} {fw:<6s} train "
                      f"{results[name][fw][-1]['train_img_s']:8.1f} img/s, infer "
                      f"{results[name][fw][-1]['infer_img_s']:8.1f} img/s", flush=True)
    for name, res in results.items():
        ours, theirs = res["paddle"][0]["trainable_params"], res["torch"][0]["trainable_params"]
        if ours != theirs:
            raise RuntimeError(f"{name}: {ours} trainable parameters in ours, {theirs} in the "
                               "PyTorch peer: not the same network")
        for mode in ("train_img_s", "infer_img_s"):
            ratio, spread = harness.median_of_ratios([x[mode] for x in res["paddle"]],
                                                     [x[mode] for x in res["torch"]])
            res[mode] = {"paddle": statistics.median(x[mode] for x in res["paddle"]),
                         "torch": statistics.median(x[mode] for x in res["torch"]),
                         "ratio": ratio, "min": spread[0], "max": spread[1]}
    return results


def table(results, args):
    lines = [f"| network | batch | mode | ours (Paddle) img/s | PyTorch img/s | ours / PyTorch (min-max) |",
             "|---|---|---|---|---|---|"]
    for name, res in results.items():
        for mode, label in (("train_img_s", "train step"), ("infer_img_s", "inference")):
            m = res[mode]
            lines.append(f"| {name} | {NETWORKS[name][3]} | {label} | {m['paddle']:.1f} | "
                         f"{m['torch']:.1f} | {m['ratio']:.2f}x ({m['min']:.2f}-{m['max']:.2f}) |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_machine_args(p)
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (fresh processes)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--quick", action="store_true", help="1 round, 2 warm-up, 3 timed steps")
    p.add_argument("--networks", default=",".join(NETWORKS))
    p.add_argument("--json")
    p.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "NETWORK"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        framework, name = args.child
        harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)
        batch = NETWORKS[name][3]
        res = (_child_paddle(name, batch, args.warmup, args.steps) if framework == "paddle"
               else _child_torch(name, batch, args.warmup, args.steps, args.threads))
        print(json.dumps(res))
        return res
    if args.quick:
        args.rounds, args.warmup, args.steps = 1, 2, 3
    if not torch_available():
        print("bench_peers: torch is not installed (pip install torch); no peer column measured.")
        return {}
    print(f"Peers: ours vs PyTorch, {args.threads} thread(s), {args.rounds} round(s) of fresh processes")
    results = run(args)
    text = table(results, args)
    print(text)
    harness.write_json(args.json, {"results": results, "table": text, "argv": sys.argv})
    return results


if __name__ == "__main__":
    main()
