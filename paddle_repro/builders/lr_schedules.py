"""Learning-rate schedules, driven the way each notebook drove them, and the keys of
``Optimizer.lr`` they own.

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

``LR_SCHEDULE`` is the ``Optimizer.lr`` section: ``name`` picks an entry of ``SCHEDULES``,
whose ``Entry`` declares the keys that schedule reads (``milestones``/``gamma`` for
multistep, ...) with their defaults and range checks; ``learning_rate``, ``by`` and the
warm-up keys are common to all.
"""
import paddle
from paddle.optimizer import lr as lr_sched

from ..config_fields import NUM, Choice, Entry, Field
from ..errors import ConfigError
from ..run_layout import TRAIN_LOSS, VAL_LOSS, VAL_TOP1

PLATEAU_METRICS = (TRAIN_LOSS, VAL_LOSS, VAL_TOP1)  # epoch records ReduceOnPlateau can be fed


def _cfg_error(msg):
    return ConfigError(msg)


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


def _decay_factor(key):
    def check(section):
        if not 0 < section[key] < 1:
            return [(key, f"a decay factor must be in (0, 1), got {section[key]}.")]
        return []
    return check


def _cosine_check(section):
    if section["eta_min"] > section["learning_rate"]:
        return [("eta_min", f"{section['eta_min']} is above learning_rate "
                 f"{section['learning_rate']}: the cosine schedule would raise the lr from "
                 f"{section['learning_rate']} to {section['eta_min']} instead of lowering it. Set "
                 "eta_min below learning_rate (0 by default).")]
    return []


SCHEDULES = {
    "constant": Entry(_constant, doc="the learning rate, unchanged"),
    "multistep": Entry(_multistep, {
        "milestones": Field((list,), [30, 60, 90], "Epochs/steps where lr *= gamma."),
        "gamma": Field(NUM, 0.1, "Decay factor."),
    }, _decay_factor("gamma"), "MultiStepDecay"),
    "cosine": Entry(_cosine, {
        "T_max": Field((int, str), "auto", "Period in schedule units; `auto` = whole run."),
        "eta_min": Field(NUM, 0.0, "Minimum lr."),
    }, _cosine_check, "CosineAnnealingDecay"),
    "plateau": Entry(_plateau, {
        "metric": Field((str,), "train_loss", "Metric fed to ReduceOnPlateau each epoch "
                        f"({' | '.join(PLATEAU_METRICS)}).", PLATEAU_METRICS),
        "mode": Field((str,), "min", "min | max.", ("min", "max")),
        "factor": Field(NUM, 0.1, "lr *= factor on a plateau."),
        "patience": Field((int,), 10, "Epochs without improvement before decaying."),
        "threshold": Field(NUM, 1e-4, "Relative improvement that counts."),
        "cooldown": Field((int,), 0, "Epochs to wait after a decay."),
        "min_lr": Field(NUM, 0.0, "Lower bound of the lr."),
    }, _decay_factor("factor"), "ReduceOnPlateau fed one epoch metric"),
}


def _common_check(section):
    problems = []
    if section["learning_rate"] <= 0:
        problems.append(("learning_rate", f"must be > 0, got {section['learning_rate']}."))
    if section["warmup_epochs"] < 0 or (section["warmup_epochs"] and section["warmup_steps"]):
        problems.append(("warmup_epochs", "must be >= 0 and cannot be combined with "
                         "warmup_steps; give one of them."))
    return problems


LR_SCHEDULE = Choice("Optimizer.lr", SCHEDULES, "constant", {
    "learning_rate": Field(NUM, 0.1, "Base learning rate."),
    "by": Field((str,), "epoch", "Step the schedule once per `step` (batch) or per `epoch`.",
                ("step", "epoch")),
    "warmup_steps": Field((int,), 0, "LinearWarmup over N batches (always stepped per batch), "
                          "then the wrapped schedule continues with its own `by`."),
    "warmup_start_lr": Field(NUM, 0.0, "LinearWarmup start value."),
    "warmup_epochs": Field((int,), 0, "LinearWarmup over N epochs (= N * batches per epoch "
                           "steps); exclusive with warmup_steps."),
}, _common_check)


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


def schedule_values(lr_cfg):
    """``Optimizer.lr`` as the values that shape this schedule, e.g. for the NaN message:
    ``name=cosine learning_rate=0.1 eta_min=0.0 T_max=auto by=epoch`` (+ warm-up keys)."""
    entry = SCHEDULES.get(lr_cfg["name"])
    keys = ["name", "learning_rate", *(entry.fields if entry else ()), "by"]
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
    lr_cfg = LR_SCHEDULE.fill(lr_cfg)  # a partial dict (tests, scripts) gets the defaults
    name = lr_cfg["name"]
    if name not in SCHEDULES:
        raise _cfg_error(f"Unknown Optimizer.lr.name {name!r}; valid: {', '.join(SCHEDULES)}.")
    scheduler = SCHEDULES[name].build(lr_cfg, epochs, steps_per_epoch)
    warmup = int(lr_cfg["warmup_steps"]) or int(lr_cfg["warmup_epochs"]) * steps_per_epoch
    if warmup > 0:
        if name == "plateau":
            raise _cfg_error("Optimizer.lr.warmup_steps cannot wrap plateau (Paddle's "
                             "LinearWarmup cannot feed it a metric); set warmup_steps: 0.")
        scheduler = lr_sched.LinearWarmup(scheduler, warmup, float(lr_cfg["warmup_start_lr"]),
                                          float(lr_cfg["learning_rate"]))
    metric = lr_cfg["metric"] if name == "plateau" else None
    return LRController(scheduler, lr_cfg["by"], warmup, metric)


