"""The transform compiler of the batched pipeline: a config transform list -> ``BatchTransform``.

Part of ``paddle_repro.data.batched``. The written-out registries ``OPS`` (image ops on
uint8 HWC images) and ``TAIL`` (``ToTensor``/``ToArray`` then ``Normalize``) name every
supported transform; anything else raises ``BatchedPipelineError`` listing them. A compiled
list draws every op's random parameters for the whole batch, applies the ops per image, and
writes the tail's per-channel look-up table straight into one float32 [N, C, H, W] array.
"""
import inspect

import cv2
import numpy as np

from .base import BatchedPipelineError
from .geometric import (Identity, RandomCrop, RandomHorizontalFlip, RandomResizedCrop,
                        RandomRotation, RandomVerticalFlip, Resize)
from .photometric import (BrightnessTransform, ColorJitter, ContrastTransform, HueTransform,
                          SaturationTransform)
from .tail import Normalize, ToArray, ToTensor


class RandomApply:
    """NAM notebook's ``RandomApply(transform, p)``: skip when ``p < random()``, i.e. apply
    with probability p."""

    def __init__(self, transform, p=0.5):
        self.op, self.p = compile_op(transform), p

    def sample(self, rng, hw):
        on = rng.random(len(hw)) <= self.p
        inner, inner_hw = self.op.sample(rng, hw)
        return list(zip(on.tolist(), inner)), np.where(on[:, None], inner_hw, hw)

    def apply(self, img, p):
        return self.op.apply(img, p[1]) if p[0] else img

OPS = {
    "Resize": Resize, "RandomResizedCrop": RandomResizedCrop, "RandomCrop": RandomCrop,
    "RandomHorizontalFlip": RandomHorizontalFlip, "RandomVerticalFlip": RandomVerticalFlip,
    "RandomRotation": RandomRotation, "ColorJitter": ColorJitter,
    "BrightnessTransform": BrightnessTransform, "ContrastTransform": ContrastTransform,
    "SaturationTransform": SaturationTransform, "HueTransform": HueTransform,
    "RandomApply": RandomApply, "MixupImage": Identity,
}
TAIL = {"ToTensor": ToTensor, "ToArray": ToArray, "Normalize": Normalize}


def _parse(entry):
    """``{Name: {kwargs}}``, ``{Name: null}`` or ``"Name"`` -> (name, kwargs)."""
    if isinstance(entry, str):
        return entry, {}
    if not (isinstance(entry, dict) and len(entry) == 1):
        raise BatchedPipelineError(f"a transform entry must be a one-key mapping "
                                   f"{{Name: {{kwargs}}}}, got {entry!r}")
    (name, kwargs), = entry.items()
    return name, dict(kwargs or {})


def _construct(name, kwargs, registry):
    cls = registry.get(name)
    if cls is None and name in OPS:
        raise BatchedPipelineError(f"{name} comes after ToTensor/ToArray; the batched pipeline "
                                   f"runs image ops on uint8 images, so they must come before "
                                   f"(the end of the batched list is ToTensor or ToArray, then "
                                   f"optionally Normalize)")
    if cls is None:
        valid = sorted(OPS) + sorted(TAIL)
        raise BatchedPipelineError(f"transform {name!r} is not supported by pipeline: batched. "
                                   f"Supported: {', '.join(valid)}. Use pipeline: paddle for it.")
    kwargs.pop("keys", None)  # Paddle's multi-input keys: the batched path has images only
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        bad = sorted(set(kwargs) - set(params) - {"self"})
        if bad:
            raise BatchedPipelineError(f"transform {name}: unknown argument(s) {bad}; "
                                       f"valid: {[k for k in params if k != 'self']}")
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise BatchedPipelineError(f"transform {name}: {err}") from None


def compile_op(entry):
    """One ``{Name: kwargs}`` image op (not ToTensor/ToArray/Normalize) -> op object."""
    name, kwargs = _parse(entry)
    if name in TAIL:
        raise BatchedPipelineError(f"{name} can only come at the end of the batched transform "
                                   f"list (ToTensor or ToArray, then optionally Normalize)")
    return _construct(name, kwargs, OPS)


class BatchTransform:
    """A compiled transform list: uint8 HWC images + indices -> float32 [N, C, H, W].

    Args:
        entries: config transform list; image ops, then ``ToTensor`` or ``ToArray``, then
            optionally ``Normalize`` (the form every recipe uses).
    """

    def __init__(self, entries):
        entries = list(entries)
        names = [_parse(e)[0] for e in entries]
        cut = next((k for k, nm in enumerate(names) if nm in TAIL), len(names))
        tail = [_construct(*_parse(e), TAIL) for e in entries[cut:]]
        kinds = [type(t) for t in tail]
        if not (kinds in ([ToTensor], [ToArray], [ToTensor, Normalize], [ToArray, Normalize])):
            raise BatchedPipelineError(
                f"pipeline: batched needs the transform list to end with ToTensor or ToArray, "
                f"optionally followed by Normalize; got tail {names[cut:] or 'nothing'}")
        self.ops = [compile_op(e) for e in entries[:cut]]
        self._to_float, self._norm = tail[0], (tail[1] if len(tail) == 2 else None)
        self._luts = {}

    def lut(self, channels):
        """[C, 256] float32: the tail's output for every uint8 value of every channel."""
        if channels not in self._luts:
            table = self._to_float.values(channels)
            if self._norm is not None:
                table = self._norm.values(table, as_tensor=type(self._to_float) is ToTensor)
            self._luts[channels] = np.ascontiguousarray(table, dtype=np.float32)
        return self._luts[channels]

    def sample(self, rng, hw):
        """Per-op parameter lists for a batch whose images have sizes ``hw`` [n, 2]."""
        params = []
        for op in self.ops:
            p, hw = op.sample(rng, hw)
            params.append(p)
        return params, hw

    def __call__(self, images, rng):
        """Transform a batch.

        Args:
            images: sequence of n uint8 HWC arrays (same channel count).
            rng: ``np.random.Generator`` for this batch.
        Returns:
            float32 ndarray [n, C, H, W].
        """
        n = len(images)
        hw = np.array([im.shape[:2] for im in images], dtype=np.int64).reshape(n, 2)
        params, out_hw = self.sample(rng, hw)
        if n and np.any(out_hw != out_hw[0]):
            raise BatchedPipelineError("images of one batch end with different sizes; add a "
                                       "Resize or crop to a fixed size to the transforms")
        c = images[0].shape[2] if n and images[0].ndim == 3 else 1
        h, w = (int(out_hw[0, 0]), int(out_hw[0, 1])) if n else (0, 0)
        out = np.empty((n, c, h, w), dtype=np.float32)
        lut = self.lut(c)
        for k, img in enumerate(images):
            for op, p in zip(self.ops, params):
                img = op.apply(img, p[k])
            # uint8 planes -> float32 straight into the output: the cheapest route we measured
            for ch, plane in enumerate(cv2.split(np.ascontiguousarray(img.reshape(h, w, c)))):
                cv2.LUT(plane, lut[ch], dst=out[k, ch])
        return out
