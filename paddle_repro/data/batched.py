"""The batched input pipeline (``pipeline: batched``): numpy/cv2 over whole batches.

The notebooks (CondConv arXiv:1904.04971, ACmix arXiv:2111.14556, NAM arXiv:2111.12419,
ShuffleNetV2 arXiv:1807.11164) feed ``paddle.vision.transforms`` per image into a
``paddle.io.DataLoader``. Per image that costs Python transform objects, a Paddle tensor
for ``ToTensor`` and ``Normalize`` and a per-sample collate. This path keeps the pixel work
of the notebooks and drops the per-image overhead:

* geometry and colour ops run per image on uint8 HWC arrays through the SAME cv2 calls
  Paddle's cv2 backend makes (``paddle.vision.transforms.functional``), or through
  vectorised look-up tables that reproduce Paddle's formulas bit for bit;
* their random parameters are drawn for the whole batch at once with numpy, from the same
  distributions Paddle samples (see each op), seeded per ``(seed, epoch, rank, batch)``;
* the tail ``ToTensor``/``ToArray`` + ``Normalize`` is ONE per-channel 256-entry look-up
  table computed with Paddle's own functions, so the float output is identical to the
  per-image path, applied to the whole batch;
* ``num_workers > 0`` builds batches in that many background threads (cv2 and numpy
  release the GIL), in order, ``num_workers + 2`` batches ahead.

Deviations from the per-image ``pipeline: paddle`` path (documented in docs/performance.md):

* Random parameters come from a numpy ``Generator`` rather than Python's ``random`` /
  the global numpy state, so a batched run sees the same *distributions*, not the same draws.
  Given the same parameters, every op returns exactly what Paddle returns (tested).
* Paddle's ``adjust_saturation`` (cv2 backend) ignores the factor's value beyond using it as
  a range: it draws ``alpha ~ U(max(0, 1-f), 1+f)`` from the global numpy RNG. We draw
  that ``alpha`` from the batch generator, the same two-stage distribution.
* Distributed sharding pads the epoch's order to a multiple of the number of ranks and
  gives rank ``r`` every ``nranks``-th index starting at ``r`` (each rank sees a disjoint
  ``1/nranks`` of the data per epoch), not DistributedBatchSampler's batch interleave.
* Only ``data_format='CHW'`` is supported for ``ToTensor``/``Normalize``; rotation with
  ``expand=True`` is not supported; anything else raises ``BatchedPipelineError``.
"""
import inspect
import math
import queue
import threading

import cv2
import numpy as np
import paddle
import paddle.vision.transforms.functional as F


class BatchedPipelineError(ValueError):
    """A transform list or loader setting the batched pipeline cannot run."""


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


# ---------------------------------------------------------------------------------------
# Ops. Each has ``sample(rng, hw) -> (params, new_hw)`` where ``hw`` is an int array [n, 2]
# of the images' current (height, width) and ``params`` a list of n per-image values, and
# ``apply(img, p) -> img`` on one uint8 HWC image. ``apply`` is also what tests feed with
# parameters drawn by Paddle's own classes.
# ---------------------------------------------------------------------------------------
class Identity:
    """``MixupImage``: paddlex's op returns a bare image unchanged (RECIPES.md, run 2)."""

    def __init__(self, **unused):
        pass

    def sample(self, rng, hw):
        return [None] * len(hw), hw

    def apply(self, img, p):
        return img


