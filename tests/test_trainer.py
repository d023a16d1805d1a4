"""End-to-end training on generated CIFAR data: outputs, exact resume, NaN guard, fallbacks."""
import hashlib
import json
import os

import numpy as np
import paddle
import pytest
import yaml

from paddle_repro.config import load_config
from paddle_repro.engine.interrupt import TrainingDiverged
from paddle_repro.engine import run as run_module
from paddle_repro.engine.trainer import train

NORM = {"Normalize": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}}


def tiny_cfg(tmp_path, name="run", overrides=(), train_size=48, test_size=24):
    """ShuffleNetV2 0.5x on a synthetic CIFAR-10 tarball, 3 batches of 16 per epoch."""
    raw = {
        "Global": {"output_dir": str(tmp_path / name), "epochs": 1, "device": "cpu",
                   "log_interval": 1, "seed": 3, "progress_bar": False},
        "Arch": {"name": "shufflenetv2_x0_5"},
        "Loss": {"name": "label_smoothing", "smoothing": 0.1},
        "Optimizer": {"name": "momentum", "weight_decay": 5e-4,
                      "lr": {"name": "multistep", "learning_rate": 0.05, "milestones": [1]}},
        "DataLoader": {
            "dataset": {"name": "synthetic", "root": str(tmp_path / "data"), "num_classes": 10,
                        "train_size": train_size, "test_size": test_size},
            "Train": {"batch_size": 16, "shuffle": True, "drop_last": False, "num_workers": 0,
                      "transforms": [{"RandomHorizontalFlip": {"prob": 0.5}}, {"ToTensor": None}, NORM]},
            "Eval": {"batch_size": 16, "num_workers": 0, "transforms": [{"ToTensor": None}, NORM]},
        },
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, list(overrides))


