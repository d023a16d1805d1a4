"""A table's eval throughput, measured alike for every run: after training, one run at a time.

A run's own figure (``summary.json`` ``throughput_img_s``) is taken in its training process
at the end of training, under whatever else ran then: with ``--jobs 2`` another run shares
the cores, under Ray yet another mix. One CondConv quick run measured 239.8, 53.6 and
119.7 img/s sequentially, with ``--jobs 2`` and with Ray, and a delta changed sign. So
``tools/reproduce.py`` (and ``tools/compare.py``) measure every run again once all are
trained, here, one after another, the same way:

* the run's ``config.yaml`` and checkpoint (best, else final, else latest: the speed does not
  depend on which), its ``Global.device``, its Eval loader (batch size, workers, transforms);
* one warm-up batch (first-call allocations and kernel selection), then one timed pass over
  the whole Eval loader in eval mode under ``no_grad``, data loading included: the
  notebooks' measure (:func:`paddle_repro.engine.evaluate.loader_throughput`).

``report.throughput.method_line`` is the table header line that says so.
"""
import paddle

from paddle_repro import runtime
from paddle_repro.data import build_loader
from paddle_repro.engine.evaluate import loader_throughput
from paddle_repro.inference.model import build_trained_model, find_checkpoint
from paddle_repro.report.runs import RunError, read_config


def measure_run(run_dir):
    """Eval images/s of one trained run folder (module doc), measured in this process.

    Raises:
        RunError: no ``config.yaml`` or no checkpoint in the folder.
    """
    cfg = read_config(run_dir)
    if cfg is None:
        raise RunError(f"{run_dir} has no config.yaml: not a run folder written by the trainer.")
    runtime.select_device(cfg["Global"]["device"])
    with paddle.utils.unique_name.guard():
        model = build_trained_model(cfg, find_checkpoint(run_dir))
    loader = build_loader(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Eval"], "test",
                          cfg["Global"]["seed"])
    with paddle.no_grad():
        for images, _ in loader:  # warm-up: one batch, not timed
            model(images)
            break
    return loader_throughput(model, loader)


def measure_throughputs(run_dirs, log=print):
    """:func:`measure_run` of every folder, one after another.

    Returns:
        dict run folder -> eval images/s.
    """
    out = {}
    for run_dir in run_dirs:
        out[run_dir] = measure_run(run_dir)
        log(f"[throughput] {run_dir}: {out[run_dir]:.1f} eval img/s")
    return out

