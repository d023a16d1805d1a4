"""EMA, gradient accumulation, AMP dtype fallback, clipping, warm-up by epochs (issue 17)."""
import json

import numpy as np
import paddle
import pytest

from paddle_repro.config import ConfigError, load_config
from paddle_repro.engine import checkpoint
from paddle_repro.engine.ema import ModelEMA
from paddle_repro.builders.lr_schedules import build_lr
from paddle_repro.engine import run as run_module
from paddle_repro.engine.trainer import train
from tests.test_trainer import tiny_cfg


class _NoBN(paddle.nn.Layer):
    """BN-free: a batch of k*b and k accumulated batches of b give the same gradient."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 4, 3, stride=2)
        self.fc = paddle.nn.Linear(4, num_classes)

    def forward(self, x):
        x = paddle.nn.functional.relu(self.conv(x))
        return self.fc(paddle.flatten(paddle.nn.functional.adaptive_avg_pool2d(x, 1), 1))


@pytest.fixture
def no_bn_model(monkeypatch):
    monkeypatch.setattr(run_module, "build_model_from_config",
                        lambda cfg, num_classes=None, weights=None: _NoBN(num_classes or 10))


def _weights(path):
    return {k: v.numpy() for k, v in paddle.load(str(path)).items()}


def test_ema_update_is_the_timm_formula_buffers_included():
    paddle.seed(0)
    model = paddle.nn.Sequential(paddle.nn.Linear(3, 2), paddle.nn.BatchNorm1D(2))
    ema = ModelEMA(model, 0.75)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    for p in model.parameters():
        p.set_value(p + 1.0)
    model.train()
    model(paddle.randn([8, 3]))  # moves the BN running stats too
    ema.update(model)
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(ema.shadow[k].numpy(), 0.75 * before[k] + 0.25 * v.numpy(),
                                   rtol=1e-6, err_msg=k)
    with ema.applied(model):
        np.testing.assert_array_equal(model.state_dict()["0.weight"].numpy(), ema.shadow["0.weight"].numpy())
    assert not np.array_equal(model.state_dict()["0.weight"].numpy(), ema.shadow["0.weight"].numpy())


def test_ema_run_records_and_resumes_bit_identically(tmp_path):
    ov = ["Global.epochs=2", "Global.throughput=false", "EMA.decay=0.6",
          "Metric.best_by=val_top1_ema"]
    small = dict(train_size=32, test_size=16)
    full = train(tiny_cfg(tmp_path, "full", ov, **small))
    train(tiny_cfg(tmp_path, "part", ov, **small), stop_after_epoch=1)
    train(tiny_cfg(tmp_path, "part", ov + ["Global.resume=auto"], **small))
    a, b = _weights(tmp_path / "full" / "final_model.pdparams"), _weights(tmp_path / "part" / "final_model.pdparams")
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    ema_a = checkpoint.load(str(tmp_path / "full" / "final_model"))["state"]["ema"]["shadow"]
    ema_b = checkpoint.load(str(tmp_path / "part" / "final_model"))["state"]["ema"]["shadow"]
    for k in ema_a:
        assert np.array_equal(np.asarray(ema_a[k]), np.asarray(ema_b[k])), k
    records = [json.loads(x) for x in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    assert all({"val_top1_ema", "val_loss_ema", "val_top5_ema"} <= set(r) for r in records)
    assert full["best_by"] == "val_top1_ema" and "val_top1_ema" in full["final"]
    best = _weights(tmp_path / "full" / "best_model.pdparams")  # the EMA weights that scored
    if full["best_epoch"] == 2:
        for k in best:
            np.testing.assert_array_equal(best[k], np.asarray(ema_a[k]), err_msg=k)
    assert any(not np.array_equal(best[k], a[k]) for k in best)  # not the raw weights


def test_accumulation_of_k_batches_equals_one_k_times_larger_batch(tmp_path, no_bn_model):
    common = ["Global.epochs=2", "Global.throughput=false", "Optimizer.lr.name=constant",
              "DataLoader.Train.shuffle=true"]
    small = dict(train_size=64, test_size=16)
    big = train(tiny_cfg(tmp_path, "big", common + ["DataLoader.Train.batch_size=32"], **small))
    acc = train(tiny_cfg(tmp_path, "acc", common + ["DataLoader.Train.batch_size=16",
                                                    "Global.update_freq=2"], **small))
    a, b = _weights(tmp_path / "big" / "final_model.pdparams"), _weights(tmp_path / "acc" / "final_model.pdparams")
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=2e-5, atol=1e-6, err_msg=k)
    assert big["final"]["train_loss"] == pytest.approx(acc["final"]["train_loss"], rel=1e-5)
    # without the 1/k scaling or with a step per batch the weights would differ
    train(tiny_cfg(tmp_path, "plain", common + ["DataLoader.Train.batch_size=16"], **small))
    assert not np.allclose(a["fc.weight"], _weights(tmp_path / "plain" / "final_model.pdparams")["fc.weight"],
                                     rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_amp_dtypes_fall_back_to_fp32_on_cpu(tmp_path, dtype):
    cfg = tiny_cfg(tmp_path, dtype, ["Global.amp=O1", f"Global.amp_dtype={dtype}",
                                     "Global.throughput=false"], train_size=16, test_size=16)
    with pytest.warns(RuntimeWarning, match=f"amp=O1 \\({dtype}\\) needs a GPU"):
        assert train(cfg)["finished"]


def test_clipping_is_counted(tmp_path):
    ov = ["Global.throughput=false", "Optimizer.grad_clip=1.0e-6"]
    train(tiny_cfg(tmp_path, "clip", ov))
    record = json.loads((tmp_path / "clip" / "metrics.jsonl").read_text().splitlines()[0])
    assert record["grad_clipped_steps"] == 3  # every one of the 3 steps
    train(tiny_cfg(tmp_path, "loose", ["Global.throughput=false", "Optimizer.grad_clip=1.0e9"]))
    record = json.loads((tmp_path / "loose" / "metrics.jsonl").read_text().splitlines()[0])
    assert record["grad_clipped_steps"] == 0


def test_warmup_epochs_is_warmup_steps_times_batches():
    by_epochs = build_lr({"name": "cosine", "learning_rate": 0.1, "T_max": "auto", "by": "epoch",
                          "warmup_epochs": 2}, 5, 3)
    by_steps = build_lr({"name": "cosine", "learning_rate": 0.1, "T_max": "auto", "by": "epoch",
                         "warmup_steps": 6}, 5, 3)
    seq = []
    for ctl in (by_epochs, by_steps):
        lrs = []
        for epoch in range(5):
            for _ in range(3):
                lrs.append(ctl.get_lr())
                ctl.after_step()
            ctl.after_epoch({})
        seq.append(lrs)
    assert seq[0] == seq[1] and seq[0][0] == 0.0 and 0 < seq[0][3] < seq[0][5]  # ramps over 6 steps


@pytest.mark.parametrize("override, match", [
    ("EMA.decay=1.0", "EMA.decay"), ("Metric.best_by=val_top1_ema", "EMA.decay"),
    ("Global.update_freq=0", "update_freq")])
def test_bad_extras_are_config_errors(override, match):
    with pytest.raises(ConfigError, match=match):
        load_config("configs/demo/synthetic_quick.yaml", [override])
