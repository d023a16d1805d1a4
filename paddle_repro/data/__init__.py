"""Data layer: CIFAR-10/100, image folders and synthetic CIFAR, transforms, loaders.

Contract (docs/architecture.md):

* ``build_dataset(dataset_cfg, split_cfg, mode)`` -> ``paddle.io.Dataset`` whose items are
  ``(float32 CHW ndarray, int64 label)``, with ``.num_classes``, ``.class_names`` and
  ``.raw_images(idxs)``.
* ``build_loader(dataset_cfg, split_cfg, mode, seed, distributed=False)`` ->
  ``paddle.io.DataLoader`` yielding ``(images [N,C,H,W] float32, labels [N] int64)``.
* ``DataError``: missing/corrupt/unofficial files, offline download; the message has a fix.
* ``write_synthetic_cifar(...)``: CIFAR-format tarball with learnable class structure.
* ``TRANSFORMS`` / ``build_transforms(entries)``: the transform registry.
"""
from .errors import DataError
from .synthetic import write_synthetic_cifar


def build_dataset(dataset_cfg, split_cfg, mode):
    """See ``paddle_repro.data.datasets.build_dataset``."""
    from .datasets import build_dataset as _build
    return _build(dataset_cfg, split_cfg, mode)


def build_loader(dataset_cfg, split_cfg, mode, seed, distributed=False):
    """See ``paddle_repro.data.loader.build_loader``."""
    from .loader import build_loader as _build
    return _build(dataset_cfg, split_cfg, mode, seed, distributed)


__all__ = ["DataError", "write_synthetic_cifar", "build_dataset", "build_loader"]
