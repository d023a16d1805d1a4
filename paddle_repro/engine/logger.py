"""Run logging: console lines (PaddleClas style), ``train.log``, VisualDL, JSON-lines files.

Files (formats in docs/architecture.md): ``metrics.jsonl`` (one record per epoch),
``train_steps.jsonl`` (train loss + lr every ``Global.log_interval`` batches) and VisualDL
scalars in ``vdl/vdlrecords.train.log``:

- ``train/loss``, ``train/top1_step``, ``train/top5_step`` and ``lr``: x = global step,
  every ``log_interval`` batches (the NAM notebook's VisualDL callback logged loss, top-1,
  top-5 and lr per step; the top-k are of that one batch, in train mode).
- ``train/top1``, ``val/loss``, ``val/top1``, ``val/top5`` and ``epoch/train_loss``,
  ``epoch/lr``: x = epoch (1-based); with ``Metric.notebook_val`` also ``val_nb/top1``,
  ``val_nb/loss``, ``val_nb/top5`` (the notebook's definitions, builders/notebook_metrics.py).

On resume, records past the checkpoint are dropped from the JSON-lines files so they read
as one uninterrupted run; VisualDL appends to the same file from the restored step (its
records cannot be edited, so steps logged after the checkpoint and before the interruption
appear twice there).
"""
import json
import logging
import os
import re
import sys

from visualdl import LogWriter

from ..records import read_jsonl
from ..run_layout import (EMA_SUFFIX, EPOCH, LOSS, LR, METRICS_FILE, NB_SUFFIX, STEP, TOP1, TOP5,
                          TRAIN_LOG_FILE, TRAIN_LOSS, TRAIN_STEPS_FILE, TRAIN_TOP1, VAL_KEYS,
                          VAL_PREFIX, VDL_DIR, VDL_FILE)


log = logging.getLogger("paddle_repro")


def setup_console(output_dir=None, is_main=True):
    """Routes the ``paddle_repro`` logger to stderr (and ``output_dir/train.log``)."""
    log.setLevel(logging.INFO if is_main else logging.WARNING)
    log.propagate = False
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    fmt = logging.Formatter("[%(asctime)s] %(levelname)s: %(message)s", "%Y/%m/%d %H:%M:%S")
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(fmt)
    log.addHandler(console)
    if output_dir and is_main:
        os.makedirs(output_dir, exist_ok=True)
        # delay: opened at the first record, so a run refused before it logs leaves no file
        fh = logging.FileHandler(os.path.join(output_dir, TRAIN_LOG_FILE), delay=True)
        fh.setFormatter(fmt)
        log.addHandler(fh)
    return log


def run_display_name(output_dir, cwd=None):
    """The name VisualDL shows for a run: where the run is, so that names never collide.

    VisualDL keys its run list by this name, so two runs named alike (``alexnet_bn seed42``
    of a quick and of a full table) showed as one. The name is the run folder's path
    (always with ``/``):

    * relative to ``./output`` when it is inside it (every config writes there, and the docs
      start VisualDL with ``--logdir output/``): ``condconv_quick/alexnet_bn/seed42``,
      ``demo/synthetic_quick``;
    * else, for a table's ``<table>/<run>/seed<N>`` folder, those three folders
      (``--output /shared/nam`` gives ``nam/resnet50_nam/seed42``);
    * else relative to the working folder when inside it, else the absolute path.

    Args:
        output_dir: the run folder (``Global.output_dir``).
        cwd: the folder relative paths start from (default: the working folder).
    """
    cwd = os.path.abspath(cwd or os.getcwd())
    path = os.path.normpath(os.path.join(cwd, output_dir))
    parts = path.split(os.sep)
    output_root = os.path.join(cwd, "output")
    if path.startswith(output_root + os.sep):
        return _slashed(os.path.relpath(path, output_root))
    if len(parts) >= 4 and re.fullmatch(r"seed\d+", parts[-1]):
        return "/".join(parts[-3:])
    if path.startswith(cwd + os.sep):
        return _slashed(os.path.relpath(path, cwd))
    return _slashed(path)


