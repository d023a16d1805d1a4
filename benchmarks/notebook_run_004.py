"""Notebook 004's own PyTorch code, run for whole epochs on a full CIFAR-10: the notebook side
of issue 25's question "does the suite stall at chance more often than the notebook does?".

The suite's full runs of the faithful ShuffleNetV2 recipe (Adam at lr 0.1) sometimes sit at
chance (10 % top-1) for many epochs; ``early_steps_004.py`` showed the notebook's code at
chance after 120 steps too, but not whether it stays there. This script runs the notebook's
code for as many epochs as asked, one seed per call, and writes one line per epoch, so a
stalled-or-learned count over epochs can be set beside the suite's.

What runs is the seed's code (``tests/reference/notebook_shufflenet_torch.py``):

* the network ``ShuffleNetV2(net_size=0.5)`` with PyTorch's own init under
  ``torch.manual_seed(seed)``;
* ``optim.Adam(lr=1e-1)``, ``nn.CrossEntropyLoss()``,
  ``ReduceLROnPlateau('min', factor=0.94, patience=1, min_lr=1e-6)``;
* the notebook's ``utils.train`` itself, called with ``epochs=1`` once per epoch so the run
  can be checkpointed between epochs (``train`` keeps no state across epochs except
  ``best_acc``, which only decides when it saves the network);
* the executed notebook's loaders: batch 128, ``shuffle=True``, ``drop_last=True`` for train
  *and* test, ToTensor + Normalize(0.5), no augmentation. Batches are stacked as uint8 and
  transformed per batch (``notebook_transform``), which gives the same tensors as the
  per-image torchvision transform.

Differences from the notebook, all outside the computation: CPU at one thread, loader
workers 0 (the notebook used 2; the order comes from the same global generator either way),
and the saved ``model.pth`` goes into the run folder.

Resumable: every epoch ends with ``checkpoint.pt`` (network, optimizer, scheduler, RNG state),
written atomically; running the same command again continues from it. Loading uses
``torch.load(weights_only=True)``, which never runs code from the file.

``--exact-prefix N`` (the rebuilt CIFAR-10: 1017, its exact-pixel test images) also scores the
final network on the first N test images and on the rest, every image once, in eval mode,
and writes ``exact_vs_rest.json``: whether JPEG-decoded test images score lower than
exact ones, i.e. whether the rebuilt data costs accuracy.

Needs torch (``pip install -e .[crosscheck]``). Usage, from the checkout's root:

    python benchmarks/notebook_run_004.py --data ../shared/data/cifar-10-rebuilt.tar.gz \\
        --seed 0 --epochs 20 --output /root/runs/notebook_torch/seed0 [--exact-prefix 1017]
"""
import argparse
import contextlib
import io
import json
import os
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # tests/reference is not part of the installed package

from paddle_repro.data.datasets import build_dataset  # noqa: E402
from tests.reference.notebook_shufflenet_torch import (  # noqa: E402
    ShuffleNetV2, notebook_transform, train)

BATCH = 128
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"


def load_split(data_file, mode, limit=None):
    """uint8 images [N, 32, 32, 3] and int64 labels [N] of one split, in the file's order."""
    ds = build_dataset({"name": "cifar10", "data_file": data_file, "allow_unofficial": True},
                       {}, mode)
    n = len(ds) if limit is None else min(limit, len(ds))
    return (torch.from_numpy(np.ascontiguousarray(ds.raw_images(np.arange(n)))),
            torch.from_numpy(np.asarray(ds.labels[:n], dtype=np.int64)))


class ArrayDataset(torch.utils.data.Dataset):
    """(uint8 image [32, 32, 3], label) pairs; the transform runs per batch in ``collate``."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]


def collate(pairs):
    """ToTensor + Normalize(0.5) on the stacked batch: float32 [B, 3, 32, 32], labels [B]."""
    images = torch.stack([image for image, _ in pairs])
    labels = torch.stack([label for _, label in pairs])
    return notebook_transform(images), labels


def loader(images, labels):
    """The executed notebook's loader: batch 128, shuffled, drop_last (train and test alike)."""
    return torch.utils.data.DataLoader(ArrayDataset(images, labels), batch_size=BATCH,
                                       shuffle=True, drop_last=True, num_workers=0,
                                       collate_fn=collate)


