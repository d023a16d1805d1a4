"""The notebooks' val definitions (Metric.notebook_val), beside the true metrics."""
import json
import os

import numpy as np
import paddle
import pytest
import yaml

from paddle_repro.config import ConfigError, load_config
from paddle_repro.engine.evaluate import evaluate
from paddle_repro.builders.losses import build_loss
from paddle_repro.builders.notebook_metrics import NOTEBOOK_VAL, notebook_val_metrics
from paddle_repro.engine.trainer import train
from paddle_repro.report.spec import SpecError, load_spec, validate_spec
from paddle_repro.report.table import build_table, fmt_notebook, printed_decimals, render_markdown


class LogitsAreInputs(paddle.nn.Layer):
    def forward(self, x):
        return x


def _batch(preds, labels, k=3):
    logits = np.full([len(preds), k], -4.0, np.float32)
    logits[np.arange(len(preds)), preds] = 4.0
    return paddle.to_tensor(logits), paddle.to_tensor(np.asarray(labels, np.int64))


@pytest.fixture()
def short_last_batch():
    """4 right in a full batch of 4, then a last batch of 1 wrong: true 0.8, batch-mean 0.5."""
    return [_batch([0, 1, 2, 0], [0, 1, 2, 0]), _batch([1], [2])]


def test_batch_mean_is_the_unweighted_mean_of_batch_accuracies(short_last_batch):
    loss_fn = build_loss({"name": "cross_entropy"})
    res = evaluate(LogitsAreInputs(), short_last_batch, loss_fn, num_classes=3, topk=2)
    assert res["top1"] == pytest.approx(0.8)
    nb = notebook_val_metrics("batch_mean", res)
    assert nb["val_top1_nb"] == pytest.approx(0.5)
    # (sum of batch-mean losses / n) * batch_size, as 000/002 printed it
    per = paddle.nn.functional.cross_entropy(*short_last_batch[0], reduction="none").numpy()
    last = paddle.nn.functional.cross_entropy(*short_last_batch[1], reduction="none").numpy()
    assert nb["val_loss_nb"] == pytest.approx((per.mean() + last.mean()) / 5 * 4, rel=1e-6)
    assert res["loss"] == pytest.approx((per.sum() + last.sum()) / 5, rel=1e-6)


def test_paddle_model_logs_the_last_batch_loss_and_count_accuracy(short_last_batch):
    loss_fn = build_loss({"name": "cross_entropy"})
    res = evaluate(LogitsAreInputs(), short_last_batch, loss_fn, num_classes=3, topk=2)
    nb = notebook_val_metrics("paddle_model", res)
    last = paddle.nn.functional.cross_entropy(*short_last_batch[1]).numpy()
    assert nb["val_loss_nb"] == pytest.approx(float(last), rel=1e-6)
    assert nb["val_top1_nb"] == pytest.approx(0.8) and nb["val_top5_nb"] == res["top5"]
    assert notebook_val_metrics("counts", res) == {"val_top1_nb": pytest.approx(0.8)}


def test_mean_of_batches_is_utils_train_of_notebook_004(short_last_batch):
    # utils.train: test_acc += get_acc(...) per batch, test_loss += loss.item() per batch, both
    # divided by len(testloader): the short last batch weighs as much as a full one.
    loss_fn = build_loss({"name": "torch_cross_entropy"})
    res = evaluate(LogitsAreInputs(), short_last_batch, loss_fn, num_classes=3, topk=2)
    nb = notebook_val_metrics("mean_of_batches", res)
    per = paddle.nn.functional.cross_entropy(*short_last_batch[0], reduction="none").numpy()
    last = paddle.nn.functional.cross_entropy(*short_last_batch[1], reduction="none").numpy()
    assert nb["val_top1_nb"] == pytest.approx((1.0 + 0.0) / 2)
    assert nb["val_loss_nb"] == pytest.approx((per.mean() + last.mean()) / 2, rel=1e-6)
    assert notebook_val_metrics(None, res) == {}


def test_every_schema_choice_has_a_definition():
    from paddle_repro.config_schema import METRIC
    assert set(c for c in METRIC["notebook_val"].choices if c) == set(NOTEBOOK_VAL)


def test_notebook_configs_name_their_definitions():
    defs = {"configs/condconv/alexnet_condconv.yaml": ("batch_mean", "val_top1_nb"),
            "configs/acmix/alexnet.yaml": ("batch_mean", "val_top1_nb"),
            "configs/nam/resnet50_nam.yaml": ("paddle_model", "val_top1"),
            "configs/shufflenetv2/x0_5.yaml": ("mean_of_batches", "val_top1")}
    for path, (definition, best_by) in defs.items():
        metric = load_config(path)["Metric"]
        assert (metric["notebook_val"], metric["best_by"]) == (definition, best_by), path


