"""The package never imports torch: torch is the test-only extra ``.[crosscheck]`` that the
notebook-004 cross-framework tests (tests/test_loop_equivalence_004.py) run the notebook's
own PyTorch code with."""
import glob
import os
import subprocess
import sys

from tests.test_report_imports import imported_names

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_no_module_of_the_package_imports_torch_anywhere():
    files = glob.glob(os.path.join(ROOT, "paddle_repro", "**", "*.py"), recursive=True)
    assert len(files) > 50
    found = {os.path.relpath(f, ROOT): names for f in files
             if (names := [n for n in imported_names(f) if n.split(".")[0] == "torch"])}
    assert found == {}


def test_importing_every_module_loads_no_torch():
    code = ("import importlib, pkgutil, sys, paddle_repro\n"
            "for m in pkgutil.walk_packages(paddle_repro.__path__, 'paddle_repro.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(' '.join(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == []
