"""Nothing lost (issue 16): one run per folder, a lock, atomic checkpoints, clear value errors."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import paddle
import pytest

from paddle_repro.config import ConfigError, load_config
from paddle_repro.engine import checkpoint
from paddle_repro.engine.run_folder import RunFolderError
from paddle_repro.engine.trainer import train
from tests.test_trainer import tiny_cfg

DEMO = "configs/demo/synthetic_quick.yaml"
QUICK = ["Global.throughput=false"]


def test_a_fresh_run_into_a_used_folder_is_refused_and_overwrite_cleans_up(tmp_path):
    train(tiny_cfg(tmp_path, "run", QUICK))
    (tmp_path / "run" / "eval.json").write_text("{}")  # what tools/eval.py leaves
    before = (tmp_path / "run" / "final_model.pdparams").read_bytes()
    with pytest.raises(RunFolderError, match="Global.resume=auto.*Global.output_dir.*Global.overwrite=true"):
        train(tiny_cfg(tmp_path, "run", QUICK + ["Optimizer.lr.learning_rate=0.01"]))
    assert (tmp_path / "run" / "final_model.pdparams").read_bytes() == before  # nothing lost
    assert load_config(tmp_path / "run" / "config.yaml")["Optimizer"]["lr"]["learning_rate"] == 0.05
    train(tiny_cfg(tmp_path, "run", QUICK + ["Global.overwrite=true", "Optimizer.lr.learning_rate=0.01"]))
    assert not (tmp_path / "run" / "eval.json").exists()  # derived from the replaced run
    assert load_config(tmp_path / "run" / "config.yaml")["Optimizer"]["lr"]["learning_rate"] == 0.01


def test_a_failed_start_keeps_the_old_config_yaml(tmp_path):
    train(tiny_cfg(tmp_path, "run", QUICK))
    old = (tmp_path / "run" / "config.yaml").read_text()
    with pytest.raises(Exception):
        train(tiny_cfg(tmp_path, "run", QUICK + ["Global.resume=auto", "Arch.name=alexnet"]))
    assert (tmp_path / "run" / "config.yaml").read_text() == old


def test_resuming_a_finished_run_changes_nothing(tmp_path):
    train(tiny_cfg(tmp_path, "run", QUICK))
    files = {p: (tmp_path / "run" / p).read_bytes() for p in ("summary.json", "final_model.pdparams",
                                                               "metrics.jsonl")}
    again = train(tiny_cfg(tmp_path, "run", QUICK + ["Global.resume=auto"]))
    assert again["finished"]
    assert {p: (tmp_path / "run" / p).read_bytes() for p in files} == files


def test_a_live_run_holds_the_folder_and_a_dead_ones_lock_is_taken_over(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(json.dumps({"pid": sleeper.pid, "host": os.uname().nodename}))
        with pytest.raises(RunFolderError, match=f"pid {sleeper.pid}"):
            train(tiny_cfg(tmp_path, "run", QUICK))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert train(tiny_cfg(tmp_path, "run", QUICK))["finished"]  # stale lock: taken over
    assert not (out / ".lock").exists()  # released at the end


def _save_epoch(prefix, model, epoch):
    checkpoint.save(prefix, model, None, {"epoch": epoch})


def test_a_save_killed_between_its_moves_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    model = paddle.nn.Linear(3, 2)
    prefix = str(tmp_path / "latest")
    _save_epoch(prefix, model, 1)
    model.weight.set_value(model.weight + 1.0)
    real_replace, calls = os.replace, []

    def dying_replace(src, dst):  # the process "dies" after the weights moved in
        calls.append(dst)
        real_replace(src, dst)
        if dst.endswith(".pdparams"):
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        _save_epoch(prefix, model, 2)
    monkeypatch.setattr(os, "replace", real_replace)
    ck = checkpoint.load(prefix)  # new weights beside the old state: falls back, complete
    assert ck["state"]["epoch"] == 1
    assert checkpoint.resolve_resume("auto", str(tmp_path)) == prefix
    _save_epoch(prefix, model, 3)  # the next save switches cleanly again
    assert checkpoint.load(prefix)["state"]["epoch"] == 3
    assert not list(tmp_path.glob("latest.prev.*"))


def test_stray_temporary_files_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stray = tmp_path / f"latest.pdparams.tmp{dead.pid}"
    stray.write_bytes(b"half")
    mine = tmp_path / f"latest.pdparams.tmp{os.getpid()}"
    mine.write_bytes(b"in progress")
    assert checkpoint.clean_stale(str(tmp_path)) == [str(stray)]
    assert mine.exists()


@pytest.mark.parametrize("override, key", [
    ("Global.epochs=0", "Global.epochs"), ("Global.epochs=-1", "Global.epochs"),
    ("Optimizer.lr.learning_rate=-0.1", "Optimizer.lr.learning_rate"),
    ("Metric.topk=[1,50]", "Metric.topk"), ("DataLoader.Train.batch_size=0", "DataLoader.Train.batch_size"),
    ("DataLoader.Eval.batch_size=-2", "DataLoader.Eval.batch_size"),
    ("DataLoader.Train.num_workers=-1", "DataLoader.Train.num_workers"),
    ("DataLoader.Train.num_samples=0", "DataLoader.Train.num_samples"),
    ("Global.save_interval=0", "Global.save_interval"), ("Global.eval_interval=0", "Global.eval_interval"),
])
def test_values_that_cannot_work_are_config_errors(override, key):
    with pytest.raises(ConfigError, match=f"`{key}`"):
        load_config(DEMO, [override])


def test_a_decay_factor_above_one_is_a_config_error():
    with pytest.raises(ConfigError, match="Optimizer.lr.gamma"):
        load_config("configs/condconv/alexnet_bn.yaml", ["Optimizer.lr.gamma=2"])


def test_a_duplicate_yaml_key_is_a_config_error(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("Arch:\n  name: alexnet\nArch:\n  name: alexnet_bn\n")
    with pytest.raises(ConfigError, match="duplicate key `Arch`"):
        load_config(path)


@pytest.mark.parametrize("overrides, key", [
    (["DataLoader.Eval.drop_last=true", "DataLoader.Eval.batch_size=64"], "DataLoader.Eval.batch_size"),
    (["DataLoader.Train.drop_last=true", "DataLoader.Train.batch_size=64"], "DataLoader.Train.batch_size"),
    (["Arch.num_classes=5"], "Arch.num_classes"),
    (["Arch.name=alexnet"], "Arch.name"),  # AlexNet's classifier wants 128x128, the data is 32x32
])
def test_what_would_fail_after_an_epoch_fails_before_the_first_step(tmp_path, overrides, key):
    cfg = tiny_cfg(tmp_path, "pre", QUICK + overrides)
    with pytest.raises(ConfigError, match=f"`{key}`"):
        train(cfg)
    assert not (tmp_path / "pre" / "latest.pdparams").exists()


@pytest.mark.parametrize("workers", [0, 2])
def test_a_corrupt_image_stops_the_run_at_once_naming_it(tmp_path, workers):
    import cv2
    rng = np.random.RandomState(0)
    for split in ("train", "test"):
        for cls in ("a", "b"):
            (tmp_path / "data" / split / cls).mkdir(parents=True)
            for i in range(8):
                cv2.imwrite(str(tmp_path / "data" / split / cls / f"{i}.png"),
                            rng.randint(0, 255, (32, 32, 3)).astype("uint8"))
    (tmp_path / "data" / "train" / "a" / "bad.png").write_bytes(b"not an image")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"_base_: {os.path.abspath(DEMO)}\n"
                   f"Global: {{output_dir: {tmp_path / 'run'}, epochs: 1, throughput: false}}\n"
                   f"DataLoader:\n  dataset: {{name: image_folder, root: {tmp_path / 'data'}}}\n"
                   f"  Train: {{batch_size: 4, num_workers: {workers}}}\n"
                   f"  Eval: {{batch_size: 4, num_workers: {workers}}}\n")
    out = subprocess.run([sys.executable, "tools/train.py", "-c", str(cfg)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "bad.png" in out.stderr and "Traceback" not in out.stderr


def test_resume_refuses_settings_it_cannot_honour_and_applies_the_others(tmp_path, capsys):
    """A changed lr on resume was silently ignored (the restored schedule brought the old one
    back) while config.yaml recorded the new one: now it is refused, naming the key; a
    changed epoch count is applied and logged; config.yaml says what runs."""
    ov = QUICK + ["Global.epochs=2"]
    train(tiny_cfg(tmp_path, "run", ov), stop_after_epoch=1)
    before = (tmp_path / "run" / "config.yaml").read_text()
    with pytest.raises(ConfigError, match=r"Optimizer\.lr\.learning_rate: 0\.05 in the checkpoint, "
                                          r"0\.5 now.*Global\.checkpoint=.*latest\.pdparams"):
        train(tiny_cfg(tmp_path, "run", ov + ["Global.resume=auto", "Optimizer.lr.learning_rate=0.5"]))
    with pytest.raises(ConfigError, match=r"DataLoader\.Train\.batch_size"):
        train(tiny_cfg(tmp_path, "run", ov + ["Global.resume=auto", "DataLoader.Train.batch_size=8"]))
    assert (tmp_path / "run" / "config.yaml").read_text() == before  # refused: nothing written
    capsys.readouterr()
    summary = train(tiny_cfg(tmp_path, "run", QUICK + ["Global.epochs=3", "Global.resume=auto"]))
    assert summary["finished"] and summary["epochs_completed"] == 3
    assert "Resume: Global.epochs changed from 2 to 3 (applied)" in "".join(capsys.readouterr())
    assert load_config(tmp_path / "run" / "config.yaml")["Global"]["epochs"] == 3


def test_resume_may_not_ask_for_fewer_epochs_than_done(tmp_path):
    train(tiny_cfg(tmp_path, "run", QUICK + ["Global.epochs=3"]), stop_after_epoch=2)
    with pytest.raises(ConfigError, match=r"already trained 2 epochs, more than the 1 asked"):
        train(tiny_cfg(tmp_path, "run", QUICK + ["Global.epochs=1", "Global.resume=auto"]))


def test_misleading_messages_now_say_what_is_wrong(tmp_path, capsys):
    """Issue 16 item 10: a data_file folder, a .pdopt given as weights, num_samples above
    the data, an empty class folder."""
    from paddle_repro.data import DataError, build_dataset
    from paddle_repro.models import WeightsError, build_model, load_weights

    folder = tmp_path / "cifar"
    folder.mkdir()
    (folder / "cifar-10-python.tar.gz").write_bytes(b"x")
    with pytest.raises(DataError, match=r"is a folder; give the CIFAR tarball itself, e\.g\. one of: "
                                        r"cifar-10-python\.tar\.gz"):
        build_dataset({"name": "cifar10", "data_file": str(folder)}, {}, "train")

    train(tiny_cfg(tmp_path, "run", QUICK))
    with pytest.raises(WeightsError, match=r"optimizer state, not model weights; pass .*best_model\.pdparams"):
        load_weights(build_model("shufflenetv2_x0_5", num_classes=10), str(tmp_path / "run" / "best_model.pdopt"))

    cfg = tiny_cfg(tmp_path, "more", QUICK + ["DataLoader.Eval.num_samples=1000"])
    capsys.readouterr()
    ds = build_dataset(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Eval"], "test")
    assert len(ds) == 24
    assert "DataLoader.Eval.num_samples=1000 is more than the 24 images there: using all 24" in \
        "".join(capsys.readouterr())

    root = tmp_path / "images"
    for split, cls in (("train", "cat"), ("train", "dog"), ("test", "cat")):
        (root / split / cls).mkdir(parents=True)
    cv2.imwrite(str(root / "train" / "cat" / "a.png"), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(DataError, match=r"class folder .*dog has no .* images"):
        build_dataset({"name": "image_folder", "root": str(root)}, {}, "train")


def test_a_dead_peer_rank_gets_one_line_saying_who_and_how_to_resume(monkeypatch, capsys):
    """Issue 16 item 11: rank 0 used to end with gloo's stack when rank 1 was killed."""
    from paddle_repro.cli import runner as cli
    gloo = RuntimeError("[/paddle/third_party/gloo/gloo/transport/tcp/pair.cc:576] Read error "
                        "[127.0.0.1]:21908: Connection reset by peer")  # seen with kill -9 of rank 1

    def main():
        raise gloo

    monkeypatch.setattr(cli.runtime, "world_size", lambda: 2)
    monkeypatch.setattr(cli.runtime, "rank", lambda: 0)
    with pytest.raises(SystemExit) as exit_:
        cli.run(main)
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and len(err.strip().splitlines()) == 1
    assert "rank 0 of 2 lost rank 1" in err and "Global.resume=auto" in err
    monkeypatch.setattr(cli.runtime, "world_size", lambda: 1)  # single process: not that
    with pytest.raises(RuntimeError, match="Connection reset"):
        cli.run(main)


