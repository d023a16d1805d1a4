"""Reproducing a table: plan its (run, seed) jobs, train the missing ones, then report.

``tools/reproduce.py`` calls :func:`reproduce`. The pieces, one idea each:
:mod:`.recipe` (when two configs give the same run), :mod:`.plan` (run folders and their
state), :mod:`.train_runs` (in-process or launcher training), :mod:`.command` (the whole
command). Figures of trained runs come from :mod:`paddle_repro.inference`, the table files
from :mod:`paddle_repro.report`, which only reads run folders.
"""
from paddle_repro.reproduce.command import reproduce
from paddle_repro.reproduce.plan import ReproduceError, plan_runs, run_state
from paddle_repro.reproduce.recipe import config_diff, recipe_hash

__all__ = ["ReproduceError", "config_diff", "plan_runs", "recipe_hash", "reproduce", "run_state"]
