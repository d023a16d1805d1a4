"""Loading weights strictly, and counting parameters.

``load_weights`` is what eval / predict / resume / ``Global.checkpoint`` use. Unlike Paddle's
``set_state_dict``, which only warns about keys it cannot place, it refuses any state dict
that does not cover the model exactly: missing, unexpected and shape-mismatched keys are
listed in one ``WeightsError``, so a wrong ``num_classes`` or a checkpoint of another model
cannot pass silently as "loaded".

Accepted sources (a path, a checkpoint prefix, or an in-memory dict):

* our checkpoints (``<prefix>.pdparams``, a plain state dict; ``{"model": state_dict}``
  wrappers are unwrapped);
* ``paddle.Model.save(prefix)`` checkpoints (the NAM notebook trained with ``paddle.Model``;
  its ``.pdparams`` is the network's plain state dict);
* the notebooks' own models: NAM ResNet keys ``<block>.nam.Channel_Att.bn2.*`` are renamed
  to our ``<block>.attention.bn_channel.*``; our own checkpoints from before the ResNet
  attention slot was generic (``<block>.nam.*``) likewise; the AlexNet (CondConv/ACmix) notebooks and the Paddle
  port of the ShuffleNetV2 notebook already use our names;
* a PyTorch-named state dict converted to numpy (e.g. the ShuffleNetV2 notebook's own
  ``net.state_dict()``): ``running_mean``/``running_var`` → ``_mean``/``_variance``,
  ``num_batches_tracked`` dropped, ``nn.Linear`` weights transposed ([out, in] → [in, out]).
"""
import os

import numpy as np
import paddle.nn as nn

from ..errors import UserError
from ..safe_load import UnsafePickleError, load_paddle
from ..layers.nam import NOTEBOOK_KEY_MAP

_MAX_LISTED = 15  # keys shown per category in an error message
_TORCH_BN = {".running_mean": "._mean", ".running_var": "._variance"}
# ResNet's block attention was the attribute ``nam`` (notebook 003, our checkpoints until
# 2026-12); it is the generic slot ``attention`` now (models/resnet.py ATTENTIONS).
_OLD_SLOT, _SLOT = ".nam.", ".attention."


class WeightsError(UserError, RuntimeError):
    """A weights file or state dict that cannot be loaded into the model as it is."""


def count_params(model):
    """Counts parameters like ``paddle.summary``.

    Args:
        model: ``nn.Layer``.

    Returns:
        ``(total, trainable)``: total includes BN running mean/variance, which Paddle keeps
        as non-trainable parameters; trainable counts parameters with gradients.
    """
    total = trainable = 0
    for p in model.parameters():
        n = int(np.prod(p.shape)) if len(p.shape) else 1
        total += n
        if not p.stop_gradient:
            trainable += n
    return total, trainable


def resolve_weights_file(path):
    """The file a weights path or checkpoint prefix names (``<prefix>.pdparams`` tried too).

    Raises:
        WeightsError: neither exists (a folder lists its .pdparams files).
    """
    path = os.fspath(path)
    for candidate in (path, path + ".pdparams"):
        if os.path.isfile(candidate):
            return candidate
    hint = ""
    if os.path.isdir(path):
        found = sorted(f for f in os.listdir(path) if f.endswith(".pdparams"))
        hint = f" It is a folder; pass one of its files: {', '.join(found) or '(none found)'}."
    raise WeightsError(f"Weights file not found: {path!r} (also tried {path + '.pdparams'!r})."
                       f"{hint} Pass a .pdparams file or a checkpoint prefix such as "
                       f"output/run/best_model.")


def read_state_dict(path):
    """Reads a ``.pdparams`` file (or ``<prefix>.pdparams``) into a dict of numpy arrays.

    The file is read through ``safe_load``'s allow-list: weights from elsewhere cannot run code.

    Raises:
        WeightsError: missing, truncated/corrupt, or not a state dict.
        UnsafePickleError: the file asks for more than arrays and containers.
    """
    file = resolve_weights_file(path)
    if file.endswith((".pdopt", ".pdstates")):
        prefix = file.rsplit(".", 1)[0]
        raise WeightsError(f"{file!r} is a checkpoint's {'optimizer' if file.endswith('.pdopt') else 'training'} "
                           f"state, not model weights; pass {prefix + '.pdparams'!r} (or the prefix "
                           f"{prefix!r}).")
    try:
        state = load_paddle(file, return_numpy=True)
    except UnsafePickleError:
        raise
    except Exception as exc:  # paddle/pickle raise many types for a damaged file
        raise WeightsError(f"Cannot read weights file {file!r} ({type(exc).__name__}: {exc}). "
                           f"It is truncated, corrupt or not a Paddle .pdparams file; re-save "
                           f"or re-copy it.") from None
    if not isinstance(state, dict):
        raise WeightsError(f"{file!r} holds a {type(state).__name__}, not a state dict "
                           f"(name -> tensor); it is not a model weights file.")
    return state


