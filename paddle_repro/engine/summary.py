"""``summary.json``: the one-file answer to "what did this run give?" (format: architecture.md).

``params``/``trainable_params`` come from ``models.count_params`` (the total includes BN
running statistics, like ``paddle.summary``). ``throughput_img_s`` is measured the notebooks'
way at the end of a finished run (whole eval loader, eval mode, data loading included);
under data parallel it is rank 0's shard, i.e. one process's throughput. It is the
in-training figure, taken under whatever else ran then (other runs of ``--jobs N``); the
tables measure every run again after training (``inference/throughput.py``). It is EVAL
images/s; the training log's ``train_ips`` is TRAINING images/s (forward + backward + step,
``engine/rates.py``), several times lower for the same model: never compare the two.

``best_epoch`` is the epoch saved as best_model, chosen by ``best_by`` (``Metric.best_by``,
e.g. the notebook-defined ``val_top1_nb``) with value ``best_value``; ``best_val_top1`` and
``best_val_top1_nb`` are that epoch's true and notebook-defined top-1 (so the best epoch's
true top-1 need not be the largest true top-1 of the run).
"""
import json
import os

from .. import runtime
from ..config import config_hash
from ..host import host_facts
from ..models import count_params
from .records import read_jsonl


_VAL_KEYS = ("val_loss", "val_top1", "val_top5", "val_top1_nb", "val_top5_nb", "val_loss_nb",
             "val_loss_ema", "val_top1_ema", "val_top5_ema")


def _final(metrics):
    if not metrics:
        return {}
    last = metrics[-1]
    final = {"train_loss": last["train_loss"], "train_top1": last["train_top1"]}
    evaluated = [m for m in metrics if "val_top1" in m]
    if evaluated:
        final.update({k: evaluated[-1][k] for k in _VAL_KEYS if k in evaluated[-1]})
    return final


def _best(metrics, best_epoch):
    """The val numbers of the epoch whose weights are best_model (true and notebook-defined)."""
    record = next((m for m in metrics if m["epoch"] == best_epoch), {})
    return {"best_" + k: record[k] for k in ("val_top1", "val_top1_nb", "val_top1_ema") if k in record}


def images_scored(n, eval_cfg, world_size=1):
    """Images one eval pass scores: the split's ``n`` images, less the last partial batch of
    each rank's shard under ``drop_last`` (each of ``world_size`` ranks reads ceil(n / world))."""
    if not eval_cfg.get("drop_last"):
        return n
    per_rank = -(-n // world_size)
    batch = int(eval_cfg["batch_size"])
    return world_size * (per_rank // batch * batch)


def write_summary(run, state, finished, wall_time_s, throughput_fn=None):
    """Builds the summary dict of a run and writes it (rank 0) to ``summary.json``.

    Args:
        run: the run's built objects (``engine.run.Run``); state: its ``TrainState``.
        finished: True when every configured epoch completed.
        wall_time_s: seconds this process spent in ``train``.
        throughput_fn: ``(model, loader) -> img/s`` or None to skip measuring.
    """
    cfg = run.cfg
    metrics_path = os.path.join(run.out, "metrics.jsonl")
    metrics = read_jsonl(metrics_path) if os.path.isfile(metrics_path) else []
    total, trainable = count_params(run.model)
    throughput = None
    if throughput_fn is not None and run.is_main:
        throughput = float(throughput_fn(run.model, run.eval_loader))
    summary = {
        "finished": bool(finished),
        "epochs_completed": int(state.epoch),
        "best_by": cfg["Metric"]["best_by"],
        "best_value": state.best_value,
        "best_epoch": state.best_epoch,
        "best_val_top1": None,
        **_best(metrics, state.best_epoch),
        "notebook_val": cfg["Metric"]["notebook_val"],
        "final": _final(metrics),
        "params": int(total),
        "trainable_params": int(trainable),
        "throughput_img_s": throughput,
        "throughput_measure": ("in-training figure: eval images/s (eval mode, no backward) "
                               "measured by this process at the end of training, under whatever "
                               "else ran then; tables measure again, alike for every run; not "
                               "the log's train_ips"),
        "wall_time_s": float(wall_time_s),
        "device": run.device,
        "world_size": runtime.world_size(),
        "versions": runtime.versions(),
        "machine": host_facts(),  # CPU model, logical CPUs, OMP_NUM_THREADS of this process
        "seed": cfg["Global"]["seed"],
        "config_hash": config_hash(cfg),
        "arch": cfg["Arch"]["name"],
        "dataset": cfg["DataLoader"]["dataset"]["name"],
        "num_train": len(run.train_loader.dataset),
        # the images each eval pass scores: under drop_last, whole batches only (notebook 004's
        # 78 x 128 = 9,984 of 10,000), which is what the val metrics are over
        "num_eval": images_scored(len(run.eval_loader.dataset), cfg["DataLoader"]["Eval"],
                                  runtime.world_size()),
        "num_eval_split": len(run.eval_loader.dataset),
    }
    if run.is_main:
        tmp = os.path.join(run.out, "summary.json.tmp")
        with open(tmp, "w") as f:
            json.dump(summary, f, indent=2)
        os.replace(tmp, os.path.join(run.out, "summary.json"))
    return summary
