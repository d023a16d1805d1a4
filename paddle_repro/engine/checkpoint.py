"""Checkpoints: ``<prefix>.pdparams`` + ``<prefix>.pdopt`` + ``<prefix>.pdstates``.

The notebooks saved ``best_model.pdparams`` + ``best_optimizer.pdopt``; we keep the
``.pdparams`` file loadable exactly like theirs (a plain ``paddle.save`` of the model's
``state_dict``) and name the optimizer file after the same prefix. ``.pdstates`` holds the
training state (epoch, global step, best metric and epoch, LR-controller state, RNG states,
VisualDL step, resolved config) plus the sha256 of the two other files, as JSON + arrays
(``state_file.py``; older ones are pickles). Every file is read without running anything in
it: ``.pdparams`` / ``.pdopt`` (Paddle's pickles) and old ``.pdstates`` through
``safe_load``'s allow-list, so a checkpoint from elsewhere cannot execute code.

A checkpoint switches as a whole. ``save`` first writes all three new files under
temporary names, then keeps the previous complete checkpoint as hard links
``<prefix>.prev.*``, then moves the new files in (state file last) and only then drops the
``.prev`` links. The state file records the hashes of the files it belongs with, so a crash
at any point leaves one complete checkpoint: the new one, or (if the crash fell between the
moves, when the files at ``<prefix>`` are a mix) the previous one, which ``load`` falls back
to with a warning. A truncated or mixed checkpoint is never resumed from silently.
``clean_stale(folder)`` removes what a killed save left behind (``*.tmp<pid>`` of dead
processes, ``.prev`` links beside a complete checkpoint); the trainer calls it on start.
"""
import glob
import hashlib
import logging
import os
import re
import shutil

import paddle

from ..errors import UserError
from ..run_layout import (CHECKPOINT_SUFFIXES, LATEST, OPTIMIZER_SUFFIX, PREV, STATE_SUFFIX,
                          WEIGHTS_SUFFIX)
from ..safe_load import UnsafePickleError, load_paddle
from . import state_file

log = logging.getLogger("paddle_repro")


class CheckpointError(UserError, RuntimeError):
    """A checkpoint is missing, truncated, inconsistent or unreadable."""


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(prefix, model, optimizer, state):
    """Writes one checkpoint atomically (state file last).

    Args:
        prefix: path without suffix, e.g. ``output/run/latest``.
        model: the (unwrapped) ``nn.Layer``.
        optimizer: a Paddle optimizer, or None for weights-only checkpoints.
        state: dict of training state (see the module docstring and ``state_file.py``).
    """
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    tmp = {s: f"{prefix}{s}.tmp{os.getpid()}" for s in CHECKPOINT_SUFFIXES}
    writing = tmp[WEIGHTS_SUFFIX]  # named in an OSError that has no file name (pickle's writes)
    try:
        paddle.save(model.state_dict(), writing)
        hashes = {WEIGHTS_SUFFIX: _sha256(writing)}
        if optimizer is not None:
            writing = tmp[OPTIMIZER_SUFFIX]
            paddle.save(optimizer.state_dict(), writing)
            hashes[OPTIMIZER_SUFFIX] = _sha256(writing)
        writing = tmp[STATE_SUFFIX]
        state_file.write(dict(state, _sha256=hashes), writing)
        writing = prefix
        _keep_previous(prefix)
        for suffix in (WEIGHTS_SUFFIX, OPTIMIZER_SUFFIX):
            if os.path.exists(tmp[suffix]):
                os.replace(tmp[suffix], prefix + suffix)
            elif os.path.exists(prefix + suffix):
                os.remove(prefix + suffix)  # a stale optimizer file must not pair with new weights
        os.replace(tmp[STATE_SUFFIX], prefix + STATE_SUFFIX)  # the commit point
        _drop(prefix + PREV)
    except OSError as err:
        if err.filename is None:
            err.filename = writing
        raise
    finally:
        for path in tmp.values():
            try:
                if os.path.exists(path):
                    os.remove(path)
            except OSError:  # a folder turned read-only: the next start's clean_stale removes it
                pass


def _drop(prefix):
    for suffix in CHECKPOINT_SUFFIXES:
        if os.path.lexists(prefix + suffix):
            os.remove(prefix + suffix)


def _keep_previous(prefix):
    """Hard-links the current checkpoint (if complete) to ``<prefix>.prev.*`` before a switch.

    A ``.prev`` set from an interrupted switch is kept when the files at ``prefix`` are a mix:
    it is then the last complete checkpoint.
    """
    if not _consistent(prefix):
        return
    _drop(prefix + PREV)
    for suffix in CHECKPOINT_SUFFIXES:
        if os.path.exists(prefix + suffix):
            try:
                os.link(prefix + suffix, prefix + PREV + suffix)
            except OSError:  # a file system without hard links
                shutil.copy2(prefix + suffix, prefix + PREV + suffix)


