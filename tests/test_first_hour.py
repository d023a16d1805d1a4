"""New-user fixes: run-derived files cleared on a fresh run, VisualDL run names, readable plots."""
import json

import matplotlib.pyplot as plt
import pytest

from paddle_repro.engine import curves
from paddle_repro.engine.logger import run_display_name
from paddle_repro.engine.run_files import clear_run_derived_files


def test_clear_run_derived_files_keeps_checkpoints(tmp_path):
    for name in ("eval.json", "summary.json", "curves_loss.png", "best_model.pdparams", "config.yaml"):
        (tmp_path / name).write_text("x")
    removed = clear_run_derived_files(str(tmp_path))
    assert [p.rsplit("/", 1)[-1] for p in removed] == ["curves_loss.png", "eval.json", "summary.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best_model.pdparams", "config.yaml"]


def test_display_name_is_short_and_distinct():
    assert run_display_name("output/condconv_quick/alexnet_bn/seed42") == "alexnet_bn seed42"
    assert run_display_name("output/condconv_quick/alexnet_condconv/seed42/") == "alexnet_condconv seed42"
    assert run_display_name("output/demo") == "demo"


@pytest.fixture
def kept_figures(monkeypatch):
    figs, close = [], plt.close
    monkeypatch.setattr(curves.plt, "close", figs.append)
    yield figs
    for fig in figs:
        close(fig)


def test_curves_integer_ticks_legend_and_log_axis_on_spikes(tmp_path, kept_figures):
    metrics = [{"epoch": e, "train_loss": 2.0 / e, "train_top1": 0.1 * e, "val_top1": 0.1 * e,
                "val_top5": 0.2 * e, "val_loss": 1e5 if e == 2 else 1.5} for e in (1, 2, 3)]
    steps = [{"step": s, "loss": 2.0} for s in range(1, 10)]
    curves.plot_curves(metrics, steps, str(tmp_path), steps_per_epoch=3)
    loss_ax, acc_ax = (fig.axes[0] for fig in kept_figures)
    for ax in (loss_ax, acc_ax):
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert loss_ax.get_yscale() == "log"
    entries = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert any("train" in e and "solid" in e for e in entries)
    assert any("val" in e and "dashed" in e for e in entries)
    val_line = [ln for ln in loss_ax.get_lines() if ln.get_label().startswith("val")][0]
    assert val_line.get_linestyle() == "--"


def test_curves_linear_axis_without_spikes(tmp_path, kept_figures):
    metrics = [{"epoch": e, "train_loss": 2.0, "train_top1": 0.3, "val_loss": 1.9,
                "val_top1": 0.3, "val_top5": 0.7} for e in (1, 2)]
    curves.plot_curves(metrics, [], str(tmp_path), steps_per_epoch=3)
    assert kept_figures[0].axes[0].get_yscale() == "linear"