class Resize:
    """``Resize(size, interpolation)``: deterministic, ``F.resize`` on each image."""

    def __init__(self, size, interpolation="bilinear"):
        if interpolation not in _CV2_INTERP:
            raise BatchedPipelineError(f"Resize: interpolation {interpolation!r} is not one of "
                                       f"{sorted(_CV2_INTERP)}")
        self.size = size if isinstance(size, int) else tuple(size)
        self.interpolation = interpolation

    def sample(self, rng, hw):
        if not isinstance(self.size, int):
            return [None] * len(hw), np.tile(np.asarray(self.size, dtype=np.int64), (len(hw), 1))
        h, w, s = hw[:, 0], hw[:, 1], self.size
        keep = ((w <= h) & (w == s)) | ((h <= w) & (h == s))
        out = np.where((w < h)[:, None],  # Paddle: shorter side -> size, int() truncation
                       np.stack([(s * h / w).astype(np.int64), np.full_like(h, s)], 1),
                       np.stack([np.full_like(h, s), (s * w / h).astype(np.int64)], 1))
        return [None] * len(hw), np.where(keep[:, None], hw, out)

    def apply(self, img, p):
        return _resize(img, self.size, self.interpolation)


class RandomResizedCrop:
    """``RandomResizedCrop``: Paddle's 10 attempts (area ~ U(scale), log-ratio ~ U(log ratio),
    offsets uniform over the valid range), else its central fallback crop; then resize."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4, 4.0 / 3), interpolation="bilinear"):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.scale, self.ratio, self.interpolation = tuple(scale), tuple(ratio), interpolation
        if interpolation not in _CV2_INTERP:
            raise BatchedPipelineError(f"RandomResizedCrop: interpolation {interpolation!r} is "
                                       f"not one of {sorted(_CV2_INTERP)}")

    def sample(self, rng, hw, attempts=10):
        n = len(hw)
        height, width = hw[:, :1].astype(np.float64), hw[:, 1:].astype(np.float64)
        target = rng.uniform(self.scale[0], self.scale[1], (n, attempts)) * height * width
        aspect = np.exp(rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]), (n, attempts)))
        w = np.rint(np.sqrt(target * aspect)).astype(np.int64)  # rint: round-half-even, as round()
        h = np.rint(np.sqrt(target / aspect)).astype(np.int64)
        ok = (w > 0) & (w <= hw[:, 1:]) & (h > 0) & (h <= hw[:, :1])
        first = ok.argmax(1)
        h, w, found = h[np.arange(n), first], w[np.arange(n), first], ok.any(1)
        # Fallback: Paddle's central crop with the ratio clamped into range.
        H, W = hw[:, 0], hw[:, 1]
        in_ratio = W / H
        fh = np.where(in_ratio < min(self.ratio), np.rint(W / min(self.ratio)), H).astype(np.int64)
        fw = np.where(in_ratio > max(self.ratio), np.rint(H * max(self.ratio)), W).astype(np.int64)
        h, w = np.where(found, h, fh), np.where(found, w, fw)
        i = np.where(found, rng.integers(0, H - h + 1), (H - h) // 2)  # randint: inclusive
        j = np.where(found, rng.integers(0, W - w + 1), (W - w) // 2)
        new_hw = np.tile(np.asarray(self.size, dtype=np.int64), (n, 1))
        return _per_image(i, j, h, w), new_hw

    def apply(self, img, p):
        i, j, h, w = p
        return _resize(img[i:i + h, j:j + w], self.size, self.interpolation)


class RandomCrop:
    """``RandomCrop(size, padding, pad_if_needed, fill, padding_mode)``: ``F.pad`` then a crop
    whose top-left corner is uniform over all valid positions (Paddle's ``randint``)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = (int(size), int(size)) if isinstance(size, (int, float)) else tuple(size)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode
        p = padding or 0
        p = [p] * 4 if isinstance(p, int) else list(p) * 2 if len(p) == 2 else list(p)
        self._extra_h, self._extra_w = p[1] + p[3], p[0] + p[2]  # (left, top, right, bottom)

    def _padded(self, hw):
        h, w = hw[:, 0] + self._extra_h, hw[:, 1] + self._extra_w
        if self.pad_if_needed:  # Paddle pads both sides by the shortfall
            w = np.where(w < self.size[1], w + 2 * (self.size[1] - w), w)
            h = np.where(h < self.size[0], h + 2 * (self.size[0] - h), h)
        return h, w

    def sample(self, rng, hw):
        h, w = self._padded(hw)
        th, tw = self.size
        if np.any(h < th) or np.any(w < tw):
            raise BatchedPipelineError(
                f"RandomCrop{self.size}: image smaller than the crop after padding "
                f"({int(h.min())}x{int(w.min())}); add padding or pad_if_needed: true")
        n = len(hw)
        exact = (h == th) & (w == tw)
        i = np.where(exact, 0, rng.integers(0, h - th + 1))
        j = np.where(exact, 0, rng.integers(0, w - tw + 1))
        return _per_image(i, j), np.tile(np.asarray(self.size, dtype=np.int64), (n, 1))

    def apply(self, img, p):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        h, w = img.shape[:2]
        if self.pad_if_needed and w < self.size[1]:
            img = F.pad(img, (self.size[1] - w, 0), self.fill, self.padding_mode)
        if self.pad_if_needed and h < self.size[0]:
            img = F.pad(img, (0, self.size[0] - h), self.fill, self.padding_mode)
        i, j = p
        return img[i:i + self.size[0], j:j + self.size[1]]


class RandomHorizontalFlip:
    """``RandomHorizontalFlip(prob)``: flip when U(0,1) < prob (Paddle's test)."""
    flip_code = 1

    def __init__(self, prob=0.5):
        self.prob = prob

    def sample(self, rng, hw):
        return (rng.random(len(hw)) < self.prob).tolist(), hw

    def apply(self, img, p):
        if not p:
            return img
        out = cv2.flip(img, self.flip_code)  # what F.hflip / F.vflip call
        return out[:, :, None] if out.ndim == 2 else out


class RandomVerticalFlip(RandomHorizontalFlip):
    """``RandomVerticalFlip(prob)``."""
    flip_code = 0


class RandomRotation:
    """``RandomRotation(degrees, interpolation, expand=False, center, fill)``: angle ~ U(degrees),
    ``F.rotate`` (cv2.warpAffine about the centre, nearest by default, fill 0)."""

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0):
        if expand:
            raise BatchedPipelineError("RandomRotation(expand=True) changes image sizes per "
                                       "image; the batched pipeline needs expand: false "
                                       "(or use pipeline: paddle)")
        self.degrees = (-degrees, degrees) if isinstance(degrees, (int, float)) else tuple(degrees)
        self.interpolation, self.center, self.fill = interpolation, center, fill

    def sample(self, rng, hw):
        return rng.uniform(self.degrees[0], self.degrees[1], len(hw)).tolist(), hw

    def apply(self, img, p):
        return F.rotate(img, p, self.interpolation, False, self.center, self.fill)


