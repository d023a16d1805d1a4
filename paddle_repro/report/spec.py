"""The table spec (``configs/<repro>/table.yaml``): which runs make one with-vs-without table.

A spec names the runs (label, config, role), the columns, the notebook's own numbers and
the ``--quick`` overrides. It is validated as strictly as a training config: an unknown or
misspelled key is a :class:`SpecError` naming the key, the file and the closest valid key.
The format is documented in ``docs/reproducing_tables.md``.
"""
import os
import re

import yaml

from ..errors import UserError
from ..run_layout import BEST_MODEL, FIGURE_CHECKPOINTS
from ..suggest import closest
from .notebook_log import load_notebook_log

# Every number a run can contribute to a table (see ``runs.run_metrics``).
COLUMNS = {
    "train_top1": "train top-1",        # last epoch, accumulated in train mode (notebooks' way)
    "best_val_top1": "best val top-1",
    # the notebook's own definition of val accuracy (Metric.notebook_val): like for like
    "best_val_top1_nb": "best val top-1 (notebook def.)",
    "final_val_top1": "final val top-1",
    "final_val_top1_nb": "final val top-1 (notebook def.)",
    "final_val_top5": "final val top-5",
    "params": "params",                 # BN running statistics included (paddle.summary total)
    "trainable_params": "trainable params",
    "flops": "FLOPs/image",             # see report/flops.py
    "throughput_img_s": "eval img/s",   # whole eval loader, eval mode, data loading included
    "wall_time_s": "wall time s",
}
ROLES = ("with", "without", "variant")
SPEC_KEYS = {"title", "paper", "columns", "runs", "quick", "notebook_hardware", "notebook_notes",
             "figures"}
# Which weights draw the gallery / per-class accuracy, and how many images: the notebooks
# 000/002 used best_model and 18 images; 004 its final network and 64 (8 x 8).
FIGURES = {"checkpoint": FIGURE_CHECKPOINTS, "gallery_n": int, "gallery_cols": int}
FIGURE_DEFAULTS = {"checkpoint": BEST_MODEL, "gallery_n": 18, "gallery_cols": 6}
RUN_KEYS = {"name", "label", "config", "role", "notebook", "notebook_log", "overrides"}
NOTEBOOK_KEYS = set(COLUMNS) | {"per_class_acc"}
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class SpecError(UserError, ValueError):
    """A table spec the user wrote is wrong; the message names the key, file and fix."""


def _unknown(key, valid, where, path):
    match = closest(key, sorted(valid))
    hint = f" Did you mean `{match}`?" if match else ""
    return SpecError(f"{path}: unknown key `{where}{key}`.{hint} "
                     f"Valid keys: {', '.join(sorted(valid))}.")


def _check_keys(mapping, valid, where, path):
    if not isinstance(mapping, dict):
        raise SpecError(f"{path}: `{where.rstrip('.') or 'the file'}` must be a mapping, "
                        f"got {type(mapping).__name__}.")
    for key in mapping:
        if key not in valid:
            raise _unknown(key, valid, where, path)


def _beside_spec(file, spec_path):
    """``file`` as written in the spec: absolute, or relative to the spec's folder."""
    return file if os.path.isabs(file) else os.path.normpath(
        os.path.join(os.path.dirname(os.path.abspath(spec_path)), file))


