"""Smoke subset: import, build every registered model, one tiny training run.

CI runs these (``pytest -m smoke``) under paddlepaddle 2.6.2 as well as the newest
Paddle, because GPU users get Paddle 2.6 (the newest paddlepaddle-gpu on the registry).
"""
import json
from pathlib import Path

import numpy as np
import paddle
import pytest

pytestmark = pytest.mark.smoke

ROOT = Path(__file__).resolve().parents[1]


def _input_size(name):
    # AlexNet's classifier is sized for 128x128 inputs (3*3*128 features after the last
    # pool); the CIFAR-stem nets and ShuffleNetV2 (avg_pool 4) are sized for 32x32.
    return 128 if name.startswith("alexnet") else 32


def test_package_imports():
    import paddle_repro
    from paddle_repro import config, data, engine, models  # noqa: F401

    assert paddle_repro.__version__


@pytest.mark.parametrize("name", sorted(__import__("paddle_repro.models", fromlist=["MODELS"]).MODELS.builtin()))
def test_every_model_builds_and_runs(name):
    from paddle_repro.models import build_model

    paddle.seed(0)
    model = build_model(name, num_classes=10)
    model.eval()
    size = _input_size(name)
    with paddle.no_grad():
        out = model(paddle.randn([2, 3, size, size]))
    assert out.shape == [2, 10]
    assert np.isfinite(out.numpy()).all()


def test_one_tiny_training_run(tmp_path):
    from paddle_repro.config import load_config
    from paddle_repro.engine.trainer import train

    cfg = load_config(
        ROOT / "configs" / "demo" / "synthetic_quick.yaml",
        [
            f"Global.output_dir={tmp_path / 'run'}",
            "Global.epochs=1",
            "Global.device=cpu",
            f"DataLoader.dataset.root={tmp_path / 'data'}",
            "DataLoader.dataset.train_size=64",
            "DataLoader.dataset.test_size=32",
            "DataLoader.Train.batch_size=16",
            "DataLoader.Eval.batch_size=16",
            "DataLoader.Train.num_workers=0",
            "DataLoader.Eval.num_workers=0",
        ],
    )
    summary = train(cfg)
    assert summary["finished"] is True
    out = tmp_path / "run"
    for name in ("config.yaml", "metrics.jsonl", "summary.json", "final_model.pdparams"):
        assert (out / name).is_file(), name
    lines = (out / "metrics.jsonl").read_text().strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert np.isfinite(record["train_loss"]) and 0.0 <= record["val_top1"] <= 1.0
