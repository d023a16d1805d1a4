"""Predict image files with a trained model: the config's Eval transforms, then top-k classes.

As the ShuffleNetV2 notebook's ``predict`` did (``Resize((32, 32))`` first), an image whose
size is not the data set's native 32x32 (CIFAR, synthetic) is first resized to 32x32 with
``cv2.INTER_AREA``, so a photo is seen at the resolution the model was trained on; then the
config's ``DataLoader.Eval.transforms`` run exactly as in evaluation.

An argument that is a folder stands for its images (sorted), as in ``tools/infer.py``.

Class names come from, in order: ``per_class_acc.json`` / ``eval.json`` beside the checkpoint,
the config's test data set, CIFAR-10's standard names (for ``cifar10``), else ``class <i>``.
"""
import json
import os

import cv2
import numpy as np

from paddle_repro.data import build_dataset
from paddle_repro.data.transforms import build_transforms
from paddle_repro.inference.model import build_trained_model
from paddle_repro.errors import UserError
from paddle_repro.inference.predict import predict_arrays
from paddle_repro.run_layout import CLASS_NAMES, EVAL_FILE, PER_CLASS_ACC_FILE

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck"]
NATIVE_SIZE = {"cifar10": 32, "cifar100": 32, "synthetic": 32}
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class PredictError(UserError, RuntimeError):
    """An input image or checkpoint that cannot be used; the message names it."""


def folder_images(folder):
    """The image files of ``folder`` (by extension, sorted)."""
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTS))


def expand_images(paths):
    """Image files named by ``paths``: a file as given, a folder as its images.

    Raises:
        PredictError: a folder holds no image.
    """
    out = []
    for path in paths:
        if os.path.isdir(path):
            found = folder_images(path)
            if not found:
                raise PredictError(f"{path} is a folder with no image ({', '.join(IMAGE_EXTS)}).")
            out += found
        else:
            out.append(path)
    return out


def load_image(path):
    """Reads an image file as uint8 RGB [H, W, 3] (grey and alpha are converted)."""
    if not os.path.exists(path):
        raise PredictError(f"Image {path} does not exist.")
    if not os.path.isfile(path):
        raise PredictError(f"{path} is not an image file (give image files or folders of them).")
    img = cv2.imread(path, cv2.IMREAD_COLOR)  # BGR, 3 channels, alpha dropped
    if img is None:
        raise PredictError(f"{path} is not an image OpenCV can read (png, jpg, bmp, ...).")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def preprocess(img, cfg):
    """Native-size resize (see module doc) then the Eval transforms; returns float32 [C,H,W]."""
    size = NATIVE_SIZE.get(cfg["DataLoader"]["dataset"]["name"])
    if size and img.shape[:2] != (size, size):
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    out = build_transforms(cfg["DataLoader"]["Eval"]["transforms"])(img)
    return np.asarray(out, dtype="float32")


def class_names_for(cfg, checkpoint, num_classes):
    """Best available class names for the model's outputs (see module doc)."""
    folder = os.path.dirname(os.path.abspath(checkpoint))
    for name in (PER_CLASS_ACC_FILE, EVAL_FILE):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                names = json.load(f).get(CLASS_NAMES)
            if names:
                return list(names)
    try:
        return list(build_dataset(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Eval"],
                                  "test").class_names)
    except Exception:  # data file absent offline: names are a convenience, not a requirement
        pass
    if cfg["DataLoader"]["dataset"]["name"] == "cifar10":
        return list(CIFAR10_NAMES)
    return [f"class {i}" for i in range(num_classes)]


def predict_files(cfg, paths, topk=5):
    """Top-k predictions for image files.

    Args:
        cfg: a resolved config with ``Global.checkpoint`` set.
        paths: image files, or folders standing for their images.
        topk: number of classes to return per image.

    Returns:
        list of (path, [(class name, probability), ...]) best first.
    """
    checkpoint = cfg["Global"].get("checkpoint")
    if not checkpoint:
        raise PredictError("No checkpoint: pass -o Global.checkpoint=<run dir>/best_model.pdparams")
    paths = expand_images(paths)
    model = build_trained_model(cfg, checkpoint)
    x = np.stack([preprocess(load_image(p), cfg) for p in paths])
    probs = predict_arrays(model, x)
    names = class_names_for(cfg, checkpoint, probs.shape[1])
    results = []
    for path, p in zip(paths, probs):
        order = np.argsort(-p)[:topk]
        results.append((path, [(names[i] if i < len(names) else f"class {i}", float(p[i]))
                               for i in order]))
    return results
