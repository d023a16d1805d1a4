"""Files derived from a run's weights, and clearing them when the run starts anew.

A fresh (non-resume) run in a reused folder writes new checkpoints; files computed from the
old ones (``eval.json``, the report figures, the old ``summary.json``) would then sit beside
them and describe a different model. The trainer clears them at the start of a fresh run.
Checkpoints, ``config.yaml`` and the logs are not touched here: the new run overwrites them
(``RunLogger`` restarts the logs).
"""
import glob
import os

from ..run_layout import RUN_DERIVED_FILES


def clear_run_derived_files(out):
    """Removes the run-derived files of ``out``; returns the paths removed (sorted)."""
    removed = []
    for name in RUN_DERIVED_FILES:
        for path in glob.glob(os.path.join(glob.escape(out), name)):
            os.remove(path)
            removed.append(path)
    return sorted(removed)
