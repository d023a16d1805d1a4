"""Notebook 004's printed log as data (configs/shufflenetv2/notebook_log.csv), and the
table/figure code that lays our epochs beside it."""
import os
import re

import matplotlib.axes
import matplotlib.figure
import pytest

from paddle_repro.report.notebook_log import (NotebookLogError, load_notebook_log,
                                              render_epoch_table)
from paddle_repro.report.overlay import plot_overlay
from paddle_repro.report.spec import SpecError, load_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOG = os.path.join(ROOT, "configs", "shufflenetv2", "notebook_log.csv")
SEED = os.path.join(ROOT, "..", "shared", "seeds", "004_edcf8e242f935f71.txt")
EXECUTED = os.path.join(ROOT, "..", "shared", "seeds", "004_executed_notebook_cells.txt")
LINE = re.compile(r"Epoch \[\s*(\d+)/\s*20\]\s+Train Loss:([\d.]+)\s+Train Acc:([\d.]+)%\s+"
                  r"Test Loss:([\d.]+)\s+Test Acc:([\d.]+)%\s+Learning Rate:([\d.]+)")


@pytest.mark.parametrize("seed_file", [SEED, EXECUTED], ids=["blog_text", "executed_notebook"])
def test_log_csv_is_the_seed_text_digit_for_digit(seed_file):
    if not os.path.isfile(seed_file):
        pytest.skip(f"{seed_file} absent (../shared is not in users' checkouts)")
    printed = LINE.findall(open(seed_file, encoding="utf-8").read())
    assert len(printed) == 20
    rows = load_notebook_log(LOG)
    assert len(rows) == 20
    for row, (epoch, tl, ta, vl, va, lr) in zip(rows, printed):
        assert row["epoch"] == int(epoch)
        assert row["train_loss"] == float(tl) and row["val_loss"] == float(vl)
        assert row["lr"] == float(lr)
        # the log prints percent with 2 decimals; the CSV holds the fraction
        assert f"{row['train_top1'] * 100:.2f}" == ta and f"{row['val_top1'] * 100:.2f}" == va


def test_table_spec_reads_the_log():
    spec = load_spec(os.path.join(ROOT, "configs", "shufflenetv2", "table.yaml"))
    rows = spec["runs"][0]["notebook_log_rows"]
    assert rows[-1]["val_top1"] == pytest.approx(0.7206) == spec["runs"][0]["notebook"]["final_val_top1"]
    assert max(rows, key=lambda r: r["val_top1"])["epoch"] == 18


def test_bad_logs_are_refused(tmp_path):
    bad = tmp_path / "log.csv"
    bad.write_text("epoch,train_loss,train_top1,val_loss,val_top1\n1,2,0.1,2,0.1\n")
    with pytest.raises(NotebookLogError, match="lacks the column.*lr"):
        load_notebook_log(str(bad))
    bad.write_text("epoch,train_loss,train_top1,val_loss,val_top1,lr\n2,2,0.1,2,0.1,0.1\n")
    with pytest.raises(NotebookLogError, match="row 1 is epoch 2"):
        load_notebook_log(str(bad))
    with pytest.raises(NotebookLogError, match="cannot be read"):
        load_notebook_log(str(tmp_path / "missing.csv"))
    spec = tmp_path / "table.yaml"
    (tmp_path / "a.yaml").write_text("Global: {}\n")
    spec.write_text("title: t\nruns:\n  - {label: a, config: a.yaml, role: with, "
                    "notebook_log: missing.csv}\n")
    with pytest.raises(NotebookLogError, match="missing.csv"):
        load_spec(str(spec))
    spec.write_text("title: t\nruns:\n  - {label: a, config: a.yaml, role: with, notebook_log: 3}\n")
    with pytest.raises(SpecError, match="notebook_log` must be the path"):
        load_spec(str(spec))


def _run(seed, epochs):
    """A fabricated loaded run: per-epoch records as metrics.jsonl holds them."""
    return {"dir": f"/runs/seed{seed}", "summary": {"seed": seed},
            "metrics": [{"epoch": e, "train_loss": t, "train_top1": a, "val_loss": vl,
                         "val_top1": 0.0, "val_top1_nb": va, "lr": 0.1}
                        for e, (t, a, vl, va) in enumerate(epochs, start=1)]}


