"""The overlay figure of ``table.md``'s runs: loss and top-1 of every run per epoch, one PNG.

Each run is drawn as its mean over seeds, with the seeds' min-max as a shaded band when
there are several; a run whose spec names a notebook log (``notebook_log:``) also gets the
notebook's printed curve, in black with ``x`` markers, labelled "notebook".
"""
import matplotlib

matplotlib.use("Agg")  # files only; never needs a display (as curves.py)
import matplotlib.pyplot as plt  # noqa: E402

from paddle_repro.report.curves import loss_needs_log_axis, style_epoch_axis  # noqa: E402
from paddle_repro.report.notebook_log import epoch_series  # noqa: E402
from paddle_repro.run_layout import EPOCH, TRAIN_LOSS, TRAIN_TOP1, VAL_LOSS, VAL_TOP1  # noqa: E402

PANEL_LEGEND_MAX = 8  # legend entries drawn inside each panel; more go below both panels
LEGEND_COLUMNS = 3
# (metrics key, panel, line style, legend word): train solid, val dashed, on both panels.
_CURVES = ((TRAIN_LOSS, "loss", "-", "train"), (VAL_LOSS, "loss", "--", "val"),
           (TRAIN_TOP1, "acc", "-", "train"), (VAL_TOP1, "acc", "--", "val"))


def _draw_seeds(ax, runs, key, style, color, label, notebook_def):
    """Mean over seeds per epoch, and the min-max band when there are 2+ seeds."""
    series = epoch_series(runs, key, notebook_def)
    if not series:
        return []
    xs = sorted(series)
    means = [sum(series[x]) / len(series[x]) for x in xs]
    ax.plot(xs, means, style, color=color, marker="." if len(xs) < 30 else None, label=label)
    if max(len(v) for v in series.values()) > 1:
        ax.fill_between(xs, [min(series[x]) for x in xs], [max(series[x]) for x in xs],
                        color=color, alpha=0.15, linewidth=0)
    return [v for vs in series.values() for v in vs]


def _draw_notebook(ax, log, key, style, label):
    pts = [(r[EPOCH], r[key]) for r in log if r.get(key) is not None]
    if not pts:
        return []
    xs, ys = zip(*pts)
    ax.plot(xs, ys, style, color="black", marker="x", markersize=4, linewidth=1.0, label=label)
    return list(ys)


def plot_overlay(groups, labels, path, notebook_logs=None):
    """One PNG, two panels: loss and top-1 of every run per epoch (train solid, val dashed).

    Args:
        groups: one list of loaded runs (``runs.load_run``) per table row, one run per seed.
        labels: one legend label per group.
        path: PNG path to write.
        notebook_logs: optional, one per group: the notebook's logged epochs
            (``notebook_log.load_notebook_log``) or None.
    """
    notebook_logs = notebook_logs or [None] * len(groups)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.5))
    axes = {"loss": ax_loss, "acc": ax_acc}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    losses = []
    one_log = sum(log is not None for log in notebook_logs) == 1  # then "notebook" says it all
    for i, (runs, label, log) in enumerate(zip(groups, labels, notebook_logs)):
        color = colors[i % len(colors)]
        seeds = f" ({len(runs)} seeds, band: min-max)" if len(runs) > 1 else ""
        for key, panel, style, what in _CURVES:
            # beside a notebook's curve, ours computed the notebook's way (like for like)
            drawn = _draw_seeds(axes[panel], runs, key, style, color, f"{label} {what}{seeds}",
                                notebook_def=log is not None)
            if log:
                name = "notebook's log" if one_log else f"notebook: {label}"
                theirs = _draw_notebook(axes[panel], log, key, style, f"{name} {what}")
                drawn += theirs
            if panel == "loss":
                losses += drawn
    if loss_needs_log_axis(losses):  # a val spike to 1e5 would flatten every train curve
        ax_loss.set_yscale("log")
    for ax, title in ((ax_loss, "loss"), (ax_acc, "top-1 accuracy")):
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        style_epoch_axis(ax)
    # handles long enough to show their dashes (at the default length, with the marker in the
    # middle, dashed and solid handles looked alike)
    legend = dict(fontsize=7, title="solid: train, dashed: val", title_fontsize=7, handlelength=4.5)
    handles, names = ax_acc.get_legend_handles_labels()
    if len(handles) <= PANEL_LEGEND_MAX:
        for ax in (ax_loss, ax_acc):
            ax.legend(**legend)
        fig.tight_layout()
    else:  # in a panel, a long legend hides the curves: one legend for both, below them
        rows = -(-len(handles) // LEGEND_COLUMNS)
        fig.set_size_inches(12, 4.5 + 0.17 * rows + 0.3)
        below = (0.17 * rows + 0.3) / (4.5 + 0.17 * rows + 0.3)
        fig.legend(handles, names, loc="lower center", ncol=LEGEND_COLUMNS, **legend)
        fig.tight_layout(rect=(0, below, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
