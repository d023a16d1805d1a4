"""Parallel tables (issue 15): local --jobs and Ray give the sequential table; killed runs resume."""
import csv
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import paddle
import pytest

from paddle_repro.config import dump_config, load_config
from paddle_repro.cli.args import add_override_argument, take_overrides
from paddle_repro.launch import LaunchError, run_jobs
from paddle_repro.reproduce import ReproduceError, run_state

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "configs", "demo", "synthetic_quick.yaml")


def _tiny(data_root):
    return [f"DataLoader.dataset.root={data_root}", "DataLoader.dataset.train_size=64",
            "DataLoader.dataset.test_size=32", "DataLoader.Train.batch_size=16",
            "DataLoader.Eval.batch_size=32", "Global.epochs=2", "Global.throughput=false",
            "Global.log_interval=100"]


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    """A 2-arm table on tiny synthetic data (2 seeds each: 4 runs)."""
    tmp = tmp_path_factory.mktemp("launch")
    path = tmp / "table.yaml"
    path.write_text(
        "title: launch test\n"
        "columns: [train_top1, best_val_top1, final_val_top1, params]\n"
        "runs:\n"
        f"  - {{name: a, label: A, config: {DEMO}, role: with}}\n"
        f"  - {{name: b, label: B, config: {DEMO}, role: without,"
        " overrides: [Optimizer.lr.learning_rate=0.02]}\n")
    return str(path), _tiny(str(tmp / "data"))


def _reproduce(spec, output, *extra, kill=None):
    path, overrides = spec
    argv = [sys.executable, os.path.join(ROOT, "tools", "reproduce.py"), path, "--seeds", "42,43",
            "--no-figures", "--output", str(output), *extra, "-o", *overrides]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    killer = threading.Thread(target=kill, args=(output,), daemon=True) if kill else None
    if killer:
        killer.start()
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    with open(os.path.join(output, "table.csv"), encoding="utf-8") as f:
        return list(csv.reader(f)), out


def _kill_after_first_epoch(output):
    """SIGKILLs run a/seed42's training process once its epoch-1 checkpoint is on disk."""
    run = os.path.join(output, "a", "seed42")
    deadline = time.time() + 300
    while time.time() < deadline:
        if os.path.isfile(os.path.join(run, "latest.pdstates")):
            for pid in os.listdir("/proc"):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read().decode(errors="replace")
                except OSError:
                    continue
                if "paddle_repro.launch.worker" in cmd and "a_seed42.yaml" in cmd:
                    os.kill(int(pid), signal.SIGKILL)
                    return
        time.sleep(0.05)


@pytest.fixture(scope="module")
def sequential(spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("seq") / "out"
    table, _ = _reproduce(spec, out)
    return table, out


def _same_final_weights(a, b):
    wa, wb = paddle.load(str(a) + ".pdparams"), paddle.load(str(b) + ".pdparams")
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(np.asarray(wa[k]), np.asarray(wb[k]), err_msg=k)


def test_local_jobs_2_with_a_killed_run_gives_the_sequential_table(spec, sequential, tmp_path):
    table, log = _reproduce(spec, tmp_path / "out", "--jobs", "2", kill=_kill_after_first_epoch)
    assert table == sequential[0]
    assert "a/seed42 exited with -9; retrying" in log
    _same_final_weights(tmp_path / "out" / "a" / "seed42" / "final_model",
                        sequential[1] / "a" / "seed42" / "final_model")
    assert os.path.isfile(tmp_path / "out" / "a" / "seed42" / "train.log")


def test_ray_gives_the_sequential_table(spec, sequential, tmp_path):
    pytest.importorskip("ray", reason="Ray is the optional [ray] extra")
    table, log = _reproduce(spec, tmp_path / "out", "--launcher", "ray", "--jobs", "2")
    assert table == sequential[0]
    assert "started a local Ray" in log or "joined" in log


def test_ray_absent_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(LaunchError, match=r"\[ray\]"):
        run_jobs([], "ray", jobs_dir=str(tmp_path))


def test_a_folder_that_never_trained_is_replaced_and_volatile_keys_do_not_count(tmp_path):
    run_dir = tmp_path / "run"
    cfg = load_config(DEMO, [f"Global.output_dir={run_dir}"])
    dump_config(dict(cfg, Arch={"name": "alexnet", "num_classes": 10}), run_dir / "config.yaml")
    assert run_state(str(run_dir), cfg) == "fresh"  # a failed first try left only config.yaml
    dump_config(cfg, run_dir / "config.yaml")
    (run_dir / "latest.pdparams").write_bytes(b"x")
    other = load_config(DEMO, [f"Global.output_dir={run_dir}", "DataLoader.Train.num_workers=2",
                               "Global.progress_bar=false"])
    assert run_state(str(run_dir), other) == "resume"
    changed = load_config(DEMO, [f"Global.output_dir={run_dir}", "Optimizer.lr.learning_rate=0.5"])
    with pytest.raises(ReproduceError, match="--restart"):
        run_state(str(run_dir), changed)
    assert run_state(str(run_dir), changed, restart=True) == "restart"


def test_the_same_data_under_another_path_is_the_same_run(tmp_path, cifar10_tarball):
    copy = tmp_path / "copy.tar.gz"
    copy.write_bytes(open(cifar10_tarball, "rb").read())
    over = ["DataLoader.dataset.name=cifar10", "DataLoader.dataset.allow_unofficial=true"]
    a = load_config(DEMO, over + [f"DataLoader.dataset.data_file={cifar10_tarball}"])
    b = load_config(DEMO, over + [f"DataLoader.dataset.data_file={copy}"])
    dump_config(a, tmp_path / "run" / "config.yaml")
    (tmp_path / "run" / "latest.pdparams").write_bytes(b"x")
    assert run_state(str(tmp_path / "run"), b) == "resume"


@pytest.mark.parametrize("argv", [["-o", "A.b=1", "C.d=2"], ["-o", "A.b=1", "-o", "C.d=2"]])
def test_every_tool_takes_both_override_forms(argv):
    import argparse
    parser = argparse.ArgumentParser()
    add_override_argument(parser)
    parser.add_argument("images", nargs="*")
    args = take_overrides(parser.parse_args(argv + ["cat.png"]), positional="images")
    assert args.override == ["A.b=1", "C.d=2"] and args.images == ["cat.png"]
