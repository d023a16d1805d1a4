"""Notebook-parity outputs of one finished run: FLOPs, gallery, per-class accuracy, confusion.

``write_run_outputs(run_dir)`` adds to a run folder, from its ``config.yaml`` and best
checkpoint: ``report_extra.json`` (FLOPs), ``gallery.png``, ``confusion.png`` and
``per_class_acc.json``. It never trains.

FLOPs are counted at ``Global.image_shape`` for one image by :mod:`.flops` (paddle.flops'
formulas; what is and is not counted is stated there and in the tables).
"""
import json
import os

from paddle_repro.report.runs import RunError, read_config


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
    from paddle_repro.report.confusion import write_confusion
    from paddle_repro.report.flops import NOTE, count_flops
    from paddle_repro.report.gallery import gallery_from_model
    from paddle_repro.report.inference import (build_trained_model, eval_dataset,
                                               find_checkpoint, predict_loader)
    cfg = read_config(run_dir)
    if cfg is None:
        raise RunError(f"{run_dir} has no config.yaml: not a run folder written by the trainer.")
    figures = figures or {}
    gallery_n = figures.get("gallery_n", gallery_n)
    if checkpoint is None and figures.get("checkpoint"):
        checkpoint = os.path.join(run_dir, figures["checkpoint"])
        if not os.path.isfile(checkpoint + ".pdparams"):
            raise RunError(f"{run_dir} has no {figures['checkpoint']}.pdparams, which the table's "
                           "`figures.checkpoint` asks for; finish the run first.")
    checkpoint = checkpoint or find_checkpoint(run_dir)
    model = build_trained_model(cfg, checkpoint)
    done = {"checkpoint": checkpoint}
    extra_path = os.path.join(run_dir, "report_extra.json")
    if force or not os.path.isfile(extra_path):
        extra = {"flops": count_flops(model, cfg["Global"]["image_shape"]),
                 "flops_image_shape": list(cfg["Global"]["image_shape"]), "flops_note": NOTE}
        with open(extra_path, "w", encoding="utf-8") as f:
            json.dump(extra, f, indent=1)
        done["flops"] = extra["flops"]
    dataset = None
    gallery_path = os.path.join(run_dir, "gallery.png")
    if force or not os.path.isfile(gallery_path):
        dataset = eval_dataset(cfg)
        title = f"{cfg['Arch']['name']}: predicted (true), {os.path.basename(checkpoint)}"
        done["gallery"] = gallery_from_model(model, dataset, gallery_path, n=gallery_n,
                                             cols=figures.get("gallery_cols", 6), title=title)
    if force or not os.path.isfile(os.path.join(run_dir, "per_class_acc.json")):
        dataset = dataset or eval_dataset(cfg)
        pred, labels, _ = predict_loader(model, cfg, seed=cfg["Global"]["seed"])
        done["per_class"] = write_confusion(pred, labels, dataset.class_names, run_dir,
                                            title=f"{cfg['Arch']['name']} ({os.path.basename(checkpoint)})",
                                            checkpoint=os.path.basename(checkpoint))
    return done
