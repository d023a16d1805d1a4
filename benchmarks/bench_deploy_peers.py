"""Deployment peer table: the exported predictor (plain, oneDNN) against PyTorch eager,
TorchScript and ONNX Runtime, same weights, CPU.

    python benchmarks/bench_deploy_peers.py [--models shufflenetv2_x0_5 ...] [--batches 1,8,128]
        [--threads 1] [--rounds 5] [--acmix-official ACmix/ResNet/test_bottleneck.py]
        [--json out.json] [--quick]

Per network (``MODELS``; AlexNets at 128x128 and at most batch 64, the others at 32x32):

1. a ``prepare`` child exports the suite's model (seed 0, random BatchNorm statistics) as
   ``tools/export_model.py`` does and converts it to ONNX with the suite's paddle2onnx path;
2. three worker processes load it, one framework each (``deploy_workers.py``): the Paddle
   Inference predictor without and with oneDNN; the PyTorch twin (``torch_custom.py``: timm's
   CondConv2d when timm imports, the official ACmix with ``--acmix-official``) with the same
   weights, eager and TorchScript (trace + freeze, per batch size); ONNX Runtime on the
   suite's ``model.onnx``;
3. every backend's logits of one probe batch must equal the dygraph model's within
   ``CHECK_RTOL`` of their scale, else the run stops: nothing is timed on different functions;
4. ``--rounds`` rounds; in each, every batch size, every backend in turn (the order reversed
   every other round), ``reps`` calls each after a warm-up the first time. A round's figure is
   its median call; img/s is the batch over the median of the rounds' figures, and a ratio
   (> 1: Paddle faster) is the median over rounds of the peer's time / Paddle's time in that
   round, with the min-max: paired rounds, so a slow moment of the machine hits both sides.

Only the ratios of one run mean anything, and only on an IDLE machine: numbers taken while
other jobs share the cores measure the other jobs. ``--quick`` (batches 1 and 4, 2 rounds of
2 calls) proves the pipeline end to end; its numbers are not results. A backend whose
framework is missing (torch, onnxruntime, paddle2onnx) is skipped and says why.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import harness  # noqa: E402

MODELS = ["shufflenetv2_x0_5", "alexnet_bn", "alexnet_condconv", "alexnet_acmix", "resnet50_nam"]
ALEXNET_MAX_BATCH = 64  # the AlexNets at 128x128: batch 128 is 64 for them (the table)
BACKENDS = ("predictor", "predictor_onednn", "torch_eager", "torchscript", "onnxruntime")
WORKERS = {"paddle": ("predictor", "predictor_onednn"), "torch": ("torch_eager", "torchscript"),
           "ort": ("onnxruntime",)}
# (Paddle backend, peer): each ratio is the peer's time / Paddle's time, > 1 = Paddle faster
RATIOS = [("predictor_onednn", "torch_eager"), ("predictor_onednn", "torchscript"),
          ("predictor_onednn", "onnxruntime"), ("predictor", "torch_eager")]
CHECK_RTOL = 1e-4  # the ports differ from Paddle by float rounding (<= 2e-6 measured)
SETTLE_S = 0.2  # pause between measurements: an idle OpenMP pool spins for a while after a run
WORKER = os.path.join(HERE, "deploy_workers.py")


class Worker:
    """One ``deploy_workers.py`` child; ``ask`` sends a command and returns its MSG reply."""

    def __init__(self, kind, folder, name, args):
        self.kind = kind
        self.stderr = tempfile.TemporaryFile(mode="w+")
        cmd = [sys.executable, WORKER, kind, folder, name, "--threads", str(args.threads)]
        cmd += ["--stock-mkl"] if args.stock_mkl else []
        cmd += ["--stock-malloc"] if args.stock_malloc else []
        cmd += ["--acmix-official", args.acmix_official] if args.acmix_official else []
        env = dict(os.environ, **{var: str(args.threads) for var in harness.THREAD_VARS})
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True, env=env)

    def read(self):
        for line in self.proc.stdout:
            if line.startswith("MSG "):
                reply = json.loads(line[4:])
                if "error" in reply:
                    raise RuntimeError(f"{self.kind} worker: {reply['error']}")
                return reply
        self.proc.wait()
        self.stderr.seek(0)
        raise RuntimeError(f"{self.kind} worker exited ({self.proc.returncode}):\n"
                           + self.stderr.read()[-2000:])

    def ask(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"cmd": "quit"}\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()  # this child only, started above
                self.proc.wait()
        self.stderr.close()


def batches_for(name, batches):
    """The batch sizes of one network: AlexNets capped at ``ALEXNET_MAX_BATCH``."""
    cap = ALEXNET_MAX_BATCH if name.startswith("alexnet") else None
    return list(dict.fromkeys(min(b, cap) if cap else b for b in batches))


def reps_for(batch, quick):
    """Calls per round: about 256 images' worth, 5 to 50 calls (2 with --quick)."""
    return 2 if quick else max(5, min(50, 256 // batch))


def _relative_error(got, reference):
    got = np.asarray(got)
    if got.shape != reference.shape:
        return float("inf")
    return float(np.abs(got - reference).max() / max(np.abs(reference).max(), 1e-30))


def _start_workers(folder, name, args, onnx_error, log):
    """({kind: Worker} of the workers that started, {backend: why skipped}, versions)."""
    workers, skipped, versions = {}, {}, {}
    for kind in WORKERS:
        if kind == "ort" and onnx_error:
            skipped.update({b: onnx_error for b in WORKERS[kind]})
            continue
        worker = Worker(kind, folder, name, args)
        try:
            ready = worker.read()
            workers[kind] = worker
            versions.update(ready.get("versions") or {})
            log(f"  {kind}: {', '.join(ready['ready'])} {ready.get('versions') or ''}")
        except RuntimeError as err:
            worker.close()
            reason = str(err).strip().splitlines()[-1][:200]
            skipped.update({b: reason for b in WORKERS[kind]})
    for backend, reason in skipped.items():
        log(f"  {backend}: skipped ({reason})")
    return workers, skipped, versions


def _check(workers, folder, name):
    """Every backend's probe logits against the dygraph model's; raises on a mismatch."""
    reference = np.load(os.path.join(folder, "reference.npy"))
    errors = {}
    for worker in workers.values():
        for backend, out in worker.ask(cmd="check", folder=folder)["outputs"].items():
            errors[backend] = _relative_error(out, reference)
    bad = {b: e for b, e in errors.items() if not e <= CHECK_RTOL}
    if bad:
        raise AssertionError(f"{name}: outputs differ from the dygraph model's (relative error "
                             f"{bad}, allowed {CHECK_RTOL}); nothing was timed.")
    return errors


def _time_rounds(workers, name, args, log):
    """{batch: {backend: [round figure in s, ...]}} over ``args.rounds`` paired rounds."""
    order = [(b, w) for w in workers.values() for b in WORKERS[w.kind]]
    samples = {batch: {b: [] for b, _ in order} for batch in batches_for(name, args.batch_list)}
    for r in range(args.rounds):
        for batch in samples:
            for backend, worker in (order if r % 2 == 0 else order[::-1]):
                reply = worker.ask(cmd="time", backend=backend, batch=batch,
                                   reps=reps_for(batch, args.quick), warmup=1 if args.quick else 3)
                samples[batch][backend].append(statistics.median(reply["seconds"]))
                time.sleep(SETTLE_S)
        log(f"  round {r + 1}/{args.rounds} done")
    return samples


def _rows(name, samples, errors, peer):
    rows = []
    for batch, by_backend in samples.items():
        row = {"model": name, "batch": batch, "peer": peer, "check_rel_err": errors,
               "samples_s": by_backend}
        for backend, times in by_backend.items():
            row[f"{backend}_img_s"] = batch / statistics.median(times)
        for ours, peer_backend in RATIOS:
            if ours in by_backend and peer_backend in by_backend:
                ratio, spread = harness.median_of_ratios(by_backend[peer_backend], by_backend[ours])
                row[f"{ours}/{peer_backend}"] = [ratio, list(spread)]
        rows.append(row)
    return rows


def run_model(name, args, log=print):
    """(rows, environment, {backend: why skipped}, versions) of one network (module doc)."""
    folder = tempfile.mkdtemp(prefix=f"deploy-peers-{name}-")
    workers = {}
    try:
        prep = Worker("prepare", folder, name, args)
        try:
            info = prep.read()
        finally:
            prep.close()
        workers, skipped, versions = _start_workers(folder, name, args, info["onnx_error"], log)
        versions.update(info["versions"])
        errors = _check(workers, folder, name)
        log("  outputs agree with the dygraph model: "
            + ", ".join(f"{b} {e:.1e}" for b, e in errors.items()))
        samples = _time_rounds(workers, name, args, log)
        return _rows(name, samples, errors, versions.get("peer")), info["environment"], skipped, versions
    finally:
        for worker in workers.values():
            worker.close()
        shutil.rmtree(folder, ignore_errors=True)


def run(args, log=print):
    """{"rows", "environment", "skipped", "versions", "load_avg"} of every network."""
    res = {"rows": [], "skipped": {}, "versions": {}, "environment": None,
           "settings": {"threads": args.threads, "rounds": args.rounds, "quick": args.quick,
                        "batches": args.batch_list}, "load_avg_start": os.getloadavg()[0]}
    for name in args.model_list:
        log(f"{name}:")
        rows, env, skipped, versions = run_model(name, args, log)
        res["rows"] += rows
        res["environment"] = res["environment"] or env
        res["versions"].update(versions)
        res["skipped"].update({f"{name} {b}": why for b, why in skipped.items()})
    res["load_avg_end"] = os.getloadavg()[0]
    return res


def _cell(row, key):
    if key not in row:
        return "-"
    ratio, (lo, hi) = row[key]
    return f"**{ratio:.2f}** ({lo:.2f}-{hi:.2f})"


def markdown(res):
    """The table: img/s per backend, then the ratios (peer time / Paddle time, > 1 = Paddle faster)."""
    head = ["model", "batch"] + [f"{b} img/s" for b in BACKENDS] + [f"{a} / {b}" for a, b in RATIOS]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row in res["rows"]:
        cells = [row["model"], str(row["batch"])]
        cells += [f"{row[b + '_img_s']:.1f}" if b + "_img_s" in row else "-" for b in BACKENDS]
        cells += [_cell(row, f"{a}/{b}") for a, b in RATIOS]
        lines.append("| " + " | ".join(cells) + " |")
    env, s = res["environment"] or {}, res["settings"]
    peers = sorted({r["peer"] for r in res["rows"] if r.get("peer")})
    lines += ["", f"Paddle {env.get('paddle', '?')}, {', '.join(f'{k} {v}' for k, v in res['versions'].items() if k != 'peer')}; "
              f"{s['threads']} thread(s), {s['rounds']} rounds{' (--quick: not a result)' if s['quick'] else ''}; "
              f"CPU {env.get('cpu', '?')}; commit {env.get('commit', '?')}; load average "
              f"{res['load_avg_start']:.1f} at the start, {res['load_avg_end']:.1f} at the end.",
              "Ratio = the peer's time / Paddle's time per round, median (min-max) over rounds; "
              "> 1: Paddle is faster. Peers: " + "; ".join(peers) + "."]
    if res["skipped"]:
        lines.append("Skipped: " + "; ".join(f"{k}: {v}" for k, v in res["skipped"].items()) + ".")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated registry names")
    p.add_argument("--batches", default="1,8,128", help="comma-separated (AlexNets capped at 64)")
    p.add_argument("--rounds", type=int, default=5, help="paired rounds (default 5)")
    p.add_argument("--acmix-official", help="LeapLabTHU/ACmix's ResNet/test_bottleneck.py: the "
                                            "ACmix peer (default: the suite's formulation in torch)")
    p.add_argument("--quick", action="store_true", help="batches 1 and 4, 2 rounds of 2 calls: "
                                                        "proves the pipeline, measures nothing")
    p.add_argument("--json", help="also write the results (raw round figures included) here")
    harness.add_machine_args(p)
    args = p.parse_args(argv)
    args.model_list = [m for m in args.models.split(",") if m]
    args.batch_list = [1, 4] if args.quick else [int(b) for b in args.batches.split(",")]
    if args.quick:
        args.rounds = 2
    t0 = time.time()
    res = run(args)
    print()
    print(markdown(res))
    print(f"({time.time() - t0:.0f} s)")
    harness.write_json(args.json, res)
    return res


if __name__ == "__main__":
    main()
