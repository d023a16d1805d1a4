"""Train a model from a config.

    python tools/train.py -c cfg.yaml [-o Section.key=value ...]

is the installed command ``paddle-repro-train``: the arguments and the code are in
``paddle_repro/cli/train.py``. Kept for the ``python tools/<tool>.py`` habit; it needs the
package installed (``pip install -e .`` in this checkout).
"""
import sys

from paddle_repro.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
