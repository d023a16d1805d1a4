"""CIFAR-10/100 datasets through ``paddle.vision.datasets.Cifar10/Cifar100``.

Not a paper module. Images reach the transforms exactly as in the notebooks: Paddle's
``Cifar10.__getitem__`` reshapes a row to [3,32,32], transposes to HWC uint8 RGB, applies
the transform and casts to float32. ``backend`` is Paddle's own argument: ``cv2`` hands
the transforms a uint8 RGB HWC ndarray (notebooks 000/002 set it), ``pil`` a PIL image
(Paddle's default, which notebook 003 ran with). One deviation: the archive is read and validated by
``cifar_files.read_cifar`` (errors become ``DataError`` with a fix) and the validated rows
are handed to Paddle's class in Paddle's own member order, instead of Paddle re-reading the
tarball; the items are identical (checked in tests/test_data_cifar.py).
"""
import numpy as np
import paddle
from paddle.io import Dataset

from .cifar_files import check_md5, read_cifar, resolve_cifar_file
from .subset import balanced_subset


class _ValidatedRows:
    """Mixin: Paddle's CIFAR dataset fed with rows we already read and validated."""

    def __init__(self, rows, labels, **kwargs):
        self._rows, self._labels = rows, labels
        super().__init__(**kwargs)

    def _load_data(self):
        # the same list of (row, label) pairs Paddle's own _load_data builds
        self.data = list(zip(self._rows, self._labels.tolist()))


class _Cifar10(_ValidatedRows, paddle.vision.datasets.Cifar10):
    pass


class _Cifar100(_ValidatedRows, paddle.vision.datasets.Cifar100):
    pass


_PADDLE_CLASSES = {"cifar10": _Cifar10, "cifar100": _Cifar100}


def as_chw_float32(img, where):
    """The dataset contract: a float32 CHW ndarray (a paddle Tensor is converted)."""
    if isinstance(img, paddle.Tensor):
        img = img.numpy()
    img = np.asarray(img)
    if img.ndim != 3:
        raise ValueError("%s: transforms produced an array of shape %s; expected CHW. End the "
                         "pipeline with ToTensor/ToArray (+ Normalize)." % (where, img.shape))
    return img.astype(np.float32, copy=False)


class CifarDataset(Dataset):
    """One split of CIFAR-10/100 (or a synthetic archive in CIFAR format).

    Items are ``(image float32 [C,H,W], label int64 scalar ndarray)``.

    Attributes:
        num_classes: number of classes (from the archive's meta file).
        class_names: list of str.
        labels: int64 [len(self)] labels of the (subset) items.
    """

    def __init__(self, name, path, mode, transform, num_samples=None, note_unofficial=True,
                 backend="cv2"):
        self.name, self.path, self.mode = name, path, mode
        self.official = check_md5(name, path, note=note_unofficial)
        rows, labels, self.class_names = read_cifar(name, path, mode)
        self.num_classes = len(self.class_names)
        split = "DataLoader.%s" % ("Train" if mode == "train" else "Eval")
        self.indices = balanced_subset(labels, num_samples, split)
        self._rows = rows
        self.labels = labels[self.indices]
        self.base = _PADDLE_CLASSES[name](rows, labels, data_file=path, mode=mode,
                                        transform=transform, download=False, backend=backend)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        img, label = self.base[int(self.indices[i])]
        return as_chw_float32(img, self.name), label

    def raw_images(self, idxs):
        """uint8 RGB images [len(idxs), 32, 32, 3] of items ``idxs`` (before transforms)."""
        rows = self._rows[self.indices[np.asarray(idxs, dtype=np.int64)]]
        return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()


def build_cifar(name, dataset_cfg, mode, transform, num_samples):
    """CIFAR-10/100 from ``data_file`` or Paddle's cache (download only when missing)."""
    path = resolve_cifar_file(name, dataset_cfg["data_file"])
    return CifarDataset(name, path, mode, transform, num_samples,
                        backend=dataset_cfg["image_backend"])
