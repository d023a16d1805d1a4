"""tools/reproduce.py logic (skip / resume / stale), one real end-to-end quick table, predict."""
import importlib.util
import json
import os

import cv2
import numpy as np
import pytest
import yaml

from paddle_repro.config import dump_config, load_config
from paddle_repro.inference.images import predict_files
from paddle_repro.reproduce import ReproduceError, recipe_hash, reproduce
from test_report import fake_run

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
X05 = os.path.join(ROOT, "configs", "shufflenetv2", "x0_5.yaml")


def synthetic_overrides(root):
    return [f"DataLoader.dataset.name=synthetic", f"DataLoader.dataset.root={root}",
            "DataLoader.dataset.train_size=200", "DataLoader.dataset.test_size=100",
            "Global.device=cpu", "Global.progress_bar=false"]


def write_spec(tmp_path, quick=("Global.epochs=1",)):
    spec = {"title": "Toy with vs without", "columns": ["train_top1", "best_val_top1", "params",
                                                        "flops", "throughput_img_s"],
            "quick": list(quick), "notebook_notes": ["toy notebook numbers"],
            "runs": [{"name": "fast", "label": "w/ lr 0.1", "config": X05, "role": "with",
                      "notebook": {"best_val_top1": 0.7206, "params": 352042}},
                     {"name": "slow", "label": "w/o (lr 0.01)", "config": X05, "role": "without",
                      "overrides": ["Optimizer.lr.learning_rate=0.01"]}]}
    path = tmp_path / "table.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


class FakeTrainer:
    """Records calls and writes the files a finished run leaves (no training)."""

    def __init__(self):
        self.calls = []

    def __call__(self, cfg):
        self.calls.append((cfg["Global"]["output_dir"], cfg["Global"].get("resume")))
        run_dir = cfg["Global"]["output_dir"]
        fake_run(run_dir, cfg["Global"]["seed"], 0.5, 0.6, 0.6)
        dump_config(cfg, os.path.join(run_dir, "config.yaml"))
        for suffix in (".pdparams", ".pdstates"):  # what "finished" promises (plan.run_state)
            open(os.path.join(run_dir, "final_model" + suffix), "wb").close()


def test_skip_resume_and_stale_runs(tmp_path):
    spec, out, fake = write_spec(tmp_path), str(tmp_path / "out"), FakeTrainer()
    ovr = synthetic_overrides(str(tmp_path / "data"))
    reproduce(spec, out, seeds=[1, 2], quick=True, overrides=ovr, train_fn=fake, figures=False,
              log=lambda *_: None)
    assert sorted(c[0] for c in fake.calls) == sorted(
        os.path.join(out, n, f"seed{s}") for n in ("fast", "slow") for s in (1, 2))
    assert {c[1] for c in fake.calls} == {None}
    md = (tmp_path / "out" / "table.md").read_text()
    assert "Mean ± sample std" in md and "QUICK RUN" in md and "0.7206" in md
    assert "Eval img/s: each run's own figure, taken in its training process" in md  # not measured
    fake.calls.clear()  # second call: everything finished with the same config -> no training
    reproduce(spec, out, seeds=[1, 2], quick=True, overrides=ovr, train_fn=fake, figures=False,
              log=lambda *_: None)
    assert fake.calls == []
    run_dir = os.path.join(out, "slow", "seed2")  # unfinished with a `latest` -> resume auto
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    summary["finished"] = False
    json.dump(summary, open(os.path.join(run_dir, "summary.json"), "w"))
    open(os.path.join(run_dir, "latest.pdparams"), "wb").close()
    reproduce(spec, out, seeds=[1, 2], quick=True, overrides=ovr, train_fn=fake, figures=False,
              log=lambda *_: None)
    assert fake.calls == [(run_dir, "auto")]
    fake.calls.clear()  # finished, but final_model deleted: resumed (it is written again), not skipped
    run_dir = os.path.join(out, "fast", "seed1")
    os.remove(os.path.join(run_dir, "final_model.pdparams"))
    open(os.path.join(run_dir, "latest.pdparams"), "wb").close()
    reproduce(spec, out, seeds=[1, 2], quick=True, overrides=ovr, train_fn=fake, figures=False,
              log=lambda *_: None)
    assert fake.calls == [(run_dir, "auto")]
    with pytest.raises(ReproduceError, match="differs in: Global.epochs"):
        reproduce(spec, out, seeds=[1, 2], quick=True, overrides=ovr + ["Global.epochs=3"],
                  train_fn=fake, figures=False, log=lambda *_: None)


