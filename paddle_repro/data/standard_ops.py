"""The standard (``pipeline: paddle``) transform implementations: per-image, paddle.vision.

Each builder function here is the standard column of one row of the transform table
(``paddle_repro/data/transform_table.py``); ``transforms.build_transforms`` builds a config
list with them, applied in order to a uint8 RGB HWC image (the cv2 image backend, as
notebooks 000 and 002 set it). Everything random draws from Python's ``random`` module (as
paddle.vision does), which the loader seeds per worker.

Built on ``paddle.vision.transforms`` for faithfulness. Deviations, all numerically
neutral or documented:

* ``ToTensor`` returns a float32 CHW *ndarray* instead of a ``paddle.Tensor``, bit-identical
  to the installed Paddle's ``to_tensor`` (3.x divides by 255, 2.6 multiplies by 1/255;
  probed once), so datasets match the ndarray contract and loader workers never create
  tensors.
* ``ToArray`` and ``RandomApply`` are transcriptions of the NAM notebook's (003) classes:
  ``ToArray`` is HWC -> CHW, ``/ 255.`` in float64 then float32; ``RandomApply`` keeps the
  notebook's test ``if p < random.random(): return img`` (applies with probability p).
* ``MixupImage`` is identity: the ACmix notebook (002) put paddlex's ``MixupImage()`` in a
  classification pipeline, where it receives a bare image without a ``mixup`` partner and
  returns it unchanged. Real mixup is ``DataLoader.Train.mixup_alpha`` (off by default).
* The image type is ``DataLoader.dataset.image_backend``: cv2 arrays (000/002 set it) or
  PIL images (Paddle's default, which the NAM notebook 003 ran with, so its config
  defaults to ``pil``). The two are NOT the same numbers: Paddle's cv2 contrast blends
  with a fixed grey of 74 where PIL's blends with the image's mean grey (mean |diff| about
  3.8 levels at factor 1.08), and nearest-neighbour RandomRotation picks another source
  pixel for 6-22 % of the pixels. Each path equals ``paddle.vision.transforms`` on the
  same backend (tests/test_data_backend.py).
"""
import random

import numpy as np
import paddle.vision.transforms as T
import paddle.vision.transforms.functional as F


class ToTensor(T.ToTensor):
    """HWC image -> CHW float32 ndarray; uint8 is divided by 255 (paddle's ToTensor values).

    Args:
        data_format: ``"CHW"`` (default) or ``"HWC"``.
    """

    def _apply_image(self, img):
        if not isinstance(img, np.ndarray):
            return super()._apply_image(img).numpy()
        if img.ndim == 2:
            img = img[:, :, None]
        if self.data_format == "CHW":
            img = img.transpose((2, 0, 1))
        if img.dtype == np.uint8:
            img = np.ascontiguousarray(img, dtype=np.float32)
            if _paddle_divides():
                return img / np.float32(255.0)
            return img * np.float32(1.0 / 255.0)
        return np.ascontiguousarray(img)


_DIVIDES = None


def _paddle_divides():
    """Whether this Paddle's ``to_tensor`` computes ``x / 255`` (3.x) or ``x * (1/255)`` (2.6).

    The two differ by one float32 ulp on some pixels; probing once per process (all 256
    values) makes our ndarray ``ToTensor`` bit-identical to the installed Paddle's.
    """
    global _DIVIDES
    if _DIVIDES is None:
        probe = np.arange(256, dtype=np.uint8).reshape(16, 16, 1)
        ref = F.to_tensor(probe).numpy().ravel()
        _DIVIDES = bool(np.array_equal(ref, probe.ravel().astype(np.float32) / np.float32(255.0)))
    return _DIVIDES


class ToArray:
    """NAM notebook's ``ToArray``: HWC image [H,W,C] -> float32 [C,H,W] in [0, 1]."""

    def __call__(self, img):
        img = np.array(img)
        img = np.transpose(img, [2, 0, 1])
        img = img / 255.
        return img.astype("float32")


class RandomApply:
    """NAM notebook's ``RandomApply``: apply ``transform`` unless ``p < random.random()``.

    Args:
        transform: a callable image -> image.
        p: probability of applying it.
    """

    def __init__(self, transform, p=0.5):
        self.p = p
        self.transform = transform

    def __call__(self, img):
        if self.p < random.random():
            return img
        return self.transform(img)


class MixupImage:
    """paddlex ``MixupImage`` as the ACmix notebook ran it: identity on a bare image.

    The kwargs are accepted (paddlex's defaults) so the notebook's call is expressible, but
    they change nothing; see the module docstring.
    """

    def __init__(self, alpha=1.5, beta=1.5, mixup_epoch=-1):
        self.alpha, self.beta, self.mixup_epoch = alpha, beta, mixup_epoch

    def __call__(self, img):
        return img


# The builders: config kwargs -> one per-image transform. Their signatures are the keyword
# arguments a config may give a transform, on both pipelines (transform_entries.check_kwargs).

def resize(size, interpolation="bilinear"):
    return T.Resize(size, interpolation=interpolation)


def random_resized_crop(size, scale=(0.08, 1.0), ratio=(3. / 4, 4. / 3), interpolation="bilinear"):
    return T.RandomResizedCrop(size, scale=tuple(scale), ratio=tuple(ratio),
                               interpolation=interpolation)


def random_crop(size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
    return T.RandomCrop(size, padding=padding, pad_if_needed=pad_if_needed, fill=fill,
                        padding_mode=padding_mode)


def random_horizontal_flip(prob=0.5):
    return T.RandomHorizontalFlip(prob)


def random_vertical_flip(prob=0.5):
    return T.RandomVerticalFlip(prob)


def random_rotation(degrees, interpolation="nearest", expand=False, center=None, fill=0):
    return T.RandomRotation(degrees, interpolation=interpolation, expand=expand,
                            center=center, fill=fill)


def color_jitter(brightness=0, contrast=0, saturation=0, hue=0):
    return T.ColorJitter(brightness, contrast, saturation, hue)


def brightness(value):
    return T.BrightnessTransform(value)


def contrast(value):
    return T.ContrastTransform(value)


def saturation(value):
    return T.SaturationTransform(value)


def hue(value):
    return T.HueTransform(value)


def random_apply(transform, p=0.5):
    # ``transform`` arrives built: the table marks it as a nested entry (transform_table.py)
    return RandomApply(transform, p=p)


def to_tensor(data_format="CHW"):
    return ToTensor(data_format=data_format)


def to_array():
    return ToArray()


def normalize(mean, std, data_format="CHW", to_rgb=False):
    return T.Normalize(mean=mean, std=std, data_format=data_format, to_rgb=to_rgb)


def mixup_image(alpha=1.5, beta=1.5, mixup_epoch=-1):
    return MixupImage(alpha, beta, mixup_epoch)
