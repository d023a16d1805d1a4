"""Learning curves of a run: ``curves_loss.png`` and ``curves_acc.png`` (train vs val).

The notebooks' ``plot_learning_curve`` drew the train loss sampled every 10 batches against
the per-epoch val loss, and per-epoch train/val accuracy. We draw the same: sampled train
loss on a fractional-epoch axis (``step / steps_per_epoch``) plus the per-epoch train and
val means, so both sit on one epoch axis. Refreshed at every epoch end.
"""
import os

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(metrics, steps, output_dir, steps_per_epoch, title=""):
    """Writes the two figures.

    Args:
        metrics: ``metrics.jsonl`` records (one per epoch).
        steps: ``train_steps.jsonl`` records.
        output_dir: where the PNGs go.
        steps_per_epoch: batches per epoch (for the step -> epoch axis).
        title: figure title prefix (e.g. the architecture name).
    """
    epochs = [m["epoch"] for m in metrics]
    val = [m for m in metrics if m.get("val_loss") is not None]

    fig, ax = plt.subplots(figsize=(6, 4))
    if steps:
        ax.plot([s["step"] / steps_per_epoch for s in steps], [s["loss"] for s in steps],
                color="tab:blue", alpha=0.35, lw=0.8, label="train (sampled batches)")
    ax.plot(epochs, [m["train_loss"] for m in metrics], "o-", color="tab:blue", label="train (epoch mean)")
    if val:
        ax.plot([m["epoch"] for m in val], [m["val_loss"] for m in val], "s-", color="tab:orange", label="val")
    ax.set(xlabel="epoch", ylabel="loss", title=f"{title} loss".strip())
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, "curves_loss.png"), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [m["train_top1"] for m in metrics], "o-", label="train top-1")
    if val:
        ax.plot([m["epoch"] for m in val], [m["val_top1"] for m in val], "s-", label="val top-1")
        ax.plot([m["epoch"] for m in val], [m["val_top5"] for m in val], "^--", label="val top-5")
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title=f"{title} accuracy".strip())
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, "curves_acc.png"), dpi=100)
    plt.close(fig)
