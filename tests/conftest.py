"""Shared pytest fixtures: repo root on sys.path, tiny CIFAR-format tarballs, real samples.

``cifar10_tarball`` / ``cifar100_tarball`` are small synthetic archives in the exact CIFAR
layout (written once per session), so every test reads data through the real loading code
without a download. ``shared_data`` is the folder of real CIFAR samples that exists only on
the project's build machines; tests that need it skip with a message elsewhere.
"""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from paddle_repro.data.synthetic import write_synthetic_cifar  # noqa: E402

# Sizes chosen so every class appears in both splits and tests stay fast.
CIFAR10_SIZES = dict(num_classes=10, train_size=120, test_size=40)
CIFAR100_SIZES = dict(num_classes=100, train_size=300, test_size=200)


@pytest.fixture(scope="session")
def cifar10_tarball(tmp_path_factory):
    """``str`` path of a small synthetic CIFAR-10-format tarball (120 train / 40 test)."""
    path = tmp_path_factory.mktemp("cifar10") / "synthetic-cifar-10.tar.gz"
    return write_synthetic_cifar(path, seed=0, flavour="cifar10", **CIFAR10_SIZES)


@pytest.fixture(scope="session")
def cifar100_tarball(tmp_path_factory):
    """``str`` path of a small synthetic CIFAR-100-format tarball (300 train / 200 test)."""
    path = tmp_path_factory.mktemp("cifar100") / "synthetic-cifar-100.tar.gz"
    return write_synthetic_cifar(path, seed=0, flavour="cifar100", **CIFAR100_SIZES)


@pytest.fixture(scope="session")
def shared_data():
    """``Path`` of ``<repo>/../shared/data`` (real CIFAR samples), or skip when absent."""
    path = ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip("../shared/data not present: real-CIFAR sample tests skipped")
    return path
