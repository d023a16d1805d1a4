"""Export trained weights for deployment (Paddle Inference, optionally ONNX).

    python tools/export_model.py -c cfg.yaml -o Global.checkpoint=run/best_model.pdparams

is the installed command ``paddle-repro-export-model``: the arguments and the code are in
``paddle_repro/cli/export_model.py``. Kept for the ``python tools/<tool>.py`` habit; it needs the
package installed (``pip install -e .`` in this checkout).
"""
import sys

from paddle_repro.cli.export_model import main

if __name__ == "__main__":
    sys.exit(main())
