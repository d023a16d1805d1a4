"""The throughput figure: measured eval images/s per run, beside the notebook's (if any).

Throughput is measured the notebooks' way by the trainer (whole eval loader, eval mode,
data loading included). Our bars and the notebook's come from different hardware, so the
figure compares runs within one colour, never across.
"""
import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only; never needs a display (as engine/curves.py)
import matplotlib.pyplot as plt  # noqa: E402


def plot_throughput(table, path):
    """Bar chart of ``throughput_img_s`` (mean +- std over seeds) per run of a built table.

    Args:
        table: the dict of ``table.build_table``.
        path: PNG path to write.
    """
    rows = table["rows"]
    labels = [r["label"] for r in rows]
    ours = [r["mean"].get("throughput_img_s") for r in rows]  # None if not a table column
    err = [r["std"].get("throughput_img_s") or 0.0 for r in rows]
    theirs = [r["notebook"].get("throughput_img_s") for r in rows]
    x = np.arange(len(rows))
    has_nb = any(v is not None for v in theirs)
    width = 0.4 if has_nb else 0.6
    fig, ax = plt.subplots(figsize=(max(5, 1.8 * len(rows) + 2), 4))
    ax.bar(x - (width / 2 if has_nb else 0), [v or 0.0 for v in ours], width, yerr=err,
           label="ours (this machine)", color="tab:blue", capsize=3)
    if has_nb:
        ax.bar(x + width / 2, [v or 0.0 for v in theirs], width, label="notebook (its GPU)",
               color="tab:gray")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=15, ha="right", fontsize=8)
    ax.set_ylabel("eval images / s")
    ax.set_title("Throughput (eval loader, data loading included)")
    # Outside the axes, right of the plot: inside, it covered the tallest bars.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)

