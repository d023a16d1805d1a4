"""Our networks against the same networks in PyTorch (the notebooks' own framework).

    python benchmarks/bench_peers.py [--threads 2] [--rounds 3] [--quick] [--json out.json]
    python tools/benchmark.py --peers            # the same, from the benchmark front end

For each network: our Paddle model (``paddle_repro.models``) and its PyTorch twin
(``benchmarks/torch_models.py``) at the same batch, input size, optimizer and thread count.
Before timing, the parameter counts must be equal and, with the Paddle weights ported into
the torch model, the eval-mode outputs must agree (relative error <= 1e-4): a mismatch aborts.

Timing: every measurement is a FRESH process (one framework imported, threads set before
the import); rounds alternate which framework goes first. A child times training steps
(forward, cross-entropy, backward, optimizer step) and inference (eval, no grad) after
warm-up, and reports its medians. Ratio = our img/s / PyTorch img/s per round; the table
gives the median over rounds with the min-max. torch is optional: without it the script
says so and exits.

Paddle and the package are imported inside functions on purpose: ``harness.configure_threads``
must set the thread and MKL variables before Paddle's first import (harness.py).
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _p in (str(HERE.parent), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402

# (registry name, input side, batch (full, quick), optimizer): the recipes' optimizers,
# as in bench_models.CASES.
PEERS = [
    ("shufflenetv2_x0_5", 32, (128, 32), "momentum"),
    ("alexnet", 128, (64, 16), "adam"),
    ("alexnet_bn", 128, (64, 16), "sgd"),
    ("resnet50", 32, (32, 8), "momentum"),
]
NUM_CLASSES = {"resnet50": 100}


def _steps(quick):
    return (2, 3) if quick else (3, 8)  # warm-up, timed


def _paddle_child(name, side, batch, opt_name, quick, to_static):
    import paddle
    import bench_models
    case = (name, name, {"to_static": True} if to_static else {}, side, (batch, batch), opt_name)
    _, train_step, infer = bench_models._prepare(case, False)
    nparams = sum(int(p.size) for p in bench_models_params(train_step))
    warmup, reps = _steps(quick)
    warmup += 2 if to_static else 0
    return nparams, harness.time_callable(train_step, warmup, reps), \
        harness.time_callable(infer, warmup, reps), paddle.__version__


def bench_models_params(train_step):
    """The model's trainable parameters, through the closure of bench_models' train step."""
    cells = {n: c.cell_contents for n, c in zip(train_step.__code__.co_freevars,
                                                 train_step.__closure__)}
    return [p for p in cells["model"].parameters() if not p.stop_gradient]


def _torch_optimizer(torch, name, params):
    if name == "adam":
        return torch.optim.Adam(params, 1e-3, weight_decay=1e-5)
    if name == "momentum":
        return torch.optim.SGD(params, 0.01, momentum=0.9, weight_decay=5e-4)
    return torch.optim.SGD(params, 0.1, weight_decay=1e-5)


def _torch_child(name, side, batch, opt_name, quick, threads):
    import torch
    import torch_models
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch_models.BUILDERS[name]()
    opt = _torch_optimizer(torch, opt_name, model.parameters())
    x = torch.randn(batch, 3, side, side)
    y = torch.randint(0, NUM_CLASSES.get(name, 10), (batch,))

    def train_step():
        model.train()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        float(loss)

    def infer():
        model.eval()
        with torch.no_grad():
            float(model(x).reshape(-1)[0])

    warmup, reps = _steps(quick)
    return torch_models.count_params(model), harness.time_callable(train_step, warmup, reps), \
        harness.time_callable(infer, warmup, reps), torch.__version__


def check_equal(name, side):
    """Same parameter count and, with ported weights, same eval outputs. Runs in a child
    that imports both frameworks (only for this check, never for timing)."""
    import numpy as np
    import paddle
    import torch
    import torch_models
    from paddle_repro.models import build_model
    paddle.seed(0)
    ours = build_model(name)
    ours.eval()
    peer = torch_models.BUILDERS[name]()
    n_ours = sum(int(p.size) for p in ours.parameters() if not p.stop_gradient)
    n_peer = torch_models.count_params(peer)
    if n_ours != n_peer:
        raise AssertionError(f"{name}: {n_ours} parameters in Paddle, {n_peer} in PyTorch")
    torch_models.port_from_paddle(peer, {k: v.numpy() for k, v in ours.state_dict().items()})
    peer.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, side, side)).astype("float32")
    a = ours(paddle.to_tensor(x)).numpy()
    with torch.no_grad():
        b = peer(torch.from_numpy(x)).numpy()
    err = float(np.abs(a - b).max() / (np.abs(b).max() + 1e-12))
    if err > 1e-4:
        raise AssertionError(f"{name}: outputs differ, relative error {err:.2e}")
    return {"params": n_ours, "output_rel_err": err}


def _child_main(args):
    if args.child == "check":
        out = check_equal(args.net, dict((p[0], p[1]) for p in PEERS)[args.net])
    else:
        name, side, batches, opt_name = next(p for p in PEERS if p[0] == args.net)
        batch = batches[1] if args.quick else batches[0]
        if args.child == "torch":
            n, tr, inf, ver = _torch_child(name, side, batch, opt_name, args.quick, args.threads)
        else:
            harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)
            n, tr, inf, ver = _paddle_child(name, side, batch, opt_name, args.quick,
                                            args.child == "paddle_static")
        out = {"params": n, "batch": batch, "version": ver,
               "train_ms": tr["median_ms"], "infer_ms": inf["median_ms"]}
    print("RESULT " + json.dumps(out))


def _spawn(kind, net, args):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--net", net,
           "--threads", str(args.threads)] + (["--quick"] if args.quick else []) \
        + (["--stock-mkl"] if args.stock_mkl else []) + (["--stock-malloc"] if args.stock_malloc else [])
    env = dict(os.environ)
    for var in harness.THREAD_VARS:
        env[var] = str(args.threads)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} {net} failed:\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def run(args, log=print):
    """{"rows": [...]} with per-round samples; raises if an equality check fails."""
    if importlib.util.find_spec("torch") is None:
        log("PyTorch is not installed: no peer comparison (pip install torch).")
        return {"rows": [], "skipped": "torch not installed"}
    nets = [p[0] for p in PEERS if not args.nets or p[0] in args.nets.split(",")]
    kinds = ["paddle", "torch"] + (["paddle_static"] if args.to_static else [])
    rows = []
    for net in nets:
        check = _spawn("check", net, args)
        log(f"{net}: {check['params']:,} parameters in both, outputs agree "
            f"(rel err {check['output_rel_err']:.1e})")
        samples = {k: [] for k in kinds}
        for r in range(args.rounds):
            order = kinds if r % 2 == 0 else kinds[::-1]  # alternate who goes first
            for kind in order:
                samples[kind].append(_spawn(kind, net, args))
                log(f"  round {r + 1} {kind}: train {samples[kind][-1]['train_ms']:.0f} ms, "
                    f"infer {samples[kind][-1]['infer_ms']:.0f} ms")
        batch = samples["torch"][0]["batch"]
        row = {"model": net, "batch": batch, "params": check["params"],
               "versions": {k: samples[k][0]["version"] for k in kinds}, "samples": samples}
        for metric in ("train", "infer"):
            for kind in kinds:
                ms = sorted(s[f"{metric}_ms"] for s in samples[kind])
                row[f"{kind}_{metric}_img_s"] = batch * 1e3 / ms[len(ms) // 2]
            for kind in kinds[:1] + kinds[2:]:  # ours / torch = torch time / our time
                ratio, spread = harness.median_of_ratios(
                    [s[f"{metric}_ms"] for s in samples["torch"]],
                    [s[f"{metric}_ms"] for s in samples[kind]])
                row[f"{kind}_{metric}_ratio"] = [ratio, list(spread)]
        rows.append(row)
    return {"rows": rows, "rounds": args.rounds, "threads": args.threads}


def markdown(res):
    """One line per network: our img/s, PyTorch's, the ratio (train and inference)."""
    if not res["rows"]:
        return "Not measured: " + res.get("skipped", "no rows") + "."
    static = any("paddle_static_train_img_s" in r for r in res["rows"])
    head = ("| network | batch | params | train img/s ours | PyTorch | ours/PyTorch (min-max) | "
            + ("to_static img/s | to_static/PyTorch | " if static else "")
            + "inference img/s ours | PyTorch | ours/PyTorch |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in res["rows"]:
        tr, inf = r["paddle_train_ratio"], r["paddle_infer_ratio"]
        cells = [r["model"], str(r["batch"]), f"{r['params']:,}",
                 f"{r['paddle_train_img_s']:.0f}", f"{r['torch_train_img_s']:.0f}",
                 f"**{tr[0]:.2f}** ({tr[1][0]:.2f}-{tr[1][1]:.2f})"]
        if static:
            st = r.get("paddle_static_train_ratio")
            cells += [f"{r['paddle_static_train_img_s']:.0f}",
                      f"{st[0]:.2f} ({st[1][0]:.2f}-{st[1][1]:.2f})"] if st else ["", ""]
        cells += [f"{r['paddle_infer_img_s']:.0f}", f"{r['torch_infer_img_s']:.0f}",
                  f"**{inf[0]:.2f}** ({inf[1][0]:.2f}-{inf[1][1]:.2f})"]
        lines.append("| " + " | ".join(cells) + " |")
    v = res["rows"][0]["versions"]
    lines += ["", f"Paddle {v['paddle']}, PyTorch {v['torch']}, {res['threads']} thread(s), "
              f"{res['rounds']} rounds, each measurement a fresh process; ratio > 1: ours is "
              "faster. Median over rounds of the per-round ratio, min-max in brackets."]
    return "\n".join(lines)


def add_args(p):
    harness.add_machine_args(p)
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--nets", help="subset, comma-separated: " + ",".join(x[0] for x in PEERS))
    p.add_argument("--to-static", action="store_true",
                   help="also time our models under paddle.jit.to_static")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small batches, few steps")
    add_args(p)
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--net", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return _child_main(args)
    t0 = time.time()
    res = run(args)
    print(markdown(res))
    print(f"({time.time() - t0:.0f} s, load average {os.getloadavg()[0]:.1f})")
    harness.write_json(args.json, res)
    return res


if __name__ == "__main__":
    main()
