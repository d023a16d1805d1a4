"""Notebook-parity outputs of one finished run: FLOPs, gallery, per-class accuracy, confusion.

``write_run_outputs(run_dir)`` adds to a run folder, from its ``config.yaml`` and best
checkpoint: ``report_extra.json`` (FLOPs), ``gallery.png``, ``confusion.png`` and
``per_class_acc.json``. It never trains. The numbers (predictions, FLOPs) are computed here
with the trained model; ``paddle_repro.report`` draws them and the tables read the files.

FLOPs are counted at ``Global.image_shape`` for one image by
:func:`paddle_repro.models.summary.count_flops` (paddle.flops' own per-layer rules, driven
through our hooks because ``paddle.flops`` crashes on Paddle 3.x with NumPy 2, plus the
project layers' ``CUSTOM_FLOPS``); what is and is not counted is ``report.flops.NOTE``. A
model with layers of a user's module that have no FLOPs rule also records their type names
(``flops_not_counted``), which the table prints beside the note.
"""
import json
import os

import numpy as np

from paddle_repro.inference.model import build_trained_model, find_checkpoint
from paddle_repro.inference.predict import eval_dataset, predict_arrays, predict_loader
from paddle_repro.models.summary import count_flops, not_counted_user_types
from paddle_repro.report.confusion import write_confusion
from paddle_repro.report.flops import NOTE
from paddle_repro.report.gallery import plot_gallery
from paddle_repro.report.runs import RunError, read_config
from paddle_repro.run_layout import (FLOPS, FLOPS_NOT_COUNTED, GALLERY_FILE, PER_CLASS_ACC_FILE,
                                     REPORT_EXTRA_FILE, WEIGHTS_SUFFIX)


def gallery_from_model(model, dataset, path, n=18, cols=6, title=None):
    """Predicts the first ``n`` items of ``dataset`` with ``model`` and draws the grid.

    Args:
        model: ``nn.Layer`` in eval mode.
        dataset: a dataset from ``paddle_repro.data.build_dataset`` (items are transformed
            images [C, H, W]; ``raw_images`` gives the pictures and ``class_names`` the names).
        path: PNG path to write.

    Returns:
        dict(n, correct) of the drawn images.
    """
    n = min(n, len(dataset))
    items = [dataset[i] for i in range(n)]
    x = np.stack([np.asarray(im, dtype="float32") for im, _ in items])  # [n, C, H, W]
    labels = np.array([int(np.asarray(lab).reshape(-1)[0]) for _, lab in items])
    probs = predict_arrays(model, x)  # [n, num_classes]
    pred = probs.argmax(axis=1)
    raw = dataset.raw_images(list(range(n)))
    plot_gallery(raw, pred, labels, dataset.class_names, path,
                 probs=probs[np.arange(n), pred], cols=cols, title=title)
    return {"n": int(n), "correct": int((pred == labels).sum())}


def write_run_outputs(run_dir, gallery_n=18, checkpoint=None, force=False, figures=None):
    """Writes the figures and extras of one run folder (skipping those already present).

    Args:
        run_dir: a run folder with ``config.yaml`` and a checkpoint.
        gallery_n: images in the gallery grid (the notebooks 000/002 drew 18, 004 drew 64).
        checkpoint: prefix to load; default best_model, else final_model, else latest.
        force: rewrite existing outputs.
        figures: a table spec's ``figures`` dict (checkpoint name, gallery_n, gallery_cols);
            overrides ``gallery_n`` and the default checkpoint. ShuffleNetV2 (004) drew its
            per-class accuracies and grid with the final network, not the best one.

    Returns:
        dict of what was written (paths and numbers).

    Raises:
        RunError: no config.yaml or no checkpoint in the folder.
    """
    cfg = read_config(run_dir)
    if cfg is None:
        raise RunError(f"{run_dir} has no config.yaml: not a run folder written by the trainer.")
    figures = figures or {}
    gallery_n = figures.get("gallery_n", gallery_n)
    if checkpoint is None and figures.get("checkpoint"):
        checkpoint = os.path.join(run_dir, figures["checkpoint"])
        if not os.path.isfile(checkpoint + WEIGHTS_SUFFIX):
            raise RunError(f"{run_dir} has no {figures['checkpoint']}.pdparams, which the table's "
                           "`figures.checkpoint` asks for; finish the run first.")
    checkpoint = checkpoint or find_checkpoint(run_dir)
    model = build_trained_model(cfg, checkpoint)
    done = {"checkpoint": checkpoint}
    extra_path = os.path.join(run_dir, REPORT_EXTRA_FILE)
    if force or not os.path.isfile(extra_path):
        flops, _uncounted_types = count_flops(model, tuple(cfg["Global"]["image_shape"]))
        extra = {FLOPS: int(flops),
                 "flops_image_shape": list(cfg["Global"]["image_shape"]), "flops_note": NOTE}
        not_counted = not_counted_user_types(model)
        if not_counted:  # absent for the package's own models: their files are as before
            extra[FLOPS_NOT_COUNTED] = not_counted
        with open(extra_path, "w", encoding="utf-8") as f:
            json.dump(extra, f, indent=1)
        done["flops"] = extra[FLOPS]
    dataset = None
    gallery_path = os.path.join(run_dir, GALLERY_FILE)
    if force or not os.path.isfile(gallery_path):
        dataset = eval_dataset(cfg)
        title = f"{cfg['Arch']['name']}: predicted (true), {os.path.basename(checkpoint)}"
        done["gallery"] = gallery_from_model(model, dataset, gallery_path, n=gallery_n,
                                             cols=figures.get("gallery_cols", 6), title=title)
    if force or not os.path.isfile(os.path.join(run_dir, PER_CLASS_ACC_FILE)):
        dataset = dataset or eval_dataset(cfg)
        pred, labels, _ = predict_loader(model, cfg, seed=cfg["Global"]["seed"])
        done["per_class"] = write_confusion(pred, labels, dataset.class_names, run_dir,
                                            title=f"{cfg['Arch']['name']} ({os.path.basename(checkpoint)})",
                                            checkpoint=os.path.basename(checkpoint))
    return done
