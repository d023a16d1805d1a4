"""The notebooks' prediction grid: test images titled "predicted (true)", green right, red wrong.

The CondConv/ACmix notebooks drew the first 18 test images, the ShuffleNetV2 notebook 64;
we draw the first ``n`` images of the run's test split (default 18), showing the raw image
(not the normalized tensor) so it looks like the picture. The predictions come from
``paddle_repro.inference.run_outputs.gallery_from_model``; this module only draws.
"""
import math

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only; never needs a display (as curves.py)
import matplotlib.pyplot as plt  # noqa: E402


def plot_gallery(images, pred, labels, class_names, path, probs=None, cols=6, title=None):
    """Draws a grid of images with their predicted and true class names.

    Args:
        images: uint8 array [N, H, W, C] (or a list of HWC images).
        pred: int array [N] of predicted classes (may exceed the class list for a model with
            more outputs than classes; shown as ``#<index>``).
        labels: int array [N] of true classes.
        class_names: list of K names.
        path: PNG path to write.
        probs: optional float array [N] of the predicted class's probability, shown in %.
        cols: images per row.
        title: optional figure title.
    """
    def name(i):
        return class_names[i] if 0 <= i < len(class_names) else f"#{i}"

    n = len(images)
    rows = max(1, math.ceil(n / cols))
    fig = plt.figure(figsize=(2.0 * cols, 2.2 * rows))
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1, xticks=[], yticks=[])
        img = np.asarray(images[i])
        ax.imshow(img.squeeze(-1) if img.ndim == 3 and img.shape[-1] == 1 else img,
                  cmap="gray" if img.ndim == 2 or img.shape[-1] == 1 else None)
        p, t = int(pred[i]), int(labels[i])
        text = f"{name(p)} ({name(t)})"
        if probs is not None:
            text += f"\n{100 * float(probs[i]):.1f}%"
        ax.set_title(text, fontsize=8, color="green" if p == t else "red")
    if title:
        fig.suptitle(title, fontsize=10)
    # leave the suptitle its own band: at 8 rows tight_layout alone lets it hit row 1's titles
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()) if title else None)
    fig.savefig(path, dpi=100)
    plt.close(fig)

