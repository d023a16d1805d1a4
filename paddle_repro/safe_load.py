"""Reading pickles from elsewhere without running them: weights, checkpoints, CIFAR batches.

A pickle is a small program: ``pickle.load`` imports and calls whatever global the file
names, ``os.system`` included, so loading a checkpoint or a data file from someone else can
run their code (PyTorch made ``torch.load(weights_only=True)`` its default for this reason).
Every pickle the suite reads -- ``.pdparams`` / ``.pdopt`` (``paddle.save``: our
checkpoints, the notebooks' weights, other people's run folders), ``.pdstates`` written
before they became JSON + arrays, and the batches of a CIFAR archive -- goes through
``load_pickle``, whose unpickler resolves only the globals in ``ALLOWED``. A file that names
any other global is refused with ``UnsafePickleError`` naming the file and the global;
nothing is called, so nothing in the file runs.

``ALLOWED`` is what those files legitimately contain, found by recording every global that
real files name (``tests/test_safe_load.py`` records them again on the installed Paddle):
``paddle.save`` of model and optimizer state dicts (Momentum and Adam, with a LinearWarmup +
cosine LR scheduler's state) on Paddle 2.6.2 and 3.3.1 at pickle protocols 2, 3 and 4, our
checkpoints' ``.pdstates`` of both versions, and CIFAR "python version" archives:

* numpy arrays, dtypes and scalars (``_reconstruct``, ``ndarray``, ``dtype``, ``scalar``;
  ``numpy.core`` on numpy 1, ``numpy._core`` on numpy 2);
* plain containers: ``tuple`` (how Paddle pickles a tensor outside a state dict:
  ``tuple((name, array))``), ``OrderedDict`` (a ``state_dict()`` converted to numpy and
  pickled as is, e.g. the ShuffleNetV2 notebook's PyTorch weights), ``set``, ``frozenset``,
  ``bytearray``;
* ``_codecs.encode(text, "latin1")``, how protocols 2 and 3 store ``bytes`` (the arrays' raw data),
  restricted to that codec;
* ``builtins.eval``, which Paddle's own pickler uses for a ``DenseTensor`` (static graph,
  outside a state dict) as ``eval("data", {"data": array})``: replaced by a function that
  accepts exactly that form and returns the array, so no expression is ever evaluated;
* Paddle's ``GeneratorState`` (the RNG state in an old ``.pdstates``), whose only input is
  its numbers.

Not pickles, and not read here: ``inference.pdiparams`` (Paddle Inference reads it in C++ as
raw tensors), ``inference.json`` / ``inference.pdmodel`` (a program description), and
``.pdstates`` written since (``engine/state_file.py``).

Opt-out: for a file you trust (you wrote it, or know who did) that needs another global,
set ``PADDLE_REPRO_TRUST_PICKLES=1``; files are then unpickled unrestricted, with a warning.
"""
import _compat_pickle
import codecs
import collections
import logging
import os
import pickle

import numpy as np

from .errors import UserError

TRUST_ENV = "PADDLE_REPRO_TRUST_PICKLES"
log = logging.getLogger("paddle_repro")


class UnsafePickleError(UserError, pickle.UnpicklingError):
    """A pickle that asks for a global outside ``ALLOWED``; nothing in it was run."""


def _refusal(source, what):
    return UnsafePickleError(
        f"{source} asks to call {what} while it loads; weights, checkpoints and data files need "
        "only arrays, numbers and containers, so it was refused and nothing in the file ran. It "
        "is not a file this suite or Paddle writes as is. If you trust it (you wrote it, or know "
        f"who did), load it with {TRUST_ENV}=1 in the environment.")


def _latin1_encode(source):
    """``_codecs.encode`` as protocols 2 and 3 use it for ``bytes``: latin-1 text only."""
    def encode(text, encoding="utf-8", errors="strict"):
        try:
            latin1 = codecs.lookup(encoding).name == "iso8859-1"
        except LookupError:
            latin1 = False
        if not (latin1 and isinstance(text, str) and errors == "strict"):
            raise _refusal(source, f"_codecs.encode(<{type(text).__name__}>, {str(encoding)[:40]!r})")
        return text.encode("latin-1")
    return encode


def _dense_tensor_data(source):
    """Paddle pickles a ``DenseTensor`` as ``eval("data", {"data": array})``: the array."""
    def dense_tensor(expression, namespace=None, *rest):
        if (expression == "data" and not rest and isinstance(namespace, dict)
                and set(namespace) == {"data"} and isinstance(namespace["data"], np.ndarray)):
            return namespace["data"]
        raise _refusal(source, f"builtins.eval({str(expression)[:80]!r})")
    return dense_tensor


