"""The overlay figure of ``table.md``'s runs: loss and top-1 of every run per epoch, one PNG."""
import matplotlib

matplotlib.use("Agg")  # files only; never needs a display (as engine/curves.py)
import matplotlib.pyplot as plt  # noqa: E402

from paddle_repro.engine.curves import loss_needs_log_axis, style_epoch_axis  # noqa: E402


def plot_overlay(runs, labels, path):
    """One PNG, two panels: loss (train solid, val dashed) and top-1 of every run per epoch.

    Args:
        runs: loaded runs (``runs.load_run``).
        labels: one legend label per run.
        path: PNG path to write.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (run, label) in enumerate(zip(runs, labels)):
        color = colors[i % len(colors)]
        m = run["metrics"]
        for key, ax, style, what in (("train_loss", ax_loss, "-", "train"),
                                     ("val_loss", ax_loss, "--", "val"),
                                     ("train_top1", ax_acc, "-", "train"),
                                     ("val_top1", ax_acc, "--", "val")):
            pts = [(r["epoch"], r[key]) for r in m if r.get(key) is not None]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, style, color=color, marker="." if len(xs) < 30 else None,
                        label=f"{label} {what}")
    losses = [r[k] for run in runs for r in run["metrics"] for k in ("train_loss", "val_loss")
              if r.get(k) is not None]
    if loss_needs_log_axis(losses):  # a val spike to 1e5 would flatten every train curve
        ax_loss.set_yscale("log")
    for ax, title in ((ax_loss, "loss"), (ax_acc, "top-1 accuracy")):
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        style_epoch_axis(ax)
        # handles long enough to show their dashes (at the default length, with the marker in
        # the middle, dashed and solid handles looked alike)
        ax.legend(fontsize=7, title="solid: train, dashed: val", title_fontsize=7, handlelength=4.5)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
