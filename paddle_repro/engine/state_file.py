"""The ``.pdstates`` format: JSON plus arrays in one zip, so reading it runs nothing.

A checkpoint's training state (``run_state.checkpoint_state``: counters, the LR controller's
state, RNG states, EMA weights, the resolved config, the other files' hashes) is written as an
``np.savez`` archive: member ``state`` holds the JSON structure (utf-8 bytes), every array is a ``.npy`` member
of its own, and ``np.load(allow_pickle=False)`` reads it back without unpickling anything.
Values JSON has no type for are tagged objects, so the state reads back with the types it
was saved with:

* ``{"__array__": "a0"}`` an ndarray (member ``a0``), ``{"__numpy__": "a1"}`` a numpy scalar;
* ``{"__tuple__": [...]}`` a tuple (``random.setstate`` needs one);
* ``{"__items__": [[key, value], ...]}`` a dict whose keys are not all strings (or collide
  with a tag);
* ``{"__generator_state__": [...]}`` Paddle's RNG ``GeneratorState`` as its numbers.

Files written before this format are pickles; ``read`` tells them apart by their first
bytes (a zip starts with ``PK``) and reads those through ``safe_load``'s allow-list.
"""
import io
import json
import os

import numpy as np

from ..safe_load import load_pickle

STRUCTURE = "state"  # the member holding the JSON (utf-8 bytes as a uint8 array)
_TAGS = ("__array__", "__numpy__", "__tuple__", "__items__", "__generator_state__")


def _is_generator_state(value):
    return type(value).__name__ == "GeneratorState" and hasattr(value, "__getstate__")


def _encode(value, arrays, where):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"{where}: an object array cannot be stored without pickle")
        arrays[f"a{len(arrays)}"] = value
        return {"__array__": f"a{len(arrays) - 1}"}
    if isinstance(value, np.generic):
        arrays[f"a{len(arrays)}"] = np.asarray(value)
        return {"__numpy__": f"a{len(arrays) - 1}"}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and k not in _TAGS for k in value):
            return {k: _encode(v, arrays, f"{where}.{k}") for k, v in value.items()}
        return {"__items__": [[_encode(k, arrays, where), _encode(v, arrays, f"{where}[{k!r}]")]
                              for k, v in value.items()]}
    if _is_generator_state(value):
        return {"__generator_state__": _encode(value.__getstate__(), arrays, where)}
    if hasattr(value, "numpy"):  # a paddle.Tensor
        return _encode(value.numpy(), arrays, where)
    raise TypeError(f"{where}: a {type(value).__name__} cannot be stored in a .pdstates file")


def _decode(value, arrays):
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), = value.items()
        if tag == "__array__":
            return arrays[inner]
        if tag == "__numpy__":
            return arrays[inner][()]
        if tag == "__tuple__":
            return tuple(_decode(v, arrays) for v in inner)
        if tag == "__items__":
            return {_decode(k, arrays): _decode(v, arrays) for k, v in inner}
        if tag == "__generator_state__":
            return _generator_state(_decode(inner, arrays))
    return {k: _decode(v, arrays) for k, v in value.items()}


def _generator_state(numbers):
    """Paddle's ``GeneratorState`` from its ``__getstate__`` numbers (as pickle rebuilds it)."""
    import paddle  # only a run's RNG state needs it
    cls = type(paddle.get_rng_state()[0])
    state = cls.__new__(cls)
    state.__setstate__(numbers)
    return state


def write(state, path):
    """Writes ``state`` (a dict) to ``path`` and fsyncs it.

    Raises:
        TypeError: a value that has no JSON + array form (a bug in what is saved).
    """
    arrays = {}
    structure = json.dumps(_encode(state, arrays, "state"))
    with open(path, "wb") as f:
        np.savez(f, **{STRUCTURE: np.frombuffer(structure.encode("utf-8"), dtype=np.uint8)},
                 **arrays)
        f.flush()
        os.fsync(f.fileno())


def read(path):
    """The dict ``write`` wrote to ``path`` (or an older pickled ``.pdstates``, read safely).

    Raises:
        safe_load.UnsafePickleError: an old-format file asking for a global outside the
            allow-list; OSError / ValueError / ... for a damaged file.
    """
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"PK"):
        return load_pickle(io.BytesIO(data), path)
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    structure = arrays.pop(STRUCTURE)
    return _decode(json.loads(structure.tobytes().decode("utf-8")), arrays)

