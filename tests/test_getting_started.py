"""docs/getting_started.md runs as written: its ```bash blocks, in order, on a fresh copy.

The page marks the blocks that need a network, a GPU, hours or a server as ```console;
everything else is executed here in a copy of the committed checkout (``git ls-files``),
so a command that only works because of files left in the developer's tree fails.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "getting_started.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def page_blocks(text):
    """[(language, body)] of every fenced block of a markdown page, in order."""
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(text)]


def test_page_marks_every_block():
    blocks = page_blocks(PAGE.read_text())
    assert blocks, "no code blocks found"
    unmarked = [body for lang, body in blocks if lang not in ("bash", "console")]
    assert not unmarked, "mark each block bash (run by this test) or console: %s" % unmarked
    assert any(lang == "bash" for lang, _ in blocks)


def _fresh_copy(dest):
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if files.returncode != 0:
        pytest.skip("not a git checkout: %s" % files.stderr.strip())
    for rel in files.stdout.splitlines():
        src = ROOT / rel
        if src.is_file():  # a file deleted but not yet committed is skipped
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def test_page_commands_run_in_order(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    _fresh_copy(clone)
    env = dict(os.environ, PYTHONPATH=str(clone))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    outputs = []
    for lang, body in page_blocks(PAGE.read_text()):
        if lang != "bash":
            continue
        done = subprocess.run(["bash", "-e", "-c", body], cwd=clone, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, "%s\n--- stdout\n%s\n--- stderr\n%s" % (
            body, done.stdout[-3000:], done.stderr[-3000:])
        outputs.append(done.stdout)
    # the predict block prints the shipped image's top classes
    assert "synth_03" in outputs[-1], outputs[-1]
