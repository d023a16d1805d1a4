"""Read one run folder (the files the trainer writes; contract in docs/architecture.md).

Report code never trains: it reads ``summary.json``, ``metrics.jsonl``, ``eval.json`` and
``config.yaml`` and turns them into the numbers a table shows. A missing or corrupt file is a
:class:`RunError` naming the file and what to do.
"""
import json
import os

import yaml

from ..errors import UserError
from ..records import read_jsonl
from ..run_layout import (BEST_VAL_TOP1, BEST_VAL_TOP1_NB, CONFIG_FILE, EVAL_FILE, FINAL, FLOPS,
                          METRICS_FILE, PARAMS, REPORT_EXTRA_FILE, SUMMARY_FILE, THROUGHPUT_IMG_S,
                          TRAIN_TOP1, TRAINABLE_PARAMS, VAL_TOP1, VAL_TOP1_NB, VAL_TOP5, WALL_TIME_S)


class RunError(UserError, RuntimeError):
    """A run folder is missing a file or holds an unreadable one."""


def read_json(path):
    """Parses a JSON file, with a clear error when it is absent or corrupt."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise RunError(f"{path} does not exist: is this a finished run folder? "
                       "Train it with tools/train.py (or tools/reproduce.py).") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunError(f"{path} is not valid JSON ({err}); the run was probably interrupted "
                       "while writing it. Re-run the training to rewrite it.") from None


def read_config(run_dir):
    """The resolved config the trainer wrote first (``config.yaml``), or None."""
    path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        try:
            return yaml.safe_load(f)
        except yaml.YAMLError as err:
            raise RunError(f"{path} is not valid YAML ({err}).") from None


def load_run(run_dir):
    """Everything a report needs from one run folder.

    Args:
        run_dir: a folder written by ``paddle_repro.engine.trainer.train``.

    Returns:
        dict with ``dir``, ``summary`` (summary.json), ``metrics`` (list of per-epoch dicts),
        ``eval`` (eval.json or None), ``config`` (config.yaml or None), ``extra``
        (report_extra.json written by the report code -- FLOPs -- or {}).

    Raises:
        RunError: no summary.json, or a corrupt file.
    """
    if not os.path.isdir(run_dir):
        raise RunError(f"Run folder {run_dir} does not exist.")
    summary = read_json(os.path.join(run_dir, SUMMARY_FILE))
    eval_path = os.path.join(run_dir, EVAL_FILE)
    extra_path = os.path.join(run_dir, REPORT_EXTRA_FILE)
    return {
        "dir": run_dir,
        "summary": summary,
        "metrics": read_jsonl(os.path.join(run_dir, METRICS_FILE)),
        "eval": read_json(eval_path) if os.path.isfile(eval_path) else None,
        "config": read_config(run_dir),
        "extra": read_json(extra_path) if os.path.isfile(extra_path) else {},
    }


def run_metrics(run):
    """The table numbers of one loaded run (see ``spec.COLUMNS``); absent ones are None.

    ``train_top1`` is the last epoch's train accuracy, as the notebooks' tables report it.
    ``throughput_img_s`` is the one measured after training by the command writing the table
    (``run["measured"]``, ``inference.throughput``) when there is one, else the run's own
    in-training figure.
    """
    summary, final = run["summary"], run["summary"].get(FINAL) or {}
    measured = run.get("measured") or {}
    # table column (spec.COLUMNS) -> the run's record it shows
    return {
        "train_top1": final.get(TRAIN_TOP1),
        "best_val_top1": summary.get(BEST_VAL_TOP1),
        "best_val_top1_nb": summary.get(BEST_VAL_TOP1_NB),
        "final_val_top1": final.get(VAL_TOP1),
        "final_val_top1_nb": final.get(VAL_TOP1_NB),
        "final_val_top5": final.get(VAL_TOP5),
        "params": summary.get(PARAMS),
        "trainable_params": summary.get(TRAINABLE_PARAMS),
        "flops": run["extra"].get(FLOPS),
        "throughput_img_s": measured.get("throughput_img_s", summary.get(THROUGHPUT_IMG_S)),
        "wall_time_s": summary.get(WALL_TIME_S),
    }