def _check_run(i, run, path):
    where = f"runs.{i}."
    _check_keys(run, RUN_KEYS, where, path)
    for key in ("label", "config", "role"):
        if not isinstance(run.get(key), str) or not run[key]:
            raise SpecError(f"{path}: `{where}{key}` is required (a non-empty string).")
    if run["role"] not in ROLES:
        raise SpecError(f"{path}: `{where}role` is `{run['role']}`; use one of {', '.join(ROLES)}.")
    name = run.setdefault("name", os.path.splitext(os.path.basename(run["config"]))[0])
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError(f"{path}: `{where}name` `{name}` must be letters, digits, `_`, `-`, `.` "
                        "(it names the run's folder).")
    overrides = run.setdefault("overrides", [])
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise SpecError(f"{path}: `{where}overrides` must be a list of `Section.key=value` strings.")
    notebook = run.setdefault("notebook", {}) or {}
    run["notebook"] = notebook
    _check_keys(notebook, NOTEBOOK_KEYS, where + "notebook.", path)
    for key, value in notebook.items():
        if key == "per_class_acc":
            if not isinstance(value, dict):
                raise SpecError(f"{path}: `{where}notebook.per_class_acc` must map class name "
                                "to accuracy (0..1).")
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            raise SpecError(f"{path}: `{where}notebook.{key}` must be a number, got {value!r}.")
    config = run["config"]
    run["config_path"] = _beside_spec(config, path)
    log = run.get("notebook_log")
    if log is not None:
        if not isinstance(log, str) or not log:
            raise SpecError(f"{path}: `{where}notebook_log` must be the path of a CSV "
                            "(relative to the table spec).")
        # The notebook's printed epochs: the overlay draws them, table.md lists them per epoch.
        run["notebook_log_rows"] = load_notebook_log(_beside_spec(log, path))
    if not os.path.isfile(run["config_path"]):
        raise SpecError(f"{path}: `{where}config` points to {run['config_path']}, which does not "
                        "exist (paths are relative to the table spec).")


def validate_spec(spec, path="<table spec>"):
    """Checks a parsed spec, fills defaults and resolves config paths.

    Args:
        spec: the parsed YAML mapping.
        path: the file it came from (named in errors; config paths are relative to it).

    Returns:
        The same dict, with ``runs[i].name``, ``overrides``, ``notebook`` and ``config_path``
        filled (and ``notebook_log_rows`` read from a run's ``notebook_log``), ``quick``
        and ``notebook_notes`` defaulted to ``[]``.

    Raises:
        SpecError: an unknown key (with a did-you-mean), a missing or wrong-typed value, an
            unknown column or role, duplicate run names, no ``with`` run, or a missing config.
    """
    _check_keys(spec, SPEC_KEYS, "", path)
    if not isinstance(spec.get("title"), str):
        raise SpecError(f"{path}: `title` is required (a string).")
    columns = spec.setdefault("columns", ["train_top1", "best_val_top1", "final_val_top1",
                                          "params", "flops", "throughput_img_s"])
    if not isinstance(columns, list) or not columns:
        raise SpecError(f"{path}: `columns` must be a non-empty list; valid: {', '.join(COLUMNS)}.")
    for col in columns:
        if col not in COLUMNS:
            raise _unknown(col, COLUMNS, "columns: ", path)
    for key in ("quick", "notebook_notes"):
        value = spec.setdefault(key, []) or []
        spec[key] = value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SpecError(f"{path}: `{key}` must be a list of strings.")
    figures = spec.setdefault("figures", {}) or {}
    _check_keys(figures, FIGURES, "figures.", path)
    for key, value in figures.items():
        kind = FIGURES[key]
        ok = value in kind if isinstance(kind, tuple) else (
            isinstance(value, int) and not isinstance(value, bool) and value > 0)
        if not ok:
            raise SpecError(f"{path}: `figures.{key}` is {value!r}; expected "
                            + (f"one of {', '.join(kind)}." if isinstance(kind, tuple) else "a positive integer."))
    spec["figures"] = dict(FIGURE_DEFAULTS, **figures)
    runs = spec.get("runs")
    if not isinstance(runs, list) or not runs:
        raise SpecError(f"{path}: `runs` is required: a list of {{label, config, role}}.")
    for i, run in enumerate(runs):
        _check_run(i, run, path)
    names = [r["name"] for r in runs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpecError(f"{path}: run names must be unique (they name folders); repeated: "
                        f"{', '.join(dupes)}. Give each run a distinct `name`.")
    if [r["role"] for r in runs].count("with") != 1:
        raise SpecError(f"{path}: exactly one run must have `role: with` (the deltas are "
                        "with - each `without` run).")
    return spec


def load_spec(path):
    """Reads and validates a table spec file; see :func:`validate_spec`."""
    if not os.path.isfile(path):
        raise SpecError(f"Table spec {path} does not exist. The specs live in "
                        "configs/<reproduction>/table.yaml.")
    try:
        with open(path, encoding="utf-8") as f:
            spec = yaml.safe_load(f)
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML: {err}") from None
    return validate_spec(spec if spec is not None else {}, path)
