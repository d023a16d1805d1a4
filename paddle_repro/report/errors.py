"""Errors a user can cause, shown as one clear paragraph by the tools (exit code 2)."""
import contextlib
import sys


def user_error_types():
    """The exception classes that carry a message meant for the user, not a traceback."""
    from paddle_repro.report.predict import PredictError
    from paddle_repro.report.reproduce import ReproduceError
    from paddle_repro.report.runs import RunError
    from paddle_repro.report.spec import SpecError
    types = [SpecError, RunError, ReproduceError, PredictError]
    for module, name in (("paddle_repro.config", "ConfigError"), ("paddle_repro.data", "DataError"),
                         ("paddle_repro.models", "WeightsError"),
                         ("paddle_repro.models", "UnknownModelError"),
                         ("paddle_repro.launch", "LaunchError"),
                         ("paddle_repro.data.transforms", "TransformConfigError")):
        try:
            types.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):
            pass  # that layer is not installed in this checkout; its errors cannot occur
    return tuple(types)


@contextlib.contextmanager
def user_errors():
    """Turns a user error into ``error: <message>`` on stderr and ``SystemExit(2)``."""
    try:
        yield
    except user_error_types() as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