def _numpy_core(name):
    """``numpy(._)core.multiarray.<name>`` of the installed numpy (2.x renamed core to _core)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
    return getattr(multiarray, name)


def _paddle_generator_state(source):
    import paddle  # the class lives in Paddle's C++ module; imported only for old .pdstates
    return type(paddle.get_rng_state()[0])


# (module, name) -> a function of the file's name returning what the global resolves to
ALLOWED = {
    **{(core, name): (lambda source, name=name: _numpy_core(name))
       for core in ("numpy.core.multiarray", "numpy._core.multiarray")
       for name in ("_reconstruct", "scalar")},
    ("numpy", "ndarray"): lambda source: np.ndarray,
    ("numpy", "dtype"): lambda source: np.dtype,
    ("collections", "OrderedDict"): lambda source: collections.OrderedDict,
    ("builtins", "tuple"): lambda source: tuple,
    ("builtins", "set"): lambda source: set,
    ("builtins", "frozenset"): lambda source: frozenset,
    ("builtins", "bytearray"): lambda source: bytearray,
    ("_codecs", "encode"): _latin1_encode,
    ("builtins", "eval"): _dense_tensor_data,
    ("paddle.base.libpaddle", "GeneratorState"): _paddle_generator_state,  # 2.6 and 3.x
}


def python3_name(module, name):
    """Python 2's name of a global (protocols 0-2 write ``__builtin__.tuple``) as pickle maps it."""
    module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def trusted():
    """True when the user opted out of the allow-list (``PADDLE_REPRO_TRUST_PICKLES=1``)."""
    return os.environ.get(TRUST_ENV, "").strip().lower() in ("1", "true", "yes")


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source, encoding):
        super().__init__(file, encoding=encoding)
        self.source = source

    def find_class(self, module, name):
        module, name = python3_name(module, name)
        resolve = ALLOWED.get((module, name))
        if resolve is None:
            raise _refusal(self.source, f"{module}.{name}")
        return resolve(self.source)

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"persistent id {str(pid)[:40]!r}: not a plain pickle")


def load_pickle(file, source, encoding="latin1"):
    """Unpickles ``file`` allowing only ``ALLOWED``'s globals (all of them when trusted).

    Args:
        file: a binary file object positioned at the pickle.
        source: how to name the file in messages (a path, ``archive:member``).
        encoding: how Python 2 ``str`` is read: ``latin1`` (Paddle's choice), or ``bytes``
            (CIFAR's keys are ``b"data"``).

    Raises:
        UnsafePickleError: the file names a global outside the allow-list.
        pickle.UnpicklingError, EOFError, ...: a damaged file (callers say "unreadable").
    """
    if trusted():
        log.warning(f"{TRUST_ENV}=1: unpickling {source} without the allow-list.")
        return pickle.Unpickler(file, encoding=encoding).load()
    return _RestrictedUnpickler(file, source, encoding).load()


def _join_big_params(obj):
    """Paddle splits arrays over 2**30 bytes at protocols 2/3 ('UnpackBigParamInfor@@')."""
    info = obj.pop("UnpackBigParamInfor@@", None)  # typos: disable-line (Paddle's key)
    for key, value in (info or {}).items():
        obj[key] = np.concatenate([obj.pop(part) for part in value["slices"]]).reshape(
            value["OriginShape"])
    return obj


def _arrays(obj, to_tensor):
    """Paddle 2.1's ``(name, array)`` tensors -> arrays; arrays -> tensors when asked."""
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], str) \
            and isinstance(obj[1], np.ndarray):
        obj = obj[1]
    if isinstance(obj, np.ndarray):
        return to_tensor(obj) if to_tensor else obj
    if isinstance(obj, dict):
        return type(obj)((k, _arrays(v, to_tensor)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_arrays(v, to_tensor) for v in obj)
    return obj


def load_paddle(path, return_numpy=True):
    """What ``paddle.load(path)`` returns for a ``paddle.save`` pickle, read through the allow-list.

    Args:
        path: a ``.pdparams`` / ``.pdopt`` file.
        return_numpy: numpy arrays (True) or ``paddle.Tensor`` s, as ``paddle.load``'s option.

    Raises:
        UnsafePickleError: see ``load_pickle``; other exceptions for a damaged file.
    """
    with open(path, "rb") as f:
        obj = load_pickle(f, path)
    if isinstance(obj, dict):
        obj = _join_big_params(obj)
        obj.pop("StructuredToParameterName@@", None)  # Paddle's name table, not a tensor
    to_tensor = None
    if not return_numpy:
        import paddle
        to_tensor = paddle.to_tensor
    return _arrays(obj, to_tensor)
