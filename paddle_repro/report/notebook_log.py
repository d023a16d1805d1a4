"""A notebook's printed per-epoch log as data, and our epochs beside it.

Only notebook 004 printed every epoch (train loss/acc, test loss/acc, lr); its lines live in
``configs/shufflenetv2/notebook_log.csv`` and a table spec's run names the file with
``notebook_log:``. The overlay figure draws it (``overlay.plot_overlay``) and ``table.md`` gets
one row per epoch: our mean ± std over seeds, the notebook's value and the difference.

Like for like: our ``val_top1_nb`` is the val accuracy computed the notebook's way
(``Metric.notebook_val``); it is used where a run has it, else ``val_top1``.
"""
import csv

from paddle_repro.errors import UserError
from paddle_repro.report import stats
from paddle_repro.run_layout import EPOCH, LR, TRAIN_LOSS, TRAIN_TOP1, VAL_LOSS, VAL_TOP1, VAL_TOP1_NB

# The CSV's columns are named as our metrics.jsonl keys, each compared with the same key of
# ours, except those in _OURS: column -> our keys, the first present one used.
LOG_COLUMNS = (EPOCH, TRAIN_LOSS, TRAIN_TOP1, VAL_LOSS, VAL_TOP1, LR)
_OURS = {VAL_TOP1: (VAL_TOP1_NB, VAL_TOP1)}
# Printed precision of each compared column in the per-epoch table.
_DECIMALS = {TRAIN_LOSS: 4, TRAIN_TOP1: 4, VAL_LOSS: 4, VAL_TOP1: 4, LR: 6}


class NotebookLogError(UserError, ValueError):
    """A notebook log file that is missing or not in the documented CSV form."""


def load_notebook_log(path):
    """Reads a notebook log CSV (``#`` lines are comments).

    Args:
        path: CSV with the header ``epoch,train_loss,train_top1,val_loss,val_top1,lr``;
            accuracies as fractions (0..1), one row per epoch in order from 1.

    Returns:
        list of dicts, one per epoch, with those keys (epoch int, the rest float).

    Raises:
        NotebookLogError: the file is missing, a column is missing, a value is not a number,
            or the epochs are not 1, 2, 3, ...
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f if line.strip() and not line.lstrip().startswith("#")]
    except OSError as err:
        raise NotebookLogError(f"Notebook log {path} cannot be read: {err.strerror}.") from None
    reader = csv.DictReader(lines)
    missing = [c for c in LOG_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise NotebookLogError(f"Notebook log {path} lacks the column(s) {', '.join(missing)}; "
                               f"the header must be {','.join(LOG_COLUMNS)}.")
    rows = []
    for n, raw in enumerate(reader, start=1):
        try:
            row = {c: float(raw[c]) for c in LOG_COLUMNS}
        except (TypeError, ValueError):
            raise NotebookLogError(f"Notebook log {path}: row {n} has a value that is not a "
                                   f"number: {dict(raw)}.") from None
        row[EPOCH] = int(row[EPOCH])
        if row[EPOCH] != n:
            raise NotebookLogError(f"Notebook log {path}: row {n} is epoch {row[EPOCH]}; "
                                   "epochs must run 1, 2, 3, ... in order.")
        rows.append(row)
    return rows


def our_value(record, column, notebook_def=True):
    """Our metrics.jsonl value for a notebook log column (the notebook-definition one first,
    unless ``notebook_def`` is False)."""
    for key in _OURS.get(column, (column,)) if notebook_def else (column,):
        if record.get(key) is not None:
            return record[key]
    return None


def epoch_series(runs, column, notebook_def=True):
    """Per epoch, our values of ``column`` over seeds: dict epoch -> list (one per seed)."""
    series = {}
    for run in runs:
        for record in run["metrics"]:
            value = our_value(record, column, notebook_def)
            if value is not None and record.get(EPOCH) is not None:
                series.setdefault(int(record[EPOCH]), []).append(float(value))
    return series


def _fmt(column, value, signed=False):
    if value is None:
        return "–"
    if abs(value) >= 1e4:  # the notebook's test-loss spikes (183,250) read better this way
        return f"{value:{'+' if signed else ''}.3g}"
    return f"{value:{'+' if signed else ''}.{_DECIMALS[column]}f}"


def render_epoch_table(spec, results):
    """Markdown: per epoch, ours (mean ± std over seeds) beside each run's notebook log.

    Args:
        spec: a validated table spec; runs with ``notebook_log_rows`` get a table.
        results: dict run name -> list of loaded runs (``runs.load_run``), one per seed.

    Returns:
        Markdown ('' when no run has a notebook log).
    """
    out = []
    for run in spec["runs"]:
        log = run.get("notebook_log_rows")
        loaded = results.get(run["name"], [])
        if not log or not loaded:
            continue
        cols = LOG_COLUMNS[1:]
        series = {c: epoch_series(loaded, c) for c in cols}
        out += ["", f"## Per epoch beside the notebook's log: {run['label']}", "",
                f"Ours: mean ± sample std over {len(loaded)} seed(s); notebook: its printed line; "
                "Δ = ours (mean) − notebook. Val top-1 is computed the notebook's way where the "
                "run records it (`val_top1_nb`).", "",
                "| epoch | " + " | ".join(f"{c} ours | {c} notebook | Δ" for c in cols) + " |",
                "|---|" + "---|---|---|" * len(cols)]
        epochs = sorted(set(r[EPOCH] for r in log) | {e for c in cols for e in series[c]})
        by_epoch = {r[EPOCH]: r for r in log}
        for epoch in epochs:
            cells = []
            for c in cols:
                mean, std, _ = stats.mean_std(series[c].get(epoch, []))
                theirs = by_epoch.get(epoch, {}).get(c)
                ours = _fmt(c, mean) + ("" if std is None else f" ± {_fmt(c, std)}")
                delta = None if mean is None or theirs is None else mean - theirs
                cells += [ours, _fmt(c, theirs), _fmt(c, delta, signed=True)]
            out.append(f"| {epoch} | " + " | ".join(cells) + " |")
    return "\n".join(out) + ("\n" if out else "")
