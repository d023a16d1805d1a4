"""Read one run folder (the files the trainer writes; contract in docs/architecture.md).

Report code never trains: it reads ``summary.json``, ``metrics.jsonl``, ``eval.json`` and
``config.yaml`` and turns them into the numbers a table shows. A missing or corrupt file is a
:class:`RunError` naming the file and what to do.
"""
import json
import os

import yaml

from ..engine.records import read_jsonl
from ..errors import UserError


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
    path = os.path.join(run_dir, "config.yaml")
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
    summary = read_json(os.path.join(run_dir, "summary.json"))
    eval_path = os.path.join(run_dir, "eval.json")
    extra_path = os.path.join(run_dir, "report_extra.json")
    return {
        "dir": run_dir,
        "summary": summary,
        "metrics": read_jsonl(os.path.join(run_dir, "metrics.jsonl")),
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
    summary, final = run["summary"], run["summary"].get("final") or {}
    measured = run.get("measured") or {}
    return {
        "train_top1": final.get("train_top1"),
        "best_val_top1": summary.get("best_val_top1"),
        "best_val_top1_nb": summary.get("best_val_top1_nb"),
        "final_val_top1": final.get("val_top1"),
        "final_val_top1_nb": final.get("val_top1_nb"),
        "final_val_top5": final.get("val_top5"),
        "params": summary.get("params"),
        "trainable_params": summary.get("trainable_params"),
        "flops": run["extra"].get("flops"),
        "throughput_img_s": measured.get("throughput_img_s", summary.get("throughput_img_s")),
        "wall_time_s": summary.get("wall_time_s"),
    }
