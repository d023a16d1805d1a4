"""Optimizers and learning-rate schedules, driven the way each notebook drove them.

Schedules are Paddle's own classes (``MultiStepDecay``, ``CosineAnnealingDecay``,
``ReduceOnPlateau``, ``LinearWarmup``); ``LRController`` only decides *when* to step them:

- ``by: epoch`` -> ``after_epoch`` steps (CondConv 000: MultiStepDecay per epoch;
  ShuffleNetV2 004: plateau fed the epoch's train loss, like ``ReduceLROnPlateau`` there).
- ``by: step`` -> ``after_step`` steps every batch (ACmix 002: cosine, T_max=19500 batches).
- ``warmup_steps > 0`` wraps the schedule in ``LinearWarmup`` stepped per batch; once its
  ``last_epoch`` reaches ``warmup_steps`` the controller switches to the schedule's own
  ``by``. This is the NAM notebook's ``LRSchedulerM`` callback (seed 003) exactly: epoch ends
  that fall inside the warm-up are *dropped*, not deferred, so with 196 batches/epoch and 2000
  warm-up steps the cosine (T_max=90 epochs) only takes 80 epoch steps in a 90-epoch run and
  never reaches eta_min. With ``by: epoch`` each later step advances ``LinearWarmup`` by one,
  which moves the wrapped cosine to ``last_epoch - warmup_steps`` (closed form).

Weight decay: a float is passed to the Paddle optimizer as the notebooks did, which Paddle
turns into ``L2Decay(coeff)``: ``coeff * param`` is added to the gradient before the update
(coupled L2, also for Adam -- this is not AdamW's decoupled decay).
"""
import math

import paddle
from paddle.optimizer import lr as lr_sched

from ..errors import ConfigError

PLATEAU_METRICS = ("train_loss", "val_loss", "val_top1")
# The defaults of Optimizer.lr and Optimizer (config_schema.py shows them in its fields).
LR_DEFAULTS = {"name": "constant", "learning_rate": 0.1, "by": "epoch", "milestones": [30, 60, 90],
               "gamma": 0.1, "T_max": "auto", "eta_min": 0.0, "warmup_steps": 0,
               "warmup_start_lr": 0.0, "warmup_epochs": 0, "metric": "train_loss", "mode": "min",
               "factor": 0.1, "patience": 10, "threshold": 1e-4, "cooldown": 0, "min_lr": 0.0}
OPTIMIZER_DEFAULTS = {"name": "momentum", "momentum": 0.9, "use_nesterov": False, "beta1": 0.9,
                      "beta2": 0.999, "epsilon": 1e-8, "weight_decay": 0.0, "grad_clip": None}


def _cfg_error(msg):
    return ConfigError(msg)


def _with_defaults(defaults, cfg):
    """``cfg`` over ``defaults``, so builders called with a partial dict (tests, scripts)
    use the documented defaults."""
    return {**defaults, **cfg}


def _units(cfg, epochs, steps_per_epoch):
    """Length of the run in the schedule's own unit."""
    return epochs * steps_per_epoch if cfg["by"] == "step" else epochs


def _constant(cfg, epochs, steps_per_epoch):
    return float(cfg["learning_rate"])


def _multistep(cfg, epochs, steps_per_epoch):
    return lr_sched.MultiStepDecay(float(cfg["learning_rate"]), list(cfg["milestones"]),
                                   gamma=float(cfg["gamma"]))


def _cosine(cfg, epochs, steps_per_epoch):
    t_max = cfg["T_max"]
    if t_max == "auto":
        t_max = _units(cfg, epochs, steps_per_epoch)
    if not isinstance(t_max, int) or t_max <= 0:
        raise _cfg_error(f"Optimizer.lr.T_max must be a positive int or 'auto', got {t_max!r}.")
    return lr_sched.CosineAnnealingDecay(float(cfg["learning_rate"]), t_max,
                                         eta_min=float(cfg["eta_min"]))


def _plateau(cfg, epochs, steps_per_epoch):
    if cfg["by"] != "epoch":
        raise _cfg_error("Optimizer.lr.name=plateau is fed one metric per epoch; set "
                         "Optimizer.lr.by=epoch.")
    if cfg["metric"] not in PLATEAU_METRICS:
        raise _cfg_error(f"Optimizer.lr.metric must be one of {', '.join(PLATEAU_METRICS)}, "
                         f"got {cfg['metric']!r}.")
    return lr_sched.ReduceOnPlateau(
        float(cfg["learning_rate"]), mode=cfg["mode"], factor=float(cfg["factor"]),
        patience=int(cfg["patience"]), threshold=float(cfg["threshold"]),
        cooldown=int(cfg["cooldown"]), min_lr=float(cfg["min_lr"]))


SCHEDULES = {"constant": _constant, "multistep": _multistep, "cosine": _cosine,
             "plateau": _plateau}