def _unwrap(state):
    for key in ("model", "state_dict", "model_state_dict"):
        if isinstance(state.get(key), dict):
            return state[key]
    return state


def _to_numpy(value):
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def convert_state_dict(state, model):
    """Renames a notebook / PyTorch-named state dict to ``model``'s key names.

    Args:
        state: dict name -> tensor/array.
        model: the target ``nn.Layer`` (used to find Linear weights to transpose).

    Returns:
        ``(converted dict of numpy arrays, detected format str)``.
    """
    state = {k: _to_numpy(v) for k, v in _unwrap(state).items()}
    fmt = "paddle"
    if any(old in k for k in state for old in NOTEBOOK_KEY_MAP):
        fmt = "nam-notebook"
        renamed = {}
        for k, v in state.items():
            for old, new in NOTEBOOK_KEY_MAP.items():
                k = k.replace(old, new)
            renamed[k] = v
        state = renamed
    if any(_OLD_SLOT in k for k in state) and not any(_OLD_SLOT in k for k in model.state_dict()):
        state = {k.replace(_OLD_SLOT, _SLOT): v for k, v in state.items()}
    if any(k.endswith((".running_mean", ".num_batches_tracked")) for k in state):
        fmt = "pytorch-named"
        linear = {name + ".weight" for name, layer in model.named_sublayers()
                  if isinstance(layer, nn.Linear)}
        renamed = {}
        for k, v in state.items():
            if k.endswith(".num_batches_tracked"):
                continue
            for old, new in _TORCH_BN.items():
                if k.endswith(old):
                    k = k[: -len(old)] + new
            if k in linear and v.ndim == 2:
                v = v.T  # torch Linear is [out, in]; Paddle's is [in, out]
            renamed[k] = v
        state = renamed
    return state, fmt


def _listed(keys):
    keys = sorted(keys)
    more = f" ... and {len(keys) - _MAX_LISTED} more" if len(keys) > _MAX_LISTED else ""
    return ", ".join(keys[:_MAX_LISTED]) + more


def check_state_dict(state, model, source="<state dict>"):
    """Raises WeightsError unless ``state`` has exactly ``model``'s keys and shapes."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = set(expected) - set(state)
    unexpected = set(state) - set(expected)
    mismatched = [f"{k} (file {tuple(state[k].shape)} vs model {expected[k]})"
                  for k in sorted(set(state) & set(expected))
                  if tuple(state[k].shape) != expected[k]]
    if not (missing or unexpected or mismatched):
        return
    lines = [f"Weights from {source} do not fit {type(model).__name__}:"]
    if missing:
        lines.append(f"  missing keys ({len(missing)}): {_listed(missing)}")
    if unexpected:
        lines.append(f"  unexpected keys ({len(unexpected)}): {_listed(unexpected)}")
    if mismatched:
        lines.append(f"  shape mismatches ({len(mismatched)}): {_listed(mismatched)}")
    hints = []
    if any(_SLOT in k for k in unexpected) and not any(_SLOT in k for k in expected):
        hints.append("the weights have block attention (NAM); build the *_nam model.")
    if any(_SLOT in k for k in missing) and not any(_SLOT in k for k in state):
        hints.append("the weights have no block attention (NAM); build the model without _nam.")
    if mismatched:
        hints.append("check Arch.num_classes / net_size against the checkpoint's run.")
    if not hints:
        hints.append("the checkpoint was saved from a different Arch.name.")
    lines += [f"  Hint: {h}" for h in hints]
    raise WeightsError("\n".join(lines))


def load_weights(model, path_or_state_dict):
    """Loads weights into ``model`` strictly (see the module docstring for accepted sources).

    Args:
        model: the ``nn.Layer`` to fill.
        path_or_state_dict: ``.pdparams`` path, checkpoint prefix, or dict name -> tensor.

    Returns:
        dict ``{"source": str, "format": str, "num_tensors": int}`` describing what was loaded.

    Raises:
        WeightsError: unreadable file, or keys/shapes that do not match ``model`` exactly.
    """
    if isinstance(path_or_state_dict, dict):
        source, raw = "<state dict>", path_or_state_dict
    else:
        source = os.fspath(path_or_state_dict)
        raw = read_state_dict(source)
    state, fmt = convert_state_dict(raw, model)
    check_state_dict(state, model, source)
    model.set_state_dict(state)
    return {"source": source, "format": fmt, "num_tensors": len(state)}
