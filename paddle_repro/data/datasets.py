"""``DATASETS`` registry and ``build_dataset(dataset_cfg, split_cfg, mode)``.

Not a paper module. ``synthetic`` writes (once) a CIFAR-format tarball with
``write_synthetic_cifar`` and then loads it through the very same CIFAR code path as real
data. Its images depend only on the ``DataLoader.dataset`` keys (fixed generator seed 0,
never ``Global.seed``), so runs that differ in the model see identical data. Up to 10
classes it is written in CIFAR-10 layout, above that in CIFAR-100 layout.
"""
import os

from PIL import Image

from .cifar import build_cifar, CifarDataset
from .image_folder import ImageFolderDataset
from .synthetic import write_synthetic_cifar
from .transforms import build_transforms

MODES = ("train", "test")
SYNTHETIC_SEED = 0


def synthetic_path(dataset_cfg):
    """Where the synthetic tarball for these settings lives (written if missing)."""
    k, tr, te = (dataset_cfg.get("num_classes", 10), dataset_cfg.get("train_size", 500),
                 dataset_cfg.get("test_size", 100))
    root = dataset_cfg.get("root") or os.path.join(
        os.path.expanduser("~"), ".cache", "paddle_repro", "synthetic")
    name = "synthetic-c%d-train%d-test%d-seed%d.tar.gz" % (k, tr, te, SYNTHETIC_SEED)
    return os.path.join(os.path.abspath(os.path.expanduser(root)), name)


def _cifar10(dataset_cfg, mode, transform, num_samples):
    return build_cifar("cifar10", dataset_cfg, mode, transform, num_samples)


def _cifar100(dataset_cfg, mode, transform, num_samples):
    return build_cifar("cifar100", dataset_cfg, mode, transform, num_samples)


class _AsPIL:
    """Hands a uint8 RGB ndarray to ``transform`` as a PIL image (``image_backend: pil``)."""

    def __init__(self, transform):
        self.transform = transform

    def __call__(self, img):
        img = Image.fromarray(img)
        return self.transform(img) if self.transform is not None else img


def _image_folder(dataset_cfg, mode, transform, num_samples):
    if dataset_cfg.get("image_backend", "cv2") == "pil":
        transform = _AsPIL(transform)
    return ImageFolderDataset(dataset_cfg.get("root"), mode, transform, num_samples)


def _synthetic(dataset_cfg, mode, transform, num_samples):
    k = dataset_cfg.get("num_classes", 10)
    flavour = "cifar10" if k <= 10 else "cifar100"
    path = synthetic_path(dataset_cfg)
    if not os.path.isfile(path):
        write_synthetic_cifar(path, num_classes=k, train_size=dataset_cfg.get("train_size", 500),
                              test_size=dataset_cfg.get("test_size", 100), seed=SYNTHETIC_SEED,
                              flavour=flavour)
    return CifarDataset(flavour, path, mode, transform, num_samples, note_unofficial=False,
                        backend=dataset_cfg.get("image_backend", "cv2"))


DATASETS = {
    "cifar10": _cifar10,
    "cifar100": _cifar100,
    "image_folder": _image_folder,
    "synthetic": _synthetic,
}


def build_dataset(dataset_cfg, split_cfg, mode):
    """Build one split.

    Args:
        dataset_cfg: the ``DataLoader.dataset`` section (validated config dict).
        split_cfg: the ``DataLoader.Train`` or ``DataLoader.Eval`` section.
        mode: ``"train"`` or ``"test"``.

    Returns:
        A ``paddle.io.Dataset`` of ``(float32 [C,H,W], int64 label)`` with ``.num_classes``,
        ``.class_names``, ``.labels`` and ``.raw_images(idxs)``.

    Raises:
        ValueError: unknown dataset name or mode (lists valid ones).
        DataError: missing/corrupt/unofficial files, offline download.
    """
    if mode not in MODES:
        raise ValueError("mode must be one of %s, got %r" % (list(MODES), mode))
    name = dataset_cfg.get("name")
    if name not in DATASETS:
        raise ValueError("unknown dataset `%s`; valid datasets: %s" % (name, ", ".join(DATASETS)))
    where = "DataLoader.%s.transforms" % ("Train" if mode == "train" else "Eval")
    transform = build_transforms(split_cfg.get("transforms") or [], where)
    return DATASETS[name](dataset_cfg, mode, transform, split_cfg.get("num_samples"))
