"""Export trained weights for deployment:

    paddle-repro-export-model -c cfg.yaml -o Global.checkpoint=run/best_model.pdparams \
        [-o Global.save_inference_dir=run/inference] [--onnx] [--onednn auto|on|off]

(or ``python tools/export_model.py`` with the same arguments). Writes inference.json
(Paddle 3) or inference.pdmodel (Paddle 2.6), inference.pdiparams and inference.yml into
Global.save_inference_dir (default <Global.output_dir>/inference), checks the saved program
against the dygraph model, and with --onnx also model.onnx (needs the ``[onnx]`` extra)
checked with onnxruntime. inference.yml records whether the CPU predictor uses oneDNN
(``Predictor.onednn``): with ``--onednn auto`` (default) on when the saved program run with
oneDNN gives the dygraph model's logits. Logic in ``paddle_repro.deploy``.
"""
import argparse

from ..config import load_config
from ..deploy.export import export_model
from ..deploy.onnx import convert  # needs the [onnx] extra only when called
from .args import parse_args
from .runner import run

DESCRIPTION = "Export trained weights for deployment (add --onnx for model.onnx)."


def main(argv=None):
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument("--onnx", action="store_true", help="also convert to ONNX (paddle2onnx)")
    flags.add_argument("--onednn", choices=("auto", "on", "off"), default="auto",
                       help="oneDNN for the CPU predictor, recorded in inference.yml")
    ns, rest = flags.parse_known_args(argv)
    args = parse_args(DESCRIPTION, rest)

    def work():
        out = export_model(load_config(args.config, args.override), onednn=ns.onednn)
        print(f"Exported {out['name']} for inputs [N, {', '.join(map(str, out['image_shape']))}] "
              f"(predictor vs dygraph max |diff| {out['max_abs_diff']:.3g}):")
        for path in out["files"]:
            print(f"  {path}")
        print(f"  oneDNN for the CPU predictor: {out['predictor']['onednn_note']}")
        if ns.onnx:
            res = convert(out["folder"])
            print(f"  {res['path']} (onnxruntime vs Paddle Inference max |diff| {res['max_abs_diff']:.3g})")

    return run(work)
