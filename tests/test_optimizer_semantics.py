"""Notebook 004 ran PyTorch's optimizers; the suite runs Paddle's. Their update rules, compared.

PyTorch's algorithms are written out below as its documentation states them (Adam: bias-
corrected moments, eps added to sqrt(v_hat); SGD: coupled weight decay ``g + wd * p`` and a
momentum buffer that starts at the first gradient; ReduceLROnPlateau: ``rel`` threshold in
``min`` mode). The suite's own builders (``builders/``) with the 004 configs' settings
must reproduce them in float64, where rounding cannot hide a different formula. Where torch is
installed, the written-out algorithms are checked against torch itself as well.

Findings (Paddle 2.6.2 and 3.3.1): Adam is PyTorch's Adam -- Paddle's kernel puts eps *
sqrt(1 - beta2^t) inside the bias-corrected step, which is algebraically PyTorch's eps after
bias correction, and no L2 term appears with ``weight_decay: 0``. Momentum with a float
weight decay is PyTorch's SGD(momentum, weight_decay) (coupled L2 before the momentum
buffer), with momentum and decay held as float32 attributes (0.9 -> 0.899999976). Plateau
equals PyTorch's with ``cooldown: 0`` (the configs'); with a cooldown Paddle stops counting
bad epochs during it, so the two part ways.
"""
import math
import os

import numpy as np
import paddle
import pytest

from paddle_repro.config import load_config
from paddle_repro.builders.lr_schedules import build_lr
from paddle_repro.builders.optimizers import build_optimizer

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")
EXECUTED = load_config(os.path.join(CONFIGS, "shufflenetv2", "x0_5.yaml"))["Optimizer"]
BLOG = load_config(os.path.join(CONFIGS, "shufflenetv2", "x0_5_blog.yaml"))["Optimizer"]
P0 = np.array([0.5, -0.3, 0.2, 1.0, -0.05, 0.01])


def torch_adam(p, grads, lr, beta1, beta2, eps, weight_decay=0.0):
    """torch.optim.Adam (amsgrad=False, maximize=False), as documented."""
    m = v = np.zeros_like(p)
    out = []
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def torch_sgd(p, grads, lr, momentum, weight_decay):
    """torch.optim.SGD (dampening 0, nesterov False), as documented."""
    buf, out = None, []
    for g in grads:
        d = g + weight_decay * p
        buf = d if buf is None else momentum * buf + d
        p = p - lr * buf
        out.append(p)
    return out


def torch_plateau(losses, lr, factor, patience, threshold, cooldown, min_lr, eps=1e-8):
    """torch.optim.lr_scheduler.ReduceLROnPlateau('min', threshold_mode='rel'): the lr after
    each ``step(loss)``."""
    best, bad, cool, out = math.inf, 0, 0, []
    for loss in losses:
        if loss < best * (1 - threshold):
            best, bad = loss, 0
        else:
            bad += 1
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cool, bad = cooldown, 0
        out.append(lr)
    return out


def paddle_steps(opt_cfg, grads):
    """The suite's optimizer (``build_optimizer``) on one float64 parameter fed ``grads``."""
    param = paddle.create_parameter([len(P0)], "float64",
                                    default_initializer=paddle.nn.initializer.Assign(P0))
    lr = build_lr(opt_cfg["lr"], epochs=1, steps_per_epoch=len(grads))
    optimizer = build_optimizer(opt_cfg, [param], lr.scheduler)
    out = []
    for g in grads:
        (param * paddle.to_tensor(g)).sum().backward()  # d/dparam = g
        optimizer.step()
        optimizer.clear_grad()
        out.append(param.numpy().copy())
    return out


def gradients(scale, n=6, seed=0):
    return [np.random.RandomState(seed + t).randn(len(P0)) * scale for t in range(n)]


@pytest.mark.parametrize("scale", [1.0, 1e-6, 1e-8, 1e-10])
def test_paddle_adam_is_torch_adam(scale):
    # At |g| ~ eps = 1e-8 the step depends on where eps sits: the notebook's own rule is met
    # to float64 rounding, the other common placement (eps added before bias correction) is not.
    grads = gradients(scale)
    lr, b1, b2, eps = EXECUTED["lr"]["learning_rate"], EXECUTED["beta1"], EXECUTED["beta2"], EXECUTED["epsilon"]
    ours = paddle_steps(EXECUTED, grads)
    theirs = torch_adam(P0, grads, lr, b1, b2, eps)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-13)
    if scale == 1e-8:
        eps_unscaled = torch_adam(P0, grads, lr, b1, b2, eps / math.sqrt(1 - b2))  # t = 1's size
        assert np.abs(np.asarray(ours) - np.asarray(eps_unscaled)).max() > 1e-3


