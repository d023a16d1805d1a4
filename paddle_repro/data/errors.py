"""Errors a user can cause in the data layer (missing/corrupt files, offline download, a
transform list that cannot be built)."""
from ..errors import UserError


class DataError(UserError, RuntimeError):
    """A data file is missing, corrupt, unofficial or cannot be downloaded.

    The message always names the file and says how to fix the problem.
    """


class TransformConfigError(UserError, ValueError):
    """A transform entry or list cannot be built: unknown name, bad keyword arguments, or a
    list the chosen pipeline cannot run (``BatchedPipelineError`` is the batched kind)."""


def raise_if_bad(labels, dataset):
    """Raises the ``DataError`` of a bad item a dataset returned in-band (label < 0).

    Args:
        labels: int64 labels of one batch (a Tensor or ndarray).
        dataset: the loader's dataset (``bad_item_message(label)`` names the file).
    """
    values = labels.numpy() if hasattr(labels, "numpy") else labels
    if values.size and values.min() < 0 and hasattr(dataset, "bad_item_message"):
        raise DataError(dataset.bad_item_message(int(values.min())))
