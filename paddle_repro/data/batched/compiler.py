"""The transform compiler of the batched pipeline: a config transform list -> ``BatchTransform``.

Part of ``paddle_repro.data.batched``. Which names exist, their batched classes (or None:
not supported here), their keyword arguments and where they may stand come from the one
transform table, ``paddle_repro/data/transform_table.py``, through the parse/check code
both pipelines share (``paddle_repro/data/transform_entries.py``); anything the batched
pipeline cannot run raises ``BatchedPipelineError``. A compiled list draws every op's random
parameters for the whole batch, applies the ops to the whole uint8 [N, H, W, C] batch while
they have ``apply_batch`` (then per image), and writes the tail's per-channel look-up table
straight into one float32 [N, C, H, W] array.
"""
import cv2
import numpy as np

from ..transform_entries import build_entry, check_list
from ..transform_table import IMAGE, TABLE
from .base import BatchedPipelineError
from .crop_first import plan
from .random_apply import RandomApply
from .tail import ToTensor

# Views of the table for callers that list the batched pipeline's names: image ops, and the
# tail (ToTensor/ToArray, then Normalize).
OPS = {n: r.batched for n, r in TABLE.items() if r.batched is not None and r.kind == IMAGE}
TAIL = {n: r.batched for n, r in TABLE.items() if r.batched is not None and r.kind != IMAGE}

__all__ = ["OPS", "TAIL", "BatchTransform", "RandomApply", "compile_op"]


def compile_op(entry, where="transform"):
    """One ``{Name: kwargs}`` image op (not ToTensor/ToArray/Normalize) -> op object."""
    return build_entry(entry, "batched", where, BatchedPipelineError, kinds=(IMAGE,))


class BatchTransform:
    """A compiled transform list: uint8 HWC images + indices -> float32 [N, C, H, W].

    Args:
        entries: config transform list; image ops, then ``ToTensor`` or ``ToArray``, then
            optionally ``Normalize`` (the form every recipe uses; ``check_list``).
        where: config path used in error messages.
    """

    def __init__(self, entries, where="transforms"):
        entries = list(entries)
        names = check_list(entries, "batched", where, BatchedPipelineError)
        cut = next((k for k, nm in enumerate(names) if TABLE[nm].kind != IMAGE), len(names))
        at = ["%s.%d" % (where, k) for k in range(len(names))]
        tail = [build_entry(e, "batched", at[cut + k], BatchedPipelineError)
                for k, e in enumerate(entries[cut:])]
        self.ops = [compile_op(e, at[k]) for k, e in enumerate(entries[:cut])]
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