def save_checkpoint(path, rows, net, optimizer, scheduler):
    """Everything needed to continue after ``len(rows)`` epochs, the per-epoch rows included
    (so metrics.jsonl is rewritten from the checkpoint and never disagrees with it)."""
    tmp = path + ".tmp"
    torch.save({"rows": json.dumps(rows), "net": net.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": torch.get_rng_state()}, tmp)
    os.replace(tmp, path)  # a kill mid-write leaves the previous checkpoint whole


def write_metrics(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    os.replace(tmp, path)


def score_parts(net, images, labels, prefix):
    """Top-1 of ``net`` (eval mode) on images[:prefix] and images[prefix:], each image once."""
    net.eval()
    correct = []
    with torch.no_grad():
        for start in range(0, len(labels), 500):
            logits = net(notebook_transform(images[start:start + 500]))
            correct.append(logits.argmax(1) == labels[start:start + 500])
    correct = torch.cat(correct).float()
    return {"prefix": prefix, "top1_prefix": correct[:prefix].mean().item(),
            "top1_rest": correct[prefix:].mean().item(), "n_rest": len(labels) - prefix,
            "top1_all": correct.mean().item()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="CIFAR-10 python tarball")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--output", required=True, help="run folder (resumed if it has a checkpoint)")
    parser.add_argument("--exact-prefix", type=int, default=None,
                        help="after the run, score the first N test images apart from the rest")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N train and test images (a smoke test)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    os.makedirs(args.output, exist_ok=True)
    ckpt_path = os.path.join(args.output, CHECKPOINT)

    torch.manual_seed(args.seed)
    net = ShuffleNetV2(net_size=0.5)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-1)
    criterion = torch.nn.CrossEntropyLoss()
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", factor=0.94,
                                                           patience=1, min_lr=0.000001)
    rows = []
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, weights_only=True)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        rows = json.loads(state["rows"])
        print(f"resumed after epoch {len(rows)} from {ckpt_path}", flush=True)
    start_epoch = len(rows)
    test_images, test_labels = load_split(args.data, "test", args.limit)
    if start_epoch >= args.epochs:
        print(f"already finished {start_epoch} epochs", flush=True)
    else:
        run_epochs(args, rows, net, optimizer, criterion, scheduler, ckpt_path,
                   loader(*load_split(args.data, "train", args.limit)),
                   loader(test_images, test_labels))
    if args.exact_prefix:
        parts = score_parts(net, test_images, test_labels, args.exact_prefix)
        parts["after_epoch"] = len(rows)
        with open(os.path.join(args.output, "exact_vs_rest.json"), "w", encoding="utf-8") as f:
            json.dump(parts, f)
        print(json.dumps(parts), flush=True)


def run_epochs(args, rows, net, optimizer, criterion, scheduler, ckpt_path, train_loader,
               test_loader):
    """Epochs ``len(rows) + 1 .. args.epochs``, each checkpointed; appends to ``rows``."""
    for epoch in range(len(rows) + 1, args.epochs + 1):
        began = time.time()
        with contextlib.redirect_stderr(io.StringIO()):  # train()'s tqdm bars
            acc, loss, lr = train(net, train_loader, test_loader, 1, optimizer, criterion,
                                  scheduler, path=os.path.join(args.output, "model.pth"),
                                  verbose=True)
        row = {"epoch": epoch, "seed": args.seed, "lr": lr[0],
               "train_loss": loss["train_loss"][0], "train_top1": acc["train_acc"][0] / 100,
               "test_loss": loss["test_loss"][0], "test_top1": acc["test_acc"][0] / 100,
               "epoch_time_s": round(time.time() - began, 1)}
        rows.append(row)
        save_checkpoint(ckpt_path, rows, net, optimizer, scheduler)
        write_metrics(os.path.join(args.output, METRICS), rows)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
