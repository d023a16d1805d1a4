"""paddle_repro.report turns run folders into tables and figures: it never trains or predicts.

Every module of the package is parsed with ``ast`` and may not import the training package
(``paddle_repro.engine``, any module of it), the models, the data loaders, the launchers,
the process settings, or the packages that do (``paddle_repro.reproduce``,
``paddle_repro.inference``); a fresh interpreter importing all of report must not load them
either (an import through another module would). The import graph runs one way,
config -> builders -> loop (engine) -> files -> report: report reads files through
``paddle_repro.run_layout`` and ``paddle_repro.records``.
"""
import ast
import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = os.path.join(ROOT, "paddle_repro", "report")
ENGINE = "paddle_repro.engine"
FORBIDDEN = (ENGINE, "paddle_repro.models", "paddle_repro.data",
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
        "paddle_repro.data", "paddle_repro.data.build_loader", "paddle_repro.engine",
        "paddle_repro.engine.curves", "paddle_repro.engine.trainer", "paddle_repro.launch",
        "paddle_repro.models"]


def engine_imports(path):
    """The modules of ``paddle_repro.engine`` that ``path`` imports, sorted."""
    return sorted({n for n in imported_names(path) if n == ENGINE or n.startswith(ENGINE + ".")})


def test_the_engine_check_sees_each_way_report_code_could_reach_engine(tmp_path):
    """What report/runs.py and report/overlay.py did before: each form must be caught."""
    cases = {"from ..engine.records import read_jsonl\n": "paddle_repro.engine.records",
             "from paddle_repro.engine.curves import style_epoch_axis\n": "paddle_repro.engine.curves",
             "import paddle_repro.engine.summary\n": "paddle_repro.engine.summary",
             "from .. import engine\n": "paddle_repro.engine",
             "def f():\n    from ..engine import logger\n": "paddle_repro.engine.logger"}
    for i, (source, caught) in enumerate(cases.items()):
        path = tmp_path / f"m{i}.py"
        path.write_text(source)
        assert caught in engine_imports(str(path)), source
    clean = tmp_path / "clean.py"
    clean.write_text("from ..records import read_jsonl\nfrom ..run_layout import METRICS_FILE\n"
                     "from .curves import plot_curves\n")
    assert engine_imports(str(clean)) == []


def test_no_report_module_imports_engine():
    found = {os.path.basename(p): engine_imports(p) for p in MODULES if engine_imports(p)}
    assert found == {}, ("report must not import the training package; read run files through "
                         "paddle_repro.run_layout and paddle_repro.records instead")


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
