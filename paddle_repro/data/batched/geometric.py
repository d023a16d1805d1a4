"""Geometric ops of the batched pipeline: resize, crops, flips, rotation.

Part of ``paddle_repro.data.batched``. Each op has ``sample(rng, hw) -> (params, new_hw)``,
where ``hw`` is an int array [n, 2] of the images' current (height, width) and ``params`` a
list of n per-image values, and ``apply(img, p) -> img`` on one uint8 HWC image. ``apply``
is also what tests feed with parameters drawn by Paddle's own classes. Random parameters
come from the same distributions Paddle's classes sample (see each op).

Some ops also have ``apply_batch(batch, params) -> batch`` on a uint8 [n, h, w, c] array
of same-size images that the compiler owns (it may be changed in place). It returns exactly
what ``apply`` returns image by image, stacked, or None (batch untouched) when it cannot,
and the compiler then runs this op and the rest per image.
"""
import math

import cv2
import numpy as np
import paddle.vision.transforms.functional as F

from .base import _CV2_INTERP, BatchedPipelineError, _per_image, _resize


class Identity:
    """``MixupImage``: paddlex's op returns a bare image unchanged (RECIPES.md, run 2)."""
    pointwise = True  # see crop_first.py

    def __init__(self, **unused):
        pass

    def sample(self, rng, hw):
        return [None] * len(hw), hw

    def apply(self, img, p):
        return img

    def apply_batch(self, batch, params):
        return batch


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
        return self._finish(self._crop(img, p), p)

    def crop_parts(self):
        """(crop, resize): pointwise ops before this op may run on the crop (crop_first.py)."""
        return self._crop, self._finish

    def _crop(self, img, p):
        i, j, h, w = p
        return img[i:i + h, j:j + w]

    def _finish(self, img, p):
        return _resize(img, self.size, self.interpolation)


class RandomCrop:
    """``RandomCrop(size, padding, pad_if_needed, fill, padding_mode)``: ``F.pad`` then a crop
    whose top-left corner is uniform over all valid positions (Paddle's ``randint``)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = (int(size), int(size)) if isinstance(size, (int, float)) else tuple(size)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode
        p = padding or 0
        p = [p] * 4 if isinstance(p, int) else list(p) * 2 if len(p) == 2 else list(p)
        self._pad = tuple(p)  # (left, top, right, bottom), F.pad's order
        self._extra_h, self._extra_w = p[1] + p[3], p[0] + p[2]
        self._fills, self._blanks = {}, {}

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
        return self._crop(img, p)

    def crop_parts(self):
        """(crop, None) without padding: pointwise ops before it may run on the crop
        (crop_first.py); None with padding, whose fill they would change."""
        return None if self.padding is not None or self.pad_if_needed else (self._crop, None)

    def _crop(self, img, p):
        i, j = p
        return img[i:i + self.size[0], j:j + self.size[1]]

    def fill_value(self, channels):
        """uint8 [channels]: the colour ``F.pad`` writes in constant mode.

        Read off ``F.pad`` itself: cv2 takes an int fill as the scalar (fill, 0, 0, 0), so a
        fill of 5 pads RGB images with (5, 0, 0), not (5, 5, 5).
        """
        if channels not in self._fills:
            one = np.zeros((1, 1, channels), dtype=np.uint8)
            self._fills[channels] = F.pad(one, 1, self.fill, "constant")[0, 0].copy()
        return self._fills[channels]

    def _blank(self, shape):
        """uint8 [H, W, c] image of the fill colour (cached per shape)."""
        if shape not in self._blanks:
            self._blanks[shape] = np.broadcast_to(self.fill_value(shape[2]), shape).copy()
        return self._blanks[shape]

    def apply_batch(self, batch, params):
        """uint8 [n, h, w, c] -> the n crops [n, th, tw, c]; None unless the padding (if any)
        is constant and ``pad_if_needed`` has nothing to do (then the per-image path runs)."""
        n, h, w, c = batch.shape
        (th, tw), (left, top, right, bottom) = self.size, self._pad
        if min(self._pad) < 0 or h + top + bottom < th or w + left + right < tw:
            return None
        if any(self._pad):
            if self.padding_mode != "constant":
                return None
            padded = np.empty((n, h + top + bottom, w + left + right, c), dtype=batch.dtype)
            padded[...] = self._blank(padded.shape[1:])  # a [c] fill would copy 3 bytes a step
            padded[:, top:top + h, left:left + w] = batch
            batch = padded
        ij = np.asarray(params, dtype=np.intp).reshape(n, 2)
        return _gather_crops(batch, ij[:, 0], ij[:, 1], th, tw)


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

    def apply_batch(self, batch, params):
        """uint8 [n, h, w, c], flipped in place where ``params`` is true (cv2.flip only
        reverses, so any reversal gives the same bytes)."""
        chosen = np.flatnonzero(np.asarray(params, dtype=bool))
        if self.flip_code == 0:  # whole rows move: one numpy copy
            batch[chosen] = batch[chosen, ::-1]
        else:  # 3-byte pixels make numpy's reversal slow; cv2 per image is faster
            for k in chosen.tolist():
                batch[k] = cv2.flip(batch[k], 1).reshape(batch.shape[1:])
        return batch


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
        if interpolation not in _CV2_INTERP:
            raise BatchedPipelineError(f"RandomRotation: interpolation {interpolation!r} is "
                                       f"not one of {sorted(_CV2_INTERP)}")
        self.degrees = (-degrees, degrees) if isinstance(degrees, (int, float)) else tuple(degrees)
        self.interpolation, self.center, self.fill = interpolation, center, fill

    def sample(self, rng, hw):
        return rng.uniform(self.degrees[0], self.degrees[1], len(hw)).tolist(), hw

    def apply(self, img, p):
        """``F.rotate(img, p, interpolation, False, center, fill)`` on an ndarray: the same
        two cv2 calls its cv2 backend makes, without the dispatch that costs as much as the
        warp itself on a 32x32 image (tested against ``F.rotate``)."""
        h, w = img.shape[:2]
        center = (w / 2.0, h / 2.0) if self.center is None else tuple(self.center)
        fill = tuple(self.fill) if isinstance(self.fill, list) else self.fill
        matrix = cv2.getRotationMatrix2D(center, p, 1)
        out = cv2.warpAffine(img, matrix, (w, h), flags=_CV2_INTERP[self.interpolation],
                             borderValue=fill)
        return out[:, :, None] if img.ndim == 3 and img.shape[2] == 1 else out


def _gather_crops(batch, top, left, th, tw):
    """uint8 [n, H, W, c] and corners ``top``, ``left`` (int [n]) -> crops [n, th, tw, c].

    One fancy-index copy from a strided view of all (th, tw) windows, measured ~2x faster
    than a loop of slices for CIFAR batches. The corners are bounds-checked first, because
    the view would otherwise read outside ``batch``.
    """
    n, H, W, c = batch.shape
    if n and (top.min() < 0 or left.min() < 0 or top.max() > H - th or left.max() > W - tw):
        raise BatchedPipelineError(f"crop corner out of range for {th}x{tw} crops of {H}x{W}")
    s = batch.strides
    windows = np.lib.stride_tricks.as_strided(
        batch, (n, H - th + 1, W - tw + 1, th, tw, c), (s[0], s[1], s[2], s[1], s[2], s[3]),
        writeable=False)
    return windows[np.arange(n), top, left]
