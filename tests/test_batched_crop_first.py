"""Crop-first (``paddle_repro/data/batched/crop_first.py``): pointwise colour ops run on the
crop instead of the whole image, with the same bytes as the config's literal order."""
import numpy as np
import pytest

from paddle_repro.data.batched import compiler as C
from paddle_repro.data.batched.crop_first import plan

TAIL = [{"ToTensor": None}, {"Normalize": {"mean": [0.485, 0.456, 0.406],
                                           "std": [0.229, 0.224, 0.225]}}]
ACMIX_TRAIN = [{"Resize": {"size": [130, 130]}},
               {"ColorJitter": {"brightness": 0.2, "contrast": 0.2, "saturation": 0.2}},
               {"MixupImage": None}, {"RandomResizedCrop": {"size": 128, "scale": [0.6, 1.0]}},
               {"RandomHorizontalFlip": {"prob": 0.5}}, {"RandomRotation": {"degrees": 20}}]


def literal_order(spec, images, seed):
    """Every op's ``apply`` in the config's order, image by image, then the tail table."""
    bt = C.BatchTransform(spec)
    params, _ = bt.sample(np.random.default_rng(seed), np.array([im.shape[:2] for im in images]))
    out = []
    for k, img in enumerate(images):
        for op, p in zip(bt.ops, params):
            img = op.apply(img, p[k])
        lut = bt.lut(img.shape[2])
        out.append(np.stack([lut[ch][img[..., ch]] for ch in range(img.shape[2])]))
    return np.stack(out)


def names(spec):
    """The step names ``plan`` gives for a transform list (bound method names)."""
    bt = C.BatchTransform(spec + TAIL)
    return [f"{type(f.__self__).__name__}.{f.__name__}"
            for f, _ in plan([(op, None) for op in bt.ops])]


@pytest.mark.parametrize("spec", [
    ACMIX_TRAIN,
    [{"ColorJitter": {"brightness": 0.5, "contrast": 0.5, "saturation": 0.5, "hue": 0.2}},
     {"RandomResizedCrop": {"size": 20}}],
    [{"RandomApply": {"p": 0.5, "transform": {"SaturationTransform": {"value": 0.6}}}},
     {"BrightnessTransform": {"value": 0.4}}, {"RandomCrop": {"size": 24}},
     {"ContrastTransform": {"value": 0.4}}],
    [{"ContrastTransform": {"value": 0.6}}, {"RandomCrop": {"size": 28, "padding": 2}}],
])
def test_crop_first_gives_the_bytes_of_the_literal_order(spec):
    rng = np.random.default_rng(11)
    images = list(rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8))
    images[3][:] = 255  # saturated pixels: the clip and the tables' ends
    images[4][:] = 0
    for vectorise in (True, False):  # False: the per-image route, where the plan runs
        bt = C.BatchTransform(spec + TAIL)
        bt.vectorise = vectorise
        for seed in range(3):
            got = bt(images, np.random.default_rng(seed))
            np.testing.assert_array_equal(got, literal_order(spec + TAIL, images, seed))


def test_plan_moves_only_crops_that_pointwise_ops_commute_with():
    assert names(ACMIX_TRAIN) == [
        "Resize.apply", "RandomResizedCrop._crop", "ColorJitter.apply", "Identity.apply",
        "RandomResizedCrop._finish", "RandomHorizontalFlip.apply", "RandomRotation.apply"]
    bright = {"BrightnessTransform": {"value": 0.4}}
    assert names([bright, {"RandomCrop": {"size": 24}}]) == [
        "RandomCrop._crop", "BrightnessTransform.apply"]
    # Padding: the pad colour must go through the colour op, so the order stays.
    assert names([bright, {"RandomCrop": {"size": 24, "padding": 2}}]) == [
        "BrightnessTransform.apply", "RandomCrop.apply"]
    # Not pointwise (a flip moves pixels): nothing crosses it.
    assert names([bright, {"RandomHorizontalFlip": {"prob": 0.5}},
                  {"RandomResizedCrop": {"size": 20}}]) == [
        "BrightnessTransform.apply", "RandomHorizontalFlip.apply", "RandomResizedCrop.apply"]
    rotate = {"RandomApply": {"p": 0.5, "transform": {"RandomRotation": {"degrees": 5}}}}
    assert names([rotate, {"RandomCrop": {"size": 24}}]) == [
        "RandomApply.apply", "RandomCrop.apply"]
