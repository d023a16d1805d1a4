"""One run per folder: refuse to mix runs, a lock for the run's lifetime, fresh starts that clean up.

``claim(cfg)`` is the first thing a run does with its ``Global.output_dir``:

* a **lock** ``<output_dir>/.lock`` (pid and host) is held until the run ends; a second run
  started into the same folder is refused while that process lives; the lock of a dead
  process (SIGKILL, a crash) is taken over with a log line;
* a **fresh** run (no ``Global.resume``) into a folder that already holds a run (checkpoints
  or epoch records) is refused, with the three ways out: ``-o Global.resume=auto`` to
  continue it, another ``Global.output_dir``, or ``-o Global.overwrite=true`` to replace it;
* with ``Global.overwrite: true`` the previous run's files are removed first, so nothing
  derived from it (eval.json, figures, per-class numbers) is left beside the new run.
"""
import contextlib
import glob
import json
import logging
import os
import socket

from ..run_layout import (CHECKPOINTS, EPOCH_CHECKPOINT_GLOB, FINAL_MODEL, LOCK_FILE, METRICS_FILE,
                          PREV, RUN_FILES, STATE_SUFFIX, VDL_DIR, WEIGHTS_SUFFIX)
from ..writable import CANNOT_WRITE, cannot_write_reason
from .checkpoint import CheckpointError, clean_stale, pid_alive

log = logging.getLogger("paddle_repro")


def _cannot_write_message(out, err):
    intact = [n for n in CHECKPOINTS if not n.endswith(PREV)
              and os.path.isfile(os.path.join(out, n + STATE_SUFFIX))]
    kept = (f"the checkpoints written before ({', '.join(intact)}) are intact: a checkpoint "
            "switches only once all its files are written" if intact else "no checkpoint had been written yet")
    return (f"Cannot write {err.filename or out} ({err.strerror}): {cannot_write_reason(err)}. "
            f"The run stopped; {kept}. Make room (disk space, quota, ulimit -f) or make the folder "
            "writable, then continue with -o Global.resume=auto.")


def _check_output_path(out):
    """Refuses an ``output_dir`` that is a file or a symlink to nowhere, naming which."""
    if os.path.islink(out) and not os.path.exists(out):
        raise RunFolderError(f"Global.output_dir {out} is a symlink to {os.readlink(out)}, which does "
                             "not exist: create that folder, or choose another -o Global.output_dir=...")
    if os.path.exists(out) and not os.path.isdir(out):
        raise RunFolderError(f"Global.output_dir {out} is a file, not a folder: choose another "
                             "-o Global.output_dir=...")


class RunFolderError(CheckpointError):
    """The output folder cannot be used as asked; the message gives the ways out."""


def holds_a_run(out):
    """True when ``out`` has a checkpoint or epoch records of an earlier run."""
    if any(os.path.isfile(os.path.join(out, n + STATE_SUFFIX)) for n in CHECKPOINTS):
        return True
    metrics = os.path.join(out, METRICS_FILE)
    return os.path.isfile(metrics) and os.path.getsize(metrics) > 0


def has_final_model(out):
    """True when ``out`` holds the ``final_model`` checkpoint a finished run promises."""
    prefix = os.path.join(out, FINAL_MODEL)
    return os.path.isfile(prefix + STATE_SUFFIX) and os.path.isfile(prefix + WEIGHTS_SUFFIX)


def clear_run_files(out):
    """Removes an earlier run's files from ``out`` (checkpoints, records, figures, VisualDL)."""
    for name in RUN_FILES:
        path = os.path.join(out, name)
        if os.path.isfile(path):
            os.remove(path)
    for prefix in CHECKPOINTS:
        for path in glob.glob(os.path.join(glob.escape(out), prefix + ".pd*")):
            os.remove(path)
    for path in glob.glob(os.path.join(glob.escape(out), EPOCH_CHECKPOINT_GLOB + ".pd*")):
        os.remove(path)
    vdl = os.path.join(out, VDL_DIR)
    for path in glob.glob(os.path.join(glob.escape(vdl), "*")):
        if os.path.isfile(path):
            os.remove(path)


def _take_lock(out):
    path = os.path.join(out, LOCK_FILE)
    me = {"pid": os.getpid(), "host": socket.gethostname()}
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                with open(path, encoding="utf-8") as f:
                    owner = json.load(f)
            except (OSError, ValueError):
                owner = {}
            same_host = owner.get("host") == me["host"]
            if owner.get("pid") and same_host and pid_alive(int(owner["pid"])):
                raise RunFolderError(
                    f"Another run (pid {owner['pid']}) is writing to {out}: two runs in one folder "
                    "would mix their checkpoints and records. Wait for it to end, or give this "
                    "run another -o Global.output_dir=...") from None
            if owner.get("pid") and not same_host:
                raise RunFolderError(
                    f"{out} is locked by pid {owner['pid']} on host {owner.get('host')}; if that run "
                    f"is gone, delete {path} and start again.") from None
            log.warning(f"Taking over the lock of a run that is gone (pid {owner.get('pid')}): {path}")
            os.remove(path)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(me, f)
        return path
    raise RunFolderError(f"Could not take the lock {path}; delete it if no run is using {out}.")


@contextlib.contextmanager
def claim(cfg, is_main=True):
    """Holds ``Global.output_dir`` for one run (see the module docstring); rank 0 only.

    Raises:
        RunFolderError: another live run holds the folder, or a fresh run would replace an
            earlier one without ``Global.overwrite``.
    """
    g = cfg["Global"]
    out = g["output_dir"]
    if not is_main:
        yield
        return
    _check_output_path(out)
    created = not os.path.exists(out)
    try:
        os.makedirs(out, exist_ok=True)
        lock = _take_lock(out)
    except OSError as err:
        reason = f": {cannot_write_reason(err)}" if cannot_write_reason(err) else ""
        raise RunFolderError(f"Cannot write to the output folder {out} ({err.strerror}){reason}. "
                             "Nothing was written; make it writable, or choose another "
                             "-o Global.output_dir=...") from None
    try:
        for path in clean_stale(out):
            log.info(f"Removed a leftover of an interrupted save: {path}")
        if not g.get("resume") and holds_a_run(out):
            if not g.get("overwrite"):
                raise RunFolderError(
                    f"{out} already holds a run (checkpoints or metrics). Continue it with "
                    "-o Global.resume=auto, start this one elsewhere with -o Global.output_dir=..., "
                    "or replace it with -o Global.overwrite=true.")
            log.info(f"Global.overwrite: removing the earlier run's files in {out}")
            clear_run_files(out)
        yield
    except OSError as err:
        if err.errno not in CANNOT_WRITE:
            raise
        raise RunFolderError(_cannot_write_message(out, err)) from None
    finally:
        _release(lock)
        if created and os.path.isdir(out) and not os.listdir(out):
            os.rmdir(out)  # a run refused before it wrote anything leaves no empty folder


def _release(lock):
    """Removes the lock; a folder that became read-only keeps it (the next run takes it over,
    its process being gone), with a log line instead of a second error."""
    try:
        if os.path.exists(lock):
            os.remove(lock)
    except OSError as err:
        log.warning(f"Could not remove the lock {lock} ({err.strerror}); the next run in this "
                    "folder takes it over.")
