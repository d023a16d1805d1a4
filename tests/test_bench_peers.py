"""bench_peers.py's bookkeeping (no timing, no torch): ratios are ours / PyTorch images/s,
the median of per-round ratios, and the table says which way is faster."""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_peers  # noqa: E402


def _fake_spawn(times):
    def spawn(kind, net, args):
        if kind == "check":
            return {"params": 123, "output_rel_err": 0.0}
        ms = times[kind].pop(0)
        return {"params": 123, "batch": 10, "version": kind, "train_ms": ms, "infer_ms": ms / 2}
    return spawn


def test_ratio_is_ours_over_torch_median_of_rounds(monkeypatch):
    # round ratios torch/ours: 200/100 = 2, 300/100 = 3, 100/100 = 1 -> median 2
    times = {"paddle": [100.0, 100.0, 100.0], "torch": [200.0, 300.0, 100.0]}
    monkeypatch.setattr(bench_peers, "_spawn", _fake_spawn(times))
    monkeypatch.setattr(__import__("importlib").util, "find_spec", lambda name: object())
    args = argparse.Namespace(nets="alexnet", rounds=3, to_static=False, quick=False, threads=2)
    res = bench_peers.run(args, log=lambda *a: None)
    row = res["rows"][0]
    assert row["paddle_train_ratio"][0] == 2.0 and row["paddle_train_ratio"][1] == [1.0, 3.0]
    assert row["paddle_train_img_s"] == 100.0 and row["torch_train_img_s"] == 50.0
    table = bench_peers.markdown(res)
    assert "| alexnet | 10 | 123 | 100 | 50 | **2.00** (1.00-3.00)" in table


def test_without_torch_it_says_so(monkeypatch):
    monkeypatch.setattr(__import__("importlib").util, "find_spec", lambda name: None)
    args = argparse.Namespace(nets=None, rounds=1, to_static=False, quick=True, threads=1)
    res = bench_peers.run(args, log=lambda *a: None)
    assert res["rows"] == [] and "Not measured: torch not installed" in bench_peers.markdown(res)
