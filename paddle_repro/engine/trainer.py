"""``train(cfg)``: the whole run, from a resolved config to the files in ``output_dir``.

The loop is the notebooks' (000/002 hand-written loops, 003 ``paddle.Model.fit``, 004's
``train``): train one epoch in train mode accumulating loss and top-1, evaluate, step the
epoch schedules, log, save ``best_model`` (by val top-1) and finally ``final_model``.
Additions, none of which change the numerics of a default run: ``latest`` checkpoints and
exact resume, a NaN guard, graceful Ctrl-C/SIGTERM, data parallel, AMP, to_static.

Reproducibility: paddle/numpy/random are seeded with ``Global.seed`` before the model is
built (same init as the notebooks' seed 42), then reseeded from ``(seed, epoch)`` at the
start of every epoch (``runtime.epoch_seed``), and the loader gets ``set_epoch``. The
shuffle order, augmentations, dropout masks and mixup draws of an epoch therefore depend
only on (seed, epoch), and a run resumed at an epoch boundary ends with bit-identical
weights on CPU. Mixup draws from its own ``RandomState`` because with ``num_workers=0``
Paddle's loader prefetches on a thread that shares the global numpy stream.
"""
import json
import logging
import os
import time

import paddle

from .. import runtime
from ..builders.notebook_metrics import notebook_val_metrics
from ..config import dump_config
from ..models import load_weights
from ..records import read_jsonl
from ..report.curves import plot_curves
from ..run_layout import (BEST_MODEL, CONFIG_FILE, EMA_SUFFIX, EPOCH, EPOCH_TIME_S, FINAL_MODEL,
                          FINISHED, GRAD_CLIPPED_STEPS, LATEST, LR, METRICS_FILE, STEP, SUMMARY_FILE,
                          TRAIN_LOSS, TRAIN_STEPS_FILE, TRAIN_TOP1, VAL_LOSS, VAL_LOSS_EMA, VAL_TOP1,
                          VAL_TOP1_EMA, VAL_TOP5, VAL_TOP5_EMA, epoch_checkpoint)
from . import checkpoint, run_folder
from .evaluate import evaluate, loader_throughput
from .interrupt import StopFlag, TrainingDiverged, TrainingInterrupted
from .logger import RunLogger
from .loop import train_one_epoch
from .projection import Projection
from .resume_check import check_resume_config
from .run import build_run
from .run_files import clear_run_derived_files
from .run_state import TrainState, checkpoint_state
from .summary import write_summary

log = logging.getLogger("paddle_repro")
__all__ = ["train", "evaluate", "TrainingDiverged", "TrainingInterrupted"]


def train(cfg, stop_after_epoch=None):
    """Runs training as configured; returns the summary dict (also ``summary.json``).

    Args:
        cfg: resolved config from ``paddle_repro.config.load_config``.
        stop_after_epoch: stop cleanly (``latest`` saved, ``finished: false``) after this
            epoch, as if interrupted there; for time-boxed jobs and resume tests.

    Raises:
        TrainingDiverged: NaN/inf loss. TrainingInterrupted: SIGINT/SIGTERM (after saving).
    """
    # Fresh unique names (conv2d_0.w_0, conv2d_0.w_0_velocity_0, ...) whatever ran before in
    # this process: .pdopt is keyed by them, so a resume must recreate the same names.
    with paddle.utils.unique_name.guard(), run_folder.claim(cfg, runtime.rank() == 0):
        return _train(cfg, stop_after_epoch)


