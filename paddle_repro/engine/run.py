"""``build_run(cfg)``: the built objects of one run, made once, never reassigned.

A ``Run`` is everything the notebooks set up before their loop -- loaders, model, loss,
schedule, optimizer -- plus this suite's additions (AMP, EMA, to_static, data parallel) and
the loop settings read from the config once. What changes while training (epoch, step,
best value) lives in ``TrainState`` (``run_state.py``), not here.

``preflight`` checks, before the first step, what would otherwise fail only after an epoch
of training (an empty split, a head too small for the labels, a model that cannot take the
data's images) or would train something else than asked (an accumulation longer than an
epoch, a ``Global.image_shape`` that is not what the transforms produce).
"""
import logging
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional

import paddle

from .. import runtime
from ..builders.losses import build_loss
from ..builders.lr_schedules import build_lr
from ..builders.optimizers import build_optimizer
from ..config import ConfigError
from ..data import build_loader
from ..models import build_model_from_config
from .amp import amp_context
from .ema import ModelEMA
from .logger import setup_console

log = logging.getLogger("paddle_repro")


def metric_topk(cfg):
    """The k of ``val_top5``: the largest ``Metric.topk`` entry other than 1 (default 5)."""
    return max([k for k in cfg.get("Metric", {}).get("topk", [1, 5]) if k != 1] or [5])


@dataclass(frozen=True)
class Run:
    """The built objects and fixed settings of one run (see the module docstring).

    ``model`` is the layer whose weights are saved; ``net`` is what is called (the same
    model, or its ``paddle.DataParallel`` wrapper).
    """
    cfg: dict
    out: str
    device: str
    distributed: bool
    is_main: bool
    model: paddle.nn.Layer
    net: paddle.nn.Layer
    train_loader: Any
    eval_loader: Any
    num_classes: int
    loss_fn: paddle.nn.Layer
    lr: Any                      # optim.LRController: .scheduler, .after_step(), .after_epoch()
    optimizer: Any
    scaler: Optional[Any]        # paddle.amp.GradScaler for float16 AMP, else None
    autocast: Callable           # () -> context manager (a no-op without AMP)
    ema: Optional[ModelEMA]
    epochs: int
    log_interval: int            # the notebooks logged every 10th batch
    update_freq: int             # batches per optimizer step (gradient accumulation)
    clip_norm: Optional[float]   # Optimizer.grad_clip, counted per epoch
    mixup_alpha: float
    topk: int
    progress_bar: bool


def build_run(cfg):
    """Builds every object of the run configured by ``cfg`` (seeded with ``Global.seed``).

    Returns:
        A ``Run``. Raises ``ConfigError`` from ``preflight``.
    """
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
    model = build_model_from_config(cfg, num_classes, weights=g.get("checkpoint") or None)
    if g.get("checkpoint"):
        log.info(f"Loaded weights from {g['checkpoint']}")
    preflight(cfg, train_loader, eval_loader, model, num_classes)
    # with accumulation the schedule counts optimizer steps (the last group may be short)
    lr = build_lr(cfg["Optimizer"]["lr"], g["epochs"], math.ceil(len(train_loader) / g["update_freq"]))
    optimizer = build_optimizer(cfg["Optimizer"], model.parameters(), lr.scheduler)
    scaler, autocast = amp_context(g.get("amp"), device, g["amp_dtype"])
    if g.get("amp") == "O2" and device.startswith("gpu"):
        model, optimizer = paddle.amp.decorate(models=model, optimizers=optimizer, level="O2",
                                               dtype=g["amp_dtype"])
    if g.get("to_static"):
        model = paddle.jit.to_static(model)
    return Run(
        cfg=cfg, out=out, device=device, distributed=distributed, is_main=is_main,
        model=model, net=paddle.DataParallel(model) if distributed else model,
        train_loader=train_loader, eval_loader=eval_loader,
        num_classes=num_classes or int(cfg["Arch"].get("num_classes", 10)),
        loss_fn=build_loss(cfg["Loss"]), lr=lr, optimizer=optimizer, scaler=scaler,
        autocast=autocast,
        ema=ModelEMA(model, cfg["EMA"]["decay"]) if cfg["EMA"]["decay"] is not None else None,
        epochs=g["epochs"], log_interval=max(1, g["log_interval"]), update_freq=g["update_freq"],
        clip_norm=cfg["Optimizer"].get("grad_clip"),
        mixup_alpha=float(cfg["DataLoader"]["Train"].get("mixup_alpha", 0.0)),
        topk=metric_topk(cfg), progress_bar=bool(g.get("progress_bar")) and is_main and os.isatty(1))


def _no_batch_message(cfg, split, n):
    """An empty split with drop_last, counted per rank under data parallel (each rank's
    ``DistributedBatchSampler`` shard, ceil(n / ranks) images, must hold one batch)."""
    batch = cfg["DataLoader"][split]["batch_size"]
    ranks = runtime.world_size()
    images = f"{n} images" if ranks == 1 else \
        f"{n} images, {math.ceil(n / ranks)} per rank over {ranks} ranks"
    what = "train" if split == "Train" else "be evaluated"
    return (f"config error at `DataLoader.{split}.batch_size`: the {split} split has {images}, "
            f"fewer than one batch of {batch} {'per rank ' if ranks > 1 else ''}with drop_last: "
            f"nothing would {what}. Lower the batch size or set drop_last: false.")


def preflight(cfg, train_loader, eval_loader, model, num_classes):
    """What would otherwise fail only after an epoch of training: checked before the first step.

    Raises:
        ConfigError: no train or eval batch (per rank under data parallel), an update_freq
            above the batches of an epoch, too few outputs for the labels, a Global.image_shape
            other than the Eval transforms' output, or a model that cannot take the data's
            images (e.g. AlexNet's 128x128 classifier fed 32x32).
    """
    for split, loader in (("Train", train_loader), ("Eval", eval_loader)):
        if len(loader) == 0:
            raise ConfigError(_no_batch_message(cfg, split, len(loader.dataset)))
    k, steps = cfg["Global"]["update_freq"], len(train_loader)
    if k > steps:
        raise ConfigError(f"config error at `Global.update_freq`: {k} batches per optimizer step, but "
                          f"an epoch has {steps}: the accumulation would never fill, leaving one "
                          f"optimizer step per epoch on a gradient scaled by 1/{k}. Use at most "
                          f"Global.update_freq={steps} (or a smaller DataLoader.Train.batch_size).")
    outputs = cfg["Arch"].get("num_classes")
    if num_classes and outputs and int(outputs) < int(num_classes):
        raise ConfigError(f"config error at `Arch.num_classes`: {outputs} outputs, but the data has "
                          f"{num_classes} classes (labels up to {num_classes - 1}); set "
                          f"Arch.num_classes: {num_classes}.")
    image = paddle.to_tensor(eval_loader.dataset[0][0][None])  # as the model will see it
    shape = cfg["Global"]["image_shape"]
    if list(shape) != list(image.shape[1:]):  # what tools/export_model.py would refuse
        raise ConfigError(f"config error at `Global.image_shape`: {list(shape)}, but the Eval transforms "
                          f"produce images of shape {list(image.shape[1:])}; the summary, FLOPs "
                          "and the exported model would describe another input. Set "
                          f"-o Global.image_shape=[{','.join(map(str, image.shape[1:]))}].")
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
