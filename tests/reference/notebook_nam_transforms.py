"""Notebook 003's (NAM) own ``ToArray`` and ``RandomApply``, transcribed as written there."""
import random

import numpy as np


class NotebookToArray:
    """HWC image -> CHW float32 in [0, 1] (``/ 255.`` in float64 first)."""

    def __call__(self, img):
        img = np.array(img)
        img = np.transpose(img, [2, 0, 1])
        img = img / 255.
        return img.astype("float32")


class NotebookRandomApply:
    """Applies ``transform`` unless ``p < random.random()`` (i.e. with probability p)."""

    def __init__(self, transform, p=0.5):
        self.p, self.transform = p, transform

    def __call__(self, img):
        if self.p < random.random():
            return img
        return self.transform(img)