class _LookupJitter:
    """Brightness / contrast: Paddle's cv2 backend maps pixels through a uint8 table."""
    name, clip_zero = "brightness", True

    def __init__(self, value):
        self.value = _range_of(value, self.name, clip_first_on_zero=self.clip_zero)

    def table(self, factors):
        return np.clip(np.arange(256)[None, :] * factors[:, None], 0, 255).astype(np.uint8)

    def sample(self, rng, hw):
        if self.value is None:
            return [None] * len(hw), hw
        return list(self.table(rng.uniform(self.value[0], self.value[1], len(hw)))), hw

    def apply(self, img, table):
        if table is None:
            return img
        out = cv2.LUT(img, table)
        return out[:, :, None] if out.ndim == 2 else out


class BrightnessTransform(_LookupJitter):
    """``BrightnessTransform(value)``: factor ~ U(max(0, 1-v), 1+v); table ``i * f``."""


class ContrastTransform(_LookupJitter):
    """``ContrastTransform(value)``: table ``(i - 74) * f + 74`` (Paddle's cv2 backend uses
    a fixed 74 as the image mean; kept)."""
    name = "contrast"

    def table(self, factors):
        x = (np.arange(256)[None, :] - 74) * factors[:, None] + 74
        return np.clip(x, 0, 255).astype(np.uint8)