class LRController:
    """Steps one Paddle schedule per batch and/or per epoch (see the module docstring).

    Attributes:
        scheduler: what the optimizer receives (an ``LRScheduler`` or a float).
    """

    def __init__(self, scheduler, by="epoch", warmup_steps=0, metric=None):
        self.scheduler = scheduler
        self.by = by
        self.warmup_steps = int(warmup_steps)
        self.warming = self.warmup_steps > 0  # LRSchedulerM's ``warm_up`` flag
        self.metric = metric  # plateau only: name of the epoch metric fed to it

    def _stepping(self):
        return isinstance(self.scheduler, lr_sched.LRScheduler)

    def get_lr(self):
        """The learning rate the next optimizer step will use."""
        return self.scheduler() if self._stepping() else float(self.scheduler)

    def after_step(self):
        """Call after every optimizer step (LRSchedulerM.on_train_batch_end)."""
        if self._stepping() and (self.by == "step" or self.warming):
            self.scheduler.step()
            if self.warming and self.scheduler.last_epoch >= self.warmup_steps:
                self.warming = False

    def after_epoch(self, metrics):
        """Call at the end of every epoch (LRSchedulerM.on_epoch_end).

        Args:
            metrics: the epoch's metrics dict (``train_loss``, ``val_loss``, ...); plateau
                reads ``metrics[self.metric]`` and skips the step when it is absent (an epoch
                without evaluation).
        """
        if not self._stepping() or self.by != "epoch" or self.warming:
            return
        if self.metric is None:
            self.scheduler.step()
        elif metrics.get(self.metric) is not None:
            self.scheduler.step(float(metrics[self.metric]))

    def state_dict(self):
        state = {"warming": self.warming}
        if self._stepping():
            state["scheduler"] = self.scheduler.state_dict()
        return state

    def set_state_dict(self, state):
        self.warming = bool(state["warming"])
        if self._stepping() and "scheduler" in state:
            self.scheduler.set_state_dict(state["scheduler"])


# the keys each schedule reads (besides learning_rate and by), for messages about a run's lr
SCHEDULE_KEYS = {"constant": (), "multistep": ("milestones", "gamma"),
                 "cosine": ("eta_min", "T_max"), "plateau": ("factor", "patience", "min_lr")}


def schedule_values(lr_cfg):
    """``Optimizer.lr`` as the values that shape this schedule, e.g. for the NaN message:
    ``name=cosine learning_rate=0.1 eta_min=0.0 T_max=auto by=epoch`` (+ warm-up keys)."""
    keys = ["name", "learning_rate", *SCHEDULE_KEYS.get(lr_cfg["name"], ()), "by"]
    for key in ("warmup_steps", "warmup_epochs"):
        if lr_cfg.get(key):
            keys += [key, "warmup_start_lr"]
    return " ".join(f"{k}={lr_cfg.get(k)}" for k in dict.fromkeys(keys))


def build_lr(lr_cfg, epochs, steps_per_epoch):
    """Builds the ``LRController`` for ``Optimizer.lr``.

    Args:
        lr_cfg: the ``Optimizer.lr`` section.
        epochs: number of training epochs.
        steps_per_epoch: optimizer steps (batches) per epoch.
    """
    lr_cfg = _with_defaults(LR_DEFAULTS, lr_cfg)
    name = lr_cfg["name"]
    if name not in SCHEDULES:
        raise _cfg_error(f"Unknown Optimizer.lr.name {name!r}; valid: {', '.join(SCHEDULES)}.")
    scheduler = SCHEDULES[name](lr_cfg, epochs, steps_per_epoch)
    warmup = int(lr_cfg["warmup_steps"]) or int(lr_cfg["warmup_epochs"]) * steps_per_epoch
    if warmup > 0:
        if name == "plateau":
            raise _cfg_error("Optimizer.lr.warmup_steps cannot wrap plateau (Paddle's "
                             "LinearWarmup cannot feed it a metric); set warmup_steps: 0.")
        scheduler = lr_sched.LinearWarmup(scheduler, warmup, float(lr_cfg["warmup_start_lr"]),
                                          float(lr_cfg["learning_rate"]))
    metric = lr_cfg["metric"] if name == "plateau" else None
    return LRController(scheduler, lr_cfg["by"], warmup, metric)


def _sgd(cfg, params, lr, wd, clip):
    return paddle.optimizer.SGD(learning_rate=lr, parameters=params, weight_decay=wd, grad_clip=clip)


def _momentum(cfg, params, lr, wd, clip):
    return paddle.optimizer.Momentum(learning_rate=lr, momentum=float(cfg["momentum"]),
                                     parameters=params, use_nesterov=bool(cfg["use_nesterov"]),
                                     weight_decay=wd, grad_clip=clip)


def _adam(cfg, params, lr, wd, clip):
    return paddle.optimizer.Adam(learning_rate=lr, beta1=float(cfg["beta1"]),
                                 beta2=float(cfg["beta2"]),
                                 epsilon=float(cfg["epsilon"]),
                                 parameters=params, weight_decay=wd, grad_clip=clip)


OPTIMIZERS = {"sgd": _sgd, "momentum": _momentum, "adam": _adam}


def build_optimizer(opt_cfg, params, scheduler):
    """Builds the optimizer named by ``opt_cfg["name"]``.

    Args:
        opt_cfg: the ``Optimizer`` section.
        params: the model's parameters.
        scheduler: ``LRController.scheduler`` (an ``LRScheduler`` or a float).
    """
    opt_cfg = _with_defaults(OPTIMIZER_DEFAULTS, opt_cfg)
    name = opt_cfg["name"]
    if name not in OPTIMIZERS:
        raise _cfg_error(f"Unknown Optimizer.name {name!r}; valid: {', '.join(OPTIMIZERS)}.")
    wd = float(opt_cfg["weight_decay"]) or None  # 0 -> no regularizer op at all
    clip_norm = opt_cfg.get("grad_clip")
    if clip_norm is not None and not (isinstance(clip_norm, (int, float)) and math.isfinite(clip_norm)
                                      and clip_norm > 0):
        raise _cfg_error(f"Optimizer.grad_clip must be a positive number or null, got {clip_norm!r}.")
    clip = paddle.nn.ClipGradByGlobalNorm(float(clip_norm)) if clip_norm else None
    return OPTIMIZERS[name](opt_cfg, params, scheduler, wd, clip)
