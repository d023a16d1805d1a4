"""Predict image files with a trained model: top-k classes with probabilities.

    paddle-repro-predict -c configs/shufflenetv2/x0_5.yaml \
        -o Global.checkpoint=output/shufflenetv2/x0_5/seed42/best_model.pdparams \
        cat.png dog.jpg photos/ [--topk 5]

(or ``python tools/predict.py`` with the same arguments). Images are resized to the data
set's native 32x32 when they differ (as the ShuffleNetV2 notebook's predict did), then go
through the config's Eval transforms.
"""
import argparse

from ..config import load_config
from ..inference.images import predict_files
from .args import add_override_argument, take_overrides
from .runner import run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", required=True, help="the run's config (YAML)")
    add_override_argument(parser, "e.g. Global.checkpoint=<run dir>/best_model.pdparams")
    parser.add_argument("--topk", type=int, default=5, help="classes shown per image")
    parser.add_argument("images", nargs="*", help="image files (png, jpg, ...) or folders of them")
    args = take_overrides(parser.parse_args(argv), positional="images")
    if not args.images:
        parser.error("give at least one image file or folder")
    if args.topk < 1:
        parser.error("--topk must be >= 1")

    def work():
        cfg = load_config(args.config, args.override)
        for path, top in predict_files(cfg, args.images, topk=args.topk):
            print(path)
            for rank, (name, prob) in enumerate(top, 1):
                print(f"  {rank}. {name:<20s} {100 * prob:6.2f}%")

    return run(work)
