"""The standard (``pipeline: paddle``) transform backend: a config list -> one per-image callable.

Config entries are single-key dicts ``{Name: {kwargs}}`` (or ``{Name: null}`` / ``"Name"``),
applied in order to a uint8 RGB HWC image. The names, their builders and the batched
pipeline's counterparts are ONE table, ``paddle_repro/data/transform_table.py``; parsing,
the argument check and the list-shape rule are shared with the batched pipeline
(``transform_entries.py``); the implementations (and their documented deviations from the
notebooks) are in ``standard_ops.py``, re-exported here.
"""
import paddle.vision.transforms as T

from .errors import TransformConfigError
from .standard_ops import MixupImage, RandomApply, ToArray, ToTensor
from .transform_entries import build_entry, check_list
from .transform_table import TABLE

# name -> standard builder, the view of the table the standard path uses (kept for callers)
TRANSFORMS = {name: row.standard for name, row in TABLE.items()}

# Which transforms leave a CHW float32 array is the table's ``kind`` (transform_table.TO_CHW);
# checking a list for a pipeline is data/loader.validate_transforms, which the config calls.
__all__ = ["MixupImage", "RandomApply", "TRANSFORMS", "ToArray", "ToTensor",
           "TransformConfigError", "build_transform", "build_transforms"]


def build_transform(entry, where="transform"):
    """Build one transform from ``{Name: {kwargs}}`` (or ``{Name: null}`` / ``"Name"``).

    Raises:
        TransformConfigError: unknown name (lists valid ones) or bad keyword arguments
            (names the bad/missing ones and the valid ones).
    """
    return build_entry(entry, "paddle", where)


def build_transforms(entries, where="transforms"):
    """Build a ``paddle.vision.transforms.Compose`` from a list of entries.

    An empty list means ``[ToTensor]``: the dataset contract is a CHW float32 array. A
    non-empty list must contain ``ToTensor`` or ``ToArray``.

    Args:
        entries: list of ``{Name: {kwargs}}``.
        where: config path used in error messages.

    Returns:
        A callable uint8 HWC image -> float32 CHW ndarray.
    """
    if not isinstance(entries, (list, tuple)):
        raise TransformConfigError("%s must be a list of {Name: {kwargs}}, got %r"
                                   % (where, entries))
    if not entries:
        entries = [{"ToTensor": None}]
    built = [build_transform(e, "%s.%d" % (where, i)) for i, e in enumerate(entries)]
    check_list(entries, "paddle", where)  # after building: a bad entry is named first
    return T.Compose(built)