def _train(cfg, stop_after_epoch):
    start = time.perf_counter()
    run = build_run(cfg)
    resumed_from, state, resumed_rng = _resume(run)
    if resumed_from is None and run.is_main:
        clear_run_derived_files(run.out)  # a fresh run: old eval.json etc. described old weights
    done = _finished_summary(run, state)
    if done is not None:
        return done
    if run.is_main:  # only now that the run starts: a failed start leaves the old config.yaml
        dump_config(cfg, os.path.join(run.out, CONFIG_FILE))
    logger = RunLogger(run.out, run.is_main, state.epoch, state.global_step)
    finished, first_epoch = False, state.epoch + 1
    try:
        with StopFlag() as stop:
            for epoch in range(first_epoch, run.epochs + 1):
                epoch_seed = runtime.epoch_seed(cfg["Global"]["seed"], epoch - 1)
                runtime.seed_everything(epoch_seed)
                run.train_loader.set_epoch(epoch - 1)
                resuming_mid_epoch = bool(state.partial)
                stats = state.take_partial()
                if resuming_mid_epoch and resumed_rng:
                    # Mid-epoch resume: the skipped batches replay the loader's numpy/random
                    # draws; dropout's paddle stream is restored from the interruption point.
                    runtime.set_paddle_rng_state(resumed_rng.get("paddle"))
                tic = time.perf_counter()
                projection = (Projection(run.epochs - epoch + 1, len(run.train_loader), stats.batches)
                              if epoch == first_epoch and run.is_main else None)
                outcome = train_one_epoch(run, logger, stop, epoch, epoch_seed, stats, state.global_step,
                                          projection)
                state.global_step = outcome.global_step
                if not outcome.completed:
                    _save(run, state, LATEST, stats)
                    raise TrainingInterrupted(
                        f"Stopped by signal {stop.signum} at epoch {epoch}, step {state.global_step}; "
                        f"saved {os.path.join(run.out, LATEST)}.", os.path.join(run.out, LATEST),
                        stop.exit_code)
                record = _epoch_record(run, epoch, state.global_step, stats, outcome.last_lr,
                                       time.perf_counter() - tic)
                run.lr.after_epoch(record)  # plateau reads train_loss / val_*; others ignore it
                state.epoch, state.last = epoch, record
                logger.epoch(record)
                msg = ", ".join(f"{k}: {v:.5f}" for k, v in record.items() if isinstance(v, float))
                log.info(f"[Epoch {epoch}/{run.epochs}] {msg}")
                _save_epoch_checkpoints(run, state, record)
                if run.is_main:
                    plot_curves(read_jsonl(os.path.join(run.out, METRICS_FILE)),
                                read_jsonl(os.path.join(run.out, TRAIN_STEPS_FILE)), run.out,
                                len(run.train_loader), cfg["Arch"]["name"])
                if stop.signum is not None and epoch < run.epochs:
                    _save(run, state, LATEST)
                    raise TrainingInterrupted(f"Stopped by signal {stop.signum} after epoch {epoch}; "
                                              f"saved {os.path.join(run.out, LATEST)}.",
                                              os.path.join(run.out, LATEST), stop.exit_code)
                if stop_after_epoch is not None and stop_after_epoch <= epoch < run.epochs:
                    _save(run, state, LATEST)
                    break
            else:
                finished = True
        if finished:
            _save(run, state, FINAL_MODEL)
    finally:
        logger.close()
    return write_summary(run, state, finished, time.perf_counter() - start,
                         loader_throughput if finished and cfg["Global"].get("throughput") else None)


def _resume(run):
    """(checkpoint prefix, state, saved RNG states) of ``Global.resume``'s checkpoint, loaded
    into ``run``'s objects; (None, a fresh state, None) for a fresh run."""
    prefix = checkpoint.resolve_resume(run.cfg["Global"].get("resume"), run.out)
    if prefix is None:
        return None, TrainState(), None
    ck = checkpoint.load(prefix)
    check_resume_config(ck["state"].get("config"), run.cfg, prefix, ck["state"]["epoch"])
    load_weights(run.model, ck["model"])
    if ck["optimizer"] is not None:
        run.optimizer.set_state_dict(ck["optimizer"])
    run.lr.set_state_dict(ck["state"]["lr"])
    if run.ema is not None and ck["state"].get("ema"):
        run.ema.set_state_dict(ck["state"]["ema"])
    state = TrainState.from_checkpoint(ck["state"])
    log.info(f"Resumed from {prefix}: {state.epoch} epochs done, step {state.global_step}")
    return prefix, state, ck["state"].get("rng")


