"""benchmarks/bench_pipeline.py's notebook column times the notebooks' own work: for the same
random state, the literal paddle.vision Compose of seeds 000 and 002 gives the floats of the
project's paddle path built from the recipe config (nothing is timed here)."""
import random
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_pipeline  # noqa: E402

from paddle_repro.config import load_config  # noqa: E402
from paddle_repro.data.transforms import build_transforms  # noqa: E402

CONFIGS = {"condconv": "configs/condconv/alexnet_condconv.yaml",
           "acmix": "configs/acmix/alexnet_acmix.yaml"}


@pytest.mark.parametrize("recipe", sorted(CONFIGS))
def test_notebook_compose_equals_the_configs_paddle_path(recipe):
    literal = bench_pipeline.notebook_train_transforms(recipe)
    ours = build_transforms(load_config(str(ROOT / CONFIGS[recipe]))
                            ["DataLoader"]["Train"]["transforms"])
    images = np.random.RandomState(0).randint(0, 256, (6, 32, 32, 3)).astype(np.uint8)
    for seed, img in enumerate(images):
        outs = []
        for tfm in (literal, ours):
            random.seed(seed)
            np.random.seed(seed)  # Paddle's cv2 saturation draws from numpy's global RNG
            out = tfm(img)
            outs.append(out.numpy() if hasattr(out, "numpy") else out)
        np.testing.assert_array_equal(outs[0], outs[1])


def test_recipes_without_a_plain_paddle_vision_notebook_loader_have_none():
    assert bench_pipeline.notebook_train_transforms("nam") is None
    assert bench_pipeline.notebook_train_transforms("shufflenetv2") is None
