"""num_samples subsets, image_folder, the synthetic dataset, and build_loader (batches,
worker seeding, distributed sampler, batched-pipeline dispatch)."""
import cv2
import numpy as np
import paddle
import pytest

from paddle_repro.config import ConfigError, load_config
from paddle_repro.data import DataError, build_dataset, build_loader
from paddle_repro.data.errors import raise_if_bad
from paddle_repro.data.loader import WorkerSeeder
from paddle_repro.data.subset import balanced_subset
from paddle_repro.data.synthetic import make_images


def test_balanced_subset_is_balanced_and_deterministic():
    labels = np.random.RandomState(5).randint(0, 7, size=500)
    a, b = balanced_subset(labels, 100), balanced_subset(labels, 100)
    np.testing.assert_array_equal(a, b)
    assert len(a) == 100 and len(set(a.tolist())) == 100 and np.all(np.diff(a) > 0)
    counts = np.bincount(labels[a], minlength=7)
    assert counts.max() - counts.min() <= 1
    assert list(counts[:2]) == [15, 15] and counts[-1] == 14  # extras go to low class ids
    np.testing.assert_array_equal(balanced_subset(labels, None), np.arange(500))
    np.testing.assert_array_equal(balanced_subset(labels, 10_000), np.arange(500))
    with pytest.raises(ValueError, match="num_samples must be >= 1"):
        balanced_subset(labels, 0)


def test_balanced_subset_with_a_small_class():
    labels = np.array([0] * 50 + [1] * 3 + [2] * 50)
    counts = np.bincount(labels[balanced_subset(labels, 30)])
    assert list(counts) == [14, 3, 13]


def test_num_samples_same_images_whatever_the_seed(cifar10_tarball):
    ds_cfg = {"name": "cifar10", "data_file": cifar10_tarball, "allow_unofficial": True}
    split = {"num_samples": 30, "batch_size": 8}
    a = build_loader(ds_cfg, split, "train", seed=1).dataset
    b = build_loader(ds_cfg, split, "train", seed=2).dataset
    np.testing.assert_array_equal(a.indices, b.indices)
    assert len(a) == 30 and np.bincount(a.labels, minlength=10).tolist() == [3] * 10
    np.testing.assert_array_equal(a.raw_images(range(30)), b.raw_images(range(30)))


def _write_png(path, rgb):
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.zeros((8, 10, 3), np.uint8) + np.uint8(rgb)
    assert cv2.imwrite(str(path), img[:, :, ::-1])  # cv2 writes BGR


@pytest.fixture
def folder(tmp_path):
    colours = {"cat": (200, 10, 30), "dog": (5, 100, 250)}
    for split, n in (("train", 3), ("test", 2)):
        for cls, rgb in colours.items():
            for i in range(n):
                _write_png(tmp_path / split / cls / ("%d.png" % i), rgb)
    return tmp_path


def test_image_folder(folder):
    ds = build_dataset({"name": "image_folder", "root": str(folder)}, {}, "train")
    assert len(ds) == 6 and ds.class_names == ["cat", "dog"] and ds.num_classes == 2
    assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    img, label = ds[4]
    assert img.shape == (3, 8, 10) and img.dtype == np.float32 and int(label) == 1
    np.testing.assert_allclose(img[:, 0, 0], np.array([5, 100, 250]) / 255.0, rtol=1e-6)  # RGB
    raw = ds.raw_images([0, 5])
    assert raw.shape == (2, 8, 10, 3) and raw[0, 0, 0].tolist() == [200, 10, 30]
    test = build_dataset({"name": "image_folder", "root": str(folder)},
                         {"transforms": [{"Resize": {"size": [32, 32]}}, {"ToTensor": None}]}, "test")
    assert len(test) == 4 and test[0][0].shape == (3, 32, 32)


