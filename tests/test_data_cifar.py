"""CIFAR-10/100 loading from generated tarballs and from the real samples in ../shared/data:
sizes, label counts and pixels checked against the pickles, and equality with Paddle's own
``Cifar10/Cifar100`` loading."""
import pickle
import tarfile

import numpy as np
import paddle
import pytest

from paddle_repro.data import DataError, build_dataset
from paddle_repro.data import cifar_files

NORM = [{"ToTensor": None}, {"Normalize": {"mean": [0.5] * 3, "std": [0.5] * 3}}]
FLAGS = {("cifar10", "train"): ("data_batch", b"labels"), ("cifar10", "test"): ("test_batch", b"labels"),
         ("cifar100", "train"): ("train", b"fine_labels"), ("cifar100", "test"): ("test", b"fine_labels")}


def _pickled(path, name, mode):
    """(data [N,3072], labels [N]) read straight from the archive, the reference."""
    flag, key = FLAGS[(name, mode)]
    with tarfile.open(path) as tar:
        members = sorted((m for m in tar.getmembers() if flag in m.name), key=lambda m: m.name)
        batches = [pickle.load(tar.extractfile(m), encoding="bytes") for m in members]
    return (np.concatenate([b[b"data"] for b in batches]),
            np.concatenate([np.asarray(b[key]) for b in batches]))


def _check_against_pickles(path, name, mode, num_classes, expected_len=None):
    ds = build_dataset({"name": name, "data_file": str(path), "allow_unofficial": True},
                       {"transforms": NORM}, mode)
    data, labels = _pickled(path, name, mode)
    if expected_len is not None:
        assert len(ds) == expected_len
    assert len(ds) == len(labels) and ds.num_classes == num_classes == len(ds.class_names)
    np.testing.assert_array_equal(np.bincount(ds.labels, minlength=num_classes),
                                  np.bincount(labels, minlength=num_classes))
    for i in (0, len(ds) - 1):
        img, label = ds[i]
        assert img.shape == (3, 32, 32) and img.dtype == np.float32
        assert int(label) == labels[i] and np.asarray(label).dtype == np.int64
        expected = (data[i].reshape(3, 32, 32).astype(np.float32) / 255 - 0.5) / 0.5
        np.testing.assert_allclose(img, expected, atol=1e-6)
    np.testing.assert_array_equal(ds.raw_images([0, 1]),
                                  data[:2].reshape(2, 3, 32, 32).transpose(0, 2, 3, 1))
    return ds


@pytest.mark.parametrize("mode", ["train", "test"])
def test_cifar10_generated(cifar10_tarball, mode):
    ds = _check_against_pickles(cifar10_tarball, "cifar10", mode, 10,
                                {"train": 120, "test": 40}[mode])
    assert ds.class_names[0] == "synth_00"


@pytest.mark.parametrize("mode", ["train", "test"])
def test_cifar100_generated(cifar100_tarball, mode):
    _check_against_pickles(cifar100_tarball, "cifar100", mode, 100, {"train": 300, "test": 200}[mode])


@pytest.mark.parametrize("name, tarball", [("cifar10", "cifar10_tarball"), ("cifar100", "cifar100_tarball")])
def test_items_equal_paddles_own_loader(request, name, tarball):
    """Faithfulness: the same items as paddle.vision.datasets.CifarXX(data_file=..., cv2)."""
    path = request.getfixturevalue(tarball)
    ours = build_dataset({"name": name, "data_file": path, "allow_unofficial": True},
                         {"transforms": [{"ToArray": None}]}, "test")
    cls = paddle.vision.datasets.Cifar10 if name == "cifar10" else paddle.vision.datasets.Cifar100
    from paddle_repro.data.transforms import ToArray
    ref = cls(data_file=path, mode="test", transform=ToArray(), download=False, backend="cv2")
    assert len(ours) == len(ref)
    for i in (0, 7, len(ref) - 1):
        np.testing.assert_array_equal(ours[i][0], ref[i][0])
        assert int(ours[i][1]) == int(ref[i][1])


def test_unofficial_file_is_read_with_a_one_line_note(cifar10_tarball, tmp_path, monkeypatch):
    """Issue 28: a sample or rebuilt archive under its own name is read (format checked) with a
    note, not refused; the old allow_unofficial key is still accepted and changes nothing."""
    path = tmp_path / "my-cifar10-sample.tar.gz"
    path.write_bytes(open(cifar10_tarball, "rb").read())
    notes = []
    monkeypatch.setattr(cifar_files.log, "info", notes.append)
    train = build_dataset({"name": "cifar10", "data_file": str(path)}, {}, "train")
    test = build_dataset({"name": "cifar10", "data_file": str(path), "allow_unofficial": True},
                         {}, "test")
    assert len(train) == 120 and len(test) == 40 and not train.official
    assert notes == [f"{path} is not the official cifar10 archive (md5 "
                     f"{cifar_files.file_md5(str(path))}); format checked."]  # once, not per split


REAL = {"cifar10": ("cifar-10-python-exact-mini.tar.gz", 10, 5170, 1017),
        "cifar100": ("cifar-100-python-exact-mini.tar.gz", 100, 486, 916)}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_samples(shared_data, name):
    fname, k, n_train, n_test = REAL[name]
    path = shared_data / fname
    if not path.is_file():
        pytest.skip("%s not in ../shared/data" % fname)
    train = _check_against_pickles(path, name, "train", k, n_train)
    _check_against_pickles(path, name, "test", k, n_test)
    if name == "cifar10":
        assert train.class_names[:3] == ["airplane", "automobile", "bird"]
    else:
        assert "apple" in train.class_names
