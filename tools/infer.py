"""Predict images with an exported model through Paddle Inference.

    python tools/infer.py --model_dir run/inference --input cat.png

is the installed command ``paddle-repro-infer``: the arguments and the code are in
``paddle_repro/cli/infer.py``. Kept for the ``python tools/<tool>.py`` habit; it needs the
package installed (``pip install -e .`` in this checkout).
"""
import sys

from paddle_repro.cli.infer import main

if __name__ == "__main__":
    sys.exit(main())
