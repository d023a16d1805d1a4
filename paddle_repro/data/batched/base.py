"""Shared pieces of the batched pipeline: its error type, Paddle's range check, cv2 resize.

Part of ``paddle_repro.data.batched`` (see the package docstring for the papers and the
deviations from the notebooks' per-image ``paddle.vision.transforms``).
"""
import math

import cv2
import numpy as np
import paddle.vision.transforms.functional as F

from ..errors import TransformConfigError


class BatchedPipelineError(TransformConfigError):
    """A transform list or loader setting the batched pipeline cannot run.

    A ``TransformConfigError`` (a ``ValueError``), so the config loader reports a batched
    transform list it cannot run like any other bad transform list.
    """


def _range_of(value, name, center=1.0, bound=(0.0, math.inf), clip_first_on_zero=True):
    """Paddle's ``_check_input``: a jitter value -> ``[lo, hi]`` or None (identity)."""
    if isinstance(value, (int, float)):
        if value < 0:
            raise BatchedPipelineError(f"{name}: a single number must be non-negative, got {value}")
        lo, hi = center - value, center + value
        if clip_first_on_zero:
            lo = max(lo, 0.0)
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = float(value[0]), float(value[1])
        if not bound[0] <= lo <= hi <= bound[1]:
            raise BatchedPipelineError(f"{name}: values should be within {bound}, got {value}")
    else:
        raise BatchedPipelineError(f"{name}: a number or a [min, max] pair, got {value!r}")
    return None if lo == hi == center else (lo, hi)


_CV2_INTERP = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA,
               "bicubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4}  # Paddle's cv2 map


def _resize(img, size, interpolation):
    """``F.resize`` for a fixed (h, w): the same cv2 call without the per-call dispatch."""
    if isinstance(size, int):
        return F.resize(img, size, interpolation)
    out = cv2.resize(img, (int(size[1]), int(size[0])), interpolation=_CV2_INTERP[interpolation])
    return out[:, :, None] if img.ndim == 3 and img.shape[2] == 1 else out


def _per_image(*columns):
    """Columns of per-image parameters (arrays of length n) -> list of n tuples."""
    return list(zip(*[c.tolist() if isinstance(c, np.ndarray) else c for c in columns]))
