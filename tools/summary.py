"""Print a model's layer table, parameter counts and FLOPs.

    python tools/summary.py resnet50_nam

is the installed command ``paddle-repro-summary``: the arguments and the code are in
``paddle_repro/cli/summary.py``. Kept for the ``python tools/<tool>.py`` habit; it needs the
package installed (``pip install -e .`` in this checkout).
"""
import sys

from paddle_repro.cli.summary import main

if __name__ == "__main__":
    sys.exit(main())
