"""Print a model's layer table, parameter counts and FLOPs.

Usage (``python tools/summary.py`` takes the same arguments):
    paddle-repro-summary resnet50_nam --num-classes 100
    paddle-repro-summary configs/nam/resnet50_nam.yaml          # Arch + Global.image_shape
    paddle-repro-summary shufflenetv2_x0_5 --input-size 3 32 32 --json
    paddle-repro-summary my_net --custom-imports my_models    # my_net registered by my_models.py
"""
import argparse
import json

from ..errors import UserError
from ..models import MODELS
from ..models.summary import build_for_summary, format_summary, summarize
from .runner import run


class InputShapeError(UserError, ValueError):
    """The model cannot run on inputs of the asked (or the config's) shape."""


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", help="registry name (" + ", ".join(sorted(MODELS))
                        + ") or a config .yaml")
    parser.add_argument("--input-size", type=int, nargs=3, metavar=("C", "H", "W"),
                        help="one input's shape (default: the config's Global.image_shape, "
                             "else 3 32 32)")
    parser.add_argument("--num-classes", type=int, help="override the number of classes")
    parser.add_argument("--custom-imports", nargs="+", metavar="MODULE",
                        help="your modules that register the model named (a config lists "
                             "them under custom_imports itself)")
    parser.add_argument("--json", action="store_true",
                        help="print counts as JSON instead of the table")
    args = parser.parse_args(argv)
    if args.input_size and min(args.input_size) < 1:
        parser.error(f"--input-size wants three positive sizes C H W, got {args.input_size}")
    if args.num_classes is not None and args.num_classes < 1:
        parser.error(f"--num-classes must be >= 1, got {args.num_classes}")
    return args


def summarize_or_explain(name, model, size):
    """``summarize(model, size)``; a model that cannot take that size is an InputShapeError.

    The forward pass fails deep inside Paddle (a matmul's shapes, a reshape), so the first
    line of its error is kept and the fix is named.
    """
    try:
        return summarize(model, size)
    except (ValueError, RuntimeError) as exc:
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise InputShapeError(
            f"{name} cannot take inputs of shape {list(size)} ({first[:200]}); pass its size "
            "with --input-size C H W (AlexNet's classifier needs 128x128).") from None


def main(argv=None):
    args = parse(argv)

    def work():
        # unknown model, bad Arch keyword, bad or missing config: UserErrors, shown by run()
        name, model, size = build_for_summary(args.target, args.num_classes, args.input_size,
                                              args.custom_imports)
        info = summarize_or_explain(name, model, size)
        if args.json:
            info.pop("table")
            print(json.dumps({"model": name, "input_size": size, **info}, indent=2))
        else:
            print(format_summary(name, info, size))

    return run(work)
