"""New-user fixes: run-derived files cleared on a fresh run, VisualDL run names, readable plots."""
import os
import re

import matplotlib.pyplot as plt
import pytest
from visualdl import LogReader
from visualdl.server import lib as vdl_lib

from paddle_repro.config import load_config
from paddle_repro.engine.logger import VDL_FILE, RunLogger, run_display_name
from paddle_repro.report import curves
from paddle_repro.report.machine import machine_lines
from paddle_repro.report.spec import load_spec
from paddle_repro.reproduce.plan import plan_runs
from paddle_repro.engine.run_files import clear_run_derived_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_clear_run_derived_files_keeps_checkpoints(tmp_path):
    for name in ("eval.json", "summary.json", "curves_loss.png", "best_model.pdparams", "config.yaml"):
        (tmp_path / name).write_text("x")
    removed = clear_run_derived_files(str(tmp_path))
    assert [p.rsplit("/", 1)[-1] for p in removed] == ["curves_loss.png", "eval.json", "summary.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best_model.pdparams", "config.yaml"]


def test_run_names_say_where_the_run_is(tmp_path):
    cwd = str(tmp_path)
    assert run_display_name("output/condconv_quick/alexnet_bn/seed42", cwd) == "condconv_quick/alexnet_bn/seed42"
    assert run_display_name(str(tmp_path / "output/demo/synthetic_quick/"), cwd) == "demo/synthetic_quick"
    assert run_display_name("/shared/runs/nam/resnet50_nam/seed43", cwd) == "nam/resnet50_nam/seed43"
    assert run_display_name("runs/exp1", cwd) == "runs/exp1"
    assert run_display_name("/elsewhere/exp1", cwd) == "/elsewhere/exp1"


def test_visualdl_lists_every_run_of_two_tables_and_the_demo(tmp_path, monkeypatch):
    """Two tables of one spec (a quick one, another --output) and the demo under one logdir:
    VisualDL's own reader, through the functions its server answers the UI with, lists every
    run, each under its own name (before, the tables' runs shared ``<run> seed<N>`` names and
    the UI merged them)."""
    monkeypatch.chdir(tmp_path)
    spec = load_spec(os.path.join(ROOT, "configs", "condconv", "table.yaml"))
    cfgs = [job["cfg"] for output in ("output/condconv_quick", "output/condconv_jobs2")
            for job in plan_runs(spec, output, seeds=[42, 43], quick=True)]
    cfgs.append(load_config(os.path.join(ROOT, "configs", "demo", "synthetic_quick.yaml")))
    for cfg in cfgs:
        os.makedirs(cfg["Global"]["output_dir"])
        logger = RunLogger(cfg["Global"]["output_dir"])
        logger.step(1, 1, loss=2.0, lr=0.1, top1=0.5, topk=0.9)
        logger.epoch({"epoch": 1, "train_loss": 2.0, "train_top1": 0.4, "lr": 0.1,
                      "val_loss": 1.5, "val_top1": 0.5, "val_top5": 0.9})
        logger.close()
    reader = LogReader(logdir="output")
    shown = vdl_lib.get_scalar_tags(reader)["runs"]  # the UI's run list of the scalar page
    expected = [f"{table}/{run}/seed{seed}" for table in ("condconv_quick", "condconv_jobs2")
                for run in ("alexnet_condconv", "alexnet_bn") for seed in (42, 43)]
    assert sorted(shown) == sorted(expected + ["demo/synthetic_quick"])
    assert sorted(vdl_lib.get_runs(reader)) == sorted(shown)


def test_optional_visualdl_tags_are_the_documented_ones(tmp_path):
    """docs/training.md's third bullet of "VisualDL" lists the tags a run adds with
    Metric.notebook_val and with EMA (the other two are read from the demo's run by
    test_getting_started.py)."""
    record = {"epoch": 1, "train_loss": 2.0, "train_top1": 0.4, "lr": 0.1}
    for key in ("val_loss", "val_top1", "val_top5"):
        record.update({key: 0.5, key + "_nb": 0.5, key + "_ema": 0.5})
    plain, full = tmp_path / "plain", tmp_path / "full"
    for folder, rec in ((plain, {k: v for k, v in record.items() if k[-3:] not in ("_nb", "ema")}),
                        (full, record)):
        folder.mkdir()
        logger = RunLogger(str(folder))
        logger.epoch(rec)
        logger.close()
    tags = {f: set(LogReader(file_path=str(f / "vdl" / VDL_FILE)).get_tags()["scalar"])
            for f in (plain, full)}
    doc = open(os.path.join(ROOT, "docs", "training.md"), encoding="utf-8").read()
    optional = doc.split("## VisualDL\n", 1)[1].split("- with `Metric.notebook_val`", 1)[1]
    optional = optional.split("\n\n", 1)[0]
    assert set(re.findall(r"`(\w+/\w+)`", optional)) == tags[full] - tags[plain]


def test_quick_header_names_the_notebook_only_when_there_is_one():
    spec = {"quick": ["Global.epochs=2"], "runs": [{"notebook": {}}, {"notebook": {}}]}
    own = machine_lines(True, spec, 1.0, [{}], ["a/seed42"])[0]
    assert own.startswith("**QUICK RUN -- not the configs' full runs**")
    spec["runs"][0]["notebook"] = {"best_val_top1": 0.8}
    assert machine_lines(True, spec, 1.0, [{}], ["a/seed42"])[0].startswith(
        "**QUICK RUN -- not the notebook's scale**")


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