def test_epoch_checkpoints_are_off_unless_asked():
    assert load_config("configs/nam/resnet50_nam.yaml")["Global"]["keep_epoch_checkpoints"] is False


def test_best_by_notebook_needs_a_definition():
    with pytest.raises(ConfigError, match="notebook_val"):
        load_config("configs/demo/synthetic_quick.yaml", ["Metric.best_by=val_top1_nb"])


def test_a_run_records_both_and_selects_best_by_the_notebook_definition(tmp_path):
    # 100 test images at batch 30: a short last batch of 10 makes the two definitions differ.
    cfg = load_config("configs/demo/synthetic_quick.yaml", [
        f"Global.output_dir={tmp_path}/run", "Global.epochs=3", "Global.throughput=false",
        f"DataLoader.dataset.root={tmp_path}/data", "DataLoader.Eval.batch_size=30",
        "Metric.notebook_val=batch_mean", "Metric.best_by=val_top1_nb",
        "Global.keep_epoch_checkpoints=true"])
    summary = train(cfg)
    out = cfg["Global"]["output_dir"]
    for epoch in (1, 2, 3):  # the NAM notebook's ModelCheckpoint(save_freq=1)
        assert os.path.isfile(os.path.join(out, f"epoch_{epoch}.pdparams"))
        assert os.path.isfile(os.path.join(out, f"epoch_{epoch}.pdopt"))
    with open(os.path.join(cfg["Global"]["output_dir"], "metrics.jsonl")) as f:
        records = [json.loads(line) for line in f]
    assert all({"val_top1_nb", "val_loss_nb"} <= set(r) for r in records)
    assert any(r["val_top1_nb"] != r["val_top1"] for r in records)  # the short batch counts
    best = max(records, key=lambda r: r["val_top1_nb"])  # first maximum, as `>` keeps it
    assert summary["best_by"] == "val_top1_nb" and summary["best_epoch"] == best["epoch"]
    assert summary["best_value"] == best["val_top1_nb"] == summary["best_val_top1_nb"]
    assert summary["best_val_top1"] == best["val_top1"]
    assert summary["final"]["val_top1_nb"] == records[-1]["val_top1_nb"]
    with open(os.path.join(cfg["Global"]["output_dir"], "train_steps.jsonl")) as f:
        steps = [json.loads(line) for line in f]
    assert all(0.0 <= s["top1"] <= s["top5"] <= 1.0 for s in steps)


def test_notebook_numbers_print_at_their_own_precision():
    assert printed_decimals(0.81804) == 5 and printed_decimals(0.8314) == 4
    assert fmt_notebook("best_val_top1_nb", 0.79855) == "0.79855"
    assert fmt_notebook("best_val_top1_nb", 0.7206) == "0.7206"
    assert fmt_notebook("best_val_top1_nb", 0.81804 - 0.79855, 5, signed=True) == "+0.01949"


def test_table_puts_the_notebook_number_in_the_like_for_like_column():
    spec = load_spec("configs/acmix/table.yaml")
    fake = {"summary": {"best_val_top1": 0.70, "best_val_top1_nb": 0.69, "seed": 42,
                        "final": {"val_top1": 0.7, "val_top1_nb": 0.69, "train_top1": 0.6}},
            "extra": {}, "metrics": [], "dir": "x"}
    table = build_table(spec, {r["name"]: [fake] for r in spec["runs"]})
    md = render_markdown(spec, table)
    assert "best val top-1 (notebook def.)" in md
    nb_row = next(line for line in md.splitlines() if line.startswith("| ↳ notebook: w/ ACmix"))
    cells = [c.strip() for c in nb_row.split("|")]
    header = [c.strip() for c in md.splitlines()[next(
        i for i, line in enumerate(md.splitlines()) if line.startswith("| run |"))].split("|")]
    assert cells[header.index("best val top-1 (notebook def.)")] == "0.81804"
    assert cells[header.index("best val top-1")] == "–"
    assert "+0.01949" in md  # notebook delta at the notebooks' precision


def test_figures_spec_is_checked():
    spec = yaml.safe_load(open("configs/shufflenetv2/table.yaml"))
    spec["figures"]["checkpoint"] = "best"
    with pytest.raises(SpecError, match="figures.checkpoint"):
        validate_spec(spec, os.path.abspath("configs/shufflenetv2/table.yaml"))
