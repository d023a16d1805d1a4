"""User-caused data failures are one DataError with a fix: missing, truncated, corrupt and
foreign files, md5 mismatch, offline without a file (failing fast, no download attempt)."""
import gzip
import io
import os
import pickle
import shutil
import socket
import tarfile

import numpy as np
import pytest

from paddle_repro.data import DataError, build_dataset
from paddle_repro.data import cifar_files

OFFICIAL_MD5 = "c58f30108f718f92721af3b95e74349a"


def _build(path, name="cifar10", allow=True):
    return build_dataset({"name": name, "data_file": str(path), "allow_unofficial": allow}, {}, "train")


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def test_missing_file(tmp_path):
    with pytest.raises(DataError) as e:
        _build(tmp_path / "nope.tar.gz")
    msg = str(e.value)
    assert "nope.tar.gz does not exist" in msg and OFFICIAL_MD5 in msg
    assert "https://dataset.bj.bcebos.com/cifar/cifar-10-python.tar.gz" in msg
    assert "DataLoader.dataset.data_file=" in msg


def test_truncated_file(tmp_path, cifar10_tarball):
    blob = open(cifar10_tarball, "rb").read()
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="truncated or corrupt"):
        _build(path)


def test_random_bytes(tmp_path):
    path = tmp_path / "junk.tar.gz"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(DataError, match="not a readable .tar.gz"):
        _build(path)


def test_gzip_of_non_tar(tmp_path):
    path = tmp_path / "plain.tar.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"hello world" * 100)
    with pytest.raises(DataError, match="not a readable .tar.gz"):
        _build(path)


def test_missing_members(tmp_path):
    path = _tar(tmp_path / "x.tar.gz", {"cifar-10-batches-py/readme.html": b"hi"})
    with pytest.raises(DataError, match=r"no data_batch member.*batches\.meta"):
        _build(path)


def test_garbage_pickle(tmp_path):
    meta = pickle.dumps({b"label_names": [b"a", b"b"]}, protocol=2)
    path = _tar(tmp_path / "x.tar.gz", {"cifar-10-batches-py/data_batch_1": b"\x80\x02garbage",
                                        "cifar-10-batches-py/batches.meta": meta})
    with pytest.raises(DataError, match=r"data_batch_1 is not a CIFAR pickle"):
        _build(path)


def test_wrong_shapes_and_labels(tmp_path):
    meta = pickle.dumps({b"label_names": [b"a", b"b"]}, protocol=2)
    bad = {b"data": np.zeros((4, 100), np.uint8), b"labels": [0, 1, 0, 1]}
    path = _tar(tmp_path / "x.tar.gz", {"cifar-10-batches-py/data_batch_1": pickle.dumps(bad, protocol=2),
                                        "cifar-10-batches-py/batches.meta": meta})
    with pytest.raises(DataError, match=r"uint8 \[N, 3072\]"):
        _build(path)
    bad = {b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 0, 5]}
    path = _tar(tmp_path / "y.tar.gz", {"cifar-10-batches-py/data_batch_1": pickle.dumps(bad, protocol=2),
                                        "cifar-10-batches-py/batches.meta": meta})
    with pytest.raises(DataError, match=r"labels span \[0, 5\] but the meta file names 2 classes"):
        _build(path)
    bad = {b"data": np.zeros((4, 3072), np.uint8), b"fine_labels": [0, 1, 0, 1]}
    path = _tar(tmp_path / "z.tar.gz", {"cifar-10-batches-py/data_batch_1": pickle.dumps(bad, protocol=2),
                                        "cifar-10-batches-py/batches.meta": meta})
    with pytest.raises(DataError, match=r"lacks b'data' / b'labels'"):
        _build(path)


def test_official_name_with_wrong_md5(tmp_path, cifar10_tarball):
    """A file named like the official archive must BE it, even with allow_unofficial."""
    path = tmp_path / "cifar-10-python.tar.gz"
    shutil.copy(cifar10_tarball, path)
    with pytest.raises(DataError, match=r"named like the official.*md5.*not c58f.*truncated or corrupt"):
        _build(path, allow=True)


def test_offline_without_file_fails_fast(tmp_path, monkeypatch):
    import paddle.dataset.common as common

    monkeypatch.setattr(common, "DATA_HOME", str(tmp_path / "cache"))

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    def no_download(*args, **kwargs):
        raise AssertionError("the downloader must not be called when offline")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(common, "_check_exists_and_download", no_download)
    with pytest.raises(DataError) as e:
        build_dataset({"name": "cifar100", "data_file": None}, {}, "test")
    msg = str(e.value)
    assert str(tmp_path / "cache" / "cifar" / "cifar-100-python.tar.gz") in msg
    assert "cannot be reached" in msg and "eb9058c3a382ffc7106e4002c42a8d85" in msg
    assert "https://dataset.bj.bcebos.com/cifar/cifar-100-python.tar.gz" in msg
    assert "data_file=" in msg


def test_cached_file_is_used_without_network(tmp_path, monkeypatch, cifar10_tarball):
    import paddle.dataset.common as common

    monkeypatch.setattr(common, "DATA_HOME", str(tmp_path))
    os.makedirs(tmp_path / "cifar")
    shutil.copy(cifar10_tarball, tmp_path / "cifar" / "cifar-10-python.tar.gz")
    monkeypatch.setattr(cifar_files, "_reachable", lambda *a, **k: pytest.fail("no probe needed"))
    assert cifar_files.resolve_cifar_file("cifar10", None) == str(tmp_path / "cifar" / "cifar-10-python.tar.gz")


def test_reachability_probe_times_out():
    # 192.0.2.0/24 is TEST-NET-1 (never routed); the probe must give up, not hang
    assert cifar_files._reachable("192.0.2.1", 443, timeout=0.5) is False