def _finished_summary(run, state):
    """The summary of a finished run resumed with nothing left to train (None otherwise).

    A finished run promises ``final_model``; when it is gone (deleted, a copy that left it
    out) it is written again from the resumed weights, which are the last epoch's
    (``latest`` is always saved at the last epoch).
    """
    summary_path = os.path.join(run.out, SUMMARY_FILE)
    if state.epoch < run.epochs or not os.path.isfile(summary_path):
        return None
    with open(summary_path, encoding="utf-8") as f:
        done = json.load(f)
    if not done.get(FINISHED):
        return None
    if run.is_main and not run_folder.has_final_model(run.out):
        _save(run, state, FINAL_MODEL)
        log.info(f"{run.out} is a finished run whose final_model was missing: written again from "
                 f"the weights of its last epoch ({state.epoch}); nothing else changed.")
        return done
    log.info(f"{run.out} is a finished run ({state.epoch} of {run.epochs} epochs): "
             "nothing to do, nothing changed. Raise Global.epochs to train it further.")
    return done


def _epoch_record(run, epoch, global_step, stats, last_lr, seconds):
    """One ``metrics.jsonl`` line: the epoch's train means, then (on eval epochs) val metrics."""
    train_loss, train_top1 = stats.means()
    if run.distributed:  # counts from every rank's shard
        t = paddle.to_tensor([stats.loss_sum, float(stats.hits), float(stats.n)], dtype="float64")
        paddle.distributed.all_reduce(t)
        s = t.numpy()
        train_loss, train_top1 = s[0] / s[2], s[1] / s[2]
    record = {EPOCH: epoch, STEP: global_step, LR: last_lr,
              TRAIN_LOSS: float(train_loss), TRAIN_TOP1: float(train_top1)}
    if epoch % run.cfg["Global"]["eval_interval"] == 0 or epoch == run.epochs:
        if run.distributed:
            # DataParallel syncs gradients, not BN running statistics: each rank has its own.
            # Evaluate every shard with rank 0's, i.e. with the weights that get saved.
            for tensor in run.model.state_dict().values():
                paddle.distributed.broadcast(tensor, src=0)
        res = evaluate(run.net, run.eval_loader, run.loss_fn, run.num_classes, run.topk, run.distributed)
        record.update({VAL_LOSS: res["loss"], VAL_TOP1: res["top1"], VAL_TOP5: res["top5"]})
        record.update(notebook_val_metrics(run.cfg["Metric"]["notebook_val"], res))
        if run.ema is not None:  # the EMA weights, evaluated the same way
            with run.ema.applied(run.model):
                ema = evaluate(run.net, run.eval_loader, run.loss_fn, run.num_classes, run.topk,
                               run.distributed)
            record.update({VAL_LOSS_EMA: ema["loss"], VAL_TOP1_EMA: ema["top1"],
                           VAL_TOP5_EMA: ema["top5"]})
    if run.clip_norm:
        record[GRAD_CLIPPED_STEPS] = int(stats.extra.get("clipped", 0))
        if record[GRAD_CLIPPED_STEPS]:
            log.info(f"Optimizer.grad_clip={run.clip_norm}: clipped {record[GRAD_CLIPPED_STEPS]} "
                     f"optimizer steps of epoch {epoch}")
    record[EPOCH_TIME_S] = seconds
    return record


def _save(run, state, name, stats=None):
    if run.is_main:
        checkpoint.save(os.path.join(run.out, name), run.model, run.optimizer,
                        checkpoint_state(run, state, stats))


def _save_epoch_checkpoints(run, state, record):
    """best_model when ``Metric.best_by`` improved, latest every ``save_interval`` epochs."""
    g, epoch = run.cfg["Global"], record[EPOCH]
    # The notebooks: `if val_acc > best_acc` on their own val acc (Metric.best_by).
    best_by = run.cfg["Metric"]["best_by"]
    if state.improves(record, best_by):
        state.best_value, state.best_epoch = record[best_by], epoch
        if best_by.endswith(EMA_SUFFIX):  # best_model holds the weights that scored
            with run.ema.applied(run.model):
                _save(run, state, BEST_MODEL)
        else:
            _save(run, state, BEST_MODEL)
    if epoch % g["save_interval"] == 0 or epoch == run.epochs:
        _save(run, state, LATEST)
    if g["keep_epoch_checkpoints"]:  # the NAM notebook's ModelCheckpoint(save_freq=1)
        _save(run, state, epoch_checkpoint(epoch))
