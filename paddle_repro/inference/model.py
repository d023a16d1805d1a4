"""The trained model of a run folder: which checkpoint, and the network it belongs to.

The model is built from the run's own resolved ``config.yaml`` (so the architecture matches
the checkpoint, and the run's ``custom_imports`` are imported) and loaded strictly, by
``paddle_repro.models.build_model_from_config``.
"""
import os

from paddle_repro.models import build_model_from_config
from paddle_repro.report.runs import RunError
from paddle_repro.run_layout import FIGURE_CHECKPOINTS, WEIGHTS_SUFFIX


def find_checkpoint(run_dir):
    """The checkpoint prefix the figures use: best, else final, else latest.

    Raises:
        RunError: the folder has none of them.
    """
    for name in FIGURE_CHECKPOINTS:
        prefix = os.path.join(run_dir, name)
        if os.path.isfile(prefix + WEIGHTS_SUFFIX):
            return prefix
    files = ", ".join(n + WEIGHTS_SUFFIX for n in FIGURE_CHECKPOINTS)
    raise RunError(f"{run_dir} holds no checkpoint ({files}); "
                   "train the run first or pass a checkpoint explicitly.")


def build_trained_model(cfg, checkpoint):
    """Builds ``cfg["Arch"]`` and loads ``checkpoint`` strictly; returns it in eval mode."""
    model = build_model_from_config(cfg, weights=checkpoint)
    model.eval()
    return model
