"""The tools as installed commands (issue 26 item 8): one ``paddle_repro/cli/<tool>.py`` per
tool, its ``console_scripts`` entry in setup.py, a thin ``tools/<tool>.py`` without
``sys.path`` edits, and one exit path (``cli.runner.run``) that every tool goes through."""
import ast
import importlib
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import setuptools

from paddle_repro.cli import runner
from paddle_repro.engine.interrupt import TrainingDiverged, TrainingInterrupted
from paddle_repro.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
# tools/benchmark.py runs benchmarks/ (not part of the package): a checkout-only script
CHECKOUT_ONLY = {"benchmark"}
TOOLS = sorted(p.stem for p in (ROOT / "tools").glob("*.py") if p.stem not in CHECKOUT_ONLY)
PLUMBING = {"__init__", "args", "runner"}  # paddle_repro/cli modules that are not tools


def _setup_kwargs(monkeypatch):
    """What setup.py hands to ``setuptools.setup`` (run with ``setup`` replaced: no build)."""
    seen = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kwargs: seen.update(kwargs))
    monkeypatch.chdir(ROOT)  # setup.py reads README.md relative to where pip runs it
    runpy.run_path(str(ROOT / "setup.py"))
    return seen


def test_each_tool_is_a_console_script_of_its_cli_module(monkeypatch):
    scripts = _setup_kwargs(monkeypatch)["entry_points"]["console_scripts"]
    declared = {}
    for line in scripts:
        name, target = (s.strip() for s in line.split("="))
        module, func = target.split(":")
        declared[module.rpartition(".")[2]] = (name, module, func)
    assert sorted(declared) == TOOLS
    cli_modules = {p.stem for p in (ROOT / "paddle_repro" / "cli").glob("*.py")} - PLUMBING
    assert sorted(cli_modules) == TOOLS
    for tool, (name, module, func) in declared.items():
        assert name == "paddle-repro-" + tool.replace("_", "-")
        assert module == f"paddle_repro.cli.{tool}" and func == "main"
        assert callable(getattr(importlib.import_module(module), func))


@pytest.mark.parametrize("tool", TOOLS)
def test_a_tool_script_only_calls_the_package_main(tool):
    """No ``sys.path`` edit: an installed package is found, the checkout is not patched in."""
    text = (ROOT / "tools" / f"{tool}.py").read_text(encoding="utf-8")
    assert "sys.path" not in text
    tree = ast.parse(text)
    imports = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert [(n.module, [a.name for a in n.names]) for n in imports] == [(f"paddle_repro.cli.{tool}", ["main"])]
    assert len([n for n in tree.body if not isinstance(n, ast.Expr)]) == 3  # import sys, the import, __main__


def test_a_tool_script_runs_from_outside_the_checkout(tmp_path):
    """``python tools/summary.py`` from another folder: the package comes from the install
    (or PYTHONPATH), not from a path the script computes."""
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "summary.py"), "nosuch"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2, out.stderr[-2000:]
    assert out.stderr.startswith("UnknownModelError: Unknown model 'nosuch'") and "Traceback" not in out.stderr


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_parses_help(tool, capsys):
    with pytest.raises(SystemExit) as exit_:
        importlib.import_module(f"paddle_repro.cli.{tool}").main(["--help"])
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out


def _bad_argv(tool, tmp):
    """Arguments that parse but name something that does not exist: a UserError in the work."""
    missing = str(tmp / "missing.yaml")
    return {"train": ["-c", missing], "eval": ["-c", missing], "export_model": ["-c", missing],
            "predict": ["-c", missing, "cat.png"], "reproduce": [missing],
            "infer": ["--model_dir", str(tmp / "nothing"), "--input", "cat.png"],
            "compare": [str(tmp / "no_run"), "--no-figures", "--out", str(tmp / "cmp")],
            "summary": ["nosuch"]}[tool]


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_prepares_the_process_and_exits_2_on_a_user_error(tool, tmp_path, monkeypatch,
                                                                      capsys):
    """export_model and infer used to skip prepare_process(); now every tool's work runs in
    ``runner.run``, which prepares the process first and is the one place errors exit."""
    calls = []
    monkeypatch.setattr(runner, "prepare_process", lambda: calls.append(1))
    with pytest.raises(SystemExit) as exit_:
        importlib.import_module(f"paddle_repro.cli.{tool}").main(_bad_argv(tool, tmp_path))
    err = capsys.readouterr().err
    assert calls == [1]
    assert exit_.value.code == 2, err
    assert "Traceback" not in err and err.strip().split(":")[0].endswith("Error"), err


def _exit_of(work, capsys, argv=None):
    with pytest.raises(SystemExit) as exit_:
        runner.run(work, argv)
    return exit_.value.code, capsys.readouterr().err


def _raises(err):
    def work():
        raise err
    return work


def test_run_maps_each_failure_to_its_code_and_one_message(monkeypatch, capsys):
    monkeypatch.setattr(runner, "prepare_process", lambda: None)
    assert runner.run(lambda: None) == 0
    code, err = _exit_of(_raises(ConfigError("Global.epochs must be >= 1 (in c.yaml)")), capsys)
    assert (code, err) == (2, "ConfigError: Global.epochs must be >= 1 (in c.yaml)\n")
    code, err = _exit_of(_raises(KeyboardInterrupt()), capsys)
    assert (code, err) == (130, "Interrupted (Ctrl-C).\n")
    code, err = _exit_of(_raises(TrainingDiverged("loss is nan at step 3")), capsys)
    assert (code, err) == (1, "Training diverged: loss is nan at step 3\n")
    stop = TrainingInterrupted("Signal 15: stopped after step 7.", "out/run/latest", 143)
    code, err = _exit_of(_raises(stop), capsys, ["tools/train.py", "-c", "c.yaml"])
    assert code == 143
    assert err.endswith("python tools/train.py -c c.yaml -o Global.resume=out/run/latest\n")
    with pytest.raises(ZeroDivisionError):  # a bug keeps its traceback
        runner.run(_raises(ZeroDivisionError()))


def test_the_resume_command_names_the_script_or_the_installed_command():
    assert runner.resume_command("r/latest", ["tools/train.py", "-c", "a b.yaml"]) == \
        "python tools/train.py -c 'a b.yaml' -o Global.resume=r/latest"
    assert runner.resume_command("r/latest", ["/venv/bin/paddle-repro-train", "-c", "c.yaml"]) == \
        "paddle-repro-train -c c.yaml -o Global.resume=r/latest"
