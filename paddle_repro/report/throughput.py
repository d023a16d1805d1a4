"""The throughput figure and header line: eval images/s per run, beside the notebook's (if any).

Throughput is measured the notebooks' way (whole eval loader, eval mode, data loading
included): by ``tools/reproduce.py`` and ``tools/compare.py`` after training, one run at a
time (``inference/throughput.py``), else by each run's trainer at its end. Our bars and the
notebook's come from different hardware, so the figure compares runs within one colour,
never across.
"""
import matplotlib
import numpy as np

from ..host import host_facts

matplotlib.use("Agg")  # files only; never needs a display (as curves.py)
import matplotlib.pyplot as plt  # noqa: E402

# Timed passes over each run's eval loader when a table measures its runs again
# (inference/throughput.py); each run's fastest counts. Here, as the header line states it.
PASSES = 3


def plot_throughput(table, path):
    """Bar chart of ``throughput_img_s`` (mean +- std over seeds) per run of a built table.

    Args:
        table: the dict of ``table.build_table``.
        path: PNG path to write.
    """
    rows = table["rows"]
    labels = [r["label"] for r in rows]
    ours = [r["mean"].get("throughput_img_s") for r in rows]  # None if not a table column
    std = [r["std"].get("throughput_img_s") for r in rows]  # None for a single seed
    theirs = [r["notebook"].get("throughput_img_s") for r in rows]
    x = np.arange(len(rows))
    has_nb = any(v is not None for v in theirs)
    width = 0.4 if has_nb else 0.6
    fig, ax = plt.subplots(figsize=(max(5, 1.8 * len(rows) + 2), 4))
    x_ours = x - (width / 2 if has_nb else 0)
    ax.bar(x_ours, [v or 0.0 for v in ours], width, label="ours (this machine)", color="tab:blue")
    spread = [i for i, s in enumerate(std) if s is not None and ours[i] is not None]
    if spread:  # seed-to-seed std only where there are seeds: no zero-height ticks on 1-seed bars
        ax.errorbar(x_ours[spread], [ours[i] for i in spread], yerr=[std[i] for i in spread],
                    fmt="none", ecolor="black", capsize=3, label="± std over seeds")
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



def method_line(measured):
    """The table header line saying how the eval img/s column was measured.

    Args:
        measured: True when the command writing the table measured every run after training
            (``inference.throughput.measure_throughputs``, in this process); False when the
            column holds each run's in-training figure (``summary.json``).
    """
    if not measured:
        return ("Eval img/s: each run's own figure, taken in its training process at the end of "
                "training (summary.json), under whatever else ran then (e.g. the other runs of "
                "`--jobs N`): not comparable between launchers.")
    return ("Eval img/s: measured by this command after every run had finished, in one process "
            f"(OMP_NUM_THREADS={host_facts()['omp_num_threads']}, each run on its `Global.device`), "
            "the same way for every run whichever launcher trained it: one warm-up batch, then "
            "timed passes over the run's whole eval loader in eval mode, data loading included, "
            "the runs taking turns; each run's fastest of "
            f"{PASSES} passes.")
