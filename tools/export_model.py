"""Export trained weights for deployment:

    python tools/export_model.py -c cfg.yaml -o Global.checkpoint=run/best_model.pdparams \
        [-o Global.save_inference_dir=run/inference] [--onnx] [--onednn auto|on|off]

Writes inference.json (Paddle 3) or inference.pdmodel (Paddle 2.6), inference.pdiparams and
inference.yml into Global.save_inference_dir (default <Global.output_dir>/inference), checks
the saved program against the dygraph model, and with --onnx also model.onnx (needs the
``[onnx]`` extra) checked with onnxruntime. inference.yml records whether the CPU predictor
uses oneDNN (``Predictor.onednn``): with ``--onednn auto`` (default) on when the saved program
run with oneDNN gives the dygraph model's logits. Logic in ``paddle_repro.deploy``.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
# Paddle 2.6 + opencv: importing cv2 after paddle segfaults in zlib (inflateReset2) once
# images are decoded; importing it first is harmless everywhere.
import cv2  # noqa: E402,F401

from paddle_repro.config import load_config  # noqa: E402
from paddle_repro.deploy.export import export_model  # noqa: E402
from paddle_repro.deploy.onnx import convert  # noqa: E402  (needs the [onnx] extra only when called)
from paddle_repro.engine.cli import parse_args, run  # noqa: E402


def main(argv=None):
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument("--onnx", action="store_true", help="also convert to ONNX (paddle2onnx)")
    flags.add_argument("--onednn", choices=("auto", "on", "off"), default="auto",
                       help="oneDNN for the CPU predictor, recorded in inference.yml")
    ns, rest = flags.parse_known_args(argv)
    args = parse_args(__doc__.split("\n")[0] + " (add --onnx for model.onnx)", rest)

    def _main():
        out = export_model(load_config(args.config, args.override), onednn=ns.onednn)
        print(f"Exported {out['name']} for inputs [N, {', '.join(map(str, out['image_shape']))}] "
              f"(predictor vs dygraph max |diff| {out['max_abs_diff']:.3g}):")
        for path in out["files"]:
            print(f"  {path}")
        print(f"  oneDNN for the CPU predictor: {out['predictor']['onednn_note']}")
        if ns.onnx:
            res = convert(out["folder"])
            print(f"  {res['path']} (onnxruntime vs Paddle Inference max |diff| {res['max_abs_diff']:.3g})")

    run(_main)


if __name__ == "__main__":
    main()
