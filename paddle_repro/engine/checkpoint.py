"""Checkpoints: ``<prefix>.pdparams`` + ``<prefix>.pdopt`` + ``<prefix>.pdstates``.

The notebooks saved ``best_model.pdparams`` + ``best_optimizer.pdopt``; we keep the
``.pdparams`` file loadable exactly like theirs (a plain ``paddle.save`` of the model's
``state_dict``) and name the optimizer file after the same prefix. ``.pdstates`` is a pickle
of the training state (epoch, global step, best metric and epoch, LR-controller state, RNG
states, VisualDL step, resolved config) plus the sha256 of the two other files.

Every file is written to a temporary name and moved into place with ``os.replace``; the
state file is written last and records the hashes of the files it belongs with, so a
checkpoint whose files come from different saves (a crash between two replaces) or are
truncated is detected on load and reported, instead of silently resuming from a mix.
"""
import hashlib
import os
import pickle

import paddle

SUFFIXES = (".pdparams", ".pdopt", ".pdstates")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, truncated, inconsistent or unreadable."""


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic(path, write):
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _write_pickle(obj, path):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)
        f.flush()
        os.fsync(f.fileno())


def save(prefix, model, optimizer, state):
    """Writes one checkpoint atomically (state file last).

    Args:
        prefix: path without suffix, e.g. ``output/run/latest``.
        model: the (unwrapped) ``nn.Layer``.
        optimizer: a Paddle optimizer, or None for weights-only checkpoints.
        state: picklable dict of training state (see the module docstring).
    """
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    _atomic(prefix + ".pdparams", lambda p: paddle.save(model.state_dict(), p))
    hashes = {".pdparams": _sha256(prefix + ".pdparams")}
    if optimizer is not None:
        _atomic(prefix + ".pdopt", lambda p: paddle.save(optimizer.state_dict(), p))
        hashes[".pdopt"] = _sha256(prefix + ".pdopt")
    elif os.path.exists(prefix + ".pdopt"):
        os.remove(prefix + ".pdopt")  # a stale optimizer file must not pair with new weights
    _atomic(prefix + ".pdstates", lambda p: _write_pickle(dict(state, _sha256=hashes), p))


def exists(prefix):
    """True when a complete checkpoint (its state file) exists at ``prefix``."""
    return os.path.isfile(prefix + ".pdstates")


def strip_suffix(path):
    """``run/latest.pdparams`` -> ``run/latest`` (a bare prefix is returned unchanged)."""
    for suffix in SUFFIXES:
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
    fix = ("Resume from another checkpoint (e.g. -o Global.resume=<run>/best_model) or start "
           "afresh without Global.resume.")
    if not exists(prefix):
        raise CheckpointError(f"No checkpoint at {prefix!r}: {prefix}.pdstates does not exist "
                              f"(a checkpoint is {', '.join(prefix + s for s in SUFFIXES)}). {fix}")
    try:
        with open(prefix + ".pdstates", "rb") as f:
            state = pickle.load(f)
    except Exception as e:  # noqa: BLE001 - any unpickling failure means a damaged file
        raise CheckpointError(f"Checkpoint state {prefix}.pdstates is unreadable "
                              f"({type(e).__name__}: {e}); it is truncated or not ours. {fix}") from None
    hashes = state.pop("_sha256", {})
    loaded = {"state": state, "optimizer": None}
    for suffix, key in ((".pdparams", "model"), (".pdopt", "optimizer")):
        path = prefix + suffix
        if suffix not in hashes:
            continue
        if not os.path.isfile(path):
            raise CheckpointError(f"Checkpoint file {path} is missing. {fix}")
        if _sha256(path) != hashes[suffix]:
            raise CheckpointError(f"Checkpoint file {path} does not match {prefix}.pdstates "
                                  "(truncated, or written by a different save). " + fix)
        try:
            loaded[key] = paddle.load(path)
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
        prefix = os.path.join(output_dir, "latest")
        return prefix if exists(prefix) else None
    prefix = strip_suffix(resume)
    if not exists(prefix):
        raise CheckpointError(f"Global.resume={resume!r}: no checkpoint state file "
                              f"{prefix}.pdstates. Give a prefix such as <output_dir>/latest, "
                              "or Global.resume=auto.")
    return prefix