class SaturationTransform:
    """``SaturationTransform(value)``: f ~ U(range) then Paddle draws alpha ~ U(max(0,1-f),1+f)
    and blends with ``cvtColor(BGR2GRAY)`` of the (RGB) image, as its cv2 backend does."""

    def __init__(self, value):
        self.value = _range_of(value, "saturation")

    def sample(self, rng, hw):
        if self.value is None:
            return [None] * len(hw), hw
        f = rng.uniform(self.value[0], self.value[1], len(hw))
        lo = np.maximum(0.0, 1.0 - f)
        return (lo + (1.0 + f - lo) * rng.random(len(hw))).tolist(), hw

    def apply(self, img, alpha):
        if alpha is None:
            return img
        x = img.astype(np.float32)
        gray = cv2.cvtColor(x, cv2.COLOR_BGR2GRAY)[..., np.newaxis]
        x *= alpha  # in place, the same float32 operations as Paddle's expression
        x += gray * (1 - alpha)
        return np.clip(x, 0, 255, out=x).astype(img.dtype)


class HueTransform:
    """``HueTransform(value)``: factor ~ U(range within [-0.5, 0.5]); ``F.adjust_hue``."""

    def __init__(self, value):
        self.value = _range_of(value, "hue", center=0.0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    def sample(self, rng, hw):
        if self.value is None:
            return [None] * len(hw), hw
        return rng.uniform(self.value[0], self.value[1], len(hw)).tolist(), hw

    def apply(self, img, factor):
        return img if factor is None else F.adjust_hue(img, factor)


class ColorJitter:
    """``ColorJitter(brightness, contrast, saturation, hue)``: the four jitters in a random
    order per image (Paddle shuffles them per call)."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.ops = [op for op in (BrightnessTransform(brightness), ContrastTransform(contrast),
                                  SaturationTransform(saturation), HueTransform(hue))
                    if op.value is not None]  # identity members do not change the result

    def sample(self, rng, hw):
        n = len(hw)
        if not self.ops:
            return [None] * n, hw
        order = np.argsort(rng.random((n, len(self.ops))), axis=1).tolist()
        sub = [op.sample(rng, hw)[0] for op in self.ops]
        return [(order[k], [s[k] for s in sub]) for k in range(n)], hw

    def apply(self, img, p):
        if p is None:
            return img
        order, sub = p
        for j in order:
            img = self.ops[j].apply(img, sub[j])
        return img


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


# The tail: conversion to float CHW and normalisation, applied as a per-channel LUT.
class ToTensor:
    """``ToTensor()``: uint8 HWC -> float32 CHW / 255 (``F.to_tensor``)."""

    def __init__(self, data_format="CHW"):
        if data_format != "CHW":
            raise BatchedPipelineError("ToTensor: the batched pipeline supports data_format CHW only")

    def values(self, channels):  # uint8 values 0..255 per channel -> [C, 256] float32
        img = np.tile(np.arange(256, dtype=np.uint8).reshape(1, 256, 1), (1, 1, channels))
        return F.to_tensor(img).numpy().reshape(channels, 256)


class ToArray(ToTensor):
    """NAM notebook's ``ToArray``: ``(np.transpose(img, [2,0,1]) / 255.).astype('float32')``."""

    def __init__(self):
        pass

    def values(self, channels):
        img = np.tile(np.arange(256, dtype=np.uint8).reshape(1, 256, 1), (1, 1, channels))
        return (np.transpose(img, [2, 0, 1]) / 255.0).astype("float32").reshape(channels, 256)


class Normalize:
    """``Normalize(mean, std)``: ``(x - mean) / std`` per channel, by Paddle's own function."""

    def __init__(self, mean=0.0, std=1.0, data_format="CHW", to_rgb=False):
        if data_format != "CHW" or to_rgb:
            raise BatchedPipelineError("Normalize: the batched pipeline supports "
                                       "data_format CHW and to_rgb false only")
        self.mean = [mean] * 3 if isinstance(mean, (int, float)) else list(mean)
        self.std = [std] * 3 if isinstance(std, (int, float)) else list(std)

    def values(self, table, as_tensor):
        c = table.shape[0]
        x = table.reshape(c, 1, 256)
        if as_tensor:  # after ToTensor Paddle normalises a Tensor; after ToArray an ndarray
            x = paddle.to_tensor(x)
        out = F.normalize(x, self.mean[:c], self.std[:c], "CHW")
        return (out.numpy() if as_tensor else np.asarray(out, dtype=np.float32)).reshape(c, 256)


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


# ---------------------------------------------------------------------------------------
# The loader.
# ---------------------------------------------------------------------------------------
def _to_paddle(array):
    """float32 ndarray -> paddle Tensor on the current device.

    On CPU the tensor shares the array's memory (the constructor's zero_copy flag, which
    holds a reference to the array; works on Paddle 2.6 and 3.x), which saves a copy of
    the whole batch. Elsewhere ``paddle.to_tensor`` copies to the device.
    """
    if paddle.get_device().startswith("cpu"):
        try:
            return paddle.Tensor(array, paddle.CPUPlace(), False, True)
        except Exception:  # a Paddle without the zero-copy constructor: copy instead
            pass
    return paddle.to_tensor(array)


class BatchedLoader:
    """Iterable of ``(images [N,C,H,W] float32 Tensor, labels [N] int64 Tensor)``.

    Args:
        images: uint8 HWC images, an array [M, H, W, C] or a list of M arrays.
        labels: int array [M].
        transforms: config transform list (see ``BatchTransform``).
        batch_size, shuffle, drop_last: as ``paddle.io.DataLoader``.
        seed: base seed; epoch e shuffles with ``(seed, e)`` and augments batch b on rank r
            with ``(seed, e, r, b)``, so results do not depend on ``num_workers``.
        num_workers: background threads building batches (0: build in the caller).
        num_replicas, rank: sharding; each rank iterates a disjoint 1/num_replicas of every
            epoch (the order padded by repetition to a multiple of num_replicas).
        prefetch: batches built ahead per worker thread.

    Each ``iter()`` uses the current epoch (starting at 0) and advances it, as the
    ``pipeline: paddle`` loader does; ``set_epoch(e)`` sets it explicitly (resumed runs).
    """

    def __init__(self, images, labels, transforms, batch_size=128, shuffle=False,
                 drop_last=False, seed=0, num_workers=0, num_replicas=1, rank=0, prefetch=2):
        if len(images) != len(labels):
            raise BatchedPipelineError(f"{len(images)} images but {len(labels)} labels")
        if batch_size < 1 or num_workers < 0 or not 0 <= rank < num_replicas:
            raise BatchedPipelineError(f"bad loader settings: batch_size={batch_size}, "
                                       f"num_workers={num_workers}, rank={rank}/{num_replicas}")
        self.images, self.labels = images, np.asarray(labels, dtype=np.int64).reshape(-1)
        self.transform = transforms if isinstance(transforms, BatchTransform) else BatchTransform(transforms)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.seed, self.num_workers, self.prefetch = seed, num_workers, prefetch
        self.num_replicas, self.rank, self.epoch = num_replicas, rank, 0

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def _num_local(self):
        return -(-len(self.labels) // self.num_replicas)  # padded, ceil

    def __len__(self):
        n = self._num_local()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def indices(self, epoch):
        """This rank's sample order for ``epoch`` (int64 array)."""
        m = len(self.labels)
        order = (np.random.default_rng([self.seed, epoch]).permutation(m) if self.shuffle
                 else np.arange(m))
        total = self._num_local() * self.num_replicas
        order = np.concatenate([order, order[:total - m]]) if total > m else order
        return order[self.rank::self.num_replicas]

    def batch_numpy(self, idx, epoch, b):
        """Batch ``b`` of ``epoch`` as numpy: (float32 [N,C,H,W], int64 [N])."""
        rng = np.random.default_rng([self.seed, epoch, self.rank, b])
        return self.transform([self.images[i] for i in idx], rng), self.labels[idx]

    def _make(self, idx, epoch, b):
        x, y = self.batch_numpy(idx, epoch, b)
        return _to_paddle(x), paddle.to_tensor(y)

    def __iter__(self):
        epoch = self.epoch
        order = self.indices(epoch)
        chunks = [order[s:s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        chunks = chunks[:len(self)]
        self.epoch = epoch + 1
        if self.num_workers == 0:
            for b, idx in enumerate(chunks):
                yield self._make(idx, epoch, b)
            return
        yield from _threaded(self._make, [(idx, epoch, b) for b, idx in enumerate(chunks)],
                             self.num_workers, self.num_workers * self.prefetch)


def _threaded(fn, jobs, workers, depth):
    """Run ``fn(*job)`` in ``workers`` threads, at most ``depth`` results ahead; yield in
    order. Stopping the iteration early stops the threads; a worker error is re-raised."""
    results = [queue.Queue(maxsize=1) for _ in jobs]
    slots, stop = threading.Semaphore(max(depth, workers)), threading.Event()
    next_job, lock = iter(range(len(jobs))), threading.Lock()

    def work():
        while not stop.is_set():
            slots.acquire()
            with lock:
                k = next(next_job, None)
            if k is None or stop.is_set():
                slots.release()
                return
            try:
                results[k].put((True, fn(*jobs[k])))
            except BaseException as err:  # handed to the consumer, which re-raises it
                results[k].put((False, err))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    try:
        for k in range(len(jobs)):
            ok, value = results[k].get()
            results[k] = None
            slots.release()
            if not ok:
                raise value
            yield value
    finally:
        stop.set()
        for _ in threads:
            slots.release()  # wake threads blocked on a slot so they see ``stop``


def _dataset_arrays(dataset):
    """(uint8 images, int64 labels) of a dataset built by ``build_dataset``."""
    n = len(dataset)
    images = dataset.raw_images(np.arange(n))
    labels = getattr(dataset, "labels", None)
    if labels is None:  # contract fallback: read the label of each item
        labels = [np.asarray(dataset[i][1]).reshape(-1)[0] for i in range(n)]
    images = [np.asarray(im) for im in images] if isinstance(images, list) else np.asarray(images)
    if len(images) and np.asarray(images[0]).dtype != np.uint8:
        raise BatchedPipelineError("dataset.raw_images returned non-uint8 images; the batched "
                                   "pipeline needs the raw uint8 HWC images")
    return images, np.asarray(labels, dtype=np.int64).reshape(-1)


def build_batched_loader(dataset_cfg, split_cfg, mode, seed, distributed=False):
    """The ``pipeline: batched`` loader (called by ``paddle_repro.data.build_loader``).

    Args:
        dataset_cfg: ``DataLoader.dataset`` section; split_cfg: ``DataLoader.Train|Eval``.
        mode: "train" or "test"; seed: ``Global.seed``; distributed: shard over
            ``paddle.distributed`` ranks.
    Returns:
        ``BatchedLoader`` (with ``.dataset``, the underlying dataset).
    """
    from . import build_dataset  # late: data/__init__ dispatches here
    if split_cfg.get("mixup_alpha", 0):
        raise BatchedPipelineError("mixup_alpha > 0 is not supported by pipeline: batched; "
                                   "use pipeline: paddle or set mixup_alpha: 0")
    transform = BatchTransform(split_cfg.get("transforms") or [])  # fail before loading data
    dataset = build_dataset(dataset_cfg, dict(split_cfg, transforms=[]), mode)
    images, labels = _dataset_arrays(dataset)
    replicas, rank = 1, 0
    if distributed:
        replicas, rank = paddle.distributed.get_world_size(), paddle.distributed.get_rank()
    loader = BatchedLoader(images, labels, transform, batch_size=split_cfg.get("batch_size", 128),
                           shuffle=split_cfg.get("shuffle", False),
                           drop_last=split_cfg.get("drop_last", False), seed=seed,
                           num_workers=split_cfg.get("num_workers", 0),
                           num_replicas=replicas, rank=rank)
    loader.dataset = dataset
    return loader