def _slashed(path):
    return path.replace(os.sep, "/")


def _truncate_jsonl(path, keep):
    if not os.path.isfile(path):
        return
    records = read_jsonl(path)  # a line half-written by a killed run is dropped
    with open(path, "w") as f:
        for r in records:
            if keep(r):
                f.write(json.dumps(r) + "\n")


class RunLogger:
    """Writes the per-step and per-epoch records of one run (rank 0 only; no-op elsewhere).

    Args:
        output_dir: the run folder.
        enabled: False on ranks other than 0.
        resume_epoch: epochs already completed by the checkpoint resumed from (0: fresh).
        resume_step: global step of that checkpoint.
    """

    def __init__(self, output_dir, enabled=True, resume_epoch=0, resume_step=0):
        self.enabled = enabled
        self.dir = output_dir
        self._vdl = None
        if not enabled:
            return
        metrics = os.path.join(output_dir, METRICS_FILE)
        steps = os.path.join(output_dir, TRAIN_STEPS_FILE)
        if resume_epoch or resume_step:
            _truncate_jsonl(metrics, lambda r: r[EPOCH] <= resume_epoch)
            _truncate_jsonl(steps, lambda r: r[STEP] <= resume_step)
        else:  # a fresh run in a reused folder starts its records afresh
            for p in (metrics, steps, os.path.join(output_dir, VDL_DIR, VDL_FILE)):
                if os.path.exists(p):
                    os.remove(p)
        self._metrics = open(metrics, "a")
        self._steps = open(steps, "a")
        self._vdl = LogWriter(logdir=os.path.join(output_dir, VDL_DIR), file_name=VDL_FILE,
                              display_name=run_display_name(output_dir))

    def _scalar(self, tag, value, step):
        if self._vdl is not None and value is not None:
            self._vdl.add_scalar(tag=tag, value=float(value), step=int(step))

    def step(self, step, epoch, loss, lr, top1=None, topk=None):
        """Records the sampled train loss, lr and that batch's top-1/top-k at global ``step``."""
        if not self.enabled:
            return
        record = {STEP: step, EPOCH: epoch, LOSS: loss, LR: lr}
        if top1 is not None:
            record.update({TOP1: top1, TOP5: topk})
        self._steps.write(json.dumps(record) + "\n")
        self._steps.flush()
        self._scalar("train/loss", loss, step)
        self._scalar("train/top1_step", top1, step)
        self._scalar("train/top5_step", topk, step)
        self._scalar("lr", lr, step)

    def epoch(self, record):
        """Records one ``metrics.jsonl`` line and the epoch scalars."""
        if not self.enabled:
            return
        self._metrics.write(json.dumps(record) + "\n")
        self._metrics.flush()
        e = record[EPOCH]
        # VisualDL tags are their own names (docs/training.md), not the record keys
        self._scalar("epoch/train_loss", record.get(TRAIN_LOSS), e)
        self._scalar("epoch/lr", record.get(LR), e)
        self._scalar("train/top1", record.get(TRAIN_TOP1), e)
        for key in VAL_KEYS:  # val_top1 -> val/top1, val_nb/top1, val_ema/top1
            metric = key[len(VAL_PREFIX):]
            self._scalar("val/" + metric, record.get(key), e)
            self._scalar("val_nb/" + metric, record.get(key + NB_SUFFIX), e)
            self._scalar("val_ema/" + metric, record.get(key + EMA_SUFFIX), e)
        if self._vdl is not None:
            self._vdl.flush()

    def close(self):
        if not self.enabled:
            return
        self._metrics.close()
        self._steps.close()
        if self._vdl is not None:
            self._vdl.close()
            self._vdl = None
