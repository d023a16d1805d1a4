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
import math
import os
import time
from types import SimpleNamespace

import paddle

from .. import runtime
from ..config import ConfigError, dump_config
from . import checkpoint, run_folder
from .amp import amp_context
from .curves import plot_curves
from .ema import ModelEMA
from .evaluate import evaluate, loader_throughput
from .interrupt import StopFlag, TrainingDiverged, TrainingInterrupted
from .logger import RunLogger, read_jsonl, setup_console
from .loop import EpochStats, train_one_epoch
from .losses import build_loss
from .notebook_metrics import notebook_val_metrics
from .optim import build_lr, build_optimizer
from .run_files import clear_run_derived_files
from .summary import write_summary

log = logging.getLogger("paddle_repro")
__all__ = ["train", "evaluate", "TrainingDiverged", "TrainingInterrupted"]


def build_model_from_cfg(cfg, num_classes=None):
    """``models.build_model`` with ``Arch``'s keyword arguments (num_classes from data)."""
    from ..models import build_model
    kwargs = {k: v for k, v in cfg["Arch"].items() if k != "name"}
    if num_classes is not None:
        kwargs.setdefault("num_classes", num_classes)
    return build_model(cfg["Arch"]["name"], **kwargs)


def _setup(cfg):
    from ..data import build_loader
    g = cfg["Global"]
    out = g["output_dir"]
    device = runtime.select_device(g["device"])
    distributed = runtime.init_distributed()
    is_main = runtime.rank() == 0
    setup_console(out, is_main)
    runtime.seed_everything(g["seed"])
    ds = cfg["DataLoader"]["dataset"]
    train_loader = build_loader(ds, cfg["DataLoader"]["Train"], "train", g["seed"], distributed)
    eval_loader = build_loader(ds, cfg["DataLoader"]["Eval"], "test", g["seed"], distributed)
    num_classes = getattr(train_loader.dataset, "num_classes", None)
    model = build_model_from_cfg(cfg, num_classes)
    preflight(cfg, train_loader, eval_loader, model, num_classes)
    if g.get("checkpoint"):
        from ..models import load_weights
        load_weights(model, g["checkpoint"])
        log.info(f"Loaded weights from {g['checkpoint']}")
    # with accumulation the schedule counts optimizer steps (the last group may be short)
    lr = build_lr(cfg["Optimizer"]["lr"], g["epochs"], math.ceil(len(train_loader) / g["update_freq"]))
    optimizer = build_optimizer(cfg["Optimizer"], model.parameters(), lr.scheduler)
    scaler, autocast = amp_context(g.get("amp"), device, g["amp_dtype"])
    if g.get("amp") == "O2" and device.startswith("gpu"):
        model, optimizer = paddle.amp.decorate(models=model, optimizers=optimizer, level="O2",
                                               dtype=g["amp_dtype"])
    if g.get("to_static"):
        model = paddle.jit.to_static(model)
    net = paddle.DataParallel(model) if distributed else model
    bar = bool(g.get("progress_bar")) and is_main and os.isatty(1)
    topk = max([k for k in cfg.get("Metric", {}).get("topk", [1, 5]) if k != 1] or [5])
    return SimpleNamespace(
        cfg=cfg, out=out, device=device, distributed=distributed, is_main=is_main,
        model=model, net=net, train_loader=train_loader, eval_loader=eval_loader,
        num_classes=num_classes or int(cfg["Arch"].get("num_classes", 10)),
        loss_fn=build_loss(cfg["Loss"]), lr=lr, optimizer=optimizer, scaler=scaler,
        autocast=autocast, epochs=g["epochs"], log_interval=max(1, g["log_interval"]),
        mixup_alpha=float(cfg["DataLoader"]["Train"].get("mixup_alpha", 0.0)),
        progress_bar=bar, topk=topk, global_step=0, last_lr=lr.get_lr(), epoch_seed=0, stop=None,
        update_freq=g["update_freq"], clip_norm=cfg["Optimizer"].get("grad_clip"),
        ema=ModelEMA(model, cfg["EMA"]["decay"]) if cfg["EMA"]["decay"] is not None else None,
        state={"epoch": 0, "global_step": 0, "best_top1": None, "best_epoch": None,
               "last": {}, "partial": None})


