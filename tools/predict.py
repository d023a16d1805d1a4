"""Predict image files with a trained model: top-k classes with probabilities.

    python tools/predict.py -c cfg.yaml -o Global.checkpoint=run/best_model.pdparams cat.png

is the installed command ``paddle-repro-predict``: the arguments and the code are in
``paddle_repro/cli/predict.py``. Kept for the ``python tools/<tool>.py`` habit; it needs the
package installed (``pip install -e .`` in this checkout).
"""
import sys

from paddle_repro.cli.predict import main

if __name__ == "__main__":
    sys.exit(main())
