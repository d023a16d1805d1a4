"""Which registered models convert to ONNX (paddle2onnx) and match Paddle Inference (not a test).

    python benchmarks/onnx_support.py [--models alexnet resnet18 ...]

For each model: random init (seed 0, 10 classes), export at the input size the model needs,
paddle2onnx (opset 13), onnxruntime at batch 1 and 3 vs the Paddle predictor. Prints one
Markdown row per model (docs/deploy.md carries the table). Needs the ``[onnx]`` extra.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import cv2  # noqa: E402,F401  (before paddle: see paddle_repro/process.py)
import numpy as np  # noqa: E402
import paddle  # noqa: E402

from paddle_repro.deploy import ExportError  # noqa: E402
from paddle_repro.deploy.export import save_program  # noqa: E402
from paddle_repro.deploy.meta import build_meta, write_meta  # noqa: E402
from paddle_repro.deploy.onnx import convert  # noqa: E402
from paddle_repro.models import MODELS, build_model  # noqa: E402


def input_shape(name):
    if name.startswith("alexnet"):
        return (3, 128, 128)
    return (3, 224, 224) if name == "resnet50_imagenet" else (3, 32, 32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=MODELS.builtin())
    args = parser.parse_args()
    print(f"paddle {paddle.__version__}\n\n| model | converts | max abs diff | logits scale |\n| --- | --- | --- | --- |")
    for name in args.models:
        paddle.seed(0)
        model = build_model(name, num_classes=10)
        model.eval()
        shape = input_shape(name)
        with tempfile.TemporaryDirectory() as folder:
            program = save_program(model, folder, shape)
            write_meta(folder, build_meta(name, "-", os.path.basename(program), shape, [], []))
            x = np.random.RandomState(0).rand(1, *shape).astype("float32")
            with paddle.no_grad():
                scale = float(np.abs(model(paddle.to_tensor(x)).numpy()).max())
            try:
                res = convert(folder)
                print(f"| {name} | yes | {res['max_abs_diff']:.3g} | {scale:.3g} |", flush=True)
            except ExportError as err:
                print(f"| {name} | no: {err} | | |", flush=True)


if __name__ == "__main__":
    main()
