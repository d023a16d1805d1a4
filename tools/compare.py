"""Compare existing runs: the with-vs-without table and overlaid curves.

    python tools/compare.py RUN_DIR [RUN_DIR ...]

is the installed command ``paddle-repro-compare``: the arguments and the code are in
``paddle_repro/cli/compare.py``. Kept for the ``python tools/<tool>.py`` habit; it needs the
package installed (``pip install -e .`` in this checkout).
"""
import sys

from paddle_repro.cli.compare import main

if __name__ == "__main__":
    sys.exit(main())
