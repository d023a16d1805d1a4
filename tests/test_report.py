"""Report maths and figures on run folders fabricated here (small JSON files, no training)."""
import json
import math
import os

import numpy as np
import pytest
import yaml

from paddle_repro.report import stats
from paddle_repro.report.compare import compare_runs
from paddle_repro.report.confusion import confusion_matrix, per_class_accuracy, write_confusion
from paddle_repro.report.gallery import plot_gallery
from paddle_repro.report.runs import RunError, load_run, read_jsonl
from paddle_repro.report.spec import SpecError, load_spec, validate_spec
from paddle_repro.report.table import build_table, render_markdown, write_csv


def fake_run(path, seed, train, best, final, params=1000, thr=100.0, epochs=3):
    """A run folder with the files the trainer writes (contract in docs/architecture.md)."""
    os.makedirs(path, exist_ok=True)
    summary = {"finished": True, "epochs_completed": epochs, "best_val_top1": best, "best_epoch": 2,
               "final": {"train_loss": 1.0, "train_top1": train, "val_loss": 1.1,
                         "val_top1": final, "val_top5": 0.9},
               "params": params, "trainable_params": params - 10, "throughput_img_s": thr,
               "wall_time_s": 5.0, "device": "cpu", "seed": seed, "config_hash": "x"}
    with open(os.path.join(path, "summary.json"), "w") as f:
        json.dump(summary, f)
    with open(os.path.join(path, "metrics.jsonl"), "w") as f:
        for e in range(1, epochs + 1):
            f.write(json.dumps({"epoch": e, "step": 10 * e, "lr": 0.1, "train_loss": 2.0 / e,
                                "train_top1": train * e / epochs, "val_loss": 2.2 / e,
                                "val_top1": final * e / epochs, "val_top5": 0.9}) + "\n")
    return path


def spec_dict(tmp_path, notebook=True):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("Arch: {name: alexnet}\n")
    return {"title": "T", "columns": ["train_top1", "best_val_top1", "params", "throughput_img_s"],
            "runs": [{"label": "w/", "config": str(cfg), "role": "with", "name": "w",
                      "notebook": {"train_top1": 0.75, "best_val_top1": 0.83} if notebook else {}},
                     {"label": "w/o", "config": str(cfg), "role": "without", "name": "wo",
                      "notebook": {"train_top1": 0.70, "best_val_top1": 0.78} if notebook else {}}]}


def test_mean_std_and_welch_against_hand_values():
    mean, std, n = stats.mean_std([1.0, 2.0, 4.0])
    assert (mean, n) == (pytest.approx(7 / 3), 3)
    assert std == pytest.approx(math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2))
    assert stats.mean_std([0.5]) == (0.5, None, 1) and stats.mean_std([None]) == (None, None, 0)
    # Student t critical values: two-sided p = 0.05 at t = 2.228 (df 10) and 12.706 (df 1)
    assert stats.t_two_sided_p(2.228, 10) == pytest.approx(0.05, abs=2e-4)
    assert stats.t_two_sided_p(12.706, 1) == pytest.approx(0.05, abs=2e-4)
    w = stats.welch([1, 2, 3], [4, 5, 6, 7])  # hand: t = -3.5 / sqrt(1/3 + 5/12)
    assert w["t"] == pytest.approx(-3.5 / math.sqrt(1 / 3 + 5 / 12))
    assert w["df"] == pytest.approx((0.75 ** 2) / ((1 / 3) ** 2 / 2 + (5 / 12) ** 2 / 3))


def test_delta_within_and_outside_seed_spread():
    noisy = stats.compare([0.80, 0.84, 0.76], [0.79, 0.78, 0.80])
    assert noisy["delta"] == pytest.approx(0.01) and noisy["within_spread"] is True
    assert noisy["spread"] == pytest.approx(0.04)
    clear = stats.compare([0.90, 0.91, 0.89], [0.70, 0.71, 0.69])
    assert clear["within_spread"] is False and clear["welch"]["p"] < 1e-3
    single = stats.compare([0.9], [0.8])
    assert single["delta"] == pytest.approx(0.1) and single["within_spread"] is None


