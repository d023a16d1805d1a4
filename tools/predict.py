"""Predict image files with a trained model: top-k classes with probabilities.

    python tools/predict.py -c configs/shufflenetv2/x0_5.yaml \
        -o Global.checkpoint=output/shufflenetv2/x0_5/seed42/best_model.pdparams \
        cat.png dog.jpg photos/ [--topk 5]

Images are resized to the data set's native 32x32 when they differ (as the ShuffleNetV2
notebook's predict did), then go through the config's Eval transforms.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paddle_repro.process import prepare_process  # noqa: E402

prepare_process()  # first: cv2 before paddle, MKL's AVX2 kernels on AMD, glibc keeps freed memory

from paddle_repro.config import load_config  # noqa: E402
from paddle_repro.engine.cli import add_override_argument, take_overrides  # noqa: E402
from paddle_repro.inference.images import predict_files  # noqa: E402
from paddle_repro.errors import user_errors  # noqa: E402


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
    with user_errors():
        cfg = load_config(args.config, args.override)
        results = predict_files(cfg, args.images, topk=args.topk)
    for path, top in results:
        print(path)
        for rank, (name, prob) in enumerate(top, 1):
            print(f"  {rank}. {name:<20s} {100 * prob:6.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
