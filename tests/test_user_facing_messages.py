"""Every error a user can cause derives from UserError, so every tool shows it as one
paragraph with exit code 2 -- there is no table of error types to forget a new one in."""
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import paddle_repro
from paddle_repro.engine.interrupt import TrainingDiverged, TrainingInterrupted
from paddle_repro.errors import UserError, user_error_message

ROOT = Path(__file__).resolve().parents[1]
# not user errors: a diverged run (exit 1) and a stop signal (exit 130/143) have their own paths
NOT_USER_ERRORS = {TrainingDiverged, TrainingInterrupted, UserError}


def _package_errors():
    found = set()
    for info in pkgutil.walk_packages(paddle_repro.__path__, "paddle_repro."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__.startswith("paddle_repro"):
                found.add(cls)
    return found


def test_every_exception_of_the_package_is_user_facing_or_named_here():
    errors = _package_errors()
    assert len(errors) > 10  # the walk found the package's errors
    strays = sorted(c.__qualname__ for c in errors - NOT_USER_ERRORS if not issubclass(c, UserError))
    assert not strays, f"errors outside UserError (tools would print a traceback): {strays}"


def test_the_message_is_unwrapped_and_key_lookups_are_not_quoted():
    """Not wrapped: a wrapped `-o Global.checkpoint=...` hint would paste as two commands."""
    from paddle_repro.models import UnknownModelError
    text = user_error_message(UnknownModelError("Unknown model 'x'. " + "word " * 40))
    assert text.startswith("UnknownModelError: Unknown model 'x'.") and '"' not in text
    assert "\n" not in text


def test_a_tool_prints_a_bad_config_without_traceback(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("Global: {epochs: 1}\nArch: {name: alexnet_condconvv}\n"
                   "DataLoader: {dataset: {name: synthetic}}\n")
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "train.py"), "-c", str(bad),
                          "-o", f"Global.output_dir={tmp_path / 'run'}"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and "alexnet_condconv" in out.stderr
