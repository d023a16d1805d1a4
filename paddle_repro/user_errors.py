"""Errors a user can cause, shown as one clear paragraph by the tools (exit code 2).

``with user_errors(): ...`` is how ``tools/reproduce.py``, ``compare.py`` and ``predict.py``
turn them into ``error: <message>`` (the training tools use ``engine.cli.run``).
"""
import contextlib
import sys

from paddle_repro.config import ConfigError
from paddle_repro.data import DataError
from paddle_repro.data.transforms import TransformConfigError
from paddle_repro.inference.images import PredictError
from paddle_repro.launch import LaunchError
from paddle_repro.models import UnknownModelError, WeightsError
from paddle_repro.report.runs import RunError
from paddle_repro.report.spec import SpecError
from paddle_repro.reproduce import ReproduceError


def user_error_types():
    """The exception classes that carry a message meant for the user, not a traceback."""
    return (SpecError, RunError, ReproduceError, PredictError, ConfigError, DataError,
            WeightsError, UnknownModelError, LaunchError, TransformConfigError)


@contextlib.contextmanager
def user_errors():
    """Turns a user error into ``error: <message>`` on stderr and ``SystemExit(2)``."""
    try:
        yield
    except user_error_types() as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