def preflight(cfg, train_loader, eval_loader, model, num_classes):
    """What would otherwise fail only after an epoch of training: checked before the first step.

    Raises:
        ConfigError: no train or eval batch, too few outputs for the labels, or a model that
            cannot take the data's images (e.g. AlexNet's 128x128 classifier fed 32x32).
    """
    for split, loader in (("Train", train_loader), ("Eval", eval_loader)):
        if len(loader) == 0:
            n = len(loader.dataset)
            raise ConfigError(f"config error at `DataLoader.{split}.batch_size`: the {split} split has "
                              f"{n} images, fewer than one batch of "
                              f"{cfg['DataLoader'][split]['batch_size']} with drop_last: nothing would "
                              f"{'train' if split == 'Train' else 'be evaluated'}. Lower the batch size "
                              "or set drop_last: false.")
    outputs = cfg["Arch"].get("num_classes")
    if num_classes and outputs and int(outputs) < int(num_classes):
        raise ConfigError(f"config error at `Arch.num_classes`: {outputs} outputs, but the data has "
                          f"{num_classes} classes (labels up to {num_classes - 1}); set "
                          f"Arch.num_classes: {num_classes}.")
    image = paddle.to_tensor(eval_loader.dataset[0][0][None])
    was_training = model.training
    model.eval()
    try:
        with paddle.no_grad():
            model(image)
    except Exception as err:  # noqa: BLE001 - any failure here is a model/data mismatch
        raise ConfigError(f"config error at `Arch.name`: {cfg['Arch']['name']} cannot take this data's "
                          f"images of shape {list(image.shape[1:])} ({type(err).__name__}: "
                          f"{str(err).splitlines()[0][:200]}). Check Global.image_shape and the "
                          "Resize in the transforms.") from None
    finally:
        if was_training:
            model.train()


def _ckpt_state(ctx, stats=None):
    return {"epoch": ctx.state["epoch"], "global_step": ctx.global_step,
            "best_top1": ctx.state["best_top1"], "best_epoch": ctx.state["best_epoch"],
            "last": ctx.state["last"], "lr": ctx.lr.state_dict(), "vdl_step": ctx.global_step,
            "rng": runtime.get_rng_states(), "config": ctx.cfg,
            "partial": None if stats is None else vars(stats),
            "ema": ctx.ema.state_dict() if ctx.ema is not None else None}


def _save(ctx, name, stats=None):
    if ctx.is_main:
        checkpoint.save(os.path.join(ctx.out, name), ctx.model, ctx.optimizer, _ckpt_state(ctx, stats))


def _resume(ctx):
    prefix = checkpoint.resolve_resume(ctx.cfg["Global"].get("resume"), ctx.out)
    if prefix is None:
        return None
    ck = checkpoint.load(prefix)
    from ..models import load_weights
    load_weights(ctx.model, ck["model"])
    if ck["optimizer"] is not None:
        ctx.optimizer.set_state_dict(ck["optimizer"])
    ctx.lr.set_state_dict(ck["state"]["lr"])
    if ctx.ema is not None and ck["state"].get("ema"):
        ctx.ema.set_state_dict(ck["state"]["ema"])
    for key in ("epoch", "best_top1", "best_epoch", "last", "partial"):
        ctx.state[key] = ck["state"].get(key)
    ctx.global_step = ck["state"]["global_step"]
    ctx.resumed_rng = ck["state"].get("rng")
    log.info(f"Resumed from {prefix}: {ctx.state['epoch']} epochs done, step {ctx.global_step}")
    return prefix


