"""Reading a run's record files back: ``metrics.jsonl`` and ``train_steps.jsonl``.

``engine/logger.py`` writes them; the trainer (curves, summary) and ``report/`` read them
with ``read_jsonl``. It lives outside ``engine`` (and apart from the logger) so that report
code reads records without importing the training package or VisualDL.
"""
import json
import os

from .errors import UserError


class RecordsError(UserError, ValueError):
    """A run's record file (metrics.jsonl, train_steps.jsonl) has a broken line in its middle."""


def read_jsonl(path):
    """The records of a JSON-lines file, [] when it does not exist.

    A truncated last line (a run killed while writing it) is skipped; a broken line before
    the last raises ``RecordsError`` naming the file and the line.
    """
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    rows = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise RecordsError(f"{path}, line {i + 1}: not valid JSON. Delete the run folder and "
                               "train again.") from None
    return rows
