"""Every registered transform: output shape/dtype, determinism under a seeded `random`,
notebook semantics (ToArray, RandomApply, MixupImage), and registry errors."""
import random

import numpy as np
import paddle
import pytest

from paddle_repro.data.transforms import (TRANSFORMS, MixupImage, RandomApply, ToArray, ToTensor,
                                          TransformConfigError, build_transform, build_transforms)

IMG = (np.random.RandomState(0).rand(32, 32, 3) * 255).astype(np.uint8)
CHW = (np.random.RandomState(1).rand(3, 32, 32)).astype(np.float32)

# name -> (kwargs, input, expected output shape); every registry entry must be listed here
CASES = {
    "Resize": ({"size": [40, 36]}, IMG, (40, 36, 3)),
    "RandomResizedCrop": ({"size": 28, "scale": [0.6, 1.0]}, IMG, (28, 28, 3)),
    "RandomCrop": ({"size": 32, "padding": 4}, IMG, (32, 32, 3)),
    "RandomHorizontalFlip": ({"prob": 0.5}, IMG, (32, 32, 3)),
    "RandomVerticalFlip": ({"prob": 0.5}, IMG, (32, 32, 3)),
    "RandomRotation": ({"degrees": 20}, IMG, (32, 32, 3)),
    "ColorJitter": ({"brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": 0.1}, IMG, (32, 32, 3)),
    "BrightnessTransform": ({"value": 0.1}, IMG, (32, 32, 3)),
    "ContrastTransform": ({"value": 0.1}, IMG, (32, 32, 3)),
    "SaturationTransform": ({"value": 0.2}, IMG, (32, 32, 3)),
    "HueTransform": ({"value": 0.1}, IMG, (32, 32, 3)),
    "RandomApply": ({"p": 0.5, "transform": {"BrightnessTransform": {"value": 0.1}}}, IMG, (32, 32, 3)),
    "ToTensor": (None, IMG, (3, 32, 32)),
    "ToArray": (None, IMG, (3, 32, 32)),
    "Normalize": ({"mean": [0.5, 0.4, 0.3], "std": [0.2, 0.3, 0.4]}, CHW, (3, 32, 32)),
    "MixupImage": (None, IMG, (32, 32, 3)),
}


def test_cases_cover_registry():
    assert set(CASES) == set(TRANSFORMS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_transform_shape_dtype_determinism(name):
    kwargs, x, shape = CASES[name]
    t = build_transform({name: kwargs})
    outs = []
    for _ in range(2):
        random.seed(3)
        np.random.seed(3)  # paddle's cv2 saturation draws from numpy
        outs.append(t(x.copy()))
    out = outs[0]
    assert isinstance(out, np.ndarray) and out.shape == shape
    assert out.dtype == (np.uint8 if x.dtype == np.uint8 and len(shape) == 3 and shape[2] == 3
                         else np.float32)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_random_transforms_actually_vary():
    t = build_transform({"RandomCrop": {"size": 32, "padding": 4}})
    random.seed(0)
    outs = [t(IMG) for _ in range(6)]
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])


def test_to_tensor_matches_paddle_bit_for_bit():
    ref = paddle.vision.transforms.functional.to_tensor(IMG).numpy()
    np.testing.assert_array_equal(ToTensor()(IMG), ref)


def test_to_array_is_the_nam_notebook_formula():
    out = ToArray()(IMG)
    np.testing.assert_array_equal(out, (np.transpose(IMG, [2, 0, 1]) / 255.).astype("float32"))


def test_normalize_values():
    out = build_transform({"Normalize": CASES["Normalize"][0]})(CHW)
    mean = np.float32([0.5, 0.4, 0.3]).reshape(3, 1, 1)
    std = np.float32([0.2, 0.3, 0.4]).reshape(3, 1, 1)
    np.testing.assert_allclose(out, (CHW - mean) / std, rtol=1e-6)


def test_random_apply_notebook_semantics():
    """`if p < random.random(): return img` -- applied exactly when the draw is <= p."""
    calls = []
    t = RandomApply(lambda im: calls.append(1) or im + 1, p=0.3)
    random.seed(123)
    outs = [t(np.zeros(1))[0] for _ in range(200)]
    random.seed(123)
    expected = [0.0 if 0.3 < random.random() else 1.0 for _ in range(200)]
    assert outs == expected and sum(calls) == sum(expected)
    assert 30 < sum(expected) < 90  # ~p of the time
    always = RandomApply(lambda im: im + 1, p=1.0)
    assert all(always(np.zeros(1))[0] == 1 for _ in range(20))


def test_mixup_image_is_identity():
    t = build_transform({"MixupImage": {"alpha": 1.5, "beta": 1.5}})
    assert isinstance(t, MixupImage) and t(IMG) is IMG


def test_unknown_transform_lists_valid_ones():
    with pytest.raises(TransformConfigError, match=r"unknown transform `Flip`.*valid transforms: "
                                                   r"Resize, RandomResizedCrop"):
        build_transform({"Flip": None})


def test_bad_kwargs_and_entries():
    with pytest.raises(TransformConfigError, match=r"`RandomCrop`.*unexpected keyword.*valid "
                                                   r"arguments: size, padding"):
        build_transform({"RandomCrop": {"sz": 3}})
    with pytest.raises(TransformConfigError, match=r"`RandomCrop`.*missing.*size"):
        build_transform({"RandomCrop": None})
    with pytest.raises(TransformConfigError, match="single-key mapping"):
        build_transform({"Resize": {"size": 3}, "ToTensor": None})
    with pytest.raises(TransformConfigError, match="invalid value for `Resize`"):
        build_transform({"Resize": {"size": [1, 2, 3]}})
    with pytest.raises(TransformConfigError, match=r"RandomApply\.transform: unknown transform"):
        build_transform({"RandomApply": {"transform": {"Nope": None}}})


def test_pipeline_needs_chw_and_empty_means_to_tensor():
    with pytest.raises(TransformConfigError, match="must contain ToTensor or ToArray"):
        build_transforms([{"RandomCrop": {"size": 32}}])
    np.testing.assert_array_equal(build_transforms([])(IMG), ToTensor()(IMG))


def test_recipe_pipelines_build():
    """The four notebooks' pipelines (RECIPES.md) are expressible and give CHW float32."""
    norm = {"Normalize": {"mean": [0.5] * 3, "std": [0.5] * 3}}
    pipes = [
        [{"Resize": {"size": [130, 130]}}, {"RandomResizedCrop": {"size": 128}},
         {"RandomHorizontalFlip": {"prob": 0.5}}, {"ToTensor": None}, norm],
        [{"Resize": {"size": [130, 130]}},
         {"ColorJitter": {"brightness": 0.2, "contrast": 0.2, "saturation": 0.2}},
         {"MixupImage": None}, {"RandomResizedCrop": {"size": 128, "scale": [0.6, 1.0]}},
         {"RandomHorizontalFlip": {"prob": 0.5}}, {"RandomRotation": {"degrees": 20}},
         {"ToTensor": None}, norm],
        [{"RandomCrop": {"size": 32, "padding": 4}},
         {"RandomApply": {"p": 0.5, "transform": {"BrightnessTransform": {"value": 0.1}}}},
         {"RandomApply": {"p": 0.5, "transform": {"ContrastTransform": {"value": 0.1}}}},
         {"RandomHorizontalFlip": None}, {"RandomRotation": {"degrees": 15}}, {"ToArray": None}, norm],
    ]
    for pipe, size in zip(pipes, (128, 128, 32)):
        out = build_transforms(pipe)(IMG)
        assert out.shape == (3, size, size) and out.dtype == np.float32
