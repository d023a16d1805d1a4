"""docs/extending.md runs as written from a folder outside the package: SE attention in one
file plus one config -- trained, summarised, exported, predicted and put in a table through
``custom_imports``, with no edit of the package.

The page's file blocks (first line ``# <file name>``) are written to a temporary folder and
its ``bash`` blocks run there, in order, in one shell; the package is found through
``PYTHONPATH`` only, as an installed suite would be.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "extending.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
FILE_NAME = re.compile(r"^# ([\w.]+\.(?:py|yaml))\n")


def page_parts(text):
    """``({file name: text}, [bash block, ...])`` of the page, in order."""
    files, commands = {}, []
    for lang, body in BLOCK.findall(text):
        named = FILE_NAME.match(body)
        if lang == "bash":
            commands.append(body)
        elif named:
            files[named.group(1)] = body
    return files, commands


def test_page_has_the_example_files_and_commands():
    files, commands = page_parts(PAGE.read_text(encoding="utf-8"))
    assert set(files) == {"se_attention.py", "resnet18_se.yaml", "table.yaml"}
    assert "custom_imports: [se_attention]" in files["resnet18_se.yaml"]
    assert any("tools/reproduce.py" in c for c in commands)


def test_the_se_example_runs_outside_the_package(tmp_path):
    files, commands = page_parts(PAGE.read_text(encoding="utf-8"))
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(["bash", "-e", "-c", "\n".join(commands)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    out = done.stdout
    assert "parameters: total 11,272,642" in out and "FLOPs (paddle.flops conventions, batch 1): 556,996,984" in out
    assert "NOT COUNTED" not in out  # register_flops(SqueezeExcitation, sublayers_flops)
    run = tmp_path / "output" / "se_table" / "resnet18_se" / "seed42"
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["custom_imports"] == ["se_attention"] and saved["Arch"]["attention"] == "se"
    meta = yaml.safe_load((run / "inference" / "inference.yml").read_text())
    assert "custom_imports" not in meta["PreProcess"]  # the program needs no Python module
    assert "synth_" in out.split("inference.json")[-1]  # infer printed its top classes
    assert "resnet18_se seed 42: finished" in out  # the table reused the run trained above
    table = (tmp_path / "output" / "se_table" / "table.md").read_text()
    with_row = next(line for line in table.splitlines() if line.startswith("| w/ SE |"))
    without_row = next(line for line in table.splitlines() if line.startswith("| w/o SE |"))
    assert "11,272,642" in with_row and "11,183,562" in without_row
    assert "NOT COUNTED" not in table