def test_a_full_disk_mid_run_names_the_file_and_keeps_the_checkpoints(tmp_path, monkeypatch):
    """Issue 16 item 9: a full disk / read-only folder was a raw traceback."""
    import errno as errno_
    ov = QUICK + ["Global.epochs=2"]
    train(tiny_cfg(tmp_path, "run", ov), stop_after_epoch=1)
    latest = tmp_path / "run" / "latest.pdparams"
    before = latest.read_bytes()
    real_save = paddle.save

    def full(obj, path, *a, **k):
        raise OSError(errno_.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(paddle, "save", full)
    with pytest.raises(RunFolderError, match=r"Cannot write .*run.*No space left on device\).*"
                                             r"latest.*are intact.*Global\.resume=auto"):
        train(tiny_cfg(tmp_path, "run", ov + ["Global.resume=auto"]))
    monkeypatch.setattr(paddle, "save", real_save)
    assert latest.read_bytes() == before
    assert train(tiny_cfg(tmp_path, "run", ov + ["Global.resume=auto"]))["finished"]


def test_a_stop_that_cannot_reach_a_step_ends_within_the_grace(tmp_path):
    """Issue 16 item 1: Ctrl-C always ends a run, even when the loop is blocked."""
    script = ("import os, signal, time\n"
              "from paddle_repro.engine.interrupt import StopFlag\n"
              "with StopFlag(grace_s=1.0):\n"
              "    os.kill(os.getpid(), signal.SIGINT)\n"
              "    time.sleep(0.05)\n"
              "    time.sleep(60)  # a loop that never reaches its next step\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 130, out.stderr
    assert "stopping after the current step" in out.stderr
    assert "No clean stop point within 1 s" in out.stderr
