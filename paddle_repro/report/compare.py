"""Compare existing runs: the same table as ``reproduce`` plus one PNG of overlaid curves.

``tools/compare.py <run dir> ...`` never trains. The first run is the ``with`` run and the
others ``without`` runs (or pass a table spec's labels); run folders written by
``tools/reproduce.py`` with several seeds can be grouped with ``--group`` (one row per
parent folder, i.e. per configuration, mean +- std over its seed folders).
"""
import os

from paddle_repro.engine.curves import loss_needs_log_axis, style_epoch_axis
from paddle_repro.report.runs import load_run
from paddle_repro.report.spec import COLUMNS


def plot_overlay(runs, labels, path):
    """One PNG, two panels: loss (train solid, val dashed) and top-1 of every run per epoch.

    Args:
        runs: loaded runs (``runs.load_run``).
        labels: one legend label per run.
        path: PNG path to write.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
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
        ax.legend(fontsize=7, title="solid: train, dashed: val", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _group_dirs(run_dirs, group):
    if not group:
        return [(os.path.basename(os.path.normpath(d)), [d]) for d in run_dirs]
    groups = {}
    for d in run_dirs:
        groups.setdefault(os.path.dirname(os.path.normpath(d)), []).append(d)
    return [(os.path.basename(k), v) for k, v in groups.items()]


def compare_runs(run_dirs, out_dir, labels=None, group=False, columns=None, title=None,
                 header_lines=()):
    """Writes ``table.md``, ``table.csv``, ``curves_compare.png`` and ``throughput.png``.

    Args:
        run_dirs: run folders; the first (group) is the ``with`` run.
        out_dir: where to write.
        labels: optional labels, one per run (group); default: folder names.
        group: group seed folders by their parent folder (reproduce's layout).
        columns: table columns (default: every column any run has a value for).
        title: table title.
        header_lines: lines shown under the title (hardware, versions).

    Returns:
        dict of written paths.
    """
    from paddle_repro.report.table import build_table, render_markdown, write_csv
    from paddle_repro.report.throughput import plot_throughput
    groups = _group_dirs(run_dirs, group)
    labels = list(labels) if labels else [name for name, _ in groups]
    if len(labels) != len(groups):
        raise ValueError(f"{len(labels)} labels for {len(groups)} runs; give one label per run.")
    results, spec_runs = {}, []
    for i, ((name, dirs), label) in enumerate(zip(groups, labels)):
        key = f"{i}_{name}"
        results[key] = [load_run(d) for d in dirs]
        spec_runs.append({"name": key, "label": label, "role": "with" if i == 0 else "without",
                          "notebook": {}})
    if columns is None:
        from paddle_repro.report.runs import run_metrics
        present = {c for rs in results.values() for r in rs
                   for c, v in run_metrics(r).items() if v is not None}
        columns = [c for c in COLUMNS if c in present and c != "wall_time_s"]
    spec = {"title": title or "Comparison of runs", "columns": columns, "runs": spec_runs,
            "notebook_notes": []}
    table = build_table(spec, results)
    os.makedirs(out_dir, exist_ok=True)
    paths = {"md": os.path.join(out_dir, "table.md"), "csv": os.path.join(out_dir, "table.csv"),
             "curves": os.path.join(out_dir, "curves_compare.png"),
             "throughput": os.path.join(out_dir, "throughput.png")}
    with open(paths["md"], "w", encoding="utf-8") as f:
        f.write(render_markdown(spec, table, header_lines))
    write_csv(table, paths["csv"])
    first = [rs[0] for rs in results.values()]
    plot_overlay(first, labels, paths["curves"])
    plot_throughput(table, paths["throughput"])
    return paths
