"""Write measured tables into benchmarks/RESULTS.md between markers, keeping hand-written text.

Everything between a block's ``BEGIN`` and ``END`` markers is replaced on each
``tools/benchmark.py --write-docs`` run; everything outside is left alone. The main block
has no name; ``--docs-block NAME`` writes a named one (e.g. the same models on Paddle 2.6),
appended at the end of the file the first time. The block always states the exact command,
the date and the environment, so no number in the docs stands without how it was measured.
"""
import datetime
from pathlib import Path

BEGIN = "<!-- BEGIN MEASURED: written by tools/benchmark.py --write-docs; do not edit -->"
END = "<!-- END MEASURED -->"


def markers(name=None):
    """(begin, end) marker lines of the block called ``name`` (None: the main block)."""
    if not name:
        return BEGIN, END
    return (f"<!-- BEGIN MEASURED {name}: written by tools/benchmark.py --write-docs "
            f"--docs-block {name}; do not edit -->", f"<!-- END MEASURED {name} -->")


def measured_block(command, env_lines, sections, name=None):
    """Markdown for a measured block. ``sections``: list of (title, markdown)."""
    begin, end = markers(name)
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [begin, "", f"Measured {when} with:", "", "```", command, "```", "", env_lines, ""]
    for title, body in sections:
        parts += [f"### {title}", "", body, ""]
    return "\n".join(parts + [end])


def write(path, block):
    """Replace the block of ``path`` that has ``block``'s markers (create file / block if
    missing)."""
    path = Path(path)
    begin, end = block.splitlines()[0], block.splitlines()[-1]
    text = path.read_text() if path.is_file() else "# Performance\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
