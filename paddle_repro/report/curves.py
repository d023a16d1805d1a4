"""Learning curves of a run: ``curves_loss.png`` and ``curves_acc.png`` (train vs val).

The notebooks' ``plot_learning_curve`` drew the train loss sampled every 10 batches against
the per-epoch val loss, and per-epoch train/val accuracy. We draw the same: sampled train
loss on a fractional-epoch axis (``step / steps_per_epoch``) plus the per-epoch train and
val means, so both sit on one epoch axis. Refreshed at every epoch end.

Readability: epoch ticks are integers; train is solid and val dashed, and the legend says so;
when the losses span more than ``LOG_SPAN`` (the notebooks' logs show val-loss spikes to 1e5
next to a train loss near 1; the demo's first val loss was 57 next to a train loss near 1)
the loss axis turns logarithmic so the train curve stays readable; ``overlay.py`` applies
the same two rules to the table's figure.

Records in, figures out: the trainer calls ``plot_curves`` at every epoch end, and this
module imports nothing but matplotlib and ``run_layout``, so that call is the training
package's only edge into ``report`` and report never needs engine.
"""
import os

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from paddle_repro.run_layout import (CURVES_ACC_FILE, CURVES_LOSS_FILE, EPOCH, LOSS,  # noqa: E402
                                     STEP, TRAIN_LOSS, TRAIN_TOP1, VAL_LOSS, VAL_TOP1, VAL_TOP5)

LOG_SPAN = 10.0  # max/min loss ratio above which the loss axis is logarithmic


def style_epoch_axis(ax):
    """Integer ticks on the x (epoch) axis of ``ax``."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def loss_needs_log_axis(values):
    """True when the positive finite losses in ``values`` span more than ``LOG_SPAN``."""
    pos = [v for v in values if v is not None and 0 < v < float("inf")]
    return bool(pos) and max(pos) / min(pos) > LOG_SPAN


def plot_curves(metrics, steps, output_dir, steps_per_epoch, title=""):
    """Writes the two figures.

    Args:
        metrics: ``metrics.jsonl`` records (one per epoch).
        steps: ``train_steps.jsonl`` records.
        output_dir: where the PNGs go.
        steps_per_epoch: batches per epoch (for the step -> epoch axis).
        title: figure title prefix (e.g. the architecture name).
    """
    epochs = [m[EPOCH] for m in metrics]
    val = [m for m in metrics if m.get(VAL_LOSS) is not None]
    val_epochs = [m[EPOCH] for m in val]

    fig, ax = plt.subplots(figsize=(6, 4))
    if steps:
        ax.plot([s[STEP] / steps_per_epoch for s in steps], [s[LOSS] for s in steps],
                color="tab:blue", alpha=0.35, lw=0.8, label="train, sampled batches (solid)")
    ax.plot(epochs, [m[TRAIN_LOSS] for m in metrics], "o-", color="tab:blue",
            label="train, epoch mean (solid)")
    if val:
        ax.plot(val_epochs, [m[VAL_LOSS] for m in val], "s--", color="tab:orange", label="val (dashed)")
    ax.set(xlabel="epoch", ylabel="loss", title=f"{title} loss".strip())
    losses = [s[LOSS] for s in steps] + [m[TRAIN_LOSS] for m in metrics] + [m[VAL_LOSS] for m in val]
    if loss_needs_log_axis(losses):
        ax.set_yscale("log")
        ax.set_ylabel("loss (log scale)")
    style_epoch_axis(ax)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, CURVES_LOSS_FILE), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [m[TRAIN_TOP1] for m in metrics], "o-", label="train top-1 (solid)")
    if val:
        ax.plot(val_epochs, [m[VAL_TOP1] for m in val], "s--", label="val top-1 (dashed)")
        ax.plot(val_epochs, [m[VAL_TOP5] for m in val], "^:", label="val top-5 (dotted)")
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title=f"{title} accuracy".strip())
    style_epoch_axis(ax)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, CURVES_ACC_FILE), dpi=100)
    plt.close(fig)
