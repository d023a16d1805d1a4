"""``image_backend``: the NAM notebook's PIL path equals paddle.vision's, and differs from cv2."""
import random

import numpy as np
import paddle
import paddle.vision.transforms as T
import pytest

from paddle_repro.config import ConfigError, load_config
from paddle_repro.data import build_dataset
from tests.reference.notebook_nam_transforms import NotebookRandomApply, NotebookToArray

NAM = "configs/nam/resnet50_nam.yaml"
MEAN, STD = [0.5071, 0.4865, 0.4409], [0.1942, 0.1918, 0.1958]


def _notebook_train_set(data_file):
    """Notebook 003's train set: its Compose on Cifar100 with Paddle's default backend."""
    transforms = T.Compose([
        T.RandomCrop(32, padding=4),
        NotebookRandomApply(T.BrightnessTransform(0.1)),
        NotebookRandomApply(T.ContrastTransform(0.1)),
        T.RandomHorizontalFlip(),
        T.RandomRotation(15),
        NotebookToArray(),
        T.Normalize(MEAN, STD),
    ])
    assert paddle.vision.get_image_backend() == "pil"  # what the notebook ran with
    return paddle.vision.datasets.Cifar100(data_file=data_file, mode="train",
                                           transform=transforms, download=False)


def _items(dataset, n, seed):
    out = []
    for i in range(n):
        random.seed(seed + i)
        np.random.seed(seed + i)
        out.append(np.asarray(dataset[i][0], dtype=np.float32))
    return np.stack(out)


def _ours(data_file, backend):
    cfg = load_config(NAM, [f"DataLoader.dataset.data_file={data_file}",
                            "DataLoader.dataset.allow_unofficial=true",
                            f"DataLoader.dataset.image_backend={backend}"])
    return build_dataset(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Train"], "train")


def test_nam_config_defaults_to_pil():
    assert load_config(NAM)["DataLoader"]["dataset"]["image_backend"] == "pil"
    assert load_config("configs/condconv/alexnet_condconv.yaml")["DataLoader"]["dataset"]["image_backend"] == "cv2"


def test_pil_path_equals_the_notebooks_paddle_vision_pipeline(cifar100_tarball):
    n = 48
    ours = _items(_ours(cifar100_tarball, "pil"), n, seed=100)
    theirs = _items(_notebook_train_set(cifar100_tarball), n, seed=100)
    np.testing.assert_array_equal(ours, theirs)


def test_cv2_path_gives_other_numbers_than_pil(cifar100_tarball):
    """Why the backend is part of the recipe: same seed, same ops, other pixels."""
    n = 48
    pil = _items(_ours(cifar100_tarball, "pil"), n, seed=100)
    cv2 = _items(_ours(cifar100_tarball, "cv2"), n, seed=100)
    differs = np.abs(pil - cv2).reshape(n, -1).max(axis=1) > 1e-6
    assert differs.mean() > 0.3  # brightness/contrast/rotation hit most images


def test_eval_split_is_backend_independent(cifar100_tarball):
    cfg = load_config(NAM, [f"DataLoader.dataset.data_file={cifar100_tarball}",
                            "DataLoader.dataset.allow_unofficial=true"])
    ds = cfg["DataLoader"]["dataset"]
    pil = build_dataset(ds, cfg["DataLoader"]["Eval"], "test")
    cv2 = build_dataset(dict(ds, image_backend="cv2"), cfg["DataLoader"]["Eval"], "test")
    np.testing.assert_array_equal(pil[3][0], cv2[3][0])


def test_pil_with_the_batched_pipeline_is_a_config_error():
    # the Eval split: NAM's Train split samples as paddle.Model.fit did (sampler: distributed),
    # which the batched pipeline refuses for its own reason
    with pytest.raises(ConfigError, match="image_backend"):
        load_config(NAM, ["DataLoader.Eval.pipeline=batched"])
