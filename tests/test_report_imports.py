"""paddle_repro.report turns run folders into tables and figures: it never trains or predicts.

Every module of the package is parsed with ``ast`` and may not import the trainer, the
models, the data loaders, the launchers, the process settings, or the packages that do
(``paddle_repro.reproduce``, ``paddle_repro.inference``); a fresh interpreter importing all
of report must not load them either (an import through another module would).
"""
import ast
import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = os.path.join(ROOT, "paddle_repro", "report")
FORBIDDEN = ("paddle_repro.engine.trainer", "paddle_repro.models", "paddle_repro.data",
             "paddle_repro.launch", "paddle_repro.process", "paddle_repro.runtime",
             "paddle_repro.reproduce", "paddle_repro.inference", "paddle_repro.deploy")
MODULES = sorted(glob.glob(os.path.join(REPORT, "*.py")))


def imported_names(path):
    """Absolute names of every module ``path`` imports (relative ones resolved), anywhere in it."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from ..models import x inside paddle_repro/report
                parent = ["paddle_repro", "report"][:max(0, 2 - node.level + 1)]
                base = ".".join(parent + ([base] if base else []))
            names += [base] + [f"{base}.{a.name}" for a in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", ""))
              in ("__import__", "import_module") and node.args
              and isinstance(node.args[0], ast.Constant)):
            names.append(node.args[0].value)
    return names


def forbidden_in(names):
    return sorted({n for n in names for f in FORBIDDEN if n == f or n.startswith(f + ".")})


def test_the_check_sees_every_form_of_import(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import paddle_repro.models\nfrom ..data import build_loader\n"
                    "def f():\n    from paddle_repro.engine import trainer\n"
                    "    __import__('paddle_repro.launch')\nfrom paddle_repro.engine import curves\n")
    assert forbidden_in(imported_names(str(path))) == [
        "paddle_repro.data", "paddle_repro.data.build_loader", "paddle_repro.engine.trainer",
        "paddle_repro.launch", "paddle_repro.models"]


@pytest.mark.parametrize("path", MODULES, ids=os.path.basename)
def test_report_modules_do_not_import_training_or_inference(path):
    assert forbidden_in(imported_names(path)) == []


def test_importing_all_of_report_loads_none_of_them():
    mods = [f"paddle_repro.report.{os.path.basename(p)[:-3]}" for p in MODULES]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in mods)
            + "print('\\n'.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert forbidden_in(out.stdout.split()) == []
