"""``custom_imports``: the user's own modules, imported before a config is checked or built.

Not a paper module; mmengine's convention. A config's top-level key

    custom_imports: [my_attention, my_pkg.blocks]

imports those modules first, so the models, attentions, convs, transforms and FLOPs rules they
register (``paddle_repro.plugins``) are valid names of that config, in every tool that loads
it, in the processes a table launcher starts, and when a run folder's ``config.yaml`` is read
again to build its model. A module is found on ``PYTHONPATH`` or in the working directory
(added to the end of ``sys.path``, so it never hides an installed package); importing one
twice is a no-op (``sys.modules``).
"""
import importlib
import os
import sys
import traceback

from .errors import ConfigError


def _cause(err):
    """``Type: first line (file:line)`` of an import failure, where the user's code raised it."""
    text = (str(err).strip().splitlines() or [""])[0][:300]
    where = ""
    if isinstance(err, SyntaxError) and err.filename:
        where = f" ({err.filename}:{err.lineno})"
    elif err.__traceback__ is not None:
        frames = [f for f in traceback.extract_tb(err.__traceback__)
                  if "importlib" not in f.filename and f.filename != __file__]
        if frames:
            where = f" ({frames[-1].filename}:{frames[-1].lineno})"
    return f"{type(err).__name__}: {text}{where}"


def import_custom_modules(names, where="custom_imports"):
    """Imports every module of ``names`` (a list of dotted names; None or [] imports none).

    Args:
        names: the config's ``custom_imports``.
        where: how the message names the key (the config loader adds the file).

    Returns:
        The imported modules, in order.

    Raises:
        ConfigError: ``names`` is not a list of module names, or one cannot be imported (the
            message names it and the import error's one-line cause).
    """
    if not names:
        return []
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n.strip()
                                                        for n in names):
        raise ConfigError(f"{where}: expected a list of module names (e.g. [my_attention]), "
                          f"got {names!r}.")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name.strip()))
        except Exception as err:  # noqa: BLE001 - any failure of the user's module is theirs
            raise ConfigError(f"{where}: cannot import `{name}` ({_cause(err)}). A custom import "
                              f"must be importable from PYTHONPATH or the working directory "
                              f"({cwd}).") from None
    return modules
