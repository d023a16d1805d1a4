"""THE transform table: every transform name a config can use, with both implementations.

Not a paper module. One row per name: the standard builder (``pipeline: paddle``, per
image, paddle.vision; ``standard_ops.py``) and the batched class (``pipeline: batched``,
numpy/cv2 over whole batches; ``batched/``), or ``None`` where the batched pipeline has
none. Both pipelines read names, keyword arguments (the standard builder's signature) and
list positions from here, through ``transform_entries.py``; a ``Row`` has no defaults, so a
row cannot leave its batched column out by accident.

Kinds, which fix where a name may stand in a list: ``image`` ops take and give uint8 HWC
images; ``to_chw`` (``ToTensor``/``ToArray``) turn them into float32 CHW arrays;
``normalize`` works on those. ``nested`` names keyword arguments that are themselves
transform entries (``RandomApply.transform``), built for the same pipeline first.

A user's module adds a row with ``paddle_repro.register_transform`` (an ``image`` op with a
standard builder and no batched class: ``pipeline: paddle`` runs it, ``pipeline: batched``
names it as unsupported).
"""
from collections import namedtuple

from ..registry import Registry, definition_of
from . import standard_ops as S
from .batched import geometric as G, photometric as P, tail as BT
from .batched.random_apply import RandomApply as BatchedRandomApply

Row = namedtuple("Row", "standard batched kind nested")

IMAGE, TO_CHW, NORMALIZE = "image", "to_chw", "normalize"

TABLE = Registry("transform", {
    # name: Row(standard builder, batched class or None, kind, nested entry kwargs)
    "Resize": Row(S.resize, G.Resize, IMAGE, ()),
    "RandomResizedCrop": Row(S.random_resized_crop, G.RandomResizedCrop, IMAGE, ()),
    "RandomCrop": Row(S.random_crop, G.RandomCrop, IMAGE, ()),
    "RandomHorizontalFlip": Row(S.random_horizontal_flip, G.RandomHorizontalFlip, IMAGE, ()),
    "RandomVerticalFlip": Row(S.random_vertical_flip, G.RandomVerticalFlip, IMAGE, ()),
    "RandomRotation": Row(S.random_rotation, G.RandomRotation, IMAGE, ()),
    "ColorJitter": Row(S.color_jitter, P.ColorJitter, IMAGE, ()),
    "BrightnessTransform": Row(S.brightness, P.BrightnessTransform, IMAGE, ()),
    "ContrastTransform": Row(S.contrast, P.ContrastTransform, IMAGE, ()),
    "SaturationTransform": Row(S.saturation, P.SaturationTransform, IMAGE, ()),
    "HueTransform": Row(S.hue, P.HueTransform, IMAGE, ()),
    "RandomApply": Row(S.random_apply, BatchedRandomApply, IMAGE, ("transform",)),
    "ToTensor": Row(S.to_tensor, BT.ToTensor, TO_CHW, ()),
    "ToArray": Row(S.to_array, BT.ToArray, TO_CHW, ()),
    "Normalize": Row(S.normalize, BT.Normalize, NORMALIZE, ()),
    "MixupImage": Row(S.mixup_image, G.Identity, IMAGE, ()),  # identity on both (standard_ops)
}, define=lambda row: definition_of(row.standard))

PIPELINES = ("paddle", "batched")


def implementation(name, pipeline):
    """The builder (``paddle``) or class (``batched``, may be None) of row ``name``."""
    row = TABLE[name]
    return row.standard if pipeline == "paddle" else row.batched


def names(pipeline):
    """Names a ``pipeline`` can run, in table order."""
    return [n for n in TABLE if implementation(n, pipeline) is not None]