def _epoch_end(ctx, epoch, stats, seconds):
    g = ctx.cfg["Global"]
    train_loss, train_top1 = stats.means()
    if ctx.distributed:  # counts from every rank's shard
        t = paddle.to_tensor([stats.loss_sum, float(stats.hits), float(stats.n)], dtype="float64")
        paddle.distributed.all_reduce(t)
        s = t.numpy()
        train_loss, train_top1 = s[0] / s[2], s[1] / s[2]
    record = {"epoch": epoch, "step": ctx.global_step, "lr": ctx.last_lr,
              "train_loss": float(train_loss), "train_top1": float(train_top1)}
    if epoch % g["eval_interval"] == 0 or epoch == ctx.epochs:
        if ctx.distributed:
            # DataParallel syncs gradients, not BN running statistics: each rank has its own.
            # Evaluate every shard with rank 0's, i.e. with the weights that get saved.
            for tensor in ctx.model.state_dict().values():
                paddle.distributed.broadcast(tensor, src=0)
        res = evaluate(ctx.net, ctx.eval_loader, ctx.loss_fn, ctx.num_classes, ctx.topk, ctx.distributed)
        record.update(val_loss=res["loss"], val_top1=res["top1"], val_top5=res["top5"])
        record.update(notebook_val_metrics(ctx.cfg["Metric"]["notebook_val"], res))
        if ctx.ema is not None:  # the EMA weights, evaluated the same way
            with ctx.ema.applied(ctx.model):
                ema = evaluate(ctx.net, ctx.eval_loader, ctx.loss_fn, ctx.num_classes, ctx.topk,
                               ctx.distributed)
            record.update(val_loss_ema=ema["loss"], val_top1_ema=ema["top1"], val_top5_ema=ema["top5"])
    if ctx.clip_norm:
        record["grad_clipped_steps"] = int(stats.extra.get("clipped", 0))
        if record["grad_clipped_steps"]:
            log.info(f"Optimizer.grad_clip={ctx.clip_norm}: clipped {record['grad_clipped_steps']} "
                     f"optimizer steps of epoch {epoch}")
    record["epoch_time_s"] = seconds
    ctx.lr.after_epoch(record)  # plateau reads train_loss / val_*; others ignore it
    ctx.state.update(epoch=epoch, last=record)
    ctx.logger.epoch(record)
    msg = ", ".join(f"{k}: {v:.5f}" for k, v in record.items() if isinstance(v, float))
    log.info(f"[Epoch {epoch}/{ctx.epochs}] {msg}")
    # The notebooks: `if val_acc > best_acc` on their own val acc (Metric.best_by). The
    # state key keeps its old name so earlier checkpoints resume; it holds best_by's value.
    best_by = ctx.cfg["Metric"]["best_by"]
    if best_by in record and (ctx.state["best_top1"] is None or record[best_by] > ctx.state["best_top1"]):
        ctx.state.update(best_top1=record[best_by], best_epoch=epoch)
        if best_by.endswith("_ema"):  # best_model holds the weights that scored
            with ctx.ema.applied(ctx.model):
                _save(ctx, "best_model")
        else:
            _save(ctx, "best_model")
    if epoch % g["save_interval"] == 0 or epoch == ctx.epochs:
        _save(ctx, "latest")
    if g["keep_epoch_checkpoints"]:  # the NAM notebook's ModelCheckpoint(save_freq=1)
        _save(ctx, f"epoch_{epoch}")
    if ctx.is_main:
        plot_curves(read_jsonl(os.path.join(ctx.out, "metrics.jsonl")),
                    read_jsonl(os.path.join(ctx.out, "train_steps.jsonl")), ctx.out,
                    len(ctx.train_loader), ctx.cfg["Arch"]["name"])


