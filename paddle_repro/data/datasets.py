"""``DATASETS`` registry and ``build_dataset(dataset_cfg, split_cfg, mode)``.

Not a paper module. ``synthetic`` writes (once) a CIFAR-format tarball with
``write_synthetic_cifar`` and then loads it through the very same CIFAR code path as real
data. Its images depend only on the ``DataLoader.dataset`` keys (fixed generator seed 0,
never ``Global.seed``), so runs that differ in the model see identical data. Up to 10
classes it is written in CIFAR-10 layout, above that in CIFAR-100 layout.
"""
import os

from PIL import Image

from ..config_fields import NONE, REQUIRED, Choice, Entry, Field
from .cifar import build_cifar, CifarDataset
from .image_folder import ImageFolderDataset
from .synthetic import write_synthetic_cifar
from .transforms import build_transforms

MODES = ("train", "test")
SYNTHETIC_SEED = 0


def synthetic_path(dataset_cfg):
    """Where the synthetic tarball for these settings lives (written if missing)."""
    dataset_cfg = DATASET.fill(dataset_cfg)
    k, tr, te = dataset_cfg["num_classes"], dataset_cfg["train_size"], dataset_cfg["test_size"]
    root = dataset_cfg["root"] or os.path.join(
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
    if dataset_cfg["image_backend"] == "pil":
        transform = _AsPIL(transform)
    return ImageFolderDataset(dataset_cfg["root"], mode, transform, num_samples)


def _synthetic(dataset_cfg, mode, transform, num_samples):
    k = dataset_cfg["num_classes"]
    flavour = "cifar10" if k <= 10 else "cifar100"
    path = synthetic_path(dataset_cfg)
    if not os.path.isfile(path):
        write_synthetic_cifar(path, num_classes=k, train_size=dataset_cfg["train_size"],
                              test_size=dataset_cfg["test_size"], seed=SYNTHETIC_SEED,
                              flavour=flavour)
    return CifarDataset(flavour, path, mode, transform, num_samples, note_unofficial=False,
                        backend=dataset_cfg["image_backend"])


def _synthetic_check(section):
    return [(key, f"must be >= 1, got {section[key]}.")
            for key in ("num_classes", "train_size", "test_size") if section[key] < 1]


_CIFAR_FIELDS = {
    "data_file": Field((str, NONE), None, "CIFAR python tarball; null = "
                       "Paddle's cache (downloaded when online)."),
    "allow_unofficial": Field((bool,), False, "Ignored; kept so older commands "
                              "and configs still run. A CIFAR tarball whose md5 is not the "
                              "official one is read with a one-line note (format checked); one "
                              "named like the official archive must be it."),
}
DATASETS = {
    "cifar10": Entry(_cifar10, _CIFAR_FIELDS, doc="CIFAR-10 python tarball"),
    "cifar100": Entry(_cifar100, _CIFAR_FIELDS, doc="CIFAR-100 python tarball"),
    "image_folder": Entry(_image_folder, {
        "root": Field((str,), REQUIRED, "Folder with train/ and test/ class folders."),
    }, doc="train/ and test/ folders of class folders"),
    "synthetic": Entry(_synthetic, {
        "root": Field((str, NONE), None, "Where to write the generated tarball; null = "
                      "~/.cache/paddle_repro/synthetic."),
        "num_classes": Field((int,), 10, "Number of classes."),
        "train_size": Field((int,), 500, "Images in the train split."),
        "test_size": Field((int,), 100, "Images in the test split."),
    }, _synthetic_check, "a generated CIFAR-format tarball (tests, offline demos)"),
}
# The DataLoader.dataset section: name (required) + the chosen dataset's keys.
DATASET = Choice("DataLoader.dataset", DATASETS, REQUIRED, {
    "image_backend": Field((str,), "cv2", "Image type the transforms see: cv2 (numpy arrays, as "
                           "notebooks 000/002 set it) | pil (PIL images, Paddle's default, as "
                           "notebook 003 ran). The batched pipeline needs cv2.", ("cv2", "pil")),
})


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
    return DATASETS[name].build(DATASET.fill(dataset_cfg), mode, transform,
                                split_cfg.get("num_samples"))
