"""A table's eval throughput, measured alike for every run: after training, in one process.

A run's own figure (``summary.json`` ``throughput_img_s``) is taken in its training process
at the end of training, under whatever else ran then: with ``--jobs 2`` another run shares
the cores, under Ray yet another mix. One CondConv quick run measured 239.8, 53.6 and
119.7 img/s sequentially, with ``--jobs 2`` and with Ray, and a delta changed sign. So
``tools/reproduce.py`` (and ``tools/compare.py``) measure every run again once all are
trained, here, the same way:

* the run's ``config.yaml`` and checkpoint (best, else final, else latest: the speed does not
  depend on which), its ``Global.device``, its Eval loader (batch size, workers, transforms);
* one warm-up batch (first-call allocations and kernel selection), then timed passes over
  the whole Eval loader in eval mode under ``no_grad``, data loading included: the
  notebooks' measure (:func:`paddle_repro.engine.evaluate.loader_throughput`);
* ``PASSES`` passes per run, the runs taking turns (A, B, A, B, ...), and each run's fastest
  pass is its figure: a busy moment of the machine slows one pass, not one run.

``report.throughput.method_line`` is the table header line that says so.
"""
import paddle

from paddle_repro import runtime
from paddle_repro.data import build_loader
from paddle_repro.engine.evaluate import loader_throughput
from paddle_repro.inference.model import build_trained_model, find_checkpoint
from paddle_repro.report.runs import RunError, read_config
from paddle_repro.report.throughput import PASSES


def _ready_run(run_dir):
    """(device, model in eval mode, Eval loader) of a trained run folder, after one warm-up
    batch.

    Raises:
        RunError: no ``config.yaml`` or no checkpoint in the folder.
    """
    cfg = read_config(run_dir)
    if cfg is None:
        raise RunError(f"{run_dir} has no config.yaml: not a run folder written by the trainer.")
    device = runtime.select_device(cfg["Global"]["device"])
    with paddle.utils.unique_name.guard():
        model = build_trained_model(cfg, find_checkpoint(run_dir))
    loader = build_loader(cfg["DataLoader"]["dataset"], cfg["DataLoader"]["Eval"], "test",
                          cfg["Global"]["seed"])
    with paddle.no_grad():
        for images, _ in loader:  # warm-up: one batch, not timed
            model(images)
            break
    return device, model, loader


def measure_throughputs(run_dirs, log=print, passes=PASSES):
    """Eval images/s of every run folder, measured in this process (module doc).

    Args:
        run_dirs: trained run folders.
        log: where one line per run goes.
        passes: timed passes per run (the runs take turns); each run's fastest counts.

    Returns:
        dict run folder -> eval images/s.
    """
    ready = {run_dir: _ready_run(run_dir) for run_dir in run_dirs}
    seen = {run_dir: [] for run_dir in run_dirs}
    for _ in range(passes):
        for run_dir, (device, model, loader) in ready.items():
            paddle.set_device(device)  # the device the run's model was built on
            seen[run_dir].append(loader_throughput(model, loader))
    for run_dir, rates in seen.items():
        log(f"[throughput] {run_dir}: {max(rates):.1f} eval img/s (passes: "
            + ", ".join(f"{r:.1f}" for r in rates) + ")")
    return {run_dir: max(rates) for run_dir, rates in seen.items()}