def _consistent(prefix):
    """True when ``prefix``'s state file exists and its files match the recorded hashes."""
    try:
        hashes = state_file.read(prefix + STATE_SUFFIX).get("_sha256", {})
        return all(os.path.isfile(prefix + s) and _sha256(prefix + s) == h for s, h in hashes.items())
    except Exception:  # noqa: BLE001 - missing or unreadable: not a complete checkpoint
        return False


def pid_alive(pid):
    """True when process ``pid`` exists on this machine (stale temporary files, run locks)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(folder):
    """Removes what interrupted saves left in ``folder``; returns the paths removed.

    ``*.tmp<pid>`` files of processes that are gone, and ``.prev`` sets beside a complete
    checkpoint. A ``.prev`` set beside a mixed checkpoint is kept (``load`` falls back to it).
    """
    removed = []
    for path in glob.glob(os.path.join(glob.escape(folder), "*.tmp*")):
        match = re.search(r"\.tmp(\d+)$", path)
        if match and not pid_alive(int(match.group(1))):
            os.remove(path)
            removed.append(path)
    for state in glob.glob(os.path.join(glob.escape(folder), "*" + PREV + STATE_SUFFIX)):
        prefix = state[: -len(PREV + STATE_SUFFIX)]
        if _consistent(prefix):
            for suffix in CHECKPOINT_SUFFIXES:
                if os.path.exists(prefix + PREV + suffix):
                    removed.append(prefix + PREV + suffix)
            _drop(prefix + PREV)
    return removed


def exists(prefix):
    """True when a checkpoint (its state file, or an interrupted switch's previous one) exists."""
    return os.path.isfile(prefix + STATE_SUFFIX) or os.path.isfile(prefix + PREV + STATE_SUFFIX)


def strip_suffix(path):
    """``run/latest.pdparams`` -> ``run/latest`` (a bare prefix is returned unchanged)."""
    for suffix in CHECKPOINT_SUFFIXES:
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


def load(prefix):
    """Reads a checkpoint written by ``save``.

    Returns:
        ``{"model": state_dict, "optimizer": state_dict or None, "state": dict}``.

    Raises:
        CheckpointError: with the file at fault and what to do about it.
    """
    prefix = strip_suffix(prefix)
    try:
        return _load_exact(prefix)
    except CheckpointError:
        if not _consistent(prefix + PREV):
            raise
        log.warning(f"{prefix}: the last save was interrupted (its files are a mix); using the "
                    f"previous complete checkpoint {prefix + PREV}.*")
        return _load_exact(prefix + PREV)


def _load_exact(prefix):
    fix = ("Resume from another checkpoint (e.g. -o Global.resume=<run>/best_model) or start "
           "afresh without Global.resume.")
    if not os.path.isfile(prefix + STATE_SUFFIX):
        files = ", ".join(prefix + s for s in CHECKPOINT_SUFFIXES)
        raise CheckpointError(f"No checkpoint at {prefix!r}: {prefix}.pdstates does not exist "
                              f"(a checkpoint is {files}). {fix}")
    try:
        state = state_file.read(prefix + STATE_SUFFIX)
    except UnsafePickleError:
        raise
    except Exception as e:  # noqa: BLE001 - any unpickling failure means a damaged file
        raise CheckpointError(f"Checkpoint state {prefix}.pdstates is unreadable "
                              f"({type(e).__name__}: {e}); it is truncated or not ours. {fix}") from None
    hashes = state.pop("_sha256", {})
    loaded = {"state": state, "optimizer": None}
    for suffix, key in ((WEIGHTS_SUFFIX, "model"), (OPTIMIZER_SUFFIX, "optimizer")):
        path = prefix + suffix
        if suffix not in hashes:
            continue
        if not os.path.isfile(path):
            raise CheckpointError(f"Checkpoint file {path} is missing. {fix}")
        if _sha256(path) != hashes[suffix]:
            raise CheckpointError(f"Checkpoint file {path} does not match {prefix}.pdstates "
                                  "(truncated, or written by a different save). " + fix)
        try:
            loaded[key] = load_paddle(path, return_numpy=False)
        except UnsafePickleError:
            raise
        except Exception as e:  # noqa: BLE001
            raise CheckpointError(f"Cannot read {path} ({type(e).__name__}: {e}). {fix}") from None
    return loaded


def resolve_resume(resume, output_dir):
    """Maps ``Global.resume`` to a checkpoint prefix (None: start afresh).

    ``auto`` means ``<output_dir>/latest`` when it exists, otherwise a fresh start.
    """
    if not resume:
        return None
    if resume == "auto":
        prefix = os.path.join(output_dir, LATEST)
        return prefix if exists(prefix) else None
    prefix = strip_suffix(resume)
    if not exists(prefix):
        raise CheckpointError(f"Global.resume={resume!r}: no checkpoint state file "
                              f"{prefix}.pdstates. Give a prefix such as <output_dir>/latest, "
                              "or Global.resume=auto.")
    return prefix