def test_table_mean_std_delta_and_notebook_column(tmp_path):
    spec = validate_spec(spec_dict(tmp_path), "t.yaml")
    results = {"w": [load_run(fake_run(tmp_path / f"w{s}", s, 0.7 + d, 0.8 + d, 0.79 + d))
                     for s, d in ((1, 0.0), (2, 0.02), (3, 0.04))],
               "wo": [load_run(fake_run(tmp_path / f"o{s}", s, 0.69 + d, 0.78 + d / 2, 0.77, params=900))
                      for s, d in ((1, 0.0), (2, 0.02), (3, 0.04))]}
    table = build_table(spec, results)
    row_w = table["rows"][0]
    assert row_w["mean"]["best_val_top1"] == pytest.approx(0.82)
    assert row_w["std"]["best_val_top1"] == pytest.approx(0.02)
    delta = table["deltas"][0]["cols"]
    assert delta["best_val_top1"]["delta"] == pytest.approx(0.03)
    assert delta["best_val_top1"]["spread"] == pytest.approx(0.02)  # max(0.02, 0.01)
    assert delta["best_val_top1"]["within_spread"] is False
    assert delta["train_top1"]["delta"] == pytest.approx(0.01)
    assert delta["train_top1"]["within_spread"] is True
    assert delta["params"]["delta"] == pytest.approx(100)
    assert table["notebook_deltas"][0]["cols"]["best_val_top1"] == pytest.approx(0.05)
    md = render_markdown(spec, table, ["header line"])
    assert "0.8200 ± 0.0200" in md and "↳ notebook: w/" in md and "0.8300" in md
    assert "+0.0100 †" in md and "Welch" in md and "header line" in md
    write_csv(table, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[0].startswith("kind,label,role,n,train_top1_mean")
    assert [ln.split(",")[0] for ln in lines[1:]] == ["ours", "notebook", "ours", "notebook",
                                                      "delta", "notebook_delta"]


def test_single_seed_table_says_spread_unmeasured(tmp_path):
    spec = validate_spec(spec_dict(tmp_path, notebook=False), "t.yaml")
    results = {"w": [load_run(fake_run(tmp_path / "a", 42, 0.7, 0.8, 0.8))],
               "wo": [load_run(fake_run(tmp_path / "b", 42, 0.6, 0.7, 0.7))]}
    md = render_markdown(spec, build_table(spec, results))
    assert "One seed per run" in md and "†" not in md and "notebook:" not in md


def test_one_run_table_has_no_delta_lines(tmp_path):
    """A spec with one run (ShuffleNetV2's): seeds are summarised, and there is no delta to flag
    or test, so the table says nothing about deltas (it used to print an empty Welch list)."""
    spec = spec_dict(tmp_path)
    spec["runs"] = spec["runs"][:1]
    spec = validate_spec(spec, "t.yaml")
    results = {"w": [load_run(fake_run(tmp_path / f"w{s}", s, 0.7, 0.8, 0.79)) for s in (1, 2)]}
    md = render_markdown(spec, build_table(spec, results))
    assert "Mean ± sample std (ddof=1) over seeds 1, 2." in md
    assert "Welch" not in md and "No delta" not in md and "†" not in md


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s.update(colums=["params"]), "Did you mean `columns`"),
    (lambda s: s["runs"][0].update(rol="with"), "Did you mean `role`"),
    (lambda s: s["runs"][0]["notebook"].update(val_top1=0.8), "Did you mean `best_val_top1`"),
    (lambda s: s.update(columns=["paramz"]), "Did you mean `params`"),
    (lambda s: s["runs"][1].update(role="baseline"), "use one of with, without, variant"),
    (lambda s: s["runs"][1].update(role="with"), "exactly one run"),
    (lambda s: s["runs"][1].update(name="w"), "repeated: w"),
    (lambda s: s["runs"][0].update(config="missing.yaml"), "does not exist"),
    (lambda s: s["runs"][0]["notebook"].update(params="8M"), "must be a number"),
    (lambda s: s.pop("title"), "`title` is required"),
])
def test_spec_validation_errors(tmp_path, mutate, message):
    spec = spec_dict(tmp_path)
    mutate(spec)
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        validate_spec(spec, "t.yaml")