def test_epoch_table_compares_mean_over_seeds_with_the_log():
    log = [{"epoch": 1, "train_loss": 2.0, "train_top1": 0.2, "val_loss": 1.8, "val_top1": 0.32,
            "lr": 0.1},
           {"epoch": 2, "train_loss": 1.5, "train_top1": 0.4, "val_loss": 183250.28,
            "val_top1": 0.45, "lr": 0.1}]
    runs = [_run(1, [(2.2, 0.18, 1.9, 0.30), (1.6, 0.38, 1.5, 0.44)]),
            _run(2, [(2.0, 0.22, 1.7, 0.34), (1.4, 0.42, 1.3, 0.46)])]
    spec = {"runs": [{"name": "x", "label": "X", "notebook_log_rows": log}]}
    md = render_epoch_table(spec, {"x": runs})
    lines = [line for line in md.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert len(lines) == 2
    first = [c.strip() for c in lines[0].split("|")[1:-1]]
    # train loss: mean 2.1 ± 0.1414, notebook 2.0, delta +0.1
    assert first[1:4] == ["2.1000 ± 0.1414", "2.0000", "+0.1000"]
    # val top-1 is the notebook-definition column (val_top1_nb), not val_top1 (0.0 here)
    assert first[10:13] == ["0.3200 ± 0.0283", "0.3200", "+0.0000"]
    assert "1.83e+05" in lines[1]  # the notebook's spike printed readably
    assert render_epoch_table({"runs": [{"name": "x", "label": "X"}]}, {"x": runs}) == ""


def test_overlay_draws_the_notebook_curve_and_the_seed_band(tmp_path, monkeypatch):
    drawn, bands = [], []
    real_plot, real_fill = matplotlib.axes.Axes.plot, matplotlib.axes.Axes.fill_between

    def plot(self, *args, **kwargs):
        drawn.append(kwargs)
        return real_plot(self, *args, **kwargs)

    def fill_between(self, *args, **kwargs):
        bands.append(args)
        return real_fill(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", plot)
    monkeypatch.setattr(matplotlib.axes.Axes, "fill_between", fill_between)
    runs = [_run(1, [(2.2, 0.18, 1.9, 0.30), (1.6, 0.38, 1.5, 0.44)]),
            _run(2, [(2.0, 0.22, 1.7, 0.34), (1.4, 0.42, 1.3, 0.46)])]
    path = tmp_path / "curves.png"
    plot_overlay([runs], ["X"], str(path), notebook_logs=[load_notebook_log(LOG)])
    assert path.stat().st_size > 0
    notebook = [k for k in drawn if str(k.get("label", "")).startswith("notebook")]
    assert len(notebook) == 4 and all(k["color"] == "black" for k in notebook)
    assert len(bands) == 4  # train/val loss and top-1, each with a 2-seed min-max band
    assert any("2 seeds" in str(k.get("label")) for k in drawn)


def test_a_long_legend_goes_below_the_panels(tmp_path, monkeypatch):
    """Six runs and the notebook: 14 entries would cover the curves inside a panel."""
    legends, figure_legends = [], []
    monkeypatch.setattr(matplotlib.axes.Axes, "legend",
                        lambda self, *a, **k: legends.append(k))
    real = matplotlib.figure.Figure.legend
    monkeypatch.setattr(matplotlib.figure.Figure, "legend",
                        lambda self, *a, **k: figure_legends.append(a) or real(self, *a, **k))
    runs = [[_run(s, [(2.2, 0.18, 1.9, 0.30), (1.6, 0.38, 1.5, 0.44)])] for s in range(6)]
    path = tmp_path / "curves.png"
    plot_overlay(runs, [f"run {s}" for s in range(6)], str(path),
                 notebook_logs=[load_notebook_log(LOG)] + [None] * 5)
    assert legends == [] and len(figure_legends) == 1
    assert len(figure_legends[0][0]) == 14  # 6 runs x train/val + the notebook's two
    plot_overlay(runs[:1], ["run 0"], str(path), notebook_logs=[load_notebook_log(LOG)])
    assert len(legends) == 2 and len(figure_legends) == 1  # short: one legend in each panel
