"""How long a notebook config's run takes on this CPU: measured per image, extrapolated per epoch.

    python benchmarks/bench_epochs.py [--threads 1,2] [--only condconv,acmix,nam,shufflenetv2]

For each faithful config (the notebooks' recipes, unchanged but for the data file) and each
thread count, in a fresh process: build the run exactly as ``tools/train.py`` does
(``engine.run.build_run``: recipe loaders and workers, model, optimizer, to_static where
the recipe sets it), train one pass over ``k`` batches to warm up (to_static tracing, loader
workers, first-touch memory), then time a second pass over the same ``k`` batches, and the
same for one eval batch. Per-image seconds then give an epoch on the sample data of
``../shared/data`` and on the full data set (50,000 train / 10,000 test images), and the
recipe's whole run. Training and eval are timed separately because they scale with different
image counts. The seconds include data loading, as a run's do; not included: checkpoints,
curves, the end-of-run throughput pass.

Paddle and the package are imported inside functions on purpose: ``harness.configure_threads``
must set the thread and MKL variables before Paddle's first import (harness.py).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "data"
C10, C100 = "cifar-10-python-exact-mini.tar.gz", "cifar-100-python-exact-mini.tar.gz"
# (reproduction, config, data file, sample train/test sizes, full train/test sizes, overrides)
# The NAM recipe's train batch of 256 at 32x32 ran out of this machine's 24 GiB in training
# (ResNet50 with the CIFAR stem keeps 32x32 maps through layer1): it is timed at batch 64.
NAM_BATCH = ["DataLoader.Train.batch_size=64", "DataLoader.Eval.batch_size=64"]
CASES = [
    ("condconv", "configs/condconv/alexnet_condconv.yaml", C10, (5170, 1017), (50000, 10000), []),
    ("condconv", "configs/condconv/alexnet_bn.yaml", C10, (5170, 1017), (50000, 10000), []),
    ("acmix", "configs/acmix/alexnet_acmix.yaml", C10, (5170, 1017), (50000, 10000), []),
    ("acmix", "configs/acmix/alexnet.yaml", C10, (5170, 1017), (50000, 10000), []),
    ("nam", "configs/nam/resnet50_nam.yaml", C100, (486, 916), (50000, 10000), NAM_BATCH),
    ("nam", "configs/nam/resnet50_imagenet.yaml", C100, (486, 916), (50000, 10000), NAM_BATCH),
    ("shufflenetv2", "configs/shufflenetv2/x0_5.yaml", C10, (5170, 1017), (50000, 10000), []),
]
MIN_TIMED_IMAGES = 256  # batches timed per pass: enough for this many training images


def measure(config, data_file, threads, overrides=()):
    """In this process: seconds per training image and per eval image of ``config``."""
    harness.configure_threads(threads)
    import time

    import paddle

    from paddle_repro.config import load_config
    from paddle_repro.engine.evaluate import evaluate
    from paddle_repro.engine.interrupt import StopFlag
    from paddle_repro.engine.logger import RunLogger
    from paddle_repro.engine.loop import EpochStats, train_one_epoch
    from paddle_repro.engine.run import build_run

    probe = load_config(ROOT / config, list(overrides))
    batch, eval_batch = (probe["DataLoader"][s]["batch_size"] for s in ("Train", "Eval"))
    k = max(1, -(-MIN_TIMED_IMAGES // batch))
    out = f"/tmp/bench_epochs_{os.getpid()}"
    cfg = load_config(ROOT / config, [
        f"DataLoader.dataset.data_file={SAMPLES / data_file}", "DataLoader.dataset.allow_unofficial=true",
        f"DataLoader.Train.num_samples={k * batch}", f"DataLoader.Eval.num_samples={eval_batch}",
        "Global.device=cpu", f"Global.output_dir={out}", "Global.progress_bar=false", *overrides])
    with paddle.utils.unique_name.guard():
        run = build_run(cfg)
    logger = RunLogger(out, enabled=False)
    times = []
    with StopFlag() as stop:
        for epoch in (1, 2):  # 1: warm-up, 2: timed
            tic = time.perf_counter()
            train_one_epoch(run, logger, stop, epoch, 0, EpochStats(), 0)
            times.append(time.perf_counter() - tic)
    evaluate(run.net, run.eval_loader, run.loss_fn, run.num_classes, run.topk)
    tic = time.perf_counter()
    evaluate(run.net, run.eval_loader, run.loss_fn, run.num_classes, run.topk)
    eval_s = time.perf_counter() - tic
    return {"train_s_per_img": times[1] / (k * batch), "eval_s_per_img": eval_s / eval_batch,
            "warmup_s": times[0], "timed_images": k * batch, "epochs": cfg["Global"]["epochs"],
            "batch": batch}


def _fresh(config, data_file, threads, overrides):
    """``measure`` in a fresh process. The result goes through a file and only the child
    itself is waited for: a child killed (e.g. out of memory) leaves its loader workers
    holding any pipe, so those are ended with its process group."""
    result = f"/tmp/bench_epochs_result_{os.getpid()}.json"
    code = ("import json, sys; sys.path.insert(0, %r); import bench_epochs; "
            "json.dump(bench_epochs.measure(%r, %r, %d, %r), open(%r, 'w'))"
            % (str(HERE), config, data_file, threads, list(overrides), result))
    with open(result + ".log", "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=err, stderr=subprocess.STDOUT,
                                cwd=str(ROOT), start_new_session=True)
        try:
            code = proc.wait(timeout=3600)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # leftover loader workers
            except ProcessLookupError:
                pass
    if code != 0:
        with open(result + ".log") as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f"{config} at {threads} thread(s) exited {code} (-9: killed, e.g. "
                           f"out of memory):\n{tail}")
    with open(result) as f:
        return json.load(f)


def _hms(seconds):
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def rows(only=None, threads=(1, 2), log=print):
    """Markdown rows per reproduction: {repro: [row, ...]}."""
    table = {}
    for repro, config, data_file, sample, full, overrides in CASES:
        if only and repro not in only:
            continue
        for t in threads:
            m = _fresh(config, data_file, t, overrides)
            epoch_sample = sample[0] * m["train_s_per_img"] + sample[1] * m["eval_s_per_img"]
            epoch_full = full[0] * m["train_s_per_img"] + full[1] * m["eval_s_per_img"]
            row = (f"| `{config}` | {m['batch']} | {t} | {1 / m['train_s_per_img']:.1f} | {1 / m['eval_s_per_img']:.1f} | "
                   f"{_hms(epoch_sample)} | {_hms(epoch_full)} | {m['epochs']} | "
                   f"{_hms(epoch_full * m['epochs'])} |")
            log(row)
            table.setdefault(repro, []).append(row)
    return table


HEADER = ("| config | batch | threads | train img/s | eval img/s | epoch on the sample data | "
          "epoch on full CIFAR | recipe epochs | whole recipe on full CIFAR |\n"
          "|---|---|---|---|---|---|---|---|---|")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--only", default="", help="comma-separated reproductions")
    args = p.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    only = [o for o in args.only.split(",") if o]
    if not SAMPLES.is_dir():
        raise SystemExit(f"needs the CIFAR samples in {SAMPLES}")
    table = rows(only, threads, log=lambda r: print(r, flush=True))
    from paddle_repro import process
    process.prepare_process()  # what the children applied, so the header reports it
    env = harness.format_header(harness.environment())
    print("\n" + env)
    for repro, lines in table.items():
        print(f"\n### {repro}\n\n{HEADER}\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
