"""Every module of the package imports on its own, and the package's imports run one way.

Two checks that see what an ordinary test run cannot (there, whichever test imports first
decides the order, and a package ``__init__`` that imports its parts in the one working
order hides a cycle):

* a fresh interpreter imports each module alone -- ``paddle_repro`` dropped from
  ``sys.modules`` before each, so the package is loaded anew every time while paddle stays
  loaded (one subprocess for speed) -- in sorted and in reverse order;
* the import graph read from the source (top-level imports; importing ``a.b.c`` runs
  ``a/__init__`` and ``a/b/__init__`` first) has no cycle, such as the one that was
  ``data/transform_table -> data/batched/__init__ -> data/batched/compiler -> transform_table``.
"""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "paddle_repro"

IMPORT_EACH = r"""
import importlib, json, sys, traceback
modules, failures = json.loads(sys.argv[1]), []
for order in (sorted(modules), sorted(modules, reverse=True)):
    for name in order:
        for loaded in [m for m in sys.modules if m == "paddle_repro" or m.startswith("paddle_repro.")]:
            del sys.modules[loaded]
        try:
            importlib.import_module(name)
        except Exception as err:  # report every failure, not only the first
            failures.append([name, traceback.format_exception_only(type(err), err)[-1].strip()])
print(json.dumps(failures))
"""


def package_modules(root, package=PACKAGE):
    """``{dotted name: (path, is_package)}`` of every ``.py`` file under ``root/package``."""
    found = {}
    for folder, _, files in os.walk(root / package):
        for file in files:
            if file.endswith(".py"):
                path = Path(folder) / file
                dotted = ".".join(path.relative_to(root).with_suffix("").parts)
                is_package = file == "__init__.py"
                found[dotted[:-len(".__init__")] if is_package else dotted] = (path, is_package)
    return found


def import_graph(modules):
    """``{module: set of modules its top-level imports load}``, package ``__init__``s included.

    ``from pkg import name`` needs ``pkg`` complete unless ``name`` is a submodule (then only
    the submodule and its parents); a module's own parent packages are being imported already
    when it runs, so they are no edge.
    """
    def with_parents(name):
        parts = name.split(".")
        return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]

    graph = {}
    for name, (path, is_package) in modules.items():
        base = name if is_package else name.rpartition(".")[0]
        targets = []
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                targets += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                origin = node.module or ""
                if node.level:
                    parts = base.split(".")[:len(base.split(".")) - node.level + 1]
                    origin = ".".join(parts + ([origin] if origin else []))
                targets += [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin
                            for a in node.names]
        edges = set()
        for target in targets:
            for needed in with_parents(target)[:-1]:  # parents: only their __init__ runs
                if needed in modules and not name.startswith(needed + ".") and needed != name:
                    edges.add(needed)
            if target in modules and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_imports_alone_in_a_fresh_interpreter_in_both_orders():
    names = sorted(package_modules(ROOT))
    assert len(names) > 100 and "paddle_repro.data.transform_table" in names
    done = subprocess.run([sys.executable, "-c", IMPORT_EACH, json.dumps(names)], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_package_import_graph_has_no_cycle():
    assert cycles(import_graph(package_modules(ROOT))) == []


def test_the_cycle_check_sees_a_cycle_through_a_package_init(tmp_path):
    """The shape of the old cycle, in a package of four files: the check must report it."""
    files = {"pkg/__init__.py": "",
             "pkg/table.py": "from .sub import ops\n",
             "pkg/sub/__init__.py": "from .compiler import compile\n",
             "pkg/sub/ops.py": "X = 1\n",
             "pkg/sub/compiler.py": "from ..table import ROWS\n"}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    found = cycles(import_graph(package_modules(tmp_path, "pkg")))
    assert found == [["pkg.sub", "pkg.sub.compiler", "pkg.table"]]
