"""Per-class accuracy and the confusion matrix (the ShuffleNetV2 notebook's analysis).

The notebook printed "Accuracy of <class> : xx.xx %" per class; we compute the same from
a run's predictions over its Eval loader, draw the confusion matrix as ``confusion.png`` and
keep the numbers in ``per_class_acc.json`` for the table.
"""
import json
import os

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only; never needs a display (as curves.py)
import matplotlib.pyplot as plt  # noqa: E402

from paddle_repro.run_layout import (CHECKPOINT, CLASS_NAMES, CONFUSION_FILE,  # noqa: E402
                                     PER_CLASS_ACC, PER_CLASS_ACC_FILE)


def confusion_matrix(pred, labels, num_classes):
    """Counts of (true, predicted) pairs.

    Args:
        pred: int array [N] of predicted classes.
        labels: int array [N] of true classes in ``[0, num_classes)``.
        num_classes: K, the dataset's number of classes.

    Returns:
        int64 array [K, K+1]: row = true class, column = predicted class; the last column
        counts predictions outside ``[0, K)`` (possible only for a model with more outputs
        than classes, e.g. the NAM notebook's 1000-class baseline on CIFAR-100).
    """
    pred, labels = np.asarray(pred).reshape(-1), np.asarray(labels).reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}); got {labels.min()}..{labels.max()}")
    cols = np.where((pred >= 0) & (pred < num_classes), pred, num_classes)
    cm = np.zeros((num_classes, num_classes + 1), dtype="int64")
    np.add.at(cm, (labels, cols), 1)
    return cm


def per_class_accuracy(cm):
    """Diagonal over row sums; NaN for a class with no test image. Returns float [K]."""
    k = cm.shape[0]
    totals = cm.sum(axis=1).astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm[:, :k]) / totals, np.nan)


def plot_confusion(cm, class_names, path, title="Confusion matrix"):
    """Draws row-normalized ``cm`` (true x predicted) to ``path``; names shown up to 20 classes."""
    k = cm.shape[0]
    rows = cm[:, :k].astype("float64")
    norm = rows / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    size = 6 if k <= 20 else 9
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of the true class")
    if k <= 20:
        ax.set_xticks(range(k))
        ax.set_yticks(range(k))
        ax.set_xticklabels(class_names, rotation=60, ha="right", fontsize=8)
        ax.set_yticklabels(class_names, fontsize=8)
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                            color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    outside = int(cm[:, k].sum())
    ax.set_title(title + (f"\n({outside} predictions outside the {k} classes)" if outside else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_confusion(pred, labels, class_names, out_dir, title="Confusion matrix", checkpoint=None):
    """Writes ``confusion.png`` and ``per_class_acc.json`` in ``out_dir``; returns the json dict.

    ``checkpoint`` (the weights' name, e.g. ``final_model``) is recorded in the json.
    """
    cm = confusion_matrix(pred, labels, len(class_names))
    acc = per_class_accuracy(cm)
    result = {CLASS_NAMES: list(class_names),
              PER_CLASS_ACC: [None if np.isnan(a) else float(a) for a in acc],
              "per_class_n": cm.sum(axis=1).tolist(), "n": int(cm.sum()),
              "top1": float(np.trace(cm[:, :len(class_names)]) / max(cm.sum(), 1)),
              "confusion": cm.tolist(), CHECKPOINT: checkpoint}
    os.makedirs(out_dir, exist_ok=True)
    plot_confusion(cm, class_names, os.path.join(out_dir, CONFUSION_FILE), title)
    with open(os.path.join(out_dir, PER_CLASS_ACC_FILE), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    return result
