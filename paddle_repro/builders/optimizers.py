"""Optimizers, built the way the notebooks built them, and the keys of ``Optimizer`` they own.

``OPTIMIZER`` is the ``Optimizer`` section: ``name`` picks an entry of ``OPTIMIZERS``, whose
``Entry`` declares the keys that optimizer reads (``momentum`` for momentum, the betas for
Adam); ``weight_decay``, ``grad_clip`` and the nested ``lr`` schedule section are common.

Weight decay: a float is passed to the Paddle optimizer as the notebooks did, which Paddle
turns into ``L2Decay(coeff)``: ``coeff * param`` is added to the gradient before the update
(coupled L2, also for Adam -- this is not AdamW's decoupled decay).
"""
import math

import paddle

from ..config_fields import NONE, NUM, Choice, Entry, Field
from ..errors import ConfigError
from .lr_schedules import LR_SCHEDULE


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


def _momentum_check(section):
    if not 0 <= section["momentum"] < 1:
        return [("momentum", f"must be in [0, 1), got {section['momentum']}.")]
    return []


def _adam_check(section):
    return [(key, f"must be in [0, 1), got {section[key]}.") for key in ("beta1", "beta2")
            if not 0 <= section[key] < 1]


OPTIMIZERS = {
    "sgd": Entry(_sgd, doc="paddle.optimizer.SGD"),
    "momentum": Entry(_momentum, {
        "momentum": Field(NUM, 0.9, "Momentum factor."),
        "use_nesterov": Field((bool,), False, "Nesterov update."),
    }, _momentum_check, "paddle.optimizer.Momentum"),
    "adam": Entry(_adam, {
        "beta1": Field(NUM, 0.9, "Adam's beta1."),
        "beta2": Field(NUM, 0.999, "Adam's beta2."),
        "epsilon": Field(NUM, 1e-8, "Adam's epsilon."),
    }, _adam_check, "paddle.optimizer.Adam"),
}


def _common_check(section):
    problems = []
    if section["weight_decay"] < 0:
        problems.append(("weight_decay", f"must be >= 0, got {section['weight_decay']}."))
    clip = section["grad_clip"]
    if clip is not None and not (math.isfinite(clip) and clip > 0):
        problems.append(("grad_clip", f"must be a positive number or null, got {clip!r}."))
    return problems


OPTIMIZER = Choice("Optimizer", OPTIMIZERS, "momentum", {
    "weight_decay": Field(NUM, 0.0, "L2 weight decay passed to the optimizer as the notebooks "
                          "did."),
    "grad_clip": Field(NUM + (NONE,), None, "Clip the global gradient norm (null: off)."),
    "lr": LR_SCHEDULE,  # nested section
}, _common_check)


def build_optimizer(opt_cfg, params, scheduler):
    """Builds the optimizer named by ``opt_cfg["name"]``.

    Args:
        opt_cfg: the ``Optimizer`` section (a partial dict gets the defaults).
        params: the model's parameters.
        scheduler: ``LRController.scheduler`` (an ``LRScheduler`` or a float).
    """
    opt_cfg = OPTIMIZER.fill(opt_cfg)
    name = opt_cfg["name"]
    if name not in OPTIMIZERS:
        raise ConfigError(f"Unknown Optimizer.name {name!r}; valid: {', '.join(OPTIMIZERS)}.")
    wd = float(opt_cfg["weight_decay"]) or None  # 0 -> no regularizer op at all
    clip_norm = opt_cfg.get("grad_clip")
    if clip_norm is not None and not (isinstance(clip_norm, (int, float)) and math.isfinite(clip_norm)
                                      and clip_norm > 0):
        raise ConfigError(f"Optimizer.grad_clip must be a positive number or null, got {clip_norm!r}.")
    clip = paddle.nn.ClipGradByGlobalNorm(float(clip_norm)) if clip_norm else None
    return OPTIMIZERS[name].build(opt_cfg, params, scheduler, wd, clip)