def train(cfg, stop_after_epoch=None):
    """Runs training as configured; see ``_train``."""
    # Fresh unique names (conv2d_0.w_0, conv2d_0.w_0_velocity_0, ...) whatever ran before in
    # this process: .pdopt is keyed by them, so a resume must recreate the same names.
    with paddle.utils.unique_name.guard(), run_folder.claim(cfg, runtime.rank() == 0):
        return _train(cfg, stop_after_epoch)


def _train(cfg, stop_after_epoch=None):
    """Runs training as configured; returns the summary dict (also ``summary.json``).

    Args:
        cfg: resolved config from ``paddle_repro.config.load_config``.
        stop_after_epoch: stop cleanly (``latest`` saved, ``finished: false``) after this
            epoch, as if interrupted there; for time-boxed jobs and resume tests.

    Raises:
        TrainingDiverged: NaN/inf loss. TrainingInterrupted: SIGINT/SIGTERM (after saving).
    """
    start = time.perf_counter()
    ctx = _setup(cfg)
    ctx.resumed_rng = None
    if _resume(ctx) is None and ctx.is_main:
        clear_run_derived_files(ctx.out)  # a fresh run: old eval.json etc. described old weights
    summary_path = os.path.join(ctx.out, "summary.json")
    if ctx.state["epoch"] >= ctx.epochs and os.path.isfile(summary_path):
        with open(summary_path, encoding="utf-8") as f:
            done = json.load(f)
        if done.get("finished"):
            log.info(f"{ctx.out} is a finished run ({ctx.state['epoch']} of {ctx.epochs} epochs): "
                     "nothing to do, nothing changed. Raise Global.epochs to train it further.")
            return done
    if ctx.is_main:  # only now that the run starts: a failed start leaves the old config.yaml
        dump_config(cfg, os.path.join(ctx.out, "config.yaml"))
    ctx.logger = RunLogger(ctx.out, ctx.is_main, ctx.state["epoch"], ctx.global_step)
    seed, finished = cfg["Global"]["seed"], False
    try:
        with StopFlag() as stop:
            ctx.stop = stop
            for epoch in range(ctx.state["epoch"] + 1, ctx.epochs + 1):
                ctx.epoch_seed = runtime.epoch_seed(seed, epoch - 1)
                runtime.seed_everything(ctx.epoch_seed)
                ctx.train_loader.set_epoch(epoch - 1)
                partial = ctx.state.pop("partial", None) or None
                stats = EpochStats(**partial) if partial else EpochStats()
                if partial and ctx.resumed_rng:
                    # Mid-epoch resume: the skipped batches replay the loader's numpy/random
                    # draws; dropout's paddle stream is restored from the interruption point.
                    runtime.set_paddle_rng_state(ctx.resumed_rng.get("paddle"))
                tic = time.perf_counter()
                done = train_one_epoch(ctx, epoch, stats, skip_batches=stats.batches)
                if not done:
                    _save(ctx, "latest", stats)
                    prefix = os.path.join(ctx.out, "latest")
                    raise TrainingInterrupted(
                        f"Stopped by signal {stop.signum} at epoch {epoch}, step {ctx.global_step}; "
                        f"saved {prefix}.", prefix, stop.exit_code)
                _epoch_end(ctx, epoch, stats, time.perf_counter() - tic)
                if stop.signum is not None and epoch < ctx.epochs:
                    prefix = os.path.join(ctx.out, "latest")
                    _save(ctx, "latest")
                    raise TrainingInterrupted(f"Stopped by signal {stop.signum} after epoch {epoch}; "
                                              f"saved {prefix}.", prefix, stop.exit_code)
                if stop_after_epoch is not None and epoch >= stop_after_epoch and epoch < ctx.epochs:
                    _save(ctx, "latest")
                    break
            else:
                finished = True
        if finished:
            _save(ctx, "final_model")
    finally:
        ctx.logger.close()
    return write_summary(ctx, finished, time.perf_counter() - start,
                         loader_throughput if finished and cfg["Global"].get("throughput") else None)
