"""Photometric ops of the batched pipeline: brightness, contrast, saturation, hue, ColorJitter.

Part of ``paddle_repro.data.batched``; same ``sample``/``apply``/``apply_batch`` protocol as
``geometric`` (only brightness and contrast have ``apply_batch``).
Deviation (see the package docstring): Paddle's ``adjust_saturation`` (cv2 backend) draws
its blend factor from the global numpy RNG; here it comes from the batch generator, with the
same two-stage distribution.
"""
import cv2
import numpy as np
import paddle.vision.transforms.functional as F

from .base import _range_of


def _look_up(img, table):
    """uint8 [h, w, c] image through a uint8 [256] table (cv2 drops a trailing 1-channel)."""
    out = cv2.LUT(img, table)
    return out[:, :, None] if out.ndim == 2 else out


class _LookupJitter:
    """Brightness / contrast: Paddle's cv2 backend maps pixels through a uint8 table."""
    name, clip_zero = "brightness", True
    pointwise = True  # a table per pixel value; see crop_first.py

    def __init__(self, value):
        self.value = _range_of(value, self.name, clip_first_on_zero=self.clip_zero)

    def table(self, factors):
        return np.clip(np.arange(256)[None, :] * factors[:, None], 0, 255).astype(np.uint8)

    def sample(self, rng, hw):
        if self.value is None:
            return [None] * len(hw), hw
        return list(self.table(rng.uniform(self.value[0], self.value[1], len(hw)))), hw

    def apply(self, img, table):
        return img if table is None else _look_up(img, table)

    def apply_batch(self, batch, tables):
        """uint8 [n, h, w, c], image k mapped through ``tables[k]`` in place (None: kept).

        A loop of cv2.LUT: a single gather over the batch with per-image tables measured
        ~10x slower (it needs a wide index array)."""
        for k, table in enumerate(tables):
            if table is not None:
                batch[k] = cv2.LUT(batch[k], table).reshape(batch.shape[1:])
        return batch


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
    pointwise = True  # each pixel with its own grey value; see crop_first.py

    def __init__(self, value):
        self.value = _range_of(value, "saturation")

    def sample(self, rng, hw):
        if self.value is None:
            return [None] * len(hw), hw
        f = rng.uniform(self.value[0], self.value[1], len(hw))
        lo = np.maximum(0.0, 1.0 - f)
        return (lo + (1.0 + f - lo) * rng.random(len(hw))).tolist(), hw

    def apply(self, img, alpha, table=None):
        """uint8 [h, w, 3] -> uint8 [h, w, 3]. ``table``: a uint8 [256] look-up to apply first
        (ColorJitter passes brightness/contrast here), fused into the float conversion."""
        if alpha is None:
            return img if table is None else _look_up(img, table)
        # Paddle: img * alpha + gray[..., None] * (1 - alpha), clip, cast. The same float32
        # operations in place; the grey term is widened to 3 channels by cv2 (a copy) first,
        # because numpy's add broadcasting over a last axis of length 3 was half the cost.
        # LUT(img, t).astype(f32) == LUT(img, t.astype(f32)): one pass instead of two.
        x = img.astype(np.float32) if table is None else _look_up(img, table.astype(np.float32))
        gray = cv2.cvtColor(x, cv2.COLOR_BGR2GRAY)  # [h, w]
        gray *= 1 - alpha
        x *= alpha
        x += cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        if alpha > 1:  # for alpha <= 1 the blend of two values in [0, 255] stays in [0, 256)
            np.clip(x, 0, 255, out=x)
        return x.astype(np.uint8)


class HueTransform:
    """``HueTransform(value)``: factor ~ U(range within [-0.5, 0.5]); ``F.adjust_hue``."""
    pointwise = True  # an HSV round trip per pixel; see crop_first.py

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
    pointwise = True  # all four members are; see crop_first.py

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
        # Brightness and contrast are uint8 tables; when they follow each other the two
        # look-ups compose exactly into one (t2[t1]), which saves a pass over the image.
        pending = None
        for j in order:
            op, param = self.ops[j], sub[j]
            if isinstance(op, _LookupJitter):
                if param is not None:
                    pending = param if pending is None else param[pending]
                continue
            if isinstance(op, SaturationTransform):
                img, pending = op.apply(img, param, pending), None
                continue
            if pending is not None:
                img, pending = _look_up(img, pending), None
            img = op.apply(img, param)
        return img if pending is None else _look_up(img, pending)
