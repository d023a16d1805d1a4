"""``run_eval(cfg)``: what ``tools/eval.py`` does -- load weights, evaluate, time, write eval.json.

Two throughputs: ``throughput_loader_img_s`` is the notebooks' number (000/002: one pass
over the whole test loader in eval mode, data loading included); ``throughput_model_img_s``
times the model alone on up to 10 batches already in memory (after one warm-up batch),
which isolates the architecture from the input pipeline. Per-class accuracy is what the
ShuffleNetV2 notebook (004) printed ("Accuracy of airplane: 74.12 %").
"""
import json
import logging
import os

import paddle

from .. import runtime
from ..builders.losses import build_loss
from ..builders.notebook_metrics import notebook_val_metrics
from ..config import ConfigError
from ..data import build_loader
from ..models import build_model_from_config
from ..run_layout import CHECKPOINT, CLASS_NAMES, EVAL_FILE, LOSS, PER_CLASS_ACC, TOP1, TOP5, VAL_PREFIX
from .evaluate import evaluate, loader_throughput, model_throughput
from .logger import setup_console
from .run import metric_topk

log = logging.getLogger("paddle_repro")


def run_eval(cfg, write=True):
    """Evaluates ``Global.checkpoint`` on the Eval split (single process).

    Returns:
        The ``eval.json`` dict (architecture.md), also written to ``Global.output_dir``.
    """
    g = cfg["Global"]
    if not g.get("checkpoint"):
        raise ConfigError("tools/eval.py needs weights: add -o Global.checkpoint=<run>/best_model.pdparams "
                          "(or any .pdparams of this architecture).")
    setup_console()
    device = runtime.select_device(g["device"])
    runtime.seed_everything(g["seed"])
    loader = build_loader(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Eval"], "test", g["seed"])
    dataset = loader.dataset
    num_classes = getattr(dataset, "num_classes", None)
    with paddle.utils.unique_name.guard():
        model = build_model_from_config(cfg, num_classes, weights=g["checkpoint"])
    num_classes = num_classes or int(cfg["Arch"].get("num_classes", 10))
    topk = metric_topk(cfg)
    res = evaluate(model, loader, build_loss(cfg["Loss"]), num_classes, topk)
    out = {LOSS: res["loss"], TOP1: res["top1"], TOP5: res["top5"],
           PER_CLASS_ACC: res["per_class_acc"],
           CLASS_NAMES: list(getattr(dataset, "class_names", [str(i) for i in range(num_classes)])),
           "throughput_loader_img_s": loader_throughput(model, loader) if g.get("throughput") else None,
           "throughput_model_img_s": model_throughput(model, loader) if g.get("throughput") else None,
           "n": res["n"], CHECKPOINT: g["checkpoint"], "device": device}
    # the notebook's definitions, as training records them (top1_nb, loss_nb, ...)
    out.update({k[len(VAL_PREFIX):]: v for k, v in
                notebook_val_metrics(cfg["Metric"]["notebook_val"], res).items()})
    log.info(f"[Eval] {g['checkpoint']}: loss {out[LOSS]:.5f}, top1 {out[TOP1]:.5f}, "
             f"top5 {out[TOP5]:.5f} on {out['n']} images")
    for name, acc in zip(out[CLASS_NAMES], out[PER_CLASS_ACC]):
        log.info(f"Accuracy of {name:>12s} : " + ("  n/a" if acc is None else f"{100 * acc:.2f} %"))
    if write:
        os.makedirs(g["output_dir"], exist_ok=True)
        path = os.path.join(g["output_dir"], EVAL_FILE)
        with open(path, "w") as f:
            json.dump(out, f, indent=2)
        log.info(f"Wrote {path}")
    return out