def test_adam_has_no_weight_decay_in_the_executed_recipe():
    # a coupled L2 of 5e-4 (the blog's) would move these parameters by > 1e-6 within 6 steps
    grads = gradients(1e-3)
    theirs = torch_adam(P0, grads, 0.1, 0.9, 0.999, 1e-8, weight_decay=5e-4)
    assert np.abs(np.asarray(paddle_steps(EXECUTED, grads)) - np.asarray(theirs)).max() > 1e-6


def test_paddle_momentum_with_weight_decay_is_torch_sgd():
    # Paddle holds momentum and the decay coefficient as float32 attributes; with them rounded
    # so, the rules agree to float64 rounding (unrounded: 1e-8 relative after 6 steps).
    grads = gradients(1.0)
    mu, wd = float(np.float32(BLOG["momentum"])), float(np.float32(BLOG["weight_decay"]))
    theirs = torch_sgd(P0, grads, BLOG["lr"]["learning_rate"], mu, wd)
    np.testing.assert_allclose(paddle_steps(BLOG, grads), theirs, rtol=0, atol=1e-13)


LOSSES = [2.0, 1.9, 1.9, 1.95, 1.8999, 1.7, 1.7, 1.7, 1.7, 1.7, 1.7, 1.6999]


@pytest.mark.parametrize("patience, factor, min_lr", [(1, 0.94, 1e-6), (0, 0.5, 0.03)])
def test_paddle_plateau_is_torch_plateau(patience, factor, min_lr):
    cfg = {**EXECUTED["lr"], "patience": patience, "factor": factor, "min_lr": min_lr}
    controller = build_lr(cfg, epochs=len(LOSSES), steps_per_epoch=1)
    ours = []
    for loss in LOSSES:
        controller.after_epoch({"train_loss": loss})
        ours.append(controller.get_lr())
    theirs = torch_plateau(LOSSES, cfg["learning_rate"], factor, patience, cfg["threshold"],
                           cfg["cooldown"], min_lr)
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert min(theirs) < cfg["learning_rate"]  # the schedule really decays here


def test_paddle_plateau_cooldown_differs_from_torch():
    # Not in the configs (cooldown 0), documented: Paddle skips the comparison during a cooldown.
    cfg = {**EXECUTED["lr"], "cooldown": 2}
    controller = build_lr(cfg, epochs=len(LOSSES), steps_per_epoch=1)
    ours = []
    for loss in LOSSES:
        controller.after_epoch({"train_loss": loss})
        ours.append(controller.get_lr())
    theirs = torch_plateau(LOSSES, 0.1, 0.94, 1, 1e-4, 2, 1e-6)
    assert ours != pytest.approx(theirs, rel=1e-12)


def test_written_out_algorithms_are_torchs():
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install -e .[crosscheck]): "
                                "the written-out PyTorch algorithms are checked against torch only where it is")
    grads = gradients(1e-8)
    p = torch.nn.Parameter(torch.tensor(P0))
    adam = torch.optim.Adam([p], lr=0.1)
    got = []
    for g in grads:
        p.grad = torch.tensor(g)
        adam.step()
        got.append(p.detach().numpy().copy())
    np.testing.assert_allclose(got, torch_adam(P0, grads, 0.1, 0.9, 0.999, 1e-8), rtol=0, atol=1e-14)
    q = torch.nn.Parameter(torch.tensor(P0))
    sgd = torch.optim.SGD([q], lr=0.1, momentum=0.9, weight_decay=5e-4)
    got = []
    for g in gradients(1.0):
        q.grad = torch.tensor(g)
        sgd.step()
        got.append(q.detach().numpy().copy())
    np.testing.assert_allclose(got, torch_sgd(P0, gradients(1.0), 0.1, 0.9, 5e-4), rtol=0, atol=1e-14)
    for kwargs in ({"patience": 1, "cooldown": 0}, {"patience": 1, "cooldown": 2},
                   {"patience": 0, "cooldown": 0}):
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), "min", factor=0.94,
            min_lr=1e-6, **kwargs)
        got = []
        for loss in LOSSES:
            sched.step(loss)
            got.append(sched.optimizer.param_groups[0]["lr"])
        assert got == pytest.approx(torch_plateau(LOSSES, 0.1, 0.94, threshold=1e-4, min_lr=1e-6, **kwargs),
                                    rel=1e-12)