class _Tiny(paddle.nn.Layer):
    """A 3-layer net for tests about the loop's plumbing rather than about a model."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 8, 3, stride=2)
        self.bn = paddle.nn.BatchNorm2D(8)
        self.fc = paddle.nn.Linear(8, num_classes)

    def forward(self, x):
        x = paddle.nn.functional.relu(self.bn(self.conv(x)))
        return self.fc(paddle.flatten(paddle.nn.functional.adaptive_avg_pool2d(x, 1), 1))


@pytest.fixture
def tiny_model(monkeypatch):
    monkeypatch.setattr(run_module, "build_model_from_config",
                        lambda cfg, num_classes=None, weights=None: _Tiny(num_classes or 10))


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_one_epoch_writes_every_output(tmp_path):
    cfg = tiny_cfg(tmp_path, overrides=["Global.log_interval=2"])
    summary = train(cfg)
    out = tmp_path / "run"
    assert summary["finished"] and summary["epochs_completed"] == 1
    assert load_config(out / "config.yaml") == cfg
    metrics = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 1 and metrics[0]["step"] == 3 and metrics[0]["lr"] == 0.05
    for key in ("train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "epoch_time_s"):
        assert np.isfinite(metrics[0][key]), key
    steps = [json.loads(x) for x in (out / "train_steps.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps] == [1, 3]  # batches 0 and 2 with log_interval 2
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary))
    assert on_disk["params"] == 359994 and on_disk["trainable_params"] == 352042
    assert on_disk["num_train"] == 48 and on_disk["num_eval"] == 24 and on_disk["throughput_img_s"] > 0
    assert on_disk["final"]["val_top1"] == metrics[0]["val_top1"]
    for prefix in ("best_model", "final_model", "latest"):
        for suffix in (".pdparams", ".pdopt", ".pdstates"):
            assert (out / f"{prefix}{suffix}").is_file(), prefix + suffix
    import matplotlib.image as mpimg
    for png in ("curves_loss.png", "curves_acc.png"):
        assert mpimg.imread(out / png).shape[0] > 100
    from visualdl import LogReader
    reader = LogReader(file_path=str(out / "vdl" / "vdlrecords.train.log"))
    tags = set(reader.get_tags()["scalar"])
    assert {"train/loss", "lr", "train/top1", "val/loss", "val/top1", "val/top5"} <= tags
    assert [r.id for r in reader.get_data("scalar", "train/loss")] == [1, 3]
    val = reader.get_data("scalar", "val/top1")
    assert [r.id for r in val] == [1] and val[0].value == pytest.approx(metrics[0]["val_top1"])

    # tools/eval.py's logic on the best weights gives the same val numbers.
    from paddle_repro.engine.eval_run import run_eval
    ev = run_eval(load_config(out / "config.yaml", [f"Global.checkpoint={out / 'best_model.pdparams'}"]))
    assert ev["top1"] == pytest.approx(metrics[0]["val_top1"])
    assert ev["loss"] == pytest.approx(metrics[0]["val_loss"], rel=1e-6)
    assert len(ev["per_class_acc"]) == 10 and ev["class_names"][0]
    assert json.loads((out / "eval.json").read_text())["n"] == 24


def test_resume_is_bit_identical(tmp_path):
    # mixup on: its draws must replay too; shuffle on, num_workers 0.
    ov = ["Global.epochs=2", "DataLoader.Train.mixup_alpha=0.4", "Global.throughput=false"]
    small = dict(train_size=32, test_size=16)  # 2 batches per epoch
    full = train(tiny_cfg(tmp_path, "full", ov, **small))
    part = train(tiny_cfg(tmp_path, "part", ov, **small), stop_after_epoch=1)
    assert not part["finished"] and part["epochs_completed"] == 1
    resumed = train(tiny_cfg(tmp_path, "part", ov + ["Global.resume=auto"], **small))
    a = paddle.load(str(tmp_path / "full" / "final_model.pdparams"))
    b = paddle.load(str(tmp_path / "part" / "final_model.pdparams"))
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k].numpy(), b[k].numpy()), k
    assert resumed["best_val_top1"] == full["best_val_top1"] and resumed["best_epoch"] == full["best_epoch"]
    assert (tmp_path / "full" / "metrics.jsonl").read_text().count("\n") == 2
    strip = lambda p: [{k: v for k, v in json.loads(x).items() if k != "epoch_time_s"}  # noqa: E731
                       for x in p.read_text().splitlines()]
    assert strip(tmp_path / "full" / "metrics.jsonl") == strip(tmp_path / "part" / "metrics.jsonl")
    from visualdl import LogReader
    steps = [r.id for r in LogReader(file_path=str(tmp_path / "part" / "vdl" / "vdlrecords.train.log"))
             .get_data("scalar", "train/loss")]
    assert steps == [1, 2, 3, 4]  # the VisualDL step count continued from the checkpoint
    # the summary's train_time_s covers both sessions; wall_time_s is the second one's only
    epochs = [json.loads(x)["epoch_time_s"] for x in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()]
    assert len(epochs) == 2 and min(epochs) > 0
    assert resumed["train_time_s"] == pytest.approx(sum(epochs))


def test_nan_loss_stops_and_keeps_last_checkpoint(tmp_path, tiny_model, monkeypatch):
    ov = ["Optimizer.lr.name=constant", "Global.epochs=2", "Global.throughput=false"]
    train(tiny_cfg(tmp_path, "nan", ov), stop_after_epoch=1)
    latest = tmp_path / "nan" / "latest"
    before = {s: _sha(f"{latest}{s}") for s in (".pdparams", ".pdopt", ".pdstates")}
    # epoch 2 diverges (a resume may not change the lr, so the loss itself turns NaN)
    monkeypatch.setattr(run_module, "build_loss", lambda cfg: lambda logits, y: logits.sum() * float("nan"))
    with pytest.raises(TrainingDiverged, match=r"epoch 2, step [4-6]"):
        train(tiny_cfg(tmp_path, "nan", ov + ["Global.resume=auto"]))
    assert {s: _sha(f"{latest}{s}") for s in before} == before
    from paddle_repro.engine import checkpoint
    assert checkpoint.load(str(latest))["state"]["epoch"] == 1


def test_the_nan_advice_works_when_followed_literally(tmp_path, tiny_model, monkeypatch):
    """Issue 16 item 6: the message's command (a new run from the saved weights with a
    smaller lr) trains on; the advice names the real checkpoint path."""
    import shlex
    ov = ["Optimizer.lr.name=constant", "Global.epochs=2", "Global.throughput=false"]
    train(tiny_cfg(tmp_path, "nan", ov), stop_after_epoch=1)
    real_build_loss = run_module.build_loss
    monkeypatch.setattr(run_module, "build_loss", lambda cfg: lambda logits, y: logits.sum() * float("nan"))
    with pytest.raises(TrainingDiverged) as err:
        train(tiny_cfg(tmp_path, "nan", ov + ["Global.resume=auto"]))
    monkeypatch.setattr(run_module, "build_loss", real_build_loss)
    command = str(err.value).split("lr:", 1)[1].split("(or set", 1)[0]
    command = command.replace("<smaller>", "0.01").replace("<new folder>", str(tmp_path / "again"))
    advice = [w for w in shlex.split(command) if "=" in w]
    assert advice[0] == f"Global.checkpoint={tmp_path / 'nan' / 'latest.pdparams'}"
    assert advice[2] == f"Global.output_dir={tmp_path / 'again'}"
    summary = train(tiny_cfg(tmp_path, "again", ov + advice))
    assert summary["finished"] and np.isfinite(summary["final"]["train_loss"])
    # a run that diverges before any checkpoint is told to start again, not to load one
    monkeypatch.setattr(run_module, "build_loss", lambda cfg: lambda logits, y: logits.sum() * float("nan"))
    with pytest.raises(TrainingDiverged, match="No checkpoint was written before it"):
        train(tiny_cfg(tmp_path, "early", ov))


def test_to_static_and_amp_fall_back_on_cpu(tmp_path, tiny_model):
    cfg = tiny_cfg(tmp_path, "static", ["Global.to_static=true", "Global.amp=O1",
                                        "Global.throughput=false"], train_size=16, test_size=8)
    with pytest.warns(RuntimeWarning, match=r"amp=O1 \(float16\) needs a GPU"):
        summary = train(cfg)
    assert summary["finished"] and np.isfinite(summary["final"]["train_loss"])


def test_strict_weights_and_truncated_checkpoint(tmp_path, tiny_model, monkeypatch):
    from paddle_repro.engine.checkpoint import CheckpointError
    from paddle_repro.models import WeightsError
    cfg = tiny_cfg(tmp_path, "a", ["Global.throughput=false"], train_size=16, test_size=8)
    train(cfg)
    best = tmp_path / "a" / "best_model.pdparams"
    monkeypatch.undo()  # the real ShuffleNetV2 now: the tiny net's weights must be refused
    with pytest.raises(WeightsError):
        train(tiny_cfg(tmp_path, "b", [f"Global.checkpoint={best}"], train_size=16, test_size=8))
    latest = tmp_path / "a" / "latest.pdparams"
    latest.write_bytes(latest.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated"):
        train(tiny_cfg(tmp_path, "a", ["Global.resume=auto", "Global.epochs=2"],
                       train_size=16, test_size=8))


def test_one_epoch_on_real_cifar10_sample(tmp_path, shared_data):
    cfg = tiny_cfg(tmp_path, "real", [
        "DataLoader.dataset.name=cifar10", "DataLoader.dataset.allow_unofficial=true",
        f"DataLoader.dataset.data_file={shared_data / 'cifar-10-python-exact-mini.tar.gz'}",
        "DataLoader.Train.num_samples=48", "DataLoader.Eval.num_samples=20", "Global.throughput=false"])
    summary = train(cfg)
    assert summary["finished"] and summary["num_train"] == 48 and summary["num_eval"] == 20
    assert np.isfinite(summary["final"]["val_loss"])


def test_preflight_sees_batched_images_as_transformed(tmp_path):
    """The batched loader's dataset holds raw 32x32 images; preflight must feed the model what
    the loader yields (here resized to 64x64), or a model needing that size is refused."""
    from paddle_repro.data import build_loader
    from paddle_repro.engine.run import preflight
    from paddle_repro.models import build_model_from_config

    resize = {"Resize": {"size": [64, 64]}}
    over = ["DataLoader.Train.pipeline=batched", "DataLoader.Eval.pipeline=batched",
            "DataLoader.Eval.transforms=[{Resize: {size: [64, 64]}}, {ToTensor: null}]",
            "Global.image_shape=[3,64,64]"]
    cfg = tiny_cfg(tmp_path, overrides=over)
    assert cfg["DataLoader"]["Eval"]["transforms"][0] == resize

    class _Needs64(paddle.nn.Layer):
        def forward(self, x):
            assert x.shape[-2:] == [64, 64], x.shape
            return paddle.zeros([x.shape[0], 10])

    ds = cfg["DataLoader"]["dataset"]
    loaders = [build_loader(ds, cfg["DataLoader"][s], m, 0) for s, m in (("Train", "train"), ("Eval", "test"))]
    preflight(cfg, *loaders, _Needs64(), 10)
    with pytest.raises(Exception, match="cannot take this data's images of shape \\[3, 32, 32\\]"):
        plain = load_config(tmp_path / "run.yaml", [])
        preflight(plain, *[build_loader(ds, plain["DataLoader"][s], m, 0)
                           for s, m in (("Train", "train"), ("Eval", "test"))], _Needs64(), 10)
    assert build_model_from_config(cfg, 10) is not None


def test_summary_counts_the_images_an_eval_pass_scores():
    """Notebook 004's drop_last test loader scores 78 x 128 = 9,984 of 10,000 images; the
    summary said 10,000 (issue 26 item 3)."""
    from paddle_repro.engine.summary import images_scored
    assert images_scored(10000, {"batch_size": 128, "drop_last": True}) == 9984
    assert images_scored(10000, {"batch_size": 128, "drop_last": False}) == 10000
    assert images_scored(10000, {"batch_size": 128, "drop_last": True}, world_size=2) == 2 * 4992