def test_shipped_table_specs_are_valid():
    root = os.path.join(os.path.dirname(__file__), "..", "configs")
    for repro in ("condconv", "acmix", "nam", "shufflenetv2"):
        for table in ("table.yaml", "table_strong.yaml"):
            spec = load_spec(os.path.join(root, repro, table))
            assert [r["role"] for r in spec["runs"]].count("with") == 1
            assert spec["quick"], repro
        strong = load_spec(os.path.join(root, repro, "table_strong.yaml"))
        assert "NOT MEASURED HERE" in " ".join(strong["notebook_notes"]) or \
            "no target" in " ".join(strong["notebook_notes"])
        assert not any(r["notebook"] for r in strong["runs"])  # anchors are no notebook numbers
    cc = load_spec(os.path.join(root, "condconv", "table.yaml"))
    # the notebook's val acc was its batch-mean definition: it sits in the like-for-like column
    assert cc["runs"][0]["notebook"] == {"train_top1": 0.7479, "best_val_top1_nb": 0.8314,
                                         "params": 8302474, "throughput_img_s": 2159}
    assert cc["figures"] == {"checkpoint": "best_model", "gallery_n": 18, "gallery_cols": 6}
    sn = load_spec(os.path.join(root, "shufflenetv2", "table.yaml"))
    assert sn["figures"] == {"checkpoint": "final_model", "gallery_n": 64, "gallery_cols": 8}
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(os.path.join(root, "nope", "table.yaml"))


def test_run_errors_are_clear(tmp_path):
    with pytest.raises(RunError, match="summary.json does not exist"):
        os.makedirs(tmp_path / "empty")
        load_run(str(tmp_path / "empty"))
    run = fake_run(tmp_path / "r", 1, 0.5, 0.5, 0.5)
    (tmp_path / "r" / "summary.json").write_text('{"finished": tr')
    with pytest.raises(RunError, match="not valid JSON"):
        load_run(str(run))
    (tmp_path / "r" / "metrics.jsonl").write_text('{"epoch": 1}\n{"epoch": 2, "tr')
    assert read_jsonl(str(tmp_path / "r" / "metrics.jsonl")) == [{"epoch": 1}]


def test_confusion_matrix_and_per_class_accuracy(tmp_path):
    labels = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 7, 2])  # 7: outside the 3 classes (1000-class head)
    cm = confusion_matrix(pred, labels, 3)
    assert cm.tolist() == [[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 1, 1]]
    assert per_class_accuracy(cm).tolist() == [0.5, 1.0, 0.5]
    out = write_confusion(pred, labels, ["a", "b", "c"], str(tmp_path))
    assert out["top1"] == pytest.approx(4 / 6)
    assert (tmp_path / "confusion.png").stat().st_size > 1000
    assert json.loads((tmp_path / "per_class_acc.json").read_text())["per_class_acc"] == [0.5, 1.0, 0.5]


def test_gallery_and_compare_pngs(tmp_path):
    imgs = np.random.RandomState(0).randint(0, 255, (4, 32, 32, 3)).astype("uint8")
    plot_gallery(imgs, [0, 1, 2, 1], [0, 1, 1, 1], ["a", "b", "c"], str(tmp_path / "g.png"),
                 probs=[0.9, 0.8, 0.5, 0.7], cols=2)
    assert (tmp_path / "g.png").stat().st_size > 1000
    a = fake_run(tmp_path / "runs" / "x" / "seed1", 1, 0.7, 0.8, 0.8)
    b = fake_run(tmp_path / "runs" / "x" / "seed2", 2, 0.72, 0.82, 0.81)
    c = fake_run(tmp_path / "runs" / "y" / "seed1", 1, 0.6, 0.7, 0.7)
    d = fake_run(tmp_path / "runs" / "y" / "seed2", 2, 0.61, 0.71, 0.7)
    paths = compare_runs([str(p) for p in (a, b, c, d)], str(tmp_path / "cmp"), group=True,
                         labels=["with x", "without y"])
    for key in ("curves", "throughput"):
        assert os.path.getsize(paths[key]) > 1000
    md = open(paths["md"]).read()
    assert "with x" in md and "0.8100 ± 0.0141" in md and "Δ with x − without y" in md
    with pytest.raises(ValueError, match="one label per run"):
        compare_runs([str(a)], str(tmp_path / "cmp2"), labels=["a", "b"])


def test_yaml_specs_reject_unknown_top_level_key(tmp_path):
    spec = spec_dict(tmp_path)
    spec["quik"] = ["Global.epochs=1"]
    path = tmp_path / "table.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError, match="Did you mean `quick`"):
        load_spec(str(path))
