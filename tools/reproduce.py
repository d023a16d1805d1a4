"""Reproduce a notebook's with-vs-without table with one command.

    python tools/reproduce.py configs/condconv/table.yaml [--quick]

is the installed command ``paddle-repro-reproduce``: the arguments and the code are in
``paddle_repro/cli/reproduce.py``. Kept for the ``python tools/<tool>.py`` habit; it needs the
package installed (``pip install -e .`` in this checkout).
"""
import sys

from paddle_repro.cli.reproduce import main

if __name__ == "__main__":
    sys.exit(main())
