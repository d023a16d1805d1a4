"""The files of one table: ``table.md``, ``table.csv``, ``curves_compare.png``, ``throughput.png``.

Shared by ``tools/reproduce.py`` (a table spec's runs) and ``tools/compare.py`` (any run
folders): both hand in loaded runs and header lines; nothing here trains or predicts.
"""
import os

from paddle_repro.report.notebook_log import render_epoch_table
from paddle_repro.report.overlay import plot_overlay
from paddle_repro.report.table import build_table, render_markdown, render_per_class, write_csv
from paddle_repro.report.throughput import plot_throughput

FILES = (("md", "table.md"), ("csv", "table.csv"), ("curves", "curves_compare.png"),
         ("throughput", "throughput.png"))


def write_table_files(spec, results, out_dir, header_lines=()):
    """Builds the table of ``results`` and writes its four files in ``out_dir``.

    Args:
        spec: a table spec (``spec.load_spec``, or compare's equivalent): its ``runs`` give
            the row order, names and labels.
        results: dict run name -> list of loaded runs (``runs.load_run``), one per seed.
        out_dir: where to write (created).
        header_lines: Markdown lines under the title (``machine.measured_on`` ...).

    Returns:
        dict ``md``, ``csv``, ``curves``, ``throughput`` -> written path.
    """
    table = build_table(spec, results)
    os.makedirs(out_dir, exist_ok=True)
    paths = {key: os.path.join(out_dir, name) for key, name in FILES}
    with open(paths["md"], "w", encoding="utf-8") as f:
        f.write(render_markdown(spec, table, header_lines) + render_per_class(spec, results)
                + render_epoch_table(spec, results))
    write_csv(table, paths["csv"])
    runs = [r for r in spec["runs"] if results.get(r["name"])]
    plot_overlay([results[r["name"]] for r in runs], [r["label"] for r in runs], paths["curves"],
                 notebook_logs=[r.get("notebook_log_rows") for r in runs])
    plot_throughput(table, paths["throughput"])
    return paths
