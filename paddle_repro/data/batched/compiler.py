"""The transform compiler of the batched pipeline: a config transform list -> ``BatchTransform``.

Part of ``paddle_repro.data.batched``. The written-out registries ``OPS`` (image ops on
uint8 HWC images) and ``TAIL`` (``ToTensor``/``ToArray`` then ``Normalize``) name every
supported transform; anything else raises ``BatchedPipelineError`` listing them. A compiled
list draws every op's random parameters for the whole batch, applies the ops to the whole
uint8 [N, H, W, C] batch while they have ``apply_batch`` (then per image), and writes the
tail's per-channel look-up table straight into one float32 [N, C, H, W] array.
"""
import inspect

import cv2
import numpy as np

from .base import BatchedPipelineError
from .crop_first import is_pointwise, plan
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
        self.pointwise = is_pointwise(self.op)  # skipping a pointwise op keeps it pointwise

    def sample(self, rng, hw):
        on = rng.random(len(hw)) <= self.p
        inner, inner_hw = self.op.sample(rng, hw)
        return list(zip(on.tolist(), inner)), np.where(on[:, None], inner_hw, hw)

    def apply(self, img, p):
        return self.op.apply(img, p[1]) if p[0] else img

    def apply_batch(self, batch, params):
        """uint8 [n, h, w, c]: the inner op's ``apply_batch`` on the chosen images only."""
        inner = getattr(self.op, "apply_batch", None)
        if inner is None:
            return None
        chosen = [k for k, (on, _) in enumerate(params) if on]
        if not chosen:
            return batch
        part = batch[chosen]  # a copy, so a declining or resizing inner op leaves batch as is
        done = inner(part, [params[k][1] for k in chosen])
        if done is None or done.shape != part.shape:
            return None
        batch[chosen] = done
        return batch


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
        self.vectorise = True  # False: every op per image (tests compare the two routes)
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

    def __call__(self, images, rng, alloc=None):
        """Transform a batch.

        Args:
            images: sequence of n uint8 HWC arrays (same channel count), or a uint8 array
                [n, H, W, C]; never modified.
            rng: ``np.random.Generator`` for this batch.
            alloc: ``alloc(shape) -> float32 array`` for the output (the loader passes its
                ``BufferPool.get``); default a new array.
        Returns:
            float32 ndarray [n, C, H, W].

        Ops run on the whole batch while they have ``apply_batch`` and the images share one
        shape; from the first op without it (or on mixed sizes) they run per image. Both
        routes give the same bytes (tested), so ``vectorise = False`` only changes speed.
        """
        n = len(images)
        params, out_hw = self.sample(rng, _sizes(images))
        if n and np.any(out_hw != out_hw[0]):
            raise BatchedPipelineError("images of one batch end with different sizes; add a "
                                       "Resize or crop to a fixed size to the transforms")
        c = _channels(images)
        h, w = (int(out_hw[0, 0]), int(out_hw[0, 1])) if n else (0, 0)
        out = (alloc or _new_float32)((n, c, h, w))
        if n:
            self._transform_into(images, params, out)
        return out

    def _transform_into(self, images, params, out):
        """Every op, then the tail, on the n ``images`` into float32 [n, c, h, w] ``out``."""
        lut = self.lut(out.shape[1])
        batch, done = self._apply_batched(images, params)
        if batch is not None and done == len(self.ops):
            _lookup_chw(batch, lut, out)
        else:
            rest = list(zip(self.ops[done:], params[done:]))
            _per_image_into(list(batch) if batch is not None else images, rest, lut, out)

    def _apply_batched(self, images, params):
        """(uint8 [n, h, w, c] after the leading ops that ran on the whole batch, how many
        ran); (None, 0) when the images differ in shape, the first op has no
        ``apply_batch`` (no point stacking), or ``vectorise`` is off."""
        if not self.vectorise or (self.ops and not hasattr(self.ops[0], "apply_batch")):
            return None, 0
        batch = _stacked(images)
        if batch is None:
            return None, 0
        for k, (op, p) in enumerate(zip(self.ops, params)):
            apply_batch = getattr(op, "apply_batch", None)
            result = apply_batch(batch, p) if apply_batch is not None else None
            if result is None:
                return batch, k
            batch = np.ascontiguousarray(result)  # ops may index batch[k] as one image
        return batch, len(self.ops)


