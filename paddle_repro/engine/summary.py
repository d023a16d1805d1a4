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
from ..records import read_jsonl
from ..run_layout import (BEST_BY, BEST_EPOCH, BEST_PREFIX, BEST_VAL_TOP1, BEST_VALUE, DEVICE, EPOCH,
                          EPOCH_TIME_S, FINAL, FINISHED, MACHINE, METRICS_FILE, PARAMS, SEED,
                          SUMMARY_FILE, THROUGHPUT_IMG_S, TRAIN_LOSS, TRAIN_TIME_S, TRAIN_TOP1,
                          TRAINABLE_PARAMS, VAL_LOSS, VAL_LOSS_EMA, VAL_LOSS_NB, VAL_TOP1,
                          VAL_TOP1_EMA, VAL_TOP1_NB, VAL_TOP5, VAL_TOP5_EMA, VAL_TOP5_NB, VERSIONS,
                          WALL_TIME_S)

# The val numbers of ``final``, in the order summary.json lists them.
_VAL_KEYS = (VAL_LOSS, VAL_TOP1, VAL_TOP5, VAL_TOP1_NB, VAL_TOP5_NB, VAL_LOSS_NB,
             VAL_LOSS_EMA, VAL_TOP1_EMA, VAL_TOP5_EMA)
# The top-1 of the best epoch, under each definition a run may record (best_val_top1 ...).
_BEST_KEYS = (VAL_TOP1, VAL_TOP1_NB, VAL_TOP1_EMA)


def _final(metrics):
    if not metrics:
        return {}
    last = metrics[-1]
    final = {TRAIN_LOSS: last[TRAIN_LOSS], TRAIN_TOP1: last[TRAIN_TOP1]}
    evaluated = [m for m in metrics if VAL_TOP1 in m]
    if evaluated:
        final.update({k: evaluated[-1][k] for k in _VAL_KEYS if k in evaluated[-1]})
    return final


def _best(metrics, best_epoch):
    """The val numbers of the epoch whose weights are best_model (true and notebook-defined)."""
    record = next((m for m in metrics if m[EPOCH] == best_epoch), {})
    return {BEST_PREFIX + k: record[k] for k in _BEST_KEYS if k in record}


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
        wall_time_s: seconds this process spent in ``train`` (a resumed run's earlier
            sessions are in ``train_time_s``, the sum of its epochs' times).
        throughput_fn: ``(model, loader) -> img/s`` or None to skip measuring.
    """
    cfg = run.cfg
    metrics_path = os.path.join(run.out, METRICS_FILE)
    metrics = read_jsonl(metrics_path) if os.path.isfile(metrics_path) else []
    total, trainable = count_params(run.model)
    throughput = None
    if throughput_fn is not None and run.is_main:
        throughput = float(throughput_fn(run.model, run.eval_loader))
    # keys that other modules read back come from run_layout; the rest are for the reader
    summary = {
        FINISHED: bool(finished),
        "epochs_completed": int(state.epoch),
        BEST_BY: cfg["Metric"]["best_by"],
        BEST_VALUE: state.best_value,
        BEST_EPOCH: state.best_epoch,
        BEST_VAL_TOP1: None,
        **_best(metrics, state.best_epoch),
        "notebook_val": cfg["Metric"]["notebook_val"],
        FINAL: _final(metrics),
        PARAMS: int(total),
        TRAINABLE_PARAMS: int(trainable),
        THROUGHPUT_IMG_S: throughput,
        "throughput_measure": ("in-training figure: eval images/s (eval mode, no backward) "
                               "measured by this process at the end of training, under whatever "
                               "else ran then; tables measure again, alike for every run; not "
                               "the log's train_ips"),
        WALL_TIME_S: float(wall_time_s),
        # a resumed run's processes each time only their own share; the epochs' own times add
        # up to the whole run (train + eval of every epoch, whichever session ran it)
        TRAIN_TIME_S: float(sum(row.get(EPOCH_TIME_S) or 0.0 for row in metrics)),
        DEVICE: run.device,
        "world_size": runtime.world_size(),
        VERSIONS: runtime.versions(),
        MACHINE: host_facts(),  # CPU model, logical CPUs, OMP_NUM_THREADS of this process
        SEED: cfg["Global"]["seed"],
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
        path = os.path.join(run.out, SUMMARY_FILE)
        with open(path + ".tmp", "w") as f:
            json.dump(summary, f, indent=2)
        os.replace(path + ".tmp", path)
    return summary
