"""LR schedules: our controller vs Paddle's schedulers driven by hand as each notebook did."""
import math

import pytest
from paddle.optimizer import lr as lr_sched

from paddle_repro.builders.lr_schedules import build_lr
from paddle_repro.builders.optimizers import build_optimizer


def _run(ctrl, epochs, steps_per_epoch, epoch_metrics=None):
    """LR used by every batch, plus the LR after each epoch end."""
    per_batch, per_epoch = [], []
    for e in range(epochs):
        for _ in range(steps_per_epoch):
            per_batch.append(ctrl.get_lr())
            ctrl.after_step()
        ctrl.after_epoch({"train_loss": epoch_metrics[e]} if epoch_metrics else {})
        per_epoch.append(ctrl.get_lr())
    return per_batch, per_epoch


def test_condconv_multistep_per_epoch():
    cfg = {"name": "multistep", "learning_rate": 0.1, "milestones": [30, 60, 90], "gamma": 0.1,
           "by": "epoch"}
    ctrl = build_lr(cfg, epochs=100, steps_per_epoch=3)
    batches, _ = _run(ctrl, 100, 3)
    ref = lr_sched.MultiStepDecay(learning_rate=0.1, milestones=[30, 60, 90])
    expected = []
    for _ in range(100):  # notebook 000: scheduler.step() once after each epoch's batches
        expected += [ref()] * 3
        ref.step()
    assert batches == expected
    assert batches[29 * 3] == 0.1 and math.isclose(batches[30 * 3], 0.01)
    assert math.isclose(batches[60 * 3], 1e-3) and math.isclose(batches[99 * 3], 1e-4)


def test_acmix_cosine_per_batch_auto_tmax():
    # 50000 // 128 = 390 batches with drop_last, 50 epochs -> the notebook's T_max = 19500.
    cfg = {"name": "cosine", "learning_rate": 1e-3, "T_max": "auto", "by": "step"}
    ctrl = build_lr(cfg, epochs=50, steps_per_epoch=390)
    assert ctrl.scheduler.T_max == 19500
    batches, _ = _run(ctrl, 50, 390)
    ref = lr_sched.CosineAnnealingDecay(learning_rate=1e-3, T_max=50000 // 128 * 50)
    expected = []
    for _ in range(19500):  # notebook 002: scheduler.step() after every optimizer step
        expected.append(ref())
        ref.step()
    assert batches == expected
    closed = [1e-3 * (1 + math.cos(math.pi * k / 19500)) / 2 for k in (0, 9750, 19499)]
    assert batches[0] == pytest.approx(closed[0]) and batches[9750] == pytest.approx(closed[1])
    assert batches[19499] == pytest.approx(closed[2], rel=1e-3)


class _LRSchedulerM:
    """Transcription of seed 003's callback (on_train_batch_end / on_epoch_end)."""

    def __init__(self, sched):
        self.sched, self.by_step, self.by_epoch, self.warm_up = sched, False, True, True

    def on_epoch_end(self):
        if self.by_epoch and not self.warm_up:
            self.sched.step()

    def on_train_batch_end(self):
        if self.by_step or self.warm_up:
            self.sched.step()
            if self.sched.last_epoch >= self.sched.warmup_steps:
                self.warm_up = False


def test_nam_warmup_then_cosine_per_epoch():
    epochs, spe = 90, 196  # CIFAR-100 50000 images / batch 256 without drop_last
    cfg = {"name": "cosine", "learning_rate": 0.01, "T_max": "auto", "by": "epoch",
           "warmup_steps": 2000, "warmup_start_lr": 0.0}
    batches, _ = _run(build_lr(cfg, epochs, spe), epochs, spe)
    ref = lr_sched.LinearWarmup(lr_sched.CosineAnnealingDecay(0.01, epochs), 2000, 0.0, 0.01)
    cb, expected = _LRSchedulerM(ref), []
    for _ in range(epochs):
        for _ in range(spe):
            expected.append(ref())
            cb.on_train_batch_end()
        cb.on_epoch_end()
    assert batches == expected
    assert batches[1000] == pytest.approx(0.005)
    # Warm-up ends inside epoch 11 (index 10): the rest of it runs at cos(0) = 0.01, the
    # epoch ends 1..10 were dropped, so epoch 12 runs at cos(1), and the last epoch at cos(79).
    assert batches[10 * spe + 195] == pytest.approx(0.01)
    assert batches[11 * spe] == pytest.approx(0.005 * (1 + math.cos(math.pi / 90)))
    assert batches[-1] == pytest.approx(0.005 * (1 + math.cos(math.pi * 79 / 90)))


# The ShuffleNetV2 notebook's logged train losses: falling every epoch, so LR stays 0.1.
NOTEBOOK_004_TRAIN_LOSS = [2.181060, 1.558131, 1.375844, 1.249782, 1.168995, 1.109439, 1.057093,
                           1.024675, 0.986667, 0.953566, 0.921855, 0.881344, 0.858123, 0.830285,
                           0.799097, 0.780266, 0.747231, 0.708474, 0.671686, 0.644469]
PLATEAU = {"name": "plateau", "learning_rate": 0.1, "mode": "min", "factor": 0.94, "patience": 1,
           "min_lr": 1e-6, "metric": "train_loss", "by": "epoch"}


def test_shufflenet_plateau_on_train_loss():
    _, epochs = _run(build_lr(PLATEAU, 20, 2), 20, 2, NOTEBOOK_004_TRAIN_LOSS)
    assert epochs == [0.1] * 20
    losses = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7]
    _, epochs = _run(build_lr(PLATEAU, 8, 2), 8, 2, losses)
    ref = lr_sched.ReduceOnPlateau(0.1, mode="min", factor=0.94, patience=1, min_lr=1e-6)
    expected = []
    for loss in losses:
        ref.step(loss)
        expected.append(ref())
    assert epochs == expected
    # By hand: 2 bad epochs (> patience 1) decay at epochs 4 and 8 (1-based).
    assert epochs == pytest.approx([0.1, 0.1, 0.1, 0.094, 0.094, 0.094, 0.094, 0.094 * 0.94])


def test_state_roundtrip_mid_warmup():
    cfg = {"name": "cosine", "learning_rate": 0.01, "T_max": "auto", "by": "epoch",
           "warmup_steps": 10}
    a = build_lr(cfg, 6, 4)
    first, _ = _run(a, 2, 4)  # stop mid warm-up
    b = build_lr(cfg, 6, 4)
    b.set_state_dict(a.state_dict())
    rest_a, _ = _run(a, 4, 4)
    rest_b, _ = _run(b, 4, 4)
    assert rest_a == rest_b and b.warming is False


def test_bad_combinations_are_clear_errors():
    with pytest.raises(ValueError, match="by=epoch"):
        build_lr(dict(PLATEAU, by="step"), 2, 2)
    with pytest.raises(ValueError, match="warmup_steps"):
        build_lr(dict(PLATEAU, warmup_steps=5), 2, 2)
    with pytest.raises(ValueError, match="valid"):
        build_optimizer({"name": "adamw"}, [], 0.1)
