"""Evaluate weights on a config's Eval split.

    python tools/eval.py -c cfg.yaml -o Global.checkpoint=run/best_model.pdparams

is the installed command ``paddle-repro-eval``: the arguments and the code are in
``paddle_repro/cli/eval.py``. Kept for the ``python tools/<tool>.py`` habit; it needs the
package installed (``pip install -e .`` in this checkout).
"""
import sys

from paddle_repro.cli.eval import main

if __name__ == "__main__":
    sys.exit(main())
