"""Notebook-parity outputs of one finished run: FLOPs, gallery, per-class accuracy, confusion.

``write_run_outputs(run_dir)`` adds to a run folder, from its ``config.yaml`` and best
checkpoint: ``report_extra.json`` (FLOPs), ``gallery.png``, ``confusion.png`` and
``per_class_acc.json``. It never trains.

FLOPs are ``paddle.flops`` at ``Global.image_shape`` for one image. ``paddle.flops`` counts
the standard layers it knows (Conv2D, Linear, BatchNorm, pooling, activations) when they are
called as layers; functional ops inside custom layers (CondConv2D's per-sample grouped conv,
ACmix's attention matmuls and shift conv) are not counted, so for those models the number
is a lower bound. The tables say so.
"""
import contextlib
import io
import json
import os

from paddle_repro.report.runs import RunError, read_config


def model_flops(model, image_shape):
    """``paddle.flops`` of ``model`` for one image of shape ``image_shape`` (C, H, W)."""
    import paddle
    with contextlib.redirect_stdout(io.StringIO()):  # paddle.flops prints a table
        return int(paddle.flops(model, [1] + list(image_shape), print_detail=False))


def write_run_outputs(run_dir, gallery_n=18, checkpoint=None, force=False):
    """Writes the figures and extras of one run folder (skipping those already present).

    Args:
        run_dir: a run folder with ``config.yaml`` and a checkpoint.
        gallery_n: images in the gallery grid (the notebooks drew 18).
        checkpoint: prefix to load; default best_model, else final_model, else latest.
        force: rewrite existing outputs.

    Returns:
        dict of what was written (paths and numbers).

    Raises:
        RunError: no config.yaml or no checkpoint in the folder.
    """
    from paddle_repro.report.confusion import write_confusion
    from paddle_repro.report.gallery import gallery_from_model
    from paddle_repro.report.inference import (build_trained_model, eval_dataset,
                                               find_checkpoint, predict_loader)
    cfg = read_config(run_dir)
    if cfg is None:
        raise RunError(f"{run_dir} has no config.yaml: not a run folder written by the trainer.")
    checkpoint = checkpoint or find_checkpoint(run_dir)
    model = build_trained_model(cfg, checkpoint)
    done = {"checkpoint": checkpoint}
    extra_path = os.path.join(run_dir, "report_extra.json")
    if force or not os.path.isfile(extra_path):
        extra = {"flops": model_flops(model, cfg["Global"]["image_shape"]),
                 "flops_image_shape": list(cfg["Global"]["image_shape"]),
                 "flops_note": "paddle.flops; functional ops in custom layers not counted"}
        with open(extra_path, "w", encoding="utf-8") as f:
            json.dump(extra, f, indent=1)
        done["flops"] = extra["flops"]
    dataset = None
    gallery_path = os.path.join(run_dir, "gallery.png")
    if force or not os.path.isfile(gallery_path):
        dataset = eval_dataset(cfg)
        title = f"{cfg['Arch']['name']}: predicted (true), {os.path.basename(checkpoint)}"
        done["gallery"] = gallery_from_model(model, dataset, gallery_path, n=gallery_n, title=title)
    if force or not os.path.isfile(os.path.join(run_dir, "per_class_acc.json")):
        dataset = dataset or eval_dataset(cfg)
        pred, labels, _ = predict_loader(model, cfg, seed=cfg["Global"]["seed"])
        done["per_class"] = write_confusion(pred, labels, dataset.class_names, run_dir,
                                            title=f"{cfg['Arch']['name']} ({os.path.basename(checkpoint)})")
    return done
