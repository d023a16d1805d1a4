"""Checkpoints: atomic triple, consistency checks, resume resolution, Ctrl-C save + resume."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import paddle
import pytest
import yaml

from paddle_repro.engine import checkpoint
from paddle_repro.engine.checkpoint import CheckpointError

ROOT = Path(__file__).resolve().parents[1]


def _model_and_opt():
    paddle.seed(0)
    model = paddle.nn.Linear(4, 3)
    opt = paddle.optimizer.Momentum(0.1, parameters=model.parameters())
    model(paddle.ones([2, 4])).sum().backward()
    opt.step()
    return model, opt


def test_save_load_roundtrip_and_no_temp_files(tmp_path):
    model, opt = _model_and_opt()
    prefix = str(tmp_path / "ck" / "latest")
    checkpoint.save(prefix, model, opt, {"epoch": 3, "best_top1": 0.5, "rng": {"x": np.arange(3)}})
    assert sorted(os.listdir(tmp_path / "ck")) == ["latest.pdopt", "latest.pdparams", "latest.pdstates"]
    ck = checkpoint.load(prefix + ".pdparams")  # a suffixed path names the same checkpoint
    assert ck["state"]["epoch"] == 3 and "_sha256" not in ck["state"]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(ck["model"][k]), v.numpy())
    assert any("velocity" in k for k in ck["optimizer"])


def test_inconsistent_truncated_or_missing_files_are_clear_errors(tmp_path):
    model, opt = _model_and_opt()
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    checkpoint.save(a, model, opt, {"epoch": 1})
    model.weight.set_value(model.weight * 2)
    checkpoint.save(b, model, opt, {"epoch": 2})
    os.replace(b + ".pdparams", a + ".pdparams")  # weights of another save
    with pytest.raises(CheckpointError, match=r"a\.pdparams does not match .*a\.pdstates"):
        checkpoint.load(a)
    with pytest.raises(CheckpointError, match="missing"):
        checkpoint.load(b)
    Path(a + ".pdstates").write_bytes(Path(a + ".pdstates").read_bytes()[:20])
    with pytest.raises(CheckpointError, match="unreadable"):
        checkpoint.load(a)
    with pytest.raises(CheckpointError, match="No checkpoint"):
        checkpoint.load(str(tmp_path / "nothing"))


def test_resolve_resume(tmp_path):
    assert checkpoint.resolve_resume(None, str(tmp_path)) is None
    assert checkpoint.resolve_resume("auto", str(tmp_path)) is None  # fresh start
    model, opt = _model_and_opt()
    checkpoint.save(str(tmp_path / "latest"), model, opt, {})
    assert checkpoint.resolve_resume("auto", str(tmp_path)) == str(tmp_path / "latest")
    with pytest.raises(CheckpointError, match="Global.resume"):
        checkpoint.resolve_resume(str(tmp_path / "best_model"), str(tmp_path))


def _interruptible_config(tmp_path, workers=0):
    """A 15-batch epoch (ShuffleNetV2 0.5x, synthetic data) to stop in the middle."""
    norm = {"Normalize": {"mean": [0.5] * 3, "std": [0.5] * 3}}
    cfg = {
        "Global": {"output_dir": str(tmp_path / "run"), "epochs": 1, "device": "cpu",
                   "log_interval": 1, "progress_bar": False, "throughput": False},
        "Arch": {"name": "shufflenetv2_x0_5"},
        "Optimizer": {"name": "momentum", "lr": {"name": "constant", "learning_rate": 0.05}},
        "DataLoader": {
            "dataset": {"name": "synthetic", "root": str(tmp_path / "data"), "train_size": 120,
                        "test_size": 10},
            "Train": {"batch_size": 8, "shuffle": True, "num_workers": workers,
                      "transforms": [{"ToTensor": None}, norm]},
            "Eval": {"batch_size": 10, "transforms": [{"ToTensor": None}, norm]}},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))


def _train_until_mid_epoch(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "train.py"), "-c", str(tmp_path / "c.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # its own process group, as a terminal's job
    steps = tmp_path / "run" / "train_steps.jsonl"
    deadline = time.time() + 90
    while time.time() < deadline and proc.poll() is None:
        if steps.is_file() and steps.read_text().count("\n") >= 2:  # mid-epoch, 15 batches
            break
        time.sleep(0.1)
    assert proc.poll() is None, "training ended before it could be interrupted"
    return proc


def test_ctrl_c_with_loader_workers_is_announced_once(tmp_path):
    """Ctrl-C reaches the whole process group, loader workers included (issue 27 item 4)."""
    _interruptible_config(tmp_path, workers=2)
    proc = _train_until_mid_epoch(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err
    assert err.count("Signal 2: stopping") == 1, err


def test_ctrl_c_saves_latest_and_prints_resume_command(tmp_path):
    _interruptible_config(tmp_path)
    proc = _train_until_mid_epoch(tmp_path)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    prefix = tmp_path / "run" / "latest"
    assert f"Global.resume={prefix}" in err and "tools/train.py" in err
    state = checkpoint.load(str(prefix))["state"]
    assert 2 <= state["global_step"] < 15 and state["partial"]["batches"] == state["global_step"]

    # The command it printed finishes the epoch from where it stopped (in-process here).
    from paddle_repro.config import load_config
    from paddle_repro.engine.trainer import train
    summary = train(load_config(tmp_path / "c.yaml", [f"Global.resume={prefix}"]))
    assert summary["finished"]
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [15]
    steps = tmp_path / "run" / "train_steps.jsonl"
    logged = [json.loads(x)["step"] for x in steps.read_text().splitlines()]
    assert logged == list(range(1, 16))  # no step lost or repeated across the interruption