def _new_float32(shape):
    return np.empty(shape, dtype=np.float32)


def _per_image_into(images, ops, lut, out):
    """The per-image route: ``ops`` [(op, params of all n images)] on each of the n uint8
    ``images``, then the tail into float32 [n, c, h, w] ``out``.

    A group of images at a time (``_group_size``), so each group's uint8 results are still
    in cache for the tail's look-up.
    """
    n, c, h, w = out.shape
    step = _group_size(h, w)
    group = np.empty((min(step, n), h, w, c), dtype=np.uint8)
    steps = plan(ops)  # crops moved ahead of pointwise colour ops (same bytes)
    for s in range(0, n, step):
        m = min(step, n - s)
        for k in range(s, s + m):
            img = images[k]
            for apply, p in steps:
                img = apply(img, p[k])
            if img.dtype != np.uint8:  # the assignment below would cast it silently
                raise BatchedPipelineError(f"the batched pipeline needs uint8 images, "
                                           f"got {img.dtype}")
            group[k - s] = img.reshape(h, w, c)
        _lookup_group(group[:m], lut, out[s:s + m])


def _sizes(images):
    """int64 [n, 2]: (height, width) of each image."""
    if isinstance(images, np.ndarray) and images.ndim == 4:
        return np.tile(np.asarray(images.shape[1:3], dtype=np.int64), (len(images), 1))
    return np.array([im.shape[:2] for im in images], dtype=np.int64).reshape(len(images), 2)


def _channels(images):
    if not len(images):
        return 1
    return images[0].shape[2] if images[0].ndim == 3 else 1


def _stacked(images):
    """A private uint8 [n, h, w, c] copy of same-shape HWC images, else None."""
    if isinstance(images, np.ndarray):
        ok = images.ndim == 4 and images.dtype == np.uint8
        return images.copy() if ok else None
    first = images[0]
    if first.ndim != 3 or first.dtype != np.uint8:
        return None
    if any(im.shape != first.shape or im.dtype != np.uint8 for im in images):
        return None
    return np.stack(images)


# Pixels per tail group: cv2.LUT spreads a call of >= 2**18 pixels over its thread pool; below
# that a loader worker uses one core, as the per-image path does. Smaller groups measured
# slower (more calls), even for 128x128 images.
GROUP_PIXELS = (1 << 18) - 1


def _group_size(h, w):
    return max(1, GROUP_PIXELS // max(1, h * w))


def _lookup_chw(batch, lut, out):
    """The tail on a whole batch: ``out[k, ch] = lut[ch][batch[k, :, :, ch]]``.

    Args:
        batch: uint8 [n, h, w, c]; lut: float32 [c, 256]; out: float32 [n, c, h, w].

    A pure table look-up, so the floats are those of the per-image path; done in groups of
    images (``_group_size``) small enough for a serial cv2.LUT.
    """
    n, h, w, _ = batch.shape
    step = _group_size(h, w)
    batch = np.ascontiguousarray(batch)
    for s in range(0, n, step):
        _lookup_group(batch[s:s + step], lut, out[s:s + step])


def _lookup_group(batch, lut, out):
    """``_lookup_chw`` on contiguous uint8 [m, h, w, c] -> float32 [m, c, h, w] view ``out``.

    cv2.split de-interleaves the images into c planes [m*h, w]; each plane goes through one
    cv2.LUT call into the [m, h*w] strided view of ``out[:, ch]`` (~4x faster than per
    image and channel for CIFAR batches).
    """
    m, h, w, c = batch.shape
    flat = batch.reshape(m * h, w, c)
    planes = cv2.split(flat) if c > 1 else [flat.reshape(m * h, w)]
    for ch, plane in enumerate(planes):
        dst = out[:, ch].reshape(m, h * w)
        res = cv2.LUT(plane.reshape(m, h * w), lut[ch], dst=dst)
        if res.__array_interface__["data"][0] != dst.__array_interface__["data"][0]:
            dst[...] = res  # an OpenCV that would not write into the strided view
