"""benchmarks/targets.py and perf_docs.py: target rows and docs blocks (logic only; nothing timed)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import targets  # noqa: E402


def _t(median, lo=None, hi=None):
    return {"median_ms": median, "min_ms": lo or median, "max_ms": hi or median}


def _layer(layer, shape, variant, fwd, fwd_bwd, nb=None, mem_ratio=None, err=1e-7):
    row = {"layer": layer, "shape": shape, "variant": variant, "max_rel_err": err,
           "fwd_ms": fwd, "fwd_bwd_ms": fwd_bwd}
    if nb:
        row["fwd_speedup"] = nb[0] / fwd["median_ms"]
        row["fwd_bwd_speedup"] = nb[1] / fwd_bwd["median_ms"]
    if mem_ratio is not None:
        row["fwd_bwd_mem_ratio"] = mem_ratio
    return row


def _results(auto_fb=100.0, loop_fb=500.0, acmix_fb=10.0, per_expert_mem=9.0, err=1e-7):
    s = "(64,128,7,7)->192"
    layers = [
        _layer("condconv", s, "notebook", _t(100), _t(200, 180, 230)),
        _layer("condconv", s, "auto", _t(90), _t(auto_fb)),
        _layer("condconv", s, "loop", _t(400), _t(loop_fb)),
        _layer("condconv", s, "per_expert", _t(90), _t(200), mem_ratio=per_expert_mem),
        _layer("acmix", "(32,128,7,7)->192", "fast", _t(10), _t(acmix_fb), nb=(200, 200),
               mem_ratio=8.0, err=err),
        _layer("acmix", "(1,16,56,56)->64", "fast", _t(10), _t(10), nb=(80, 90), err=err),
    ]
    models = {"rows": [
        {"model": "alexnet_acmix", "train_img_s": 70, "infer_img_s": 200},
        {"model": "alexnet_acmix[notebook]", "train_img_s": 10, "infer_img_s": 20},
        {"model": "alexnet", "train_img_s": 80, "infer_img_s": 220},
        {"model": "resnet50 (fair)", "train_img_s": 10.0, "infer_img_s": 30},
        {"model": "resnet50_nam", "train_img_s": 9.5, "infer_img_s": 29},
        {"model": "shufflenetv2_x0_5", "train_img_s": 100, "infer_img_s": 300},
        {"model": "shufflenetv2_x0_5[to_static]", "train_img_s": 160, "infer_img_s": 500},
    ]}
    pipeline = {"rows": [{"recipe": "condconv", "workers_timed": 0, "speedup": 4.2},
                         {"recipe": "acmix", "workers_timed": 0, "speedup": 2.2}]}
    return {"layers": layers, "models": models, "pipeline": pipeline}


def _by_target(rows):
    return {r["target"]: r for r in rows}


def test_every_target_has_a_verdict():
    rows = targets.check(_results())
    assert len(rows) == 16
    by = _by_target(rows)
    assert by["ACmix fwd+bwd vs notebook, AlexNet shapes (batch 32-128, 7x7)"]["met"] == "yes"
    assert by["ACmix fwd and fwd+bwd vs notebook at (1,16,56,56)"]["met"] == "yes"
    assert by["CondConv auto vs a per-sample loop (fwd and fwd+bwd)"]["met"] == "yes"
    assert by["AlexNet-ACmix training step vs notebook formulation"]["measured"] == "7.00x"
    assert by["ResNet50-NAM training step time / fair ResNet50"]["measured"] == "1.05"
    assert by["ResNet50-NAM inference time / fair ResNet50"]["met"] == "yes"  # 30 / 29
    pipe = [r for r in rows if r["target"].startswith("Batched")]
    assert [r["met"] for r in pipe] == ["yes", "NO"]
    assert "| met |" in targets.markdown(rows)


@pytest.mark.parametrize("kwargs, target", [
    ({"loop_fb": 300.0}, "CondConv auto vs a per-sample loop (fwd and fwd+bwd)"),
    ({"acmix_fb": 25.0}, "ACmix fwd+bwd vs notebook, AlexNet shapes (batch 32-128, 7x7)"),
    ({"per_expert_mem": 4.0}, "CondConv low-memory mode (per_expert) peak memory vs notebook"),
    ({"err": 3e-5}, "ACmix outputs and gradients vs notebook (max |diff| / max |ref|)"),
    ({"auto_fb": 240.0}, "CondConv auto never slower than the notebook's grouped conv"),
])
def test_a_missed_target_says_no(kwargs, target):
    assert _by_target(targets.check(_results(**kwargs)))[target]["met"] == "NO"


def test_slower_but_inside_the_notebooks_spread_is_not_slower():
    # notebook fwd+bwd: median 200, min-max 180-230; auto at 220 is within that spread
    row = _by_target(targets.check(_results(auto_fb=220.0)))[
        "CondConv auto never slower than the notebook's grouped conv"]
    assert row["met"] == "yes" and row["measured"].startswith("0.91x")


def test_parts_not_run_are_reported_as_not_measured():
    rows = targets.check({"layers": _results()["layers"]})
    by = _by_target(rows)
    assert by["ShuffleNetV2 0.5x training step, to_static vs dygraph"]["met"] == "not measured"
    no_mem = [dict(r) for r in _results()["layers"]]
    for r in no_mem:
        r.pop("fwd_bwd_mem_ratio", None)
    row = _by_target(targets.check({"layers": no_mem}))[
        "ACmix peak memory (fwd+bwd) vs notebook, AlexNet shapes"]
    assert row["met"] == "not measured"


def test_docs_blocks_are_replaced_in_place_and_named_blocks_appended(tmp_path):
    import perf_docs
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nhand-written\n")
    perf_docs.write(doc, perf_docs.measured_block("cmd 1", "- env", [("T", "one")]))
    perf_docs.write(doc, perf_docs.measured_block("cmd 2", "- env", [("T", "26")], "paddle-2.6"))
    perf_docs.write(doc, perf_docs.measured_block("cmd 3", "- env", [("T", "two")]))
    text = doc.read_text()
    assert text.startswith("# Performance\n\nhand-written\n")
    assert "cmd 1" not in text and text.index("cmd 3") < text.index("cmd 2")
    assert text.count("BEGIN MEASURED") == 2 and "--docs-block paddle-2.6" in text


def test_model_ratios_pair_the_rounds_when_the_rows_keep_them():
    # The machine sped up and slowed down between rounds: paired, two of three rounds say
    # 1.05 (median 1.05); the ratio of the two medians would say 140 / 130 = 1.08.
    res = _results()
    rows = res["models"]["rows"]
    fair = next(r for r in rows if r["model"] == "resnet50 (fair)")
    nam = next(r for r in rows if r["model"] == "resnet50_nam")
    fair["train_timing"] = {"samples_ms": [100.0, 130.0, 160.0]}
    nam["train_timing"] = {"samples_ms": [140.0, 136.5, 168.0]}
    nam["train_img_s"] = 9.0
    row = _by_target(targets.check(res))["ResNet50-NAM training step time / fair ResNet50"]
    assert row["measured"] == "1.05" and row["met"] == "yes"
    del nam["train_timing"]  # older results: the ratio of the images/s medians (10 / 9)
    row = _by_target(targets.check(res))["ResNet50-NAM training step time / fair ResNet50"]
    assert row["measured"] == "1.11" and row["met"] == "NO"


def test_never_slower_shows_the_comparison_that_fails():
    # Shape A: auto 0.83x but inside the notebook's wide spread (passes). Shape B: auto 0.93x
    # with a tight spread (fails). The row must name B, not the numerically worse A.
    res = _results(auto_fb=240.0)  # shape A; its notebook spread is widened below
    res["layers"][0]["fwd_bwd_ms"] = _t(200, 150, 400)
    s = "(512,192,7,7)->128"
    res["layers"] += [_layer("condconv", s, "notebook", _t(100), _t(700, 690, 720)),
                      _layer("condconv", s, "auto", _t(100), _t(750))]
    row = _by_target(targets.check(res))["CondConv auto never slower than the notebook's grouped conv"]
    assert row["met"] == "NO" and row["measured"] == f"0.93x (worst: {s} fwd+bwd)"
