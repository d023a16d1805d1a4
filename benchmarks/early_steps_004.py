"""Notebook 004's recipe in its first steps: how often does Adam at lr 0.1 stall at chance,
in the notebook's own PyTorch code and in the suite, on the same images?

Issue 25's full runs stalled at chance (train top-1 0.10) for epochs in 3 of 4 seeds, while
the notebook's log learned from the first epoch (20 % train top-1). Adam at lr 0.1 on
BatchNorm is chaotic in its first steps, so one seed says little; this script runs several
seeds of each side on the same class-balanced subset and prints, per seed, the mean train
loss and top-1 of the last steps, then how many seeds learned.

* ``torch``: the notebook's network and the inner step of its ``utils.train`` (zero_grad,
  forward, ``nn.CrossEntropyLoss``, backward, ``optim.Adam(lr=0.1)``), from
  ``tests/reference/notebook_shufflenet_torch.py``, PyTorch's own init under
  ``torch.manual_seed(seed)``, shuffled by ``torch.randperm`` (the DataLoader's
  RandomSampler draws from the same generator), batch 128, drop_last, the executed
  notebook's data cell (ToTensor + Normalize 0.5, no augmentation).
* ``suite``: ``tools/train.py -c configs/shufflenetv2/x0_5.yaml`` (the faithful config)
  with ``Global.seed=seed`` and the same subset (``DataLoader.Train.num_samples``), its
  per-step records (``Global.log_interval=1``).

Needs torch (``pip install -e .[crosscheck]``). Usage (the rebuilt CIFAR-10 of issue 25):

    python benchmarks/early_steps_004.py --data ../shared/data/cifar-10-rebuilt.tar.gz \
        --steps 150 --torch-seeds 0,1,2,3,4,5 --suite-seeds 0,1,2,3 --json early_steps.json
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # tests/reference is not part of the installed package
BATCH = 128
LEARNED = 0.15  # mean top-1 of the last steps above this: the seed learned (chance is 0.10)


def subset(data, n):
    """uint8 images [n, 32, 32, 3] and labels [n] of the suite's class-balanced subset."""
    from paddle_repro.data.datasets import build_dataset
    ds = build_dataset({"name": "cifar10", "data_file": data}, {"num_samples": n}, "train")
    return ds.raw_images(np.arange(len(ds))), np.asarray(ds.labels, dtype=np.int64)


def torch_steps(images, labels, seed, steps):
    """The notebook's inner training step, ``steps`` times; per-step (loss, top-1)."""
    import torch
    from tests.reference.notebook_shufflenet_torch import ShuffleNetV2, get_acc, notebook_transform
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    net = ShuffleNetV2(net_size=0.5)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-1)
    criterion = torch.nn.CrossEntropyLoss()
    order = torch.randperm(len(labels))
    images, labels = torch.from_numpy(images), torch.from_numpy(labels)
    net.train()
    out = []
    for step in range(steps):
        idx = order[step * BATCH:(step + 1) * BATCH]
        im, label = notebook_transform(images[idx]), labels[idx]
        optimizer.zero_grad()
        outputs = net(im)
        loss = criterion(outputs, label)
        loss.backward()
        optimizer.step()
        out.append((loss.item(), get_acc(outputs, label).item()))
    return out


def suite_steps(data, seed, steps):
    """The suite's faithful config on the same subset; per-step (loss, top-1)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, os.path.join(ROOT, "tools", "train.py"), "-c",
               os.path.join(ROOT, "configs", "shufflenetv2", "x0_5.yaml"), "-o",
               f"Global.seed={seed}", "Global.epochs=1", "Global.log_interval=1",
               f"Global.output_dir={tmp}/run", "Global.device=cpu", "Global.throughput=false",
               "Global.progress_bar=false", f"DataLoader.dataset.data_file={data}",
               f"DataLoader.Train.num_samples={steps * BATCH}", "DataLoader.Eval.num_samples=256",
               "DataLoader.Train.num_workers=0", "DataLoader.Eval.num_workers=0"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})
        with open(os.path.join(tmp, "run", "train_steps.jsonl"), encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
    return [(r["loss"], r["top1"]) for r in rows]


def describe(side, seed, per_step, last):
    tail = np.array(per_step[-last:])
    learned = tail[:, 1].mean() > LEARNED
    print(f"{side:6s} seed {seed:3d}: last {last} steps mean loss {tail[:, 0].mean():.3f}, "
          f"top-1 {tail[:, 1].mean():.3f} -> {'learned' if learned else 'at chance'}", flush=True)
    return {"side": side, "seed": seed, "loss_last": float(tail[:, 0].mean()),
            "top1_last": float(tail[:, 1].mean()), "learned": bool(learned),
            "per_step": per_step}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="CIFAR-10 python tarball")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--last", type=int, default=50, help="steps averaged for the verdict")
    parser.add_argument("--torch-seeds", default="0,1,2,3,4,5")
    parser.add_argument("--suite-seeds", default="0,1,2,3")
    parser.add_argument("--json", default=None, help="write every per-step record here")
    args = parser.parse_args()
    seeds = {side: [int(s) for s in text.split(",") if s.strip()]
             for side, text in (("torch", args.torch_seeds), ("suite", args.suite_seeds))}
    images, labels = subset(args.data, args.steps * BATCH)
    results, start = [], time.time()
    for seed in seeds["torch"]:
        results.append(describe("torch", seed, torch_steps(images, labels, seed, args.steps), args.last))
    for seed in seeds["suite"]:
        results.append(describe("suite", seed, suite_steps(args.data, seed, args.steps), args.last))
    for side in ("torch", "suite"):
        rows = [r for r in results if r["side"] == side]
        if rows:
            print(f"{side}: {sum(r['learned'] for r in rows)} of {len(rows)} seeds learned in "
                  f"{args.steps} steps (mean top-1 of the last {args.last} steps > {LEARNED})")
    print(f"({time.time() - start:.0f} s)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"steps": args.steps, "batch": BATCH, "data": os.path.basename(args.data),
                       "results": results}, f)


if __name__ == "__main__":
    main()
