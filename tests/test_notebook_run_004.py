"""benchmarks/notebook_run_004.py (notebook 004's own PyTorch code over whole epochs, issue 25):
a run stopped after an epoch and started again computes what an uninterrupted run computes.

Needs torch (the ``crosscheck`` extra); skipped without it, like the other cross-checks.
"""
import json
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed: the notebook-004 cross-"
                            "checks need the crosscheck extra (pip install -e .[crosscheck])")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import notebook_run_004  # noqa: E402
from paddle_repro.data.synthetic import write_synthetic_cifar  # noqa: E402


@pytest.fixture(scope="module")
def two_batch_cifar(tmp_path_factory):
    """A CIFAR-10 tarball with 2 train batches and 1 test batch of the notebook's 128."""
    path = tmp_path_factory.mktemp("cifar10") / "cifar-10-two-batches.tar.gz"
    return write_synthetic_cifar(path, seed=1, flavour="cifar10", num_classes=10,
                                 train_size=256, test_size=128)


def rows(folder):
    with open(folder / notebook_run_004.METRICS, encoding="utf-8") as f:
        return [{k: v for k, v in json.loads(line).items() if k != "epoch_time_s"} for line in f]


def test_resumed_run_equals_uninterrupted_run(two_batch_cifar, tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    common = ["--data", two_batch_cifar, "--seed", "3"]
    notebook_run_004.main(common + ["--epochs", "3", "--output", str(whole)])
    notebook_run_004.main(common + ["--epochs", "1", "--output", str(split)])
    assert len(rows(split)) == 1
    notebook_run_004.main(common + ["--epochs", "3", "--output", str(split)])  # resumes
    assert [r["epoch"] for r in rows(split)] == [1, 2, 3]
    assert rows(split) == rows(whole)
    a, b = (torch.load(f / notebook_run_004.CHECKPOINT, weights_only=True)["net"] for f in (whole, split))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_finished_run_is_left_alone(two_batch_cifar, tmp_path, capsys):
    args = ["--data", two_batch_cifar, "--seed", "0", "--epochs", "1", "--output", str(tmp_path)]
    notebook_run_004.main(args)
    before = (tmp_path / notebook_run_004.METRICS).read_text()
    notebook_run_004.main(args)
    assert "already finished 1 epochs" in capsys.readouterr().out
    assert (tmp_path / notebook_run_004.METRICS).read_text() == before


def test_exact_prefix_scores_the_two_parts_of_the_test_set(two_batch_cifar, tmp_path):
    args = ["--data", two_batch_cifar, "--seed", "0", "--epochs", "1", "--output", str(tmp_path)]
    notebook_run_004.main(args + ["--exact-prefix", "32"])
    parts = json.loads((tmp_path / "exact_vs_rest.json").read_text())
    assert parts["prefix"] == 32 and parts["n_rest"] == 96 and parts["after_epoch"] == 1
    # every test image counted once: the whole is the parts' weighted mean
    whole = (32 * parts["top1_prefix"] + 96 * parts["top1_rest"]) / 128
    assert parts["top1_all"] == pytest.approx(whole)
    assert parts["top1_prefix"] * 32 == pytest.approx(round(parts["top1_prefix"] * 32))  # a count