def test_image_folder_errors(folder, tmp_path_factory):
    with pytest.raises(DataError, match="needs DataLoader.dataset.root"):
        build_dataset({"name": "image_folder", "root": None}, {}, "train")
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(DataError, match=r"train is not a folder.*train/<class>"):
        build_dataset({"name": "image_folder", "root": str(empty)}, {}, "train")
    (folder / "test" / "cow").mkdir()
    with pytest.raises(DataError, match=r"cow is not among the train classes \['cat', 'dog'\]"):
        build_dataset({"name": "image_folder", "root": str(folder)}, {}, "test")
    (folder / "test" / "cow").rmdir()
    (folder / "train" / "cat" / "0.png").write_bytes(b"not a png")
    ds = build_dataset({"name": "image_folder", "root": str(folder)}, {}, "train")
    # returned in-band (a loader thread must not die on it), raised by the loop / evaluate
    image, label = ds[0]
    assert int(label) == -1 and image.shape == ds[1][0].shape
    with pytest.raises(DataError, match=r"cannot read image .*0\.png"):
        raise_if_bad(np.array([3, int(label)]), ds)


def test_synthetic_dataset_is_cached_and_learnable(tmp_path):
    cfg = {"name": "synthetic", "root": str(tmp_path), "num_classes": 4, "train_size": 80,
           "test_size": 40}
    train = build_dataset(cfg, {}, "train")
    files = list(tmp_path.glob("*.tar.gz"))
    assert len(files) == 1 and train.num_classes == 4 and len(train) == 80
    mtime = files[0].stat().st_mtime_ns
    test = build_dataset(cfg, {}, "test")
    assert files[0].stat().st_mtime_ns == mtime and len(test) == 40  # reused, not rewritten
    # a nearest-class-mean classifier on raw pixels already separates the classes
    xtr = train.raw_images(range(80)).reshape(80, -1).astype(np.float32)
    xte = test.raw_images(range(40)).reshape(40, -1).astype(np.float32)
    means = np.stack([xtr[train.labels == c].mean(0) for c in range(4)])
    pred = ((xte[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    assert (pred == test.labels).mean() >= 0.9
    hundred = build_dataset(dict(cfg, num_classes=30, train_size=60), {}, "train")
    assert hundred.num_classes == 30 and hundred.name == "cifar100"  # > 10 classes: CIFAR-100 layout


def test_synthetic_images_differ_by_class():
    rng = np.random.RandomState(0)
    imgs = make_images(np.array([0, 0, 1, 1]), 10, rng)
    assert imgs.shape == (4, 32, 32, 3) and imgs.dtype == np.uint8
    assert not np.array_equal(imgs[0], imgs[1])  # per-image randomness


def test_loader_batches(cifar10_tarball):
    ds_cfg = {"name": "cifar10", "data_file": cifar10_tarball, "allow_unofficial": True}
    ld = build_loader(ds_cfg, {"batch_size": 32, "shuffle": True, "drop_last": True}, "train", 0)
    batches = list(ld)
    assert len(batches) == 120 // 32
    x, y = batches[0]
    assert x.shape == [32, 3, 32, 32] and x.dtype == paddle.float32
    assert y.shape == [32] and y.dtype == paddle.int64
    ld = build_loader(ds_cfg, {"batch_size": 32, "drop_last": False}, "test", 0)
    assert [b[0].shape[0] for b in ld] == [32, 8]


def test_worker_seeds_differ_by_worker_and_epoch_and_repeat():
    a, b = WorkerSeeder(42), WorkerSeeder(42)
    seeds = {a.worker_seed(w) for w in range(4)}
    assert len(seeds) == 4 and a.worker_seed(1) == b.worker_seed(1)
    a.epoch = 1
    assert a.worker_seed(1) != b.worker_seed(1) and WorkerSeeder(43).worker_seed(1) != b.worker_seed(1)


def test_worker_augmentations_repeat_across_runs_and_change_per_epoch(cifar10_tarball):
    ds_cfg = {"name": "cifar10", "data_file": cifar10_tarball, "allow_unofficial": True}
    split = {"batch_size": 20, "num_workers": 1, "num_samples": 20,
             "transforms": [{"RandomCrop": {"size": 32, "padding": 8}}, {"ToTensor": None}]}
    first = [next(iter(build_loader(ds_cfg, split, "train", seed=7)))[0].numpy() for _ in range(2)]
    np.testing.assert_array_equal(first[0], first[1])
    ld = build_loader(ds_cfg, split, "train", seed=7)
    e0, e1 = (next(iter(ld))[0].numpy() for _ in range(2))
    np.testing.assert_array_equal(e0, first[0])
    assert not np.array_equal(e0, e1)


def test_distributed_uses_distributed_batch_sampler(cifar10_tarball):
    ds_cfg = {"name": "cifar10", "data_file": cifar10_tarball, "allow_unofficial": True}
    ld = build_loader(ds_cfg, {"batch_size": 16, "shuffle": True}, "train", 0, distributed=True)
    assert isinstance(ld.batch_sampler, paddle.io.DistributedBatchSampler)
    assert sum(b[0].shape[0] for b in ld) == 120  # one process: the whole split


def test_sampler_distributed_shuffles_as_paddle_model_fit(cifar10_tarball):
    """paddle.Model.fit's order (notebook 003): epoch e is RandomState(e), whatever the seed."""
    ds_cfg = {"name": "cifar10", "data_file": cifar10_tarball, "allow_unofficial": True}
    split = {"batch_size": 120, "shuffle": True, "sampler": "distributed"}
    order = np.arange(120)
    np.random.RandomState(3).shuffle(order)
    for seed in (1, 2):
        ld = build_loader(ds_cfg, split, "train", seed)
        assert isinstance(ld.batch_sampler, paddle.io.DistributedBatchSampler)
        ld.set_epoch(3)  # what the trainer does before its 4th epoch
        images, _ = next(iter(ld))
        np.testing.assert_array_equal(images.numpy(), np.stack([ld.dataset[i][0] for i in order]))
    with pytest.raises(ConfigError, match="sampler: distributed needs pipeline: paddle"):
        load_config("configs/demo/synthetic_quick.yaml",
                    ["DataLoader.Train.sampler=distributed", "DataLoader.Train.pipeline=batched"])


def test_pipeline_batched_dispatch(cifar10_tarball):
    from paddle_repro.data.batched.loader import BatchedLoader

    ds_cfg = {"name": "cifar10", "data_file": cifar10_tarball, "allow_unofficial": True}
    assert isinstance(build_loader(
        ds_cfg, {"pipeline": "batched", "transforms": [{"ToTensor": None}]}, "train", 0), BatchedLoader)
    with pytest.raises(ValueError, match="unknown pipeline `fast`"):
        build_loader(ds_cfg, {"pipeline": "fast"}, "train", 0)


def test_batched_loader_dataset_items_match_the_paddle_pipeline(cifar10_tarball):
    """One dataset per loader; its items are the split's per-image transform on both pipelines,
    so the trainer's preflight probe (``loader.dataset[0]``) sees the batches' image size."""
    ds_cfg = {"name": "cifar10", "data_file": cifar10_tarball, "allow_unofficial": True}
    split = {"batch_size": 4, "transforms": [{"Resize": {"size": [40, 40]}}, {"ToTensor": None}]}
    plain = build_loader(ds_cfg, split, "test", 0)
    fast = build_loader(ds_cfg, dict(split, pipeline="batched"), "test", 0)
    np.testing.assert_array_equal(fast.dataset[0][0], plain.dataset[0][0])
    assert fast.dataset[0][0].shape == tuple(next(iter(fast))[0].shape[1:]) == (3, 40, 40)


def test_unknown_dataset_and_mode():
    with pytest.raises(ValueError, match=r"unknown dataset `cifar1000`; valid datasets: cifar10"):
        build_dataset({"name": "cifar1000"}, {}, "train")
    with pytest.raises(ValueError, match="mode must be one of"):
        build_dataset({"name": "cifar10"}, {}, "val")
