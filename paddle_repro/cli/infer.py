"""Predict images with an exported model through Paddle Inference:

    paddle-repro-infer --model_dir run/inference --input cat.png [--topk 5] \
        [--batch_size 64] [--output preds.json] [--threads 2] [--no-onednn] [--device gpu]

(or ``python tools/infer.py`` with the same arguments). ``--input`` is an image file, a
folder of images, or a text file with one image path per line. Images go through the
inference.yml transforms (the config's Eval transforms, as in tools/eval.py); prints the
top-k classes and writes them as JSON (default <model_dir>/infer_results.json). The model
folder, the images and the output file are all checked before anything is predicted. On CPU,
oneDNN kernels run unless the export recorded them off for this model (inference.yml
``Predictor.onednn``); ``--no-onednn`` / ``--onednn`` override that. A progress bar shows on
a terminal. Logic in ``paddle_repro.deploy``.
"""
import argparse
import os
import sys

from ..deploy.inputs import check_output, list_images, write_results
from ..deploy.predictor import BATCH_SIZE, InferenceModel
from .runner import run


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model_dir", required=True, help="folder written by tools/export_model.py")
    parser.add_argument("--input", required=True, help="image file, folder, or text list of paths")
    parser.add_argument("--topk", type=int, default=5, help="classes per image")
    parser.add_argument("--batch_size", type=int, default=BATCH_SIZE, help="images per predictor "
                        "run (default %(default)s: docs/deploy.md, 'Deployment peer table')")
    parser.add_argument("--output", default=None, help="JSON file (default <model_dir>/infer_results.json)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="CPU math threads")
    onednn = parser.add_mutually_exclusive_group()
    onednn.add_argument("--onednn", dest="onednn", action="store_true",
                        help="force oneDNN kernels on CPU (default: inference.yml's Predictor.onednn)")
    onednn.add_argument("--no-onednn", dest="onednn", action="store_false",
                        help="plain CPU kernels, without oneDNN")
    parser.set_defaults(onednn=None)  # None: the export's choice
    args = parser.parse_args(argv)
    if args.topk < 1 or args.batch_size < 1 or args.threads < 1:
        parser.error("--topk, --batch_size and --threads must be >= 1")
    return args


def main(argv=None):
    args = parse(argv)

    def work():
        model = InferenceModel(args.model_dir, args.device, args.threads, args.onednn)
        images = list_images(args.input)
        path = args.output or os.path.join(args.model_dir, "infer_results.json")
        check_output(path)
        results = model.predict_files(images, args.topk, args.batch_size,
                                      progress=sys.stderr.isatty())
        for res in results:
            print(res["image"])
            for rank, top in enumerate(res["topk"], 1):
                print(f"  {rank}. {top['class_name']:<20s} {100 * top['prob']:6.2f}%")
        write_results(path, results)
        print(f"Wrote {path}")

    return run(work)
