"""Write measured tables into docs/performance.md between markers, keeping hand-written text.

Everything between ``BEGIN`` and ``END`` below is replaced on each ``tools/benchmark.py
--write-docs`` run; everything outside is left alone. A file without the markers gets
them appended. The block always states the exact command, the date and the environment,
so no number in the docs stands without how it was measured.
"""
import datetime
from pathlib import Path

BEGIN = "<!-- BEGIN MEASURED: written by tools/benchmark.py --write-docs; do not edit -->"
END = "<!-- END MEASURED -->"


def measured_block(command, env_lines, sections):
    """Markdown for the measured block. ``sections``: list of (title, markdown)."""
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [BEGIN, "", f"Measured {when} with:", "", "```", command, "```", "", env_lines, ""]
    for title, body in sections:
        parts += [f"### {title}", "", body, ""]
    return "\n".join(parts + [END])


def write(path, block):
    """Replace the measured block of ``path`` (create the file / markers if missing)."""
    path = Path(path)
    text = path.read_text() if path.is_file() else "# Performance\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)
