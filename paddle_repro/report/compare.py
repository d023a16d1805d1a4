"""Compare existing runs: the same table as ``reproduce`` plus one PNG of overlaid curves.

``tools/compare.py <run dir> ...`` never trains. The first run is the ``with`` run and the
others ``without`` runs (or pass a table spec's labels); run folders written by
``tools/reproduce.py`` with several seeds can be grouped with ``--group`` (one row per
parent folder, i.e. per configuration, mean +- std over its seed folders).
"""
import os

from paddle_repro.errors import UserError
from paddle_repro.report.notebook_log import load_notebook_log
from paddle_repro.report.runs import RunError, load_run, run_metrics
from paddle_repro.report.spec import COLUMNS
from paddle_repro.report.table_files import write_table_files
from paddle_repro.report.throughput import method_line
from paddle_repro.run_layout import CONFIG_FILE, SUMMARY_FILE
from paddle_repro.writable import cannot_write_reason, probe_folder

# A folder holding either is a run folder (a run still training has no summary.json yet).
_RUN_MARKERS = (CONFIG_FILE, SUMMARY_FILE)


class CompareError(UserError, ValueError):
    """A compare request that cannot be honoured (labels, output folder); says what to pass."""


def _seed_folders(folder):
    """Sub-folders of ``folder`` that are run folders (reproduce's ``seed<N>``), sorted."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [n for n in names if any(os.path.isfile(os.path.join(folder, n, f)) for f in _RUN_MARKERS)]


def check_run_dirs(run_dirs, group=False):
    """Refuses, with what to pass instead, a folder that holds seed folders instead of a run.

    ``--group`` (like every compare) takes run folders -- for tools/reproduce.py's layout the
    seed folders ``<output>/<run>/seed<N>`` -- and groups them by parent; the parent itself
    (``<output>/<run>``) holds no ``config.yaml`` or ``summary.json`` of its own.

    Raises:
        RunError: naming the folder, its seed folders and the command that works.
    """
    for d in run_dirs:
        if any(os.path.isfile(os.path.join(d, f)) for f in _RUN_MARKERS):
            continue
        seeds = _seed_folders(d)
        if not seeds:
            continue  # load_run / write_run_outputs say what is missing
        example = " ".join(os.path.join(d, n) for n in seeds[:3])
        raise RunError(
            f"{d} is not a run folder: it holds the seed folders {', '.join(seeds)}. "
            + ("--group takes the seed folders themselves and groups them by parent folder, "
               if group else "Pass the seed folders (add --group to average them per parent), ")
            + f"e.g. tools/compare.py {'--group ' if group else ''}{example} "
            f"(a shell glob: {os.path.join(d, 'seed*')}).")


def check_request(run_dirs, out_dir, labels=None, group=False):
    """Everything ``tools/compare.py`` can refuse, checked before it writes anything.

    Raises:
        RunError: see ``check_run_dirs``.
        CompareError: not one label per run (group), or an ``--out`` that is a file or
            cannot be written.
    """
    check_run_dirs(run_dirs, group)
    groups = _group_dirs(run_dirs, group)
    if labels and len(labels) != len(groups):
        raise CompareError(f"{len(labels)} labels for {len(groups)} {'groups' if group else 'runs'} "
                           f"({', '.join(name for name, _ in groups)}); give one label per "
                           f"{'group' if group else 'run'}, comma-separated.")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise CompareError(f"--out {out_dir} is a file, not a folder; give a folder.")
    try:
        probe_folder(out_dir)
    except OSError as err:
        raise CompareError(f"Cannot write --out {out_dir} ({err.strerror}): "
                           f"{cannot_write_reason(err) or err.strerror}. Nothing was written; "
                           "give a writable --out folder.") from None


def _group_dirs(run_dirs, group):
    if not group:
        return [(os.path.basename(os.path.normpath(d)), [d]) for d in run_dirs]
    groups = {}
    for d in run_dirs:
        groups.setdefault(os.path.dirname(os.path.normpath(d)), []).append(d)
    return [(os.path.basename(k), v) for k, v in groups.items()]


def compare_runs(run_dirs, out_dir, labels=None, group=False, columns=None, title=None,
                 header_lines=(), notebook_log=None, throughputs=None):
    """Writes ``table.md``, ``table.csv``, ``curves_compare.png`` and ``throughput.png``.

    Args:
        run_dirs: run folders; the first (group) is the ``with`` run.
        out_dir: where to write.
        labels: optional labels, one per run (group); default: folder names.
        group: group seed folders by their parent folder (reproduce's layout).
        columns: table columns (default: every column any run has a value for).
        title: table title.
        header_lines: lines shown under the title (hardware, versions).
        notebook_log: optional CSV of a notebook's printed epochs (``notebook_log.py``),
            drawn beside the first run (group) and listed per epoch in table.md.
        throughputs: dict run folder -> eval img/s measured after training by the caller
            (``inference.throughput.measure_throughputs``); None: each run's in-training
            figure. Either way the header says which.

    Returns:
        dict of written paths.
    """
    check_request(run_dirs, out_dir, labels, group)
    groups = _group_dirs(run_dirs, group)
    labels = list(labels) if labels else [name for name, _ in groups]
    results, spec_runs = {}, []
    for i, ((name, dirs), label) in enumerate(zip(groups, labels)):
        key = f"{i}_{name}"
        results[key] = [load_run(d) for d in dirs]
        for run in results[key]:
            if throughputs is not None:
                run["measured"] = {"throughput_img_s": throughputs[run["dir"]]}
        spec_runs.append({"name": key, "label": label, "role": "with" if i == 0 else "without",
                          "notebook": {}})
    if columns is None:
        present = {c for rs in results.values() for r in rs
                   for c, v in run_metrics(r).items() if v is not None}
        columns = [c for c in COLUMNS if c in present and c != "wall_time_s"]
    if notebook_log:
        spec_runs[0]["notebook_log_rows"] = load_notebook_log(notebook_log)
    spec = {"title": title or "Comparison of runs", "columns": columns, "runs": spec_runs,
            "notebook_notes": []}
    header_lines = list(header_lines)
    if "throughput_img_s" in columns:
        header_lines.append(method_line(throughputs is not None))
    return write_table_files(spec, results, out_dir, header_lines)
