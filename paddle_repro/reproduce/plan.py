"""The runs of a table spec: one (run, seed) job per folder, and what each folder needs.

``plan_runs`` resolves every (run, seed) of a spec into a config and a run folder
``<output>/<run name>/seed<seed>`` (``--quick`` overrides, the run's own overrides, the
user's ``-o``, then the seed and the folder). ``run_state`` says whether that folder is
finished (skip: its summary says so and its ``final_model`` is there), unfinished or
missing its ``final_model`` with a ``latest`` checkpoint (resume; the trainer writes a
missing ``final_model`` again from it), or to be trained from scratch; a folder holding a trained run of a *different* config is a :class:`ReproduceError`
listing the differing keys (never silently mixed into a table) and offering ``--restart``.
"""
import os

from paddle_repro.config import load_config
from paddle_repro.engine.run_folder import has_final_model
from paddle_repro.report.runs import read_config, read_json
from paddle_repro.errors import UserError
from paddle_repro.reproduce.recipe import config_diff, recipe_hash
from paddle_repro.run_layout import (BEST_MODEL, FINAL_MODEL, FINISHED, LATEST, SUMMARY_FILE,
                                     WEIGHTS_SUFFIX)
from paddle_repro.writable import cannot_write_reason, probe_folder


class ReproduceError(UserError, RuntimeError):
    """A run folder cannot be reused as asked; the message names the folder and the fix."""


def _trained_a_step(run_dir):
    return any(os.path.isfile(os.path.join(run_dir, name)) for name in
               (LATEST + WEIGHTS_SUFFIX, FINAL_MODEL + WEIGHTS_SUFFIX, BEST_MODEL + WEIGHTS_SUFFIX,
                SUMMARY_FILE))


def run_state(run_dir, cfg, restart=False):
    """``"finished"``, ``"resume"``, ``"restart"`` or ``"fresh"`` for a planned run folder.

    Args:
        restart: a folder of a different config is retrained from scratch instead of refused.

    Raises:
        ReproduceError: the folder holds a (trained) run of a different config.
    """
    old = read_config(run_dir) if os.path.isdir(run_dir) else None
    if old is None or not _trained_a_step(run_dir):
        return "fresh"  # nothing trained there yet: nothing to lose
    if recipe_hash(old) != recipe_hash(cfg):
        if restart:
            return "restart"
        diff = config_diff(old, cfg)
        raise ReproduceError(
            f"{run_dir} holds a run of a different config (differs in: {', '.join(diff[:10])}). "
            "Pass --restart to retrain it from scratch with this config (its checkpoints are "
            "replaced), or another --output to keep it.")
    summary_path = os.path.join(run_dir, SUMMARY_FILE)
    said_finished = os.path.isfile(summary_path) and read_json(summary_path).get(FINISHED)
    if said_finished and has_final_model(run_dir):
        return "finished"
    if os.path.isfile(os.path.join(run_dir, LATEST + WEIGHTS_SUFFIX)):
        return "resume"
    if said_finished:
        if restart:
            return "restart"
        raise ReproduceError(
            f"{run_dir} says it finished (summary.json) but has neither its final_model checkpoint "
            "nor a latest one to write it again from. Pass --restart to retrain it, or another "
            "--output.")
    return "fresh"


def plan_runs(spec, output, seeds=None, quick=False, overrides=()):
    """Resolves every (run, seed) of a spec into a config and a run folder.

    Returns:
        list of dict(name, label, seed, run_dir, cfg).
    """
    jobs = []
    for run in spec["runs"]:
        base = (list(spec["quick"]) if quick else []) + list(run["overrides"]) + list(overrides)
        run_seeds = seeds or [load_config(run["config_path"], base)["Global"]["seed"]]
        for seed in run_seeds:
            run_dir = os.path.join(output, run["name"], f"seed{seed}")
            cfg = load_config(run["config_path"],
                              base + [f"Global.seed={seed}", f"Global.output_dir={run_dir}"])
            jobs.append({"name": run["name"], "label": run["label"], "seed": seed,
                         "run_dir": run_dir, "cfg": cfg})
    return jobs


def check_writable(output):
    """Creates ``output`` or raises a :class:`ReproduceError` saying which --output to pass."""
    if os.path.exists(output) and not os.path.isdir(output):
        raise ReproduceError(f"--output {output} is a file, not a folder; pass another --output.")
    try:
        os.makedirs(output, exist_ok=True)
        probe_folder(output)  # by trying: root ignores permission bits, not chattr +i
    except OSError as err:
        reason = cannot_write_reason(err) or err.strerror
        raise ReproduceError(f"cannot write the output folder {output} ({err.strerror}): {reason}; "
                             "pass a writable --output (on a cluster: a path every node sees).") from None
