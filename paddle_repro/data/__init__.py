"""Data layer: CIFAR-10/100, image folders and synthetic CIFAR, transforms, loaders.

Contract (docs/architecture.md, details in docs/data.md):

* ``build_dataset(dataset_cfg, split_cfg, mode)`` -> ``paddle.io.Dataset`` whose items are
  ``(float32 CHW ndarray, int64 label)``, with ``.num_classes``, ``.class_names``,
  ``.labels`` and ``.raw_images(idxs)``.
* ``build_loader(dataset_cfg, split_cfg, mode, seed, distributed=False)`` ->
  ``paddle.io.DataLoader`` yielding ``(images [N,C,H,W] float32, labels [N] int64)``.
* ``DataError``: missing/corrupt/unofficial files, offline download; the message has a fix.
* ``write_synthetic_cifar(...)``: CIFAR-format tarball with learnable class structure.
* ``TRANSFORMS`` / ``build_transforms(entries)``: the standard pipeline's view of the one
  transform table (``transform_table.TABLE``: each name's standard and batched implementation).
"""
from . import batched
from .datasets import DATASETS, build_dataset
from .errors import DataError
from .loader import build_loader
from .synthetic import write_synthetic_cifar
from .transforms import TRANSFORMS, TransformConfigError, build_transforms

__all__ = ["DATASETS", "DataError", "TRANSFORMS", "TransformConfigError", "batched",
           "build_dataset", "build_loader", "build_transforms", "write_synthetic_cifar"]