def test_recipe_hash_ignores_only_volatile_keys():
    cfg = {"Global": {"output_dir": "a", "resume": None, "epochs": 1}, "Arch": {"name": "x"}}
    moved = {"Global": {"output_dir": "b", "resume": "auto", "epochs": 1}, "Arch": {"name": "x"}}
    assert recipe_hash(cfg) == recipe_hash(moved)
    assert recipe_hash(cfg) != recipe_hash({**cfg, "Arch": {"name": "y"}})


def test_end_to_end_quick_reproduction_and_predict(tmp_path, capsys):
    """Two tiny real runs (ShuffleNetV2 0.5x, 64 synthetic images, 1 epoch) -> the table."""
    spec = write_spec(tmp_path, quick=["Global.epochs=1", "DataLoader.Train.num_samples=64",
                                       "DataLoader.Train.batch_size=16", "DataLoader.Eval.num_samples=40",
                                       "DataLoader.Eval.batch_size=20", "DataLoader.Train.num_workers=0",
                                       "DataLoader.Eval.num_workers=0"])
    out = str(tmp_path / "out")
    lines = []
    paths = reproduce(spec, out, quick=True, overrides=synthetic_overrides(str(tmp_path / "data")),
                      log=lines.append)
    md = open(paths["md"]).read()
    assert "↳ notebook: w/ lr 0.1" in md and "0.7206" in md and "352,042" in md
    assert "Δ w/ lr 0.1 − w/o (lr 0.01)" in md and "One seed per run" in md
    csv_lines = open(paths["csv"]).read().splitlines()
    assert csv_lines[1].startswith("ours,w/ lr 0.1,with,1,")
    # eval img/s: measured again after training, one run at a time, not the trainer's figure
    assert "Eval img/s: measured by this command after every run had finished" in md
    measured = {line.split()[1].rstrip(":"): float(line.split()[2]) for line in lines
                if line.startswith("[throughput]")}
    assert sorted(measured) == sorted(os.path.join(out, n, "seed42") for n in ("fast", "slow"))
    header = csv_lines[0].split(",")
    for row, name in ((1, "fast"), (3, "slow")):  # row 2 is the notebook's
        cell = float(csv_lines[row].split(",")[header.index("throughput_img_s_mean")])
        assert cell == pytest.approx(measured[os.path.join(out, name, "seed42")], abs=0.05)
        trained = json.load(open(os.path.join(out, name, "seed42", "summary.json")))
        assert trained["throughput_img_s"] != cell  # the in-training figure stays in the summary
    run_dir = os.path.join(out, "fast", "seed42")
    for name in ("gallery.png", "confusion.png", "per_class_acc.json", "report_extra.json"):
        assert os.path.getsize(os.path.join(run_dir, name)) > 0, name
    assert json.load(open(os.path.join(run_dir, "report_extra.json")))["flops"] > 0
    assert os.path.getsize(paths["curves"]) > 1000 and os.path.getsize(paths["throughput"]) > 1000
    # predict: a 50x40 image is resized to 32x32, then the Eval transforms; probabilities sum to 1
    img_path = str(tmp_path / "img.png")
    cv2.imwrite(img_path, np.random.RandomState(0).randint(0, 255, (40, 50, 3)).astype("uint8"))
    cfg = load_config(os.path.join(run_dir, "config.yaml"),
                      [f"Global.checkpoint={os.path.join(run_dir, 'best_model.pdparams')}"])
    (path, top), = predict_files(cfg, [img_path], topk=10)
    assert path == img_path and len(top) == 10
    assert sum(p for _, p in top) == pytest.approx(1.0, abs=1e-4)
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert all(isinstance(n, str) for n, _ in top)


def test_tools_report_user_errors_without_traceback(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("repro_tool", os.path.join(ROOT, "tools", "reproduce.py"))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(SystemExit) as exc:
        tool.main([str(tmp_path / "missing.yaml")])
    assert exc.value.code == 2
    assert "does not exist" in capsys.readouterr().err


def test_throughput_passes_take_turns_and_the_fastest_counts(monkeypatch):
    """A busy moment slows one pass of one run, not a run: passes alternate between the runs
    and each run keeps its fastest pass."""
    from paddle_repro.inference import throughput
    order, rates = [], {"a": iter([10.0, 30.0, 20.0]), "b": iter([5.0, 4.0, 6.0])}
    monkeypatch.setattr(throughput, "_ready_run", lambda run_dir: ("cpu", run_dir, None))
    monkeypatch.setattr(throughput.paddle, "set_device", lambda device: None)

    def one_pass(model, loader):
        order.append(model)
        return next(rates[model])
    monkeypatch.setattr(throughput, "loader_throughput", one_pass)
    lines = []
    assert throughput.measure_throughputs(["a", "b"], log=lines.append) == {"a": 30.0, "b": 6.0}
    assert order == ["a", "b"] * 3
    assert lines[0] == "[throughput] a: 30.0 eval img/s (passes: 10.0, 30.0, 20.0)"
