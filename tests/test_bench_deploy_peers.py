"""bench_deploy_peers.py's bookkeeping (no timing, no worker process, no torch): batch caps,
ratios = peer time / Paddle time as the median of paired rounds, the table, and a mismatch
that stops the run before anything is timed."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_deploy_peers as bench  # noqa: E402


def test_alexnets_are_capped_at_batch_64():
    assert bench.batches_for("alexnet_acmix", [1, 8, 128]) == [1, 8, 64]
    assert bench.batches_for("resnet50_nam", [1, 8, 128]) == [1, 8, 128]
    assert bench.batches_for("alexnet_bn", [64, 128]) == [64]


def test_ratios_are_peer_over_paddle_per_round():
    # per-round ratios eager/oneDNN: 3/1, 2/1, 4/2 -> median 2, min-max 2-3
    samples = {8: {"predictor": [2.0, 2.0, 2.0], "predictor_onednn": [1.0, 1.0, 2.0],
                   "torch_eager": [3.0, 2.0, 4.0], "torchscript": [1.0, 1.0, 1.0]}}
    row = bench._rows("alexnet_bn", samples, {}, "peer")[0]
    assert row["predictor_onednn/torch_eager"] == [2.0, [2.0, 3.0]]
    assert row["predictor/torch_eager"] == [1.5, [1.0, 2.0]]
    assert row["predictor_onednn_img_s"] == 8 / 1.0 and "predictor_onednn/onnxruntime" not in row
    res = {"rows": [row], "environment": {"paddle": "3.x"}, "versions": {}, "skipped": {"x": "y"},
           "settings": {"threads": 1, "rounds": 3, "quick": True}, "load_avg_start": 0.0,
           "load_avg_end": 0.0}
    table = bench.markdown(res)
    assert "| alexnet_bn | 8 | 4.0 | 8.0 | 2.7 | 8.0 | - | **2.00** (2.00-3.00) |" in table
    assert "not a result" in table and "Skipped: x: y." in table


class _FakeWorker:
    kind = "paddle"

    def __init__(self, outputs):
        self.outputs = outputs

    def ask(self, **cmd):
        assert cmd["cmd"] == "check"
        return {"outputs": self.outputs}


def test_a_backend_with_other_outputs_stops_the_run(tmp_path):
    reference = np.array([[1.0, -2.0]], "float32")
    np.save(tmp_path / "reference.npy", reference)
    good = _FakeWorker({"predictor": (reference * (1 + 1e-6)).tolist()})
    assert bench._check({"paddle": good}, str(tmp_path), "m")["predictor"] < 1e-5
    bad = _FakeWorker({"predictor": (reference * 1.01).tolist()})
    with pytest.raises(AssertionError, match="nothing was timed"):
        bench._check({"paddle": bad}, str(tmp_path), "m")


def test_benchmark_tool_forwards_deploy_peers(monkeypatch):
    """``tools/benchmark.py --deploy-peers ...`` hands the rest of the line to this script;
    the flag anywhere else is an error, not silently the default benchmarks."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "benchmark_tool", Path(__file__).resolve().parents[1] / "tools" / "benchmark.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    seen = []
    monkeypatch.setattr(bench, "main", lambda argv: seen.append(argv) or "table")
    assert tool.main(["--deploy-peers", "--quick", "--models", "alexnet_bn"]) == "table"
    assert seen == [["--quick", "--models", "alexnet_bn"]]
    with pytest.raises(SystemExit) as exc:
        tool.main(["--quick", "--deploy-peers"])
    assert exc.value.code == 2 and seen == [["--quick", "--models", "alexnet_bn"]]
