"""Predictions of a trained model: on preprocessed arrays, or over the run's Eval loader."""
import numpy as np
import paddle
import paddle.nn.functional as F

from paddle_repro.data import build_dataset, build_loader
from paddle_repro.report.runs import RunError


@paddle.no_grad()
def predict_arrays(model, images, batch_size=64):
    """Class probabilities of preprocessed images.

    Args:
        model: an ``nn.Layer`` in eval mode.
        images: float32 array [N, C, H, W] (already through the Eval transforms).
        batch_size: images per forward pass.

    Returns:
        float32 ndarray [N, num_classes] of softmax probabilities.
    """
    out = []
    for i in range(0, len(images), batch_size):
        logits = model(paddle.to_tensor(np.ascontiguousarray(images[i:i + batch_size])))
        out.append(F.softmax(logits, axis=-1).numpy())
    return np.concatenate(out, axis=0)


def eval_dataset(cfg):
    """The run's test-split dataset with its Eval transforms (and its num_samples subset)."""
    return build_dataset(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Eval"], "test")


@paddle.no_grad()
def predict_loader(model, cfg, seed=0):
    """Predictions over the whole Eval loader, exactly the images the run was evaluated on.

    Returns:
        (pred [N] int64, labels [N] int64, num_classes).
    """
    loader = build_loader(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Eval"], "test", seed)
    preds, labels, num_classes = [], [], None
    for images, target in loader:
        logits = model(images)
        num_classes = logits.shape[-1]
        preds.append(logits.argmax(axis=-1).numpy().reshape(-1))
        labels.append(np.asarray(target).reshape(-1))
    if not preds:
        raise RunError("The Eval loader yielded no batch (num_samples smaller than batch_size "
                       "with drop_last?); nothing to predict.")
    return np.concatenate(preds).astype("int64"), np.concatenate(labels).astype("int64"), num_classes
